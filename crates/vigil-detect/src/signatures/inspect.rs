//! Inspecting one buffer with a rule's steps: content, pcre, bsize, isdataat, the byte keywords
//! (`byte_test`, `byte_jump`, `byte_extract`, `byte_math`), dataset and datarep, with Suricata's
//! relative-match semantics.
//!
//! Steps run in rule order over one buffer with a cursor (the end of the previous match).
//! A relative content (distance/within) searches the window
//! `[prev + distance, prev + distance + within)`; an absolute one `[offset, offset + depth)`.
//! When a later step fails, an earlier content that the later steps are relative to is retried
//! at its next occurrence (Suricata's backtracking), bounded by [`BACKTRACK_BUDGET`].
//!
//! `byte_extract` and `byte_math` store a value in one of [`MAX_VARS`] variable slots (resolved
//! at compile time); later steps read them through [`Val::Var`]. The slots live in the
//! evaluation state by value, so a retried content recomputes every variable after it.
//! Like Suricata, a variable read as an offset, depth, distance, within or byte count uses its
//! low 32 bits.

use crate::rules::ast::{CmpOp, DatasetCommand, IntMatch, Transform};
use md5::Digest;
use std::borrow::Cow;

/// Occurrences tried per buffer inspection before giving up; bounds pathological rules.
pub const BACKTRACK_BUDGET: u32 = 4096;

/// Variable slots per rule (`byte_extract` / `byte_math` results).
pub const MAX_VARS: usize = 8;

/// The values of a rule's variables during one evaluation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Vars([u64; MAX_VARS]);

impl Vars {
    /// The value in `slot` (0 for a slot out of range, which compilation never produces).
    pub fn get(&self, slot: u8) -> u64 {
        self.0.get(usize::from(slot)).copied().unwrap_or(0)
    }

    fn set(&mut self, slot: u8, v: u64) {
        if let Some(x) = self.0.get_mut(usize::from(slot)) {
            *x = v;
        }
    }
}

/// A number a step reads at run time: a literal, or a variable slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val {
    Lit(i64),
    Var(u8),
}

impl PartialEq<i64> for Val {
    fn eq(&self, other: &i64) -> bool {
        *self == Val::Lit(*other)
    }
}

impl Val {
    /// As an unsigned 32-bit quantity (offset, depth, within): a variable's low 32 bits.
    fn unsigned(self, vars: &Vars) -> i64 {
        match self {
            Val::Lit(v) => v,
            Val::Var(s) => i64::from(vars.get(s) as u32),
        }
    }

    /// As a signed 32-bit quantity (distance, byte_test/byte_jump offset): a variable's low 32
    /// bits, two's complement.
    fn signed(self, vars: &Vars) -> i64 {
        match self {
            Val::Lit(v) => v,
            Val::Var(s) => i64::from(vars.get(s) as u32 as i32),
        }
    }

    /// As a 64-bit value (byte_test value, byte_math rvalue); a negative literal wraps.
    fn full(self, vars: &Vars) -> u64 {
        match self {
            Val::Lit(v) => v as u64,
            Val::Var(s) => vars.get(s),
        }
    }
}

/// A content match, compiled.
#[derive(Debug, Clone)]
pub struct ContentStep {
    /// Lower-cased when `nocase`.
    pub pattern: Box<[u8]>,
    pub nocase: bool,
    pub negated: bool,
    pub offset: Val,
    pub depth: Option<Val>,
    pub distance: Option<Val>,
    pub within: Option<Val>,
    pub endswith: bool,
}

impl ContentStep {
    fn relative(&self) -> bool {
        self.distance.is_some() || self.within.is_some()
    }

    /// The search window `[lo, hi)` for a buffer of `len` bytes after a match ending at `prev`.
    fn window(&self, len: usize, prev: usize, vars: &Vars) -> (usize, usize) {
        let len = len as i64;
        let (lo, hi) = if self.relative() {
            let lo = (prev as i64).saturating_add(self.distance.map_or(0, |d| d.signed(vars)));
            let hi = match self.within {
                Some(w) => lo.saturating_add(w.unsigned(vars)),
                None => len,
            };
            (lo, hi)
        } else {
            let lo = self.offset.unsigned(vars);
            let hi = match self.depth {
                Some(d) => lo.saturating_add(d.unsigned(vars)),
                None => len,
            };
            (lo, hi)
        };
        (lo.clamp(0, len) as usize, hi.clamp(0, len) as usize)
    }

    /// First occurrence starting at or after `from` and ending by `hi`.
    fn find(&self, buf: &[u8], from: usize, hi: usize) -> Option<usize> {
        let n = self.pattern.len();
        if hi < n || from > hi - n {
            return None;
        }
        let hay = buf.get(from..hi)?;
        if self.endswith {
            let p = hay.len() - n;
            return self.eq_at(hay, p).then_some(from + p);
        }
        if n == 0 {
            return Some(from);
        }
        if !self.nocase {
            return memchr::memmem::find(hay, &self.pattern).map(|p| from + p);
        }
        let first = self.pattern[0];
        let upper = first.to_ascii_uppercase();
        let mut start = 0;
        while start + n <= hay.len() {
            let p = start + memchr::memchr2(first, upper, &hay[start..=hay.len() - n])?;
            if self.eq_at(hay, p) {
                return Some(from + p);
            }
            start = p + 1;
        }
        None
    }

    fn eq_at(&self, hay: &[u8], p: usize) -> bool {
        let Some(s) = hay.get(p..p + self.pattern.len()) else {
            return false;
        };
        if self.nocase {
            s.iter()
                .zip(self.pattern.iter())
                .all(|(a, b)| a.to_ascii_lowercase() == *b)
        } else {
            s == &*self.pattern
        }
    }
}

#[derive(Debug, Clone)]
pub struct PcreStep {
    pub regex: LazyRegex,
    pub negated: bool,
    pub relative: bool,
}

/// A pcre compiled on first use: most rules' pcre is never reached behind their fast
/// pattern, and compiled regexes of a whole ruleset would cost hundreds of megabytes.
/// The rule was already checked to compile ([`crate::rules::Rule::executable`]).
#[derive(Debug, Clone)]
pub struct LazyRegex {
    pcre: Box<crate::rules::ast::Pcre>,
    cell: std::sync::OnceLock<Option<regex::bytes::Regex>>,
}

impl LazyRegex {
    pub fn new(pcre: &crate::rules::ast::Pcre) -> LazyRegex {
        LazyRegex {
            pcre: Box::new(pcre.clone()),
            cell: std::sync::OnceLock::new(),
        }
    }

    /// An already compiled regex (tests).
    pub fn ready(re: regex::bytes::Regex) -> LazyRegex {
        LazyRegex {
            pcre: Box::default(),
            cell: std::sync::OnceLock::from(Some(re)),
        }
    }

    pub fn get(&self) -> Option<&regex::bytes::Regex> {
        self.cell
            .get_or_init(|| crate::rules::pcre::compile(&self.pcre).ok())
            .as_ref()
    }
}

/// Which set a dataset or datarep step consults, resolved at compile time.
#[derive(Debug, Clone)]
pub struct DataStep {
    pub set: crate::rules::datasets::SetId,
    pub command: DatasetCommand,
}

#[derive(Debug, Clone)]
pub struct RepStep {
    pub set: crate::rules::datasets::SetId,
    pub op: CmpOp,
    pub value: u64,
}

/// How the byte keywords turn the bytes they read into a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conv {
    /// Binary, big endian (the default).
    Big,
    /// Binary, little endian.
    Little,
    /// ASCII digits (`string`), read like C's `strtoull` in this base: 8, 10, 16, or 0 for
    /// automatic (`0x` hex, leading `0` octal, else decimal), what `byte_test` and `byte_jump`
    /// use when `string` has no `hex`/`dec`/`oct`.
    Str(u32),
}

/// `bitmask`: the value is ANDed with the mask, then (when non-zero) shifted right once per
/// trailing zero bit of the mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bitmask {
    pub mask: u64,
    shift: u32,
}

impl Bitmask {
    pub fn new(mask: u64) -> Bitmask {
        Bitmask {
            mask,
            shift: if mask == 0 { 0 } else { mask.trailing_zeros() },
        }
    }

    fn apply(self, v: u64) -> u64 {
        let v = v & self.mask;
        if v != 0 {
            v >> self.shift
        } else {
            v
        }
    }
}

/// Where the bytes a byte keyword reads start: `offset`, from the cursor when `relative`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSource {
    pub offset: Val,
    pub relative: bool,
    pub conv: Conv,
}

impl ByteSource {
    /// Reads `nbytes` (for a string, 0 reads to the end of the buffer) and converts them:
    /// the value and the position just past the bytes consumed. `None` when the bytes are not
    /// (all) inside the buffer or do not convert.
    fn read(&self, buf: &[u8], prev: usize, vars: &Vars, nbytes: i64) -> Option<(u64, usize)> {
        let offset = self.offset.signed(vars);
        let start = if self.relative {
            (prev as i64).saturating_add(offset)
        } else {
            offset
        };
        let start = usize::try_from(start).ok()?;
        let rest = buf.get(start..).filter(|r| !r.is_empty())?;
        let n = usize::try_from(nbytes).ok()?;
        let (value, used) = match self.conv {
            Conv::Big | Conv::Little if n == 0 || n > 8 => return None,
            Conv::Big => (
                rest.get(..n)?
                    .iter()
                    .fold(0u64, |v, &b| v << 8 | u64::from(b)),
                n,
            ),
            Conv::Little => (
                rest.get(..n)?
                    .iter()
                    .rev()
                    .fold(0u64, |v, &b| v << 8 | u64::from(b)),
                n,
            ),
            Conv::Str(_) if n > 23 => return None,
            Conv::Str(base) => {
                let field = if n == 0 { rest } else { rest.get(..n)? };
                strtoull(field, base)?
            }
        };
        Some((value, start + used))
    }
}

/// C's `strtoull` over `s` (which ends at its first NUL, like the C string Suricata builds):
/// leading whitespace, an optional sign (`-` negates modulo 2^64), an optional `0x` prefix in
/// base 16 or 0, then digits. The value and the bytes consumed; `None` without digits or on
/// overflow (where Suricata does not match).
fn strtoull(s: &[u8], base: u32) -> Option<(u64, usize)> {
    let s = s.split(|&b| b == 0).next().unwrap_or_default();
    let at = |i: usize| s.get(i).copied();
    let mut i = 0;
    while at(i).is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')) {
        i += 1;
    }
    let negative = at(i) == Some(b'-');
    if matches!(at(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let mut base = base;
    let hex_prefix = at(i) == Some(b'0')
        && matches!(at(i + 1), Some(b'x' | b'X'))
        && at(i + 2).is_some_and(|c| c.is_ascii_hexdigit());
    if (base == 0 || base == 16) && hex_prefix {
        i += 2;
        base = 16;
    } else if base == 0 {
        base = if at(i) == Some(b'0') { 8 } else { 10 };
    }
    if !(2..=36).contains(&base) {
        return None;
    }
    let digits = i;
    let mut v: u64 = 0;
    let mut overflow = false;
    while let Some(d) = at(i).and_then(|c| char::from(c).to_digit(base)) {
        match v
            .checked_mul(u64::from(base))
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(n) => v = n,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits || overflow {
        return None;
    }
    Some((if negative { v.wrapping_neg() } else { v }, i))
}

/// `byte_test` operators (`!` is [`ByteTestStep::negated`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOp {
    Lt,
    Gt,
    Eq,
    Le,
    Ge,
    /// `&`: any bit in common.
    And,
    /// `^`: the values differ in some bit.
    Xor,
}

impl ByteOp {
    pub fn parse(s: &str) -> Option<ByteOp> {
        Some(match s {
            "<" => ByteOp::Lt,
            ">" => ByteOp::Gt,
            "=" => ByteOp::Eq,
            "<=" => ByteOp::Le,
            ">=" => ByteOp::Ge,
            "&" => ByteOp::And,
            "^" => ByteOp::Xor,
            _ => return None,
        })
    }

    fn eval(self, a: u64, b: u64) -> bool {
        match self {
            ByteOp::Lt => a < b,
            ByteOp::Gt => a > b,
            ByteOp::Eq => a == b,
            ByteOp::Le => a <= b,
            ByteOp::Ge => a >= b,
            ByteOp::And => a & b != 0,
            ByteOp::Xor => a ^ b != 0,
        }
    }
}

/// `byte_test`: compares the number read with a value; the cursor does not move.
#[derive(Debug, Clone)]
pub struct ByteTestStep {
    /// 1–8 binary, 0–23 as a string.
    pub nbytes: u8,
    pub src: ByteSource,
    pub op: ByteOp,
    pub negated: bool,
    pub value: Val,
    pub bitmask: Option<Bitmask>,
}

/// Where `byte_jump` jumps from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JumpFrom {
    /// Just past the bytes read.
    Read,
    /// `from_beginning`: the start of the buffer.
    Beginning,
    /// `from_end`: the end of the buffer.
    End,
}

/// `byte_jump`: moves the cursor by the number read.
#[derive(Debug, Clone)]
pub struct ByteJumpStep {
    pub nbytes: Val,
    pub src: ByteSource,
    pub multiplier: u64,
    pub bitmask: Option<Bitmask>,
    /// Rounds the jump up to a multiple of 4.
    pub align: bool,
    pub post_offset: Val,
    pub from: JumpFrom,
}

/// `byte_extract`: stores the number read in a variable; the cursor moves past the bytes read.
#[derive(Debug, Clone)]
pub struct ByteExtractStep {
    pub nbytes: u8,
    pub src: ByteSource,
    pub multiplier: u64,
    pub bitmask: Option<Bitmask>,
    /// 0 (none), 2 or 4: rounds the value up to a multiple.
    pub align: u8,
    pub slot: u8,
}

/// `byte_math` operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MathOp {
    Add,
    Sub,
    Mul,
    Div,
    Shl,
    Shr,
}

impl MathOp {
    pub fn parse(s: &str) -> Option<MathOp> {
        Some(match s {
            "+" => MathOp::Add,
            "-" => MathOp::Sub,
            "*" => MathOp::Mul,
            "/" => MathOp::Div,
            "<<" => MathOp::Shl,
            ">>" => MathOp::Shr,
            _ => return None,
        })
    }

    /// Unsigned 64-bit arithmetic, wrapping; dividing by 0 does not match; a shift by 64 or
    /// more gives 0.
    fn eval(self, a: u64, b: u64) -> Option<u64> {
        let shift = u32::try_from(b).ok().filter(|s| *s < 64);
        Some(match self {
            MathOp::Add => a.wrapping_add(b),
            MathOp::Sub => a.wrapping_sub(b),
            MathOp::Mul => a.wrapping_mul(b),
            MathOp::Div => a.checked_div(b)?,
            MathOp::Shl => shift.map_or(0, |s| a << s),
            MathOp::Shr => shift.map_or(0, |s| a >> s),
        })
    }
}

/// `byte_math`: stores `read <oper> rvalue` (then `bitmask`) in a variable; the cursor moves
/// past the bytes read.
#[derive(Debug, Clone)]
pub struct ByteMathStep {
    pub nbytes: Val,
    pub src: ByteSource,
    pub op: MathOp,
    pub rvalue: Val,
    pub bitmask: Option<Bitmask>,
    pub slot: u8,
}

#[derive(Debug, Clone)]
pub enum Step {
    Content(ContentStep),
    Pcre(PcreStep),
    Bsize(IntMatch),
    Isdataat {
        negated: bool,
        offset: Val,
        relative: bool,
    },
    ByteTest(ByteTestStep),
    ByteJump(ByteJumpStep),
    ByteExtract(ByteExtractStep),
    ByteMath(ByteMathStep),
    Dataset(DataStep),
    DatasetJson(super::datajson::JsonStep),
    Datarep(RepStep),
}

impl Step {
    /// Whether the step reads the cursor.
    fn is_relative(&self) -> bool {
        match self {
            Step::Content(c) => c.relative(),
            Step::Pcre(p) => p.relative,
            Step::Isdataat { relative, .. } => *relative,
            Step::ByteTest(b) => b.src.relative,
            Step::ByteJump(b) => b.src.relative,
            Step::ByteExtract(b) => b.src.relative,
            Step::ByteMath(b) => b.src.relative,
            _ => false,
        }
    }

    /// Whether the step, when not relative, sets the cursor regardless of where it was.
    fn resets_cursor(&self) -> bool {
        match self {
            Step::Content(c) => !c.negated,
            Step::Pcre(p) => !p.negated,
            Step::ByteJump(_) | Step::ByteExtract(_) | Step::ByteMath(_) => true,
            _ => false,
        }
    }
}

/// Whether a step after `i` reads the cursor step `i` leaves (before another step resets it):
/// only then can retrying step `i` at a later occurrence change the outcome.
fn cursor_read_after(steps: &[Step], i: usize) -> bool {
    for s in steps.iter().skip(i + 1) {
        if s.is_relative() {
            return true;
        }
        if s.resets_cursor() {
            return false;
        }
    }
    false
}

/// Dataset and datarep lookups: state lives with the caller.
pub trait DataLookup {
    /// Runs a dataset command on `value`; whether the step matches.
    fn dataset(&mut self, step: &DataStep, value: &[u8]) -> bool;
    /// Compares the reputation of `value`; a value not in the set never matches.
    fn datarep(&mut self, step: &RepStep, value: &[u8]) -> bool;
    /// Looks `value` up in a JSON dataset, keeping the entry for the alert's context.
    fn dataset_json(&mut self, step: &super::datajson::JsonStep, value: &[u8]) -> bool;
}

/// No datasets loaded: every `isset` fails, `isnotset` holds.
pub struct NoData;

impl DataLookup for NoData {
    fn dataset(&mut self, step: &DataStep, _: &[u8]) -> bool {
        !matches!(step.command, DatasetCommand::IsSet)
    }
    fn datarep(&mut self, _: &RepStep, _: &[u8]) -> bool {
        false
    }
    fn dataset_json(&mut self, step: &super::datajson::JsonStep, _: &[u8]) -> bool {
        matches!(step.command, DatasetCommand::IsNotSet)
    }
}

/// Runs `steps` over `buf`; whether they all match.
pub fn inspect(steps: &[Step], buf: &[u8], data: &mut dyn DataLookup) -> bool {
    inspect_with_vars(steps, buf, data, &mut Vars::default())
}

/// Like [`inspect`], with variables set by earlier inspections of the same rule: on a match,
/// `vars` holds the variables of the matching path (for a later buffer of the same rule).
pub fn inspect_with_vars(
    steps: &[Step],
    buf: &[u8],
    data: &mut dyn DataLookup,
    vars: &mut Vars,
) -> bool {
    let mut cx = Cx {
        data,
        budget: BACKTRACK_BUDGET,
        vars: *vars,
    };
    let matched = run(steps, 0, buf, 0, *vars, &mut cx);
    if matched {
        *vars = cx.vars;
    }
    matched
}

/// State shared along one inspection.
struct Cx<'d> {
    data: &'d mut dyn DataLookup,
    budget: u32,
    /// The variables of the path that matched.
    vars: Vars,
}

fn run(steps: &[Step], i: usize, buf: &[u8], prev: usize, vars: Vars, cx: &mut Cx<'_>) -> bool {
    let Some(step) = steps.get(i) else {
        cx.vars = vars;
        return true;
    };
    let next = |cx: &mut Cx<'_>, prev: usize, vars: Vars| run(steps, i + 1, buf, prev, vars, cx);
    match step {
        Step::Content(c) => {
            let (lo, hi) = c.window(buf.len(), prev, &vars);
            if c.negated {
                return c.find(buf, lo, hi).is_none() && next(cx, prev, vars);
            }
            let mut from = lo;
            while let Some(p) = c.find(buf, from, hi) {
                if next(cx, p + c.pattern.len(), vars) {
                    return true;
                }
                // Retrying at a later occurrence only helps when a later step reads the cursor.
                if cx.budget == 0 || !cursor_read_after(steps, i) {
                    return false;
                }
                cx.budget -= 1;
                from = p + 1;
            }
            false
        }
        Step::Pcre(p) => {
            let base = if p.relative { prev.min(buf.len()) } else { 0 };
            let Some(re) = p.regex.get() else {
                return false;
            };
            match re.find(&buf[base..]) {
                Some(m) if !p.negated => next(cx, base + m.end(), vars),
                None if p.negated => next(cx, prev, vars),
                _ => false,
            }
        }
        Step::Bsize(m) => m.matches(buf.len() as u64) && next(cx, prev, vars),
        Step::Isdataat {
            negated,
            offset,
            relative,
        } => {
            // Suricata: relative, `n` more bytes after the cursor; absolute, a byte at offset
            // `n`. A variable of 100,000,000 or more never has data.
            let present = match offset {
                Val::Var(s) if vars.get(*s) >= 100_000_000 => false,
                _ => {
                    let n = offset.unsigned(&vars);
                    let len = buf.len() as i64;
                    if *relative {
                        (0..=len).contains(&(prev as i64).saturating_add(n))
                    } else {
                        (0..len).contains(&n)
                    }
                }
            };
            present != *negated && next(cx, prev, vars)
        }
        Step::ByteTest(t) => {
            let Some((v, _)) = t.src.read(buf, prev, &vars, i64::from(t.nbytes)) else {
                return false;
            };
            let v = t.bitmask.map_or(v, |m| m.apply(v));
            t.op.eval(v, t.value.full(&vars)) != t.negated && next(cx, prev, vars)
        }
        Step::ByteJump(j) => match byte_jump(j, buf, prev, &vars) {
            Some(to) => next(cx, to, vars),
            None => false,
        },
        Step::ByteExtract(e) => {
            let Some((v, end)) = e.src.read(buf, prev, &vars, i64::from(e.nbytes)) else {
                return false;
            };
            let mut v = e
                .bitmask
                .map_or(v, |m| m.apply(v))
                .wrapping_mul(e.multiplier);
            let align = u64::from(e.align);
            if align > 1 && v % align != 0 {
                v = v.wrapping_add(align - v % align);
            }
            let mut vars = vars;
            vars.set(e.slot, v);
            next(cx, end, vars)
        }
        Step::ByteMath(m) => {
            let nbytes = match m.nbytes {
                Val::Lit(n) => n,
                // Suricata reads a variable byte count as a u8: 1–4, or 1–10 for a string.
                Val::Var(s) => {
                    let n = i64::from(vars.get(s) as u8);
                    let max = if matches!(m.src.conv, Conv::Str(_)) {
                        10
                    } else {
                        4
                    };
                    if !(1..=max).contains(&n) {
                        return false;
                    }
                    n
                }
            };
            let Some((v, end)) = m.src.read(buf, prev, &vars, nbytes) else {
                return false;
            };
            let Some(v) = m.op.eval(v, m.rvalue.full(&vars)) else {
                return false;
            };
            let mut vars = vars;
            vars.set(m.slot, m.bitmask.map_or(v, |b| b.apply(v)));
            next(cx, end, vars)
        }
        Step::Dataset(d) => cx.data.dataset(d, buf) && next(cx, prev, vars),
        Step::Datarep(r) => cx.data.datarep(r, buf) && next(cx, prev, vars),
        Step::DatasetJson(j) => cx.data.dataset_json(j, buf) && next(cx, prev, vars),
    }
}

/// Where `byte_jump` moves the cursor, or `None` when it does not match.
fn byte_jump(j: &ByteJumpStep, buf: &[u8], prev: usize, vars: &Vars) -> Option<usize> {
    // A variable byte count is read as an i32: up to 8, or 23 for a string.
    let nbytes = j.nbytes.signed(vars);
    let (v, end) = j.src.read(buf, prev, vars, nbytes)?;
    let mut v = j
        .bitmask
        .map_or(v, |m| m.apply(v))
        .wrapping_mul(j.multiplier);
    if j.align && !v.is_multiple_of(4) {
        v = v.wrapping_add(4 - v % 4);
    }
    // The post offset is added modulo 2^64 and the sum read as signed, like Suricata.
    let v = v.wrapping_add(j.post_offset.signed(vars) as u64) as i64;
    let len = buf.len() as i64;
    let base = match j.from {
        JumpFrom::Read => end as i64,
        JumpFrom::Beginning => 0,
        JumpFrom::End => len,
    };
    let to = i128::from(base) + i128::from(v);
    // Before the buffer: the start; past its end: no match (the end itself is allowed).
    if to > i128::from(len) {
        return None;
    }
    Some(usize::try_from(to.max(0)).unwrap_or(0))
}

/// Transforms Vigil applies (the rest make a rule non-executable).
pub fn transform_supported(t: &Transform) -> bool {
    matches!(
        t,
        Transform::Dotprefix
            | Transform::ToLowercase
            | Transform::ToUppercase
            | Transform::ToMd5
            | Transform::ToSha1
            | Transform::ToSha256
            | Transform::StripWhitespace
            | Transform::CompressWhitespace
    ) || matches!(t, Transform::Pcrexform(p) if pcrexform_regex(p).is_some())
}

/// `pcrexform` patterns compiled once per thread (rules name few distinct patterns).
fn pcrexform_regex(pattern: &str) -> Option<regex::bytes::Regex> {
    thread_local! {
        static CACHE: std::cell::RefCell<rustc_hash::FxHashMap<String, Option<regex::bytes::Regex>>> =
            Default::default();
    }
    CACHE.with(|c| {
        c.borrow_mut()
            .entry(pattern.to_string())
            .or_insert_with(|| {
                let p = crate::rules::ast::Pcre {
                    pattern: pattern.to_string(),
                    ..Default::default()
                };
                crate::rules::pcre::compile(&p).ok()
            })
            .clone()
    })
}

/// Applies `transforms` in order.
pub fn apply_transforms<'b>(transforms: &[Transform], buf: &'b [u8]) -> Cow<'b, [u8]> {
    let mut cur = Cow::Borrowed(buf);
    for t in transforms {
        cur = Cow::Owned(match t {
            Transform::Dotprefix => {
                let mut v = Vec::with_capacity(cur.len() + 1);
                v.push(b'.');
                v.extend_from_slice(&cur);
                v
            }
            Transform::ToLowercase => cur.to_ascii_lowercase(),
            Transform::ToUppercase => cur.to_ascii_uppercase(),
            Transform::ToMd5 => md5::Md5::digest(&cur).to_vec(),
            Transform::ToSha1 => sha1::Sha1::digest(&cur).to_vec(),
            Transform::ToSha256 => sha2::Sha256::digest(&cur).to_vec(),
            Transform::StripWhitespace => cur
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace() && *b != 0x0b)
                .collect(),
            Transform::CompressWhitespace => {
                let mut v = Vec::with_capacity(cur.len());
                let mut in_ws = false;
                for &b in cur.iter() {
                    let ws = b.is_ascii_whitespace() || b == 0x0b;
                    if ws {
                        if !in_ws {
                            v.push(b' ');
                        }
                    } else {
                        v.push(b);
                    }
                    in_ws = ws;
                }
                v
            }
            // The first capture group (or the whole match) replaces the buffer.
            Transform::Pcrexform(p) => {
                let Some(re) = pcrexform_regex(p) else {
                    continue;
                };
                let Some(caps) = re.captures(&cur) else {
                    continue;
                };
                match caps.get(1).or_else(|| caps.get(0)) {
                    Some(m) => m.as_bytes().to_vec(),
                    None => return cur,
                }
            }
            // Refused at compile time; never reached for a compiled rule.
            _ => continue,
        });
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(p: &str) -> ContentStep {
        ContentStep {
            pattern: p.as_bytes().into(),
            nocase: false,
            negated: false,
            offset: Val::Lit(0),
            depth: None,
            distance: None,
            within: None,
            endswith: false,
        }
    }

    fn m(steps: Vec<Step>, buf: &str) -> bool {
        inspect(&steps, buf.as_bytes(), &mut NoData)
    }

    #[test]
    fn absolute_content_respects_offset_and_depth() {
        let c = |o, d: Option<i64>| {
            Step::Content(ContentStep {
                offset: Val::Lit(o),
                depth: d.map(Val::Lit),
                ..content("abc")
            })
        };
        assert!(m(vec![c(0, None)], "xxabc"));
        assert!(m(vec![c(2, Some(3))], "xxabc"));
        assert!(!m(vec![c(3, None)], "xxabc"));
        assert!(!m(vec![c(0, Some(4))], "xxabc"));
    }

    #[test]
    fn relative_content_uses_distance_and_within_from_previous_match() {
        let a = Step::Content(content("GET"));
        let b = |d: Option<i64>, w: Option<i64>| {
            Step::Content(ContentStep {
                distance: d.map(Val::Lit),
                within: w.map(Val::Lit),
                ..content("/x")
            })
        };
        assert!(m(vec![a.clone(), b(Some(1), Some(2))], "GET /x"));
        assert!(!m(vec![a.clone(), b(Some(2), None)], "GET /x"));
        assert!(!m(vec![a.clone(), b(None, Some(2))], "GET  /x"));
        assert!(m(vec![a.clone(), b(Some(-10), None)], "/xGET"));
    }

    #[test]
    fn backtracks_to_a_later_occurrence_for_relative_steps() {
        let a = Step::Content(content("a"));
        let b = Step::Content(ContentStep {
            within: Some(Val::Lit(1)),
            ..content("b")
        });
        // The first "a" is followed by "c"; the second by "b".
        assert!(m(vec![a, b], "acab"));
    }

    #[test]
    fn nocase_negation_and_endswith() {
        let nc = Step::Content(ContentStep {
            nocase: true,
            ..content("evil.com")
        });
        assert!(m(vec![nc.clone()], "www.EVIL.Com"));
        let neg = Step::Content(ContentStep {
            negated: true,
            ..content("good")
        });
        assert!(m(vec![nc.clone(), neg.clone()], "evil.com"));
        assert!(!m(vec![nc, neg], "good.evil.com"));
        let end = Step::Content(ContentStep {
            endswith: true,
            ..content(".com")
        });
        assert!(m(vec![end.clone()], "a.com"));
        assert!(!m(vec![end], "a.com.evil"));
    }

    #[test]
    fn pcre_relative_and_bsize() {
        let re = |p: &str, rel| {
            Step::Pcre(PcreStep {
                regex: LazyRegex::ready(regex::bytes::Regex::new(p).unwrap()),
                negated: false,
                relative: rel,
            })
        };
        assert!(m(
            vec![Step::Content(content("id=")), re(r"^\d+", true)],
            "x?id=42"
        ));
        assert!(!m(
            vec![Step::Content(content("id=")), re(r"^\d+", true)],
            "x?id=a42"
        ));
        assert!(m(vec![Step::Bsize(IntMatch::Eq(3))], "abc"));
        assert!(!m(vec![Step::Bsize(IntMatch::Lt(3))], "abc"));
        let isdataat = |neg, off, rel| Step::Isdataat {
            negated: neg,
            offset: Val::Lit(off),
            relative: rel,
        };
        assert!(m(
            vec![Step::Content(content("a")), isdataat(true, 1, true)],
            "xa"
        ));
        assert!(!m(
            vec![Step::Content(content("a")), isdataat(true, 0, true)],
            "xab"
        ));
    }

    #[test]
    fn transforms() {
        assert_eq!(
            &*apply_transforms(&[Transform::Dotprefix], b"evil.com"),
            b".evil.com"
        );
        assert_eq!(
            apply_transforms(&[Transform::ToMd5], b"abc").len(),
            16,
            "to_md5 yields the raw digest"
        );
        assert_eq!(
            &*apply_transforms(&[Transform::CompressWhitespace], b"a  \t b"),
            b"a b"
        );
    }

    // ---- byte keywords ------------------------------------------------------------------------

    fn src(offset: i64, relative: bool, conv: Conv) -> ByteSource {
        ByteSource {
            offset: Val::Lit(offset),
            relative,
            conv,
        }
    }

    fn test(nbytes: u8, op: ByteOp, value: u64, src: ByteSource) -> ByteTestStep {
        ByteTestStep {
            nbytes,
            src,
            op,
            negated: false,
            value: Val::Lit(value as i64),
            bitmask: None,
        }
    }

    fn jump(nbytes: i64, src: ByteSource) -> ByteJumpStep {
        ByteJumpStep {
            nbytes: Val::Lit(nbytes),
            src,
            multiplier: 1,
            bitmask: None,
            align: false,
            post_offset: Val::Lit(0),
            from: JumpFrom::Read,
        }
    }

    fn extract(nbytes: u8, src: ByteSource, slot: u8) -> ByteExtractStep {
        ByteExtractStep {
            nbytes,
            src,
            multiplier: 1,
            bitmask: None,
            align: 0,
            slot,
        }
    }

    fn math(nbytes: i64, src: ByteSource, op: MathOp, rvalue: Val, slot: u8) -> ByteMathStep {
        ByteMathStep {
            nbytes: Val::Lit(nbytes),
            src,
            op,
            rvalue,
            bitmask: None,
            slot,
        }
    }

    fn b(steps: Vec<Step>, buf: &[u8]) -> bool {
        inspect(&steps, buf, &mut NoData)
    }

    /// The variables after a match, or `None`.
    fn vars_after(steps: Vec<Step>, buf: &[u8]) -> Option<Vars> {
        let mut vars = Vars::default();
        inspect_with_vars(&steps, buf, &mut NoData, &mut vars).then_some(vars)
    }

    fn at_end() -> Step {
        Step::Isdataat {
            negated: true,
            offset: Val::Lit(1),
            relative: true,
        }
    }

    #[test]
    fn isdataat_relative_counts_bytes_after_the_cursor_like_suricata() {
        let evil = || Step::Content(content("evil.com"));
        // `isdataat:!1,relative`: the match ends the buffer.
        assert!(m(vec![evil(), at_end()], "x.evil.com"));
        assert!(!m(vec![evil(), at_end()], "x.evil.comX"));
        let has = |n| Step::Isdataat {
            negated: false,
            offset: Val::Lit(n),
            relative: true,
        };
        assert!(m(vec![evil(), has(2)], "evil.comXY"));
        assert!(!m(vec![evil(), has(3)], "evil.comXY"));
        // Absolute: a byte at that offset.
        let abs = |n| Step::Isdataat {
            negated: false,
            offset: Val::Lit(n),
            relative: false,
        };
        assert!(m(vec![abs(2)], "abc"));
        assert!(!m(vec![abs(3)], "abc"));
    }

    #[test]
    fn byte_test_endianness_and_operators() {
        let buf = [0x01, 0x02, 0x03, 0x04];
        let t = |op, v, conv| Step::ByteTest(test(2, op, v, src(1, false, conv)));
        assert!(b(vec![t(ByteOp::Eq, 0x0203, Conv::Big)], &buf));
        assert!(b(vec![t(ByteOp::Eq, 0x0302, Conv::Little)], &buf));
        assert!(!b(vec![t(ByteOp::Eq, 0x0302, Conv::Big)], &buf));
        assert!(b(vec![t(ByteOp::Lt, 0x0204, Conv::Big)], &buf));
        assert!(!b(vec![t(ByteOp::Lt, 0x0203, Conv::Big)], &buf));
        assert!(b(vec![t(ByteOp::Le, 0x0203, Conv::Big)], &buf));
        assert!(b(vec![t(ByteOp::Gt, 0x0202, Conv::Big)], &buf));
        assert!(b(vec![t(ByteOp::Ge, 0x0203, Conv::Big)], &buf));
        assert!(!b(vec![t(ByteOp::Ge, 0x0204, Conv::Big)], &buf));
        assert!(b(vec![t(ByteOp::And, 0x0001, Conv::Big)], &buf));
        assert!(!b(vec![t(ByteOp::And, 0x0004, Conv::Big)], &buf));
        assert!(b(vec![t(ByteOp::Xor, 0x0000, Conv::Big)], &buf));
        assert!(!b(vec![t(ByteOp::Xor, 0x0203, Conv::Big)], &buf));
        // Eight bytes, and reads past the end never match.
        let all = |n, off| Step::ByteTest(test(n, ByteOp::Gt, 0, src(off, false, Conv::Big)));
        assert!(b(vec![all(8, 0)], &[0, 0, 0, 0, 0, 0, 0, 1]));
        assert!(!b(vec![all(8, 1)], &[0, 0, 0, 0, 0, 0, 0, 1]));
        assert!(!b(vec![all(1, -1)], &[1]));
        assert!(!b(vec![all(1, 0)], &[]));
    }

    #[test]
    fn byte_test_negation_and_bitmask() {
        let neg = |op, v| {
            Step::ByteTest(ByteTestStep {
                negated: true,
                ..test(1, op, v, src(0, false, Conv::Big))
            })
        };
        assert!(b(vec![neg(ByteOp::Eq, 5)], &[4]));
        assert!(!b(vec![neg(ByteOp::Eq, 5)], &[5]));
        assert!(b(vec![neg(ByteOp::And, 0x80)], &[0x7f]));
        // Out of bounds is no match even negated.
        assert!(!b(vec![neg(ByteOp::Eq, 5)], &[]));
        // Mask 0x3c keeps bits 2-5 and shifts them down by 2: 0xd6 -> 0x14 -> 5.
        let masked = |mask, v| {
            Step::ByteTest(ByteTestStep {
                bitmask: Some(Bitmask::new(mask)),
                ..test(1, ByteOp::Eq, v, src(0, false, Conv::Big))
            })
        };
        assert!(b(vec![masked(0x3c, 5)], &[0xd6]));
        assert!(b(vec![masked(0xf0, 0xd)], &[0xd6]));
        assert!(b(vec![masked(0x01, 0)], &[0xd6]));
        assert!(b(vec![masked(0, 0)], &[0xff]));
        // Two bytes little endian, masked.
        let wide = Step::ByteTest(ByteTestStep {
            bitmask: Some(Bitmask::new(0xff00)),
            ..test(2, ByteOp::Eq, 0x12, src(0, false, Conv::Little))
        });
        assert!(b(vec![wide], &[0x34, 0x12]));
    }

    #[test]
    fn byte_test_string_forms() {
        let s = |n, base, v| Step::ByteTest(test(n, ByteOp::Eq, v, src(0, false, Conv::Str(base))));
        assert!(b(vec![s(3, 10, 123)], b"123456"));
        assert!(b(vec![s(6, 10, 123456)], b"123456"));
        assert!(b(vec![s(4, 16, 0x1f2e)], b"1f2e"));
        assert!(b(vec![s(6, 16, 0x1f2e)], b"0x1f2e"));
        assert!(b(vec![s(3, 8, 0o17)], b"017"));
        // Automatic base: 0x hex, leading 0 octal, else decimal.
        assert!(b(vec![s(4, 0, 0x1f)], b"0x1f"));
        assert!(b(vec![s(3, 0, 0o17)], b"017"));
        assert!(b(vec![s(2, 0, 17)], b"17"));
        // Leading spaces and a sign; digits stop at the first non-digit.
        assert!(b(vec![s(5, 10, 42)], b"  +42"));
        assert!(b(vec![s(4, 10, 42)], b"42ab"));
        assert!(b(vec![s(3, 10, 0u64.wrapping_sub(7))], b"-7 "));
        // No digits, or too few bytes: no match.
        assert!(!b(vec![s(3, 10, 0)], b"abc"));
        assert!(!b(vec![s(7, 10, 123456)], b"123456"));
        // 0 bytes: the rest of the buffer.
        assert!(b(vec![s(0, 10, 123456)], b"123456"));
        // Relative after a content.
        let rel = Step::ByteTest(test(2, ByteOp::Gt, 40, src(1, true, Conv::Str(10))));
        assert!(m(
            vec![Step::Content(content("len=")), rel.clone()],
            "len= 42;"
        ));
        assert!(!m(vec![Step::Content(content("len=")), rel], "len= 39;"));
    }

    #[test]
    fn strtoull_like_c() {
        assert_eq!(strtoull(b"123", 10), Some((123, 3)));
        assert_eq!(strtoull(b"\t 12x", 10), Some((12, 4)));
        assert_eq!(strtoull(b"0x", 16), Some((0, 1)));
        assert_eq!(strtoull(b"0xg", 0), Some((0, 1)));
        assert_eq!(strtoull(b"08", 0), Some((0, 1)));
        assert_eq!(strtoull(b"12\x0034", 10), Some((12, 2)));
        assert_eq!(strtoull(b"18446744073709551615", 10), Some((u64::MAX, 20)));
        assert_eq!(strtoull(b"18446744073709551616", 10), None);
        assert_eq!(strtoull(b"-", 10), None);
        assert_eq!(strtoull(b"", 10), None);
        assert_eq!(strtoull(b"12", 7), Some((9, 2)));
        assert_eq!(strtoull(b"12", 1), None);
    }

    #[test]
    fn byte_test_relative_reads_after_the_cursor() {
        let t = |off| Step::ByteTest(test(1, ByteOp::Eq, 0x41, src(off, true, Conv::Big)));
        let c = || Step::Content(content("xy"));
        assert!(m(vec![c(), t(0)], "xyA"));
        assert!(m(vec![c(), t(1)], "xy.A"));
        assert!(m(vec![c(), t(-3)], "Axy"));
        assert!(!m(vec![c(), t(-4)], "Axy"));
        assert!(!m(vec![c(), t(0)], "Axy"));
        // Backtracking: the first "xy" is not followed by "A", the second is.
        assert!(m(vec![c(), t(0)], "xyBxyA"));
        // byte_test does not move the cursor.
        let after = Step::Content(ContentStep {
            within: Some(Val::Lit(1)),
            ..content("A")
        });
        assert!(m(vec![c(), t(0), after], "xyA"));
    }

    #[test]
    fn byte_jump_moves_the_cursor() {
        let then = |s: &str| {
            Step::Content(ContentStep {
                within: Some(Val::Lit(s.len() as i64)),
                ..content(s)
            })
        };
        // Length 3 (two bytes), skip three bytes, then "ok".
        let j = || Step::ByteJump(jump(2, src(0, false, Conv::Big)));
        assert!(b(vec![j(), then("ok")], b"\x00\x03abcok"));
        assert!(!b(vec![j(), then("ok")], b"\x00\x02abcok"));
        // Little endian, relative to a content.
        let rel = Step::ByteJump(jump(2, src(0, true, Conv::Little)));
        assert!(b(
            vec![Step::Content(content("H")), rel, then("ok")],
            b"H\x02\x00zzok"
        ));
        // A jump to the end of the buffer matches; past it does not.
        assert!(b(vec![j(), at_end()], b"\x00\x03abc"));
        assert!(!b(vec![j()], b"\x00\x04abc"));
        // Multiplier and post_offset.
        let mp = Step::ByteJump(ByteJumpStep {
            multiplier: 2,
            post_offset: Val::Lit(-1),
            ..jump(1, src(0, false, Conv::Big))
        });
        assert!(b(vec![mp, then("ok")], b"\x02abcok"));
        // Align rounds up to a multiple of 4.
        let al = Step::ByteJump(ByteJumpStep {
            align: true,
            ..jump(1, src(0, false, Conv::Big))
        });
        assert!(b(vec![al, then("ok")], b"\x03abcdok"));
        // from_beginning and from_end.
        let fb = Step::ByteJump(ByteJumpStep {
            from: JumpFrom::Beginning,
            ..jump(1, src(1, false, Conv::Big))
        });
        assert!(b(vec![fb, then("ok")], b"x\x04yyok"));
        let fe = Step::ByteJump(ByteJumpStep {
            from: JumpFrom::End,
            post_offset: Val::Lit(-2),
            ..jump(1, src(0, false, Conv::Big))
        });
        assert!(b(vec![fe, then("ok")], b"\x00zzzok"));
        // A jump before the buffer start lands on the start.
        let back = Step::ByteJump(ByteJumpStep {
            post_offset: Val::Lit(-100),
            ..jump(1, src(0, false, Conv::Big))
        });
        assert!(b(vec![back, then("\x00")], b"\x00ab"));
        // As a string.
        let st = Step::ByteJump(jump(2, src(0, false, Conv::Str(10))));
        assert!(b(vec![st, then("ok")], b"03abcok"));
        // Bitmask before the multiplier: 0x83 & 0x0f = 3.
        let bm = Step::ByteJump(ByteJumpStep {
            bitmask: Some(Bitmask::new(0x0f)),
            ..jump(1, src(0, false, Conv::Big))
        });
        assert!(b(vec![bm, then("ok")], b"\x83abcok"));
    }

    #[test]
    fn byte_extract_feeds_content_isdataat_byte_test_and_byte_jump() {
        let len = || Step::ByteExtract(extract(1, src(0, false, Conv::Big), 0));
        // distance from a variable.
        let dist = Step::Content(ContentStep {
            distance: Some(Val::Var(0)),
            within: Some(Val::Lit(2)),
            ..content("ok")
        });
        assert!(b(vec![len(), dist.clone()], b"\x02xxok"));
        assert!(!b(vec![len(), dist], b"\x01xxok"));
        // within from a variable.
        let within = Step::Content(ContentStep {
            within: Some(Val::Var(0)),
            ..content("ok")
        });
        assert!(b(vec![len(), within.clone()], b"\x04xxok"));
        assert!(!b(vec![len(), within], b"\x03xxok"));
        // offset and depth from a variable.
        let abs = Step::Content(ContentStep {
            offset: Val::Var(0),
            depth: Some(Val::Lit(2)),
            ..content("ok")
        });
        assert!(b(vec![len(), abs.clone()], b"\x03xxok"));
        assert!(!b(vec![len(), abs], b"\x01xxok"));
        // byte_test value and offset from variables.
        let tv = Step::ByteTest(ByteTestStep {
            value: Val::Var(0),
            ..test(1, ByteOp::Eq, 0, src(1, false, Conv::Big))
        });
        assert!(b(vec![len(), tv.clone()], b"\x07\x07"));
        assert!(!b(vec![len(), tv], b"\x07\x08"));
        let to = Step::ByteTest(ByteTestStep {
            src: ByteSource {
                offset: Val::Var(0),
                relative: false,
                conv: Conv::Big,
            },
            ..test(1, ByteOp::Eq, 0x41, src(0, false, Conv::Big))
        });
        assert!(b(vec![len(), to], b"\x02xA"));
        // isdataat from a variable, relative to the cursor after the extracted byte.
        let ida = |neg| Step::Isdataat {
            negated: neg,
            offset: Val::Var(0),
            relative: true,
        };
        assert!(b(vec![len(), ida(false)], b"\x03abc"));
        assert!(!b(vec![len(), ida(false)], b"\x04abc"));
        assert!(b(vec![len(), ida(true)], b"\x04abc"));
        // byte_jump count and offset from variables.
        let jv = Step::ByteJump(ByteJumpStep {
            nbytes: Val::Var(0),
            ..jump(0, src(0, true, Conv::Big))
        });
        let ok = Step::Content(ContentStep {
            within: Some(Val::Lit(2)),
            ..content("ok")
        });
        assert!(b(vec![len(), jv, ok], b"\x02\x00\x01xok"));
    }

    #[test]
    fn byte_extract_options_and_cursor() {
        let ext = |e: ByteExtractStep, buf: &[u8]| {
            vars_after(vec![Step::ByteExtract(e)], buf).map(|v| v.get(0))
        };
        assert_eq!(
            ext(extract(2, src(0, false, Conv::Big), 0), b"\x01\x02"),
            Some(0x0102)
        );
        assert_eq!(
            ext(extract(2, src(0, false, Conv::Little), 0), b"\x01\x02"),
            Some(0x0201)
        );
        assert_eq!(
            ext(extract(3, src(1, false, Conv::Str(10)), 0), b"x123"),
            Some(123)
        );
        assert_eq!(
            ext(extract(2, src(0, false, Conv::Str(16)), 0), b"ff"),
            Some(255)
        );
        assert_eq!(
            ext(extract(2, src(1, false, Conv::Big), 0), b"\x01\x02"),
            None
        );
        let mult = ByteExtractStep {
            multiplier: 4,
            ..extract(1, src(0, false, Conv::Big), 0)
        };
        assert_eq!(ext(mult, b"\x03"), Some(12));
        let align = |a| ByteExtractStep {
            align: a,
            ..extract(1, src(0, false, Conv::Big), 0)
        };
        assert_eq!(ext(align(4), b"\x05"), Some(8));
        assert_eq!(ext(align(4), b"\x08"), Some(8));
        assert_eq!(ext(align(2), b"\x05"), Some(6));
        let masked = ByteExtractStep {
            bitmask: Some(Bitmask::new(0xf0)),
            ..extract(1, src(0, false, Conv::Big), 0)
        };
        assert_eq!(ext(masked, b"\xa5"), Some(0xa));
        // The cursor moves past the extracted bytes, even for an absolute extraction.
        let next = Step::Content(ContentStep {
            within: Some(Val::Lit(1)),
            ..content("z")
        });
        assert!(b(
            vec![
                Step::ByteExtract(extract(2, src(1, false, Conv::Big), 0)),
                next.clone()
            ],
            b"a\x00\x01z"
        ));
        assert!(b(
            vec![
                Step::ByteExtract(extract(2, src(1, false, Conv::Str(10)), 0)),
                next
            ],
            b"a12z"
        ));
    }

    #[test]
    fn variables_are_recomputed_when_a_content_is_retried() {
        // "L" then a length byte, then "ok" that many bytes later. The first "L" has length 9
        // (too far), the second length 1.
        let steps = vec![
            Step::Content(content("L")),
            Step::ByteExtract(extract(1, src(0, true, Conv::Big), 0)),
            Step::Content(ContentStep {
                distance: Some(Val::Var(0)),
                within: Some(Val::Lit(2)),
                ..content("ok")
            }),
        ];
        let vars = vars_after(steps.clone(), b"L\x09L\x01-ok");
        assert_eq!(vars.map(|v| v.get(0)), Some(1));
        assert!(!b(steps, b"L\x09L\x02-ok"));
    }

    #[test]
    fn a_content_is_retried_across_steps_that_keep_the_cursor() {
        // The absolute byte_test between "a" and the relative "b" does not move the cursor.
        let steps = vec![
            Step::Content(content("a")),
            Step::ByteTest(test(1, ByteOp::Eq, b'x'.into(), src(0, false, Conv::Big))),
            Step::Content(ContentStep {
                within: Some(Val::Lit(1)),
                ..content("b")
            }),
        ];
        assert!(m(steps, "xacab"));
    }

    #[test]
    fn byte_math_operators_and_results() {
        let run = |op, rvalue, buf: &[u8]| {
            vars_after(
                vec![Step::ByteMath(math(
                    1,
                    src(0, false, Conv::Big),
                    op,
                    rvalue,
                    1,
                ))],
                buf,
            )
            .map(|v| v.get(1))
        };
        assert_eq!(run(MathOp::Add, Val::Lit(2), b"\x05"), Some(7));
        assert_eq!(run(MathOp::Sub, Val::Lit(6), b"\x05"), Some(u64::MAX));
        assert_eq!(run(MathOp::Mul, Val::Lit(3), b"\x05"), Some(15));
        assert_eq!(run(MathOp::Div, Val::Lit(2), b"\x05"), Some(2));
        assert_eq!(run(MathOp::Div, Val::Lit(0), b"\x05"), None);
        assert_eq!(run(MathOp::Shl, Val::Lit(2), b"\x22"), Some(0x88));
        assert_eq!(run(MathOp::Shr, Val::Lit(1), b"\x22"), Some(0x11));
        assert_eq!(run(MathOp::Shl, Val::Lit(64), b"\x22"), Some(0));
        // Bitmask after the operation.
        let masked = ByteMathStep {
            bitmask: Some(Bitmask::new(0xf0)),
            ..math(1, src(0, false, Conv::Big), MathOp::Add, Val::Lit(0x10), 0)
        };
        assert_eq!(
            vars_after(vec![Step::ByteMath(masked)], b"\x25").map(|v| v.get(0)),
            Some(3)
        );
        // Suricata-verify detect-bytemath-05 / -mult-04 in one buffer: the extracted byte is
        // the byte count, then rvalue.
        let hdr = b"\x45\x22\x00\x28\x00\x01\x00\x00";
        let steps = vec![
            Step::ByteExtract(extract(1, src(5, true, Conv::Big), 0)),
            Step::ByteMath(ByteMathStep {
                nbytes: Val::Var(0),
                ..math(0, src(1, false, Conv::Big), MathOp::Add, Val::Lit(102), 1)
            }),
            Step::ByteMath(math(
                1,
                src(1, false, Conv::Big),
                MathOp::Mul,
                Val::Var(0),
                2,
            )),
            Step::ByteTest(ByteTestStep {
                value: Val::Var(2),
                ..test(1, ByteOp::Eq, 0, src(1, false, Conv::Big))
            }),
        ];
        let vars = vars_after(steps, hdr);
        assert_eq!(
            vars.map(|v| (v.get(0), v.get(1), v.get(2))),
            Some((1, 0x88, 0x22))
        );
        // A variable byte count out of range never matches.
        let zero = Step::ByteMath(ByteMathStep {
            nbytes: Val::Var(0),
            ..math(0, src(0, false, Conv::Big), MathOp::Add, Val::Lit(1), 1)
        });
        assert!(!b(vec![zero], b"\x00"));
        // As a string, relative.
        let st = Step::ByteMath(math(
            2,
            src(1, true, Conv::Str(10)),
            MathOp::Mul,
            Val::Lit(2),
            0,
        ));
        assert_eq!(
            vars_after(vec![Step::Content(content("=")), st], b"=x21").map(|v| v.get(0)),
            Some(42)
        );
    }

    #[test]
    fn huge_variables_never_panic() {
        // Variables near u64::MAX used as every kind of number.
        let max = || Step::ByteExtract(extract(8, src(0, false, Conv::Big), 0));
        let buf = [0xff; 16];
        for step in [
            Step::Content(ContentStep {
                offset: Val::Var(0),
                depth: Some(Val::Var(0)),
                ..content("\u{7f}")
            }),
            Step::Content(ContentStep {
                distance: Some(Val::Var(0)),
                within: Some(Val::Var(0)),
                ..content("\u{7f}")
            }),
            Step::Isdataat {
                negated: false,
                offset: Val::Var(0),
                relative: true,
            },
            Step::ByteTest(ByteTestStep {
                src: ByteSource {
                    offset: Val::Var(0),
                    relative: true,
                    conv: Conv::Big,
                },
                value: Val::Var(0),
                ..test(8, ByteOp::Eq, 0, src(0, false, Conv::Big))
            }),
            Step::ByteJump(ByteJumpStep {
                nbytes: Val::Var(0),
                post_offset: Val::Var(0),
                multiplier: 65535,
                align: true,
                ..jump(0, src(0, true, Conv::Big))
            }),
            Step::ByteJump(ByteJumpStep {
                post_offset: Val::Lit(65535),
                multiplier: 65535,
                from: JumpFrom::End,
                ..jump(8, src(0, false, Conv::Big))
            }),
            Step::ByteMath(ByteMathStep {
                nbytes: Val::Var(0),
                ..math(0, src(0, true, Conv::Big), MathOp::Shl, Val::Var(0), 1)
            }),
            Step::ByteMath(math(
                8,
                src(0, false, Conv::Big),
                MathOp::Mul,
                Val::Var(0),
                1,
            )),
        ] {
            let _ = b(vec![max(), step], &buf);
        }
        let big = ByteExtractStep {
            multiplier: 65535,
            align: 4,
            ..extract(8, src(0, false, Conv::Big), 0)
        };
        assert!(b(vec![Step::ByteExtract(big)], &buf));
    }

    proptest::proptest! {
        /// A single absolute content matches exactly when a naive window scan finds it.
        #[test]
        fn single_content_agrees_with_naive_search(
            hay in proptest::collection::vec(0u8..4, 0..40),
            pat in proptest::collection::vec(0u8..4, 1..4),
            offset in 0i64..10,
            depth in proptest::option::of(1i64..20),
        ) {
            let step = ContentStep {
                pattern: pat.clone().into(),
                offset: Val::Lit(offset),
                depth: depth.map(Val::Lit),
                ..content("")
            };
            let lo = (offset as usize).min(hay.len());
            let hi = depth.map_or(hay.len(), |d| ((offset + d) as usize).min(hay.len()));
            let naive = (lo..hi).any(|p| p + pat.len() <= hi && hay[p..p + pat.len()] == pat[..]);
            proptest::prop_assert_eq!(inspect(&[Step::Content(step)], &hay, &mut NoData), naive);
        }

        /// Byte steps with arbitrary numbers never panic, whatever the buffer.
        #[test]
        fn byte_steps_never_panic(
            buf in proptest::collection::vec(proptest::num::u8::ANY, 0..24),
            nums in proptest::collection::vec(proptest::num::i64::ANY, 6),
            small in proptest::collection::vec(-30i64..30, 6),
            pick in proptest::collection::vec(proptest::bool::ANY, 6),
            conv in 0usize..6,
            op in 0usize..6,
        ) {
            let n = |i: usize| if pick[i] { nums[i] } else { small[i] };
            let v = |i: usize| if pick[i] && nums[i] % 2 == 0 { Val::Var((i % 2) as u8) } else { Val::Lit(n(i)) };
            let conv = [Conv::Big, Conv::Little, Conv::Str(0), Conv::Str(8), Conv::Str(10), Conv::Str(16)][conv];
            let ops = [MathOp::Add, MathOp::Sub, MathOp::Mul, MathOp::Div, MathOp::Shl, MathOp::Shr];
            let source = |i: usize| ByteSource { offset: v(i), relative: pick[(i + 1) % 6], conv };
            let steps = [
                Step::ByteExtract(ByteExtractStep {
                    multiplier: (n(0) as u64) % 65536,
                    align: [0, 2, 4][(n(1) as u64 % 3) as usize],
                    bitmask: pick[2].then(|| Bitmask::new(n(2) as u64)),
                    ..extract((n(3) as u64 % 24) as u8, source(4), 0)
                }),
                Step::ByteMath(ByteMathStep {
                    nbytes: v(5),
                    bitmask: pick[0].then(|| Bitmask::new(n(1) as u64)),
                    ..math(0, source(2), ops[op], v(3), 1)
                }),
                Step::Content(ContentStep {
                    distance: pick[3].then(|| v(0)),
                    within: pick[4].then(|| v(1)),
                    offset: v(2),
                    depth: pick[5].then(|| v(3)),
                    ..content("\u{0}")
                }),
                Step::Isdataat { negated: pick[1], offset: v(4), relative: pick[2] },
                Step::ByteTest(ByteTestStep {
                    negated: pick[3],
                    value: v(5),
                    bitmask: pick[4].then(|| Bitmask::new(n(0) as u64)),
                    ..test((n(1) as u64 % 24) as u8, ByteOp::Ge, 0, source(2))
                }),
                Step::ByteJump(ByteJumpStep {
                    nbytes: v(3),
                    multiplier: (n(4) as u64) % 65536,
                    align: pick[5],
                    post_offset: v(0),
                    from: [JumpFrom::Read, JumpFrom::Beginning, JumpFrom::End][(n(5) as u64 % 3) as usize],
                    bitmask: pick[1].then(|| Bitmask::new(n(2) as u64)),
                    ..jump(0, source(1))
                }),
                at_end(),
            ];
            for k in 0..steps.len() {
                let _ = inspect(&steps[k..], &buf, &mut NoData);
            }
        }

        /// byte_test on big-endian numbers agrees with a naive decoder.
        #[test]
        fn byte_test_agrees_with_naive_big_endian(
            buf in proptest::collection::vec(proptest::num::u8::ANY, 0..12),
            nbytes in 1u8..=8,
            offset in -2i64..12,
            op in 0usize..7,
            value in proptest::num::u64::ANY,
            small in 0u64..300,
            use_small in proptest::bool::ANY,
            negated in proptest::bool::ANY,
        ) {
            let ops = [ByteOp::Lt, ByteOp::Gt, ByteOp::Eq, ByteOp::Le, ByteOp::Ge, ByteOp::And, ByteOp::Xor];
            let op = ops[op];
            let value = if use_small { small } else { value };
            let step = ByteTestStep {
                negated,
                value: Val::Lit(value as i64),
                ..test(nbytes, op, 0, src(offset, false, Conv::Big))
            };
            let n = usize::from(nbytes);
            let naive = usize::try_from(offset).ok().and_then(|o| buf.get(o..o + n)).map(|bytes| {
                let mut v: u128 = 0;
                for &x in bytes {
                    v = v * 256 + u128::from(x);
                }
                let (v, w) = (v as u64, value);
                let r = match op {
                    ByteOp::Lt => v < w,
                    ByteOp::Gt => v > w,
                    ByteOp::Eq => v == w,
                    ByteOp::Le => v <= w,
                    ByteOp::Ge => v >= w,
                    ByteOp::And => v & w != 0,
                    ByteOp::Xor => v != w,
                };
                r != negated
            });
            proptest::prop_assert_eq!(
                inspect(&[Step::ByteTest(step)], &buf, &mut NoData),
                naive.unwrap_or(false)
            );
        }
    }
}
