//! The STIX 2.1 patterning language: a parser producing a [`Pattern`] AST, and extraction of the
//! matchable indicator atoms ([`indicator_atoms`]).
//!
//! The grammar is the OASIS ANTLR grammar `STIXPattern.g4` (observation expressions joined by
//! `AND`/`OR`/`FOLLOWEDBY` with qualifiers `WITHIN n SECONDS`, `REPEATS n TIMES`,
//! `START t'…' STOP t'…'`; comparison expressions joined by `AND`/`OR`; operators
//! `= != < <= > >= IN LIKE MATCHES ISSUBSET ISSUPERSET`, `NOT` prefix, `EXISTS`). Keywords are
//! case-sensitive as in the grammar. Two leniencies, both unambiguous: property names in object
//! paths may contain hyphens without quotes (`file:hashes.SHA-256`, common in feeds), and
//! `==`/`<>` are accepted as in the grammar's lexer.
//!
//! Error offsets are byte offsets into the pattern string.
use std::collections::HashSet;
use std::fmt;

use vigil_model::IndicatorType;

use crate::normalize::{self, NormError};

/// Maximum nesting of parentheses/brackets; deeper input is rejected instead of overflowing the
/// stack.
const MAX_DEPTH: usize = 100;

/// A parse error: byte offset into the pattern and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stix pattern error at offset {offset}: {message}")]
pub struct PatternError {
    pub offset: usize,
    pub message: String,
}

/// A parsed STIX pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub expr: ObservationExpr,
}

/// Observation expressions. Chains of the same operator are flattened in source order
/// (`a AND b AND c` is one `And` of three); parentheses are not kept as nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum ObservationExpr {
    /// `[ comparison-expression ]`
    Observation(ComparisonExpr),
    And(Vec<ObservationExpr>),
    Or(Vec<ObservationExpr>),
    FollowedBy(Vec<ObservationExpr>),
    Qualified(Box<ObservationExpr>, Qualifier),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`; the literal is a non-negative `Int` or `Float`.
    Within(Literal),
    /// `REPEATS n TIMES`
    Repeats(u64),
    /// `START t'…' STOP t'…'` (timestamps without the `t'…'` wrapper)
    StartStop { start: String, stop: String },
}

/// Comparison expressions inside one observation.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonExpr {
    And(Vec<ComparisonExpr>),
    Or(Vec<ComparisonExpr>),
    Comparison(Comparison),
    /// `[NOT] EXISTS path`
    Exists {
        path: ObjectPath,
        negated: bool,
    },
}

/// `path [NOT] op value`
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub path: ObjectPath,
    pub negated: bool,
    pub op: Operator,
    pub value: Literal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Neq,
    Gt,
    Lt,
    Ge,
    Le,
    In,
    Like,
    Matches,
    IsSubset,
    IsSuperset,
}

impl Operator {
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::Neq => "!=",
            Operator::Gt => ">",
            Operator::Lt => "<",
            Operator::Ge => ">=",
            Operator::Le => "<=",
            Operator::In => "IN",
            Operator::Like => "LIKE",
            Operator::Matches => "MATCHES",
            Operator::IsSubset => "ISSUBSET",
            Operator::IsSuperset => "ISSUPERSET",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A string with escapes resolved.
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// `b'…'` base64 text (validated, not decoded).
    Binary(String),
    /// `h'…'` hex text (validated).
    Hex(String),
    /// `t'…'` RFC 3339 timestamp text (validated against the grammar).
    Timestamp(String),
    /// `('a', 'b')` (only after `IN`).
    Set(Vec<Literal>),
}

/// `type:first.step[0].'quoted'[*]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPath {
    pub object_type: String,
    /// At least one step; the first is always a `Key`.
    pub steps: Vec<PathStep>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    Key(String),
    Index(i64),
    AnyIndex,
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kw {
    And,
    Or,
    Not,
    FollowedBy,
    Like,
    Matches,
    IsSuperset,
    IsSubset,
    Exists,
    Last,
    In,
    Start,
    Stop,
    Seconds,
    Within,
    Repeats,
    Times,
}

const KEYWORDS: [(&str, Kw); 17] = [
    ("AND", Kw::And),
    ("OR", Kw::Or),
    ("NOT", Kw::Not),
    ("FOLLOWEDBY", Kw::FollowedBy),
    ("LIKE", Kw::Like),
    ("MATCHES", Kw::Matches),
    ("ISSUPERSET", Kw::IsSuperset),
    ("ISSUBSET", Kw::IsSubset),
    ("EXISTS", Kw::Exists),
    ("LAST", Kw::Last),
    ("IN", Kw::In),
    ("START", Kw::Start),
    ("STOP", Kw::Stop),
    ("SECONDS", Kw::Seconds),
    ("WITHIN", Kw::Within),
    ("REPEATS", Kw::Repeats),
    ("TIMES", Kw::Times),
];

fn keyword(s: &str) -> Option<Kw> {
    KEYWORDS.iter().find(|(k, _)| *k == s).map(|(_, kw)| *kw)
}

fn keyword_str(kw: Kw) -> &'static str {
    KEYWORDS
        .iter()
        .find(|(_, k)| *k == kw)
        .map(|(s, _)| *s)
        .unwrap_or("?")
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LBrack,
    RBrack,
    LParen,
    RParen,
    Colon,
    Dot,
    Comma,
    Star,
    Eq,
    Neq,
    Lt,
    Le,
    Gt,
    Ge,
    Kw(Kw),
    Bool(bool),
    /// Identifier; `true` if it contains a hyphen.
    Ident(String, bool),
    Str(String),
    /// Integer with its sign: (value, was negative literal)
    Int(i64, bool),
    Float(f64, bool),
    Binary(String),
    Hex(String),
    Timestamp(String),
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    offset: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LBrack => "'['".into(),
        Tok::RBrack => "']'".into(),
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Colon => "':'".into(),
        Tok::Dot => "'.'".into(),
        Tok::Comma => "','".into(),
        Tok::Star => "'*'".into(),
        Tok::Eq => "'='".into(),
        Tok::Neq => "'!='".into(),
        Tok::Lt => "'<'".into(),
        Tok::Le => "'<='".into(),
        Tok::Gt => "'>'".into(),
        Tok::Ge => "'>='".into(),
        Tok::Kw(k) => format!("keyword {}", keyword_str(*k)),
        Tok::Bool(b) => format!("boolean {b}"),
        Tok::Ident(s, _) => format!("identifier {:?}", normalize::snippet(s)),
        Tok::Str(s) => format!("string '{}'", normalize::snippet(s)),
        Tok::Int(i, _) => format!("integer {i}"),
        Tok::Float(f, _) => format!("number {f}"),
        Tok::Binary(_) => "binary literal".into(),
        Tok::Hex(_) => "hex literal".into(),
        Tok::Timestamp(_) => "timestamp literal".into(),
        Tok::Eof => "end of pattern".into(),
    }
}

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError {
        offset,
        message: message.into(),
    })
}

struct Lexer<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Self {
        Lexer {
            s,
            b: s.as_bytes(),
            i: 0,
        }
    }

    fn peek_at(&self, k: usize) -> Option<u8> {
        self.b.get(self.i + k).copied()
    }

    /// Skips whitespace (Unicode White_Space, as the grammar's WS rule) and comments.
    fn skip_trivia(&mut self) -> Result<(), PatternError> {
        loop {
            let Some(c) = self.s[self.i..].chars().next() else {
                return Ok(());
            };
            if c.is_whitespace() {
                self.i += c.len_utf8();
            } else if self.s[self.i..].starts_with("/*") {
                match self.s[self.i + 2..].find("*/") {
                    Some(end) => self.i += 2 + end + 2,
                    None => return err(self.i, "unterminated comment: expected '*/'"),
                }
            } else if self.s[self.i..].starts_with("//") {
                match self.s[self.i..].find(['\n', '\r']) {
                    Some(end) => self.i += end,
                    None => self.i = self.b.len(),
                }
            } else {
                return Ok(());
            }
        }
    }

    fn tokens(mut self) -> Result<Vec<Token>, PatternError> {
        let mut out = Vec::new();
        loop {
            self.skip_trivia()?;
            let offset = self.i;
            let Some(c) = self.peek_at(0) else {
                out.push(Token {
                    tok: Tok::Eof,
                    offset,
                });
                return Ok(out);
            };
            let tok = match c {
                b'[' => self.one(Tok::LBrack),
                b']' => self.one(Tok::RBrack),
                b'(' => self.one(Tok::LParen),
                b')' => self.one(Tok::RParen),
                b':' => self.one(Tok::Colon),
                b',' => self.one(Tok::Comma),
                b'*' => self.one(Tok::Star),
                b'=' => {
                    self.i += if self.peek_at(1) == Some(b'=') { 2 } else { 1 };
                    Tok::Eq
                }
                b'!' => {
                    if self.peek_at(1) == Some(b'=') {
                        self.i += 2;
                        Tok::Neq
                    } else {
                        return err(offset, "unexpected character '!': expected '!='");
                    }
                }
                b'<' => match self.peek_at(1) {
                    Some(b'=') => {
                        self.i += 2;
                        Tok::Le
                    }
                    Some(b'>') => {
                        self.i += 2;
                        Tok::Neq
                    }
                    _ => self.one(Tok::Lt),
                },
                b'>' => {
                    if self.peek_at(1) == Some(b'=') {
                        self.i += 2;
                        Tok::Ge
                    } else {
                        self.one(Tok::Gt)
                    }
                }
                b'\'' => Tok::Str(self.string()?),
                b'.' => {
                    if self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) {
                        self.number()?
                    } else {
                        self.one(Tok::Dot)
                    }
                }
                b'+' | b'-' | b'0'..=b'9' => self.number()?,
                c if c.is_ascii_alphabetic() || c == b'_' => self.word()?,
                _ => {
                    let ch = self.s[self.i..].chars().next().unwrap_or('?');
                    return err(offset, format!("unexpected character {ch:?}"));
                }
            };
            out.push(Token { tok, offset });
        }
    }

    fn one(&mut self, t: Tok) -> Tok {
        self.i += 1;
        t
    }

    /// A quoted string at `self.i` (the opening quote); returns the unescaped content.
    fn string(&mut self) -> Result<String, PatternError> {
        let start = self.i;
        self.i += 1;
        let mut out = String::new();
        let mut run = self.i;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\'' => {
                    out.push_str(&self.s[run..self.i]);
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(&self.s[run..self.i]);
                    match self.peek_at(1) {
                        Some(e @ (b'\'' | b'\\')) => {
                            out.push(e as char);
                            self.i += 2;
                            run = self.i;
                        }
                        _ => {
                            return err(
                                self.i,
                                "invalid escape in string literal: only \\' and \\\\ are allowed",
                            )
                        }
                    }
                }
                _ => self.i += 1,
            }
        }
        err(
            start,
            "unterminated string literal: expected a closing quote (')",
        )
    }

    fn number(&mut self) -> Result<Tok, PatternError> {
        let start = self.i;
        let negative = self.b[self.i] == b'-';
        if matches!(self.b[self.i], b'+' | b'-') {
            self.i += 1;
        }
        let int_start = self.i;
        while self.peek_at(0).is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let int_digits = &self.s[int_start..self.i];
        if self.peek_at(0) == Some(b'.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
            while self.peek_at(0).is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
            let text = &self.s[start..self.i];
            return match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Tok::Float(f, negative)),
                _ => err(start, format!("float literal {text} out of range")),
            };
        }
        if int_digits.is_empty() {
            return err(
                start,
                format!("expected digits after '{}'", self.b[start] as char),
            );
        }
        if int_digits.len() > 1 && int_digits.starts_with('0') {
            return err(
                start,
                format!("invalid integer literal {int_digits}: leading zeros are not allowed"),
            );
        }
        let text = &self.s[start..self.i];
        match text.parse::<i64>() {
            Ok(v) => Ok(Tok::Int(v, negative)),
            Err(_) => err(start, format!("integer literal {text} out of range")),
        }
    }

    fn word(&mut self) -> Result<Tok, PatternError> {
        let start = self.i;
        // Prefixed literals: b'…', h'…', t'…'.
        if self.peek_at(1) == Some(b'\'') {
            match self.b[start] {
                b'b' => {
                    self.i += 1;
                    let s = self.string()?;
                    return if is_base64(&s) {
                        Ok(Tok::Binary(s))
                    } else {
                        err(start, "invalid binary literal: expected base64 in b'…'")
                    };
                }
                b'h' => {
                    self.i += 1;
                    let s = self.string()?;
                    return if s.len() & 1 == 0 && s.bytes().all(|c| c.is_ascii_hexdigit()) {
                        Ok(Tok::Hex(s))
                    } else {
                        err(
                            start,
                            "invalid hex literal: expected an even number of hex digits in h'…'",
                        )
                    };
                }
                b't' => {
                    self.i += 1;
                    let s = self.string()?;
                    return if is_timestamp(&s) {
                        Ok(Tok::Timestamp(s))
                    } else {
                        err(
                            start,
                            "invalid timestamp literal: expected t'YYYY-MM-DDTHH:MM:SS[.s]Z'",
                        )
                    };
                }
                _ => {}
            }
        }
        let mut hyphen = false;
        while let Some(c) = self.peek_at(0) {
            if c.is_ascii_alphanumeric() || c == b'_' {
                self.i += 1;
            } else if c == b'-' {
                hyphen = true;
                self.i += 1;
            } else {
                break;
            }
        }
        let w = &self.s[start..self.i];
        Ok(match w {
            "true" => Tok::Bool(true),
            "false" => Tok::Bool(false),
            _ => match keyword(w) {
                Some(k) => Tok::Kw(k),
                None => Tok::Ident(w.to_string(), hyphen),
            },
        })
    }
}

fn is_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || b.len() & 3 != 0 {
        return false;
    }
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 {
        return false;
    }
    b[..b.len() - pad]
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// `YYYY-MM-DDTHH:MM:SS(.d+)?Z` with the grammar's digit ranges.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 {
        return false;
    }
    let d = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_digit());
    let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
    if !(d(0) && d(1) && d(2) && d(3) && b[4] == b'-' && d(5) && d(6) && b[7] == b'-')
        || !(d(8) && d(9) && b[10] == b'T' && d(11) && d(12) && b[13] == b':')
        || !(d(14) && d(15) && b[16] == b':' && d(17) && d(18))
    {
        return false;
    }
    let (month, day, hour, minute, sec) = (two(5), two(8), two(11), two(14), two(17));
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || sec > 60
    {
        return false;
    }
    let rest = &b[19..];
    match rest {
        [b'Z'] => true,
        [b'.', frac @ .., b'Z'] => !frac.is_empty() && frac.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Parser

/// Parses a STIX 2.1 pattern.
pub fn parse(s: &str) -> Result<Pattern, PatternError> {
    let toks = Lexer::new(s).tokens()?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let expr = p.observation_expressions()?;
    let t = p.peek();
    if t.tok != Tok::Eof {
        return err(
            t.offset,
            format!(
                "expected AND, OR, FOLLOWEDBY, a qualifier (WITHIN, REPEATS, START) or end of pattern, found {}",
                describe(&t.tok)
            ),
        );
    }
    Ok(Pattern { expr })
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// One item stays itself; several become a flattened n-ary node.
fn flatten<T>(first: T, rest: Vec<T>, make: fn(Vec<T>) -> T) -> T {
    if rest.is_empty() {
        first
    } else {
        let mut items = Vec::with_capacity(rest.len() + 1);
        items.push(first);
        items.extend(rest);
        make(items)
    }
}

impl Parser {
    fn peek(&self) -> &Token {
        // The token list always ends with Eof and `pos` never moves past it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    /// Takes the next token (the parser never looks back, so it is moved out, not cloned).
    fn bump(&mut self) -> Token {
        let last = self.toks.len() - 1;
        let i = self.pos.min(last);
        let offset = self.toks[i].offset;
        if i < last {
            self.pos += 1;
            let tok = std::mem::replace(&mut self.toks[i].tok, Tok::Eof);
            Token { tok, offset }
        } else {
            Token {
                tok: Tok::Eof,
                offset,
            }
        }
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if &self.peek().tok == t {
            self.bump();
            true
        } else {
            false
        }
    }

    fn enter(&mut self, offset: usize) -> Result<(), PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(
                offset,
                format!("expressions nested more than {MAX_DEPTH} levels deep"),
            );
        }
        Ok(())
    }

    fn observation_expressions(&mut self) -> Result<ObservationExpr, PatternError> {
        let first = self.observation_or()?;
        let mut rest = Vec::new();
        while self.eat(&Tok::Kw(Kw::FollowedBy)) {
            rest.push(self.observation_or()?);
        }
        Ok(flatten(first, rest, ObservationExpr::FollowedBy))
    }

    fn observation_or(&mut self) -> Result<ObservationExpr, PatternError> {
        let first = self.observation_and()?;
        let mut rest = Vec::new();
        while self.eat(&Tok::Kw(Kw::Or)) {
            rest.push(self.observation_and()?);
        }
        Ok(flatten(first, rest, ObservationExpr::Or))
    }

    fn observation_and(&mut self) -> Result<ObservationExpr, PatternError> {
        let first = self.observation()?;
        let mut rest = Vec::new();
        while self.eat(&Tok::Kw(Kw::And)) {
            rest.push(self.observation()?);
        }
        Ok(flatten(first, rest, ObservationExpr::And))
    }

    fn observation(&mut self) -> Result<ObservationExpr, PatternError> {
        let open = self.bump();
        let mut expr = match open.tok {
            Tok::LBrack => {
                self.enter(open.offset)?;
                let inner = self.comparison_or()?;
                let close = self.bump();
                if close.tok != Tok::RBrack {
                    return err(
                        close.offset,
                        format!(
                            "expected ']' to close the observation expression opened at offset {}, found {}",
                            open.offset,
                            describe(&close.tok)
                        ),
                    );
                }
                self.depth -= 1;
                ObservationExpr::Observation(inner)
            }
            Tok::LParen => {
                self.enter(open.offset)?;
                let inner = self.observation_expressions()?;
                let close = self.bump();
                if close.tok != Tok::RParen {
                    return err(
                        close.offset,
                        format!(
                            "expected ')' to close the parenthesis opened at offset {}, found {}",
                            open.offset,
                            describe(&close.tok)
                        ),
                    );
                }
                self.depth -= 1;
                inner
            }
            other => {
                return err(
                    open.offset,
                    format!(
                        "expected '[' or '(' to start an observation expression, found {}",
                        describe(&other)
                    ),
                )
            }
        };
        while let Some(q) = self.qualifier()? {
            expr = ObservationExpr::Qualified(Box::new(expr), q);
        }
        Ok(expr)
    }

    fn qualifier(&mut self) -> Result<Option<Qualifier>, PatternError> {
        match self.peek().tok {
            Tok::Kw(Kw::Within) => {
                self.bump();
                let n = self.bump();
                let lit = match n.tok {
                    Tok::Int(v, false) => Literal::Int(v),
                    Tok::Float(v, false) => Literal::Float(v),
                    other => {
                        return err(
                            n.offset,
                            format!(
                                "expected a positive number of seconds after WITHIN, found {}",
                                describe(&other)
                            ),
                        )
                    }
                };
                self.expect_kw(Kw::Seconds, "after WITHIN <number>")?;
                Ok(Some(Qualifier::Within(lit)))
            }
            Tok::Kw(Kw::Repeats) => {
                self.bump();
                let n = self.bump();
                let count = match n.tok {
                    Tok::Int(v, false) if v >= 0 => v as u64,
                    other => {
                        return err(
                            n.offset,
                            format!(
                                "expected a positive integer after REPEATS, found {}",
                                describe(&other)
                            ),
                        )
                    }
                };
                self.expect_kw(Kw::Times, "after REPEATS <integer>")?;
                Ok(Some(Qualifier::Repeats(count)))
            }
            Tok::Kw(Kw::Start) => {
                self.bump();
                let start = self.timestamp("after START")?;
                self.expect_kw(Kw::Stop, "after START t'…'")?;
                let stop = self.timestamp("after STOP")?;
                Ok(Some(Qualifier::StartStop { start, stop }))
            }
            _ => Ok(None),
        }
    }

    fn timestamp(&mut self, ctx: &str) -> Result<String, PatternError> {
        let t = self.bump();
        match t.tok {
            Tok::Timestamp(s) => Ok(s),
            other => err(
                t.offset,
                format!(
                    "expected a timestamp literal t'…' {ctx}, found {}",
                    describe(&other)
                ),
            ),
        }
    }

    fn expect_kw(&mut self, kw: Kw, ctx: &str) -> Result<(), PatternError> {
        let t = self.bump();
        if t.tok == Tok::Kw(kw) {
            Ok(())
        } else {
            err(
                t.offset,
                format!(
                    "expected {} {ctx}, found {}",
                    keyword_str(kw),
                    describe(&t.tok)
                ),
            )
        }
    }

    fn comparison_or(&mut self) -> Result<ComparisonExpr, PatternError> {
        let first = self.comparison_and()?;
        let mut rest = Vec::new();
        while self.eat(&Tok::Kw(Kw::Or)) {
            rest.push(self.comparison_and()?);
        }
        Ok(flatten(first, rest, ComparisonExpr::Or))
    }

    fn comparison_and(&mut self) -> Result<ComparisonExpr, PatternError> {
        let first = self.prop_test()?;
        let mut rest = Vec::new();
        while self.eat(&Tok::Kw(Kw::And)) {
            rest.push(self.prop_test()?);
        }
        Ok(flatten(first, rest, ComparisonExpr::And))
    }

    fn prop_test(&mut self) -> Result<ComparisonExpr, PatternError> {
        let next = self.peek();
        let offset = next.offset;
        enum Start {
            Paren,
            Exists(bool),
            Path,
        }
        let start = match &next.tok {
            Tok::LParen => Start::Paren,
            Tok::Kw(Kw::Not) => Start::Exists(true),
            Tok::Kw(Kw::Exists) => Start::Exists(false),
            Tok::Ident(..) => Start::Path,
            other => {
                return err(
                    offset,
                    format!(
                        "expected a comparison (object-type:property ...), '(' or EXISTS, found {}",
                        describe(other)
                    ),
                )
            }
        };
        let t = Token {
            tok: Tok::Eof,
            offset,
        };
        match start {
            Start::Paren => {
                self.bump();
                self.enter(t.offset)?;
                let inner = self.comparison_or()?;
                let close = self.bump();
                if close.tok != Tok::RParen {
                    return err(
                        close.offset,
                        format!(
                            "expected ')' to close the parenthesis opened at offset {}, found {}",
                            t.offset,
                            describe(&close.tok)
                        ),
                    );
                }
                self.depth -= 1;
                Ok(inner)
            }
            Start::Exists(negated) => {
                self.bump();
                if negated {
                    self.expect_kw(Kw::Exists, "after NOT at the start of a comparison")?;
                }
                let path = self.object_path()?;
                Ok(ComparisonExpr::Exists { path, negated })
            }
            Start::Path => {
                let path = self.object_path()?;
                let negated = self.eat(&Tok::Kw(Kw::Not));
                let opt = self.bump();
                let op = match opt.tok {
                    Tok::Eq => Operator::Eq,
                    Tok::Neq => Operator::Neq,
                    Tok::Gt => Operator::Gt,
                    Tok::Lt => Operator::Lt,
                    Tok::Ge => Operator::Ge,
                    Tok::Le => Operator::Le,
                    Tok::Kw(Kw::In) => Operator::In,
                    Tok::Kw(Kw::Like) => Operator::Like,
                    Tok::Kw(Kw::Matches) => Operator::Matches,
                    Tok::Kw(Kw::IsSubset) => Operator::IsSubset,
                    Tok::Kw(Kw::IsSuperset) => Operator::IsSuperset,
                    other => {
                        return err(
                            opt.offset,
                            format!(
                                "expected a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET){}, found {}",
                                if negated { "" } else { " or NOT" },
                                describe(&other)
                            ),
                        )
                    }
                };
                let value = self.operand(op)?;
                Ok(ComparisonExpr::Comparison(Comparison {
                    path,
                    negated,
                    op,
                    value,
                }))
            }
        }
    }

    fn operand(&mut self, op: Operator) -> Result<Literal, PatternError> {
        let Token { tok, offset } = self.bump();
        let lit = match (tok, op) {
            (Tok::LParen, Operator::In) => return self.set(offset),
            (other, Operator::In) => {
                return err(
                    offset,
                    format!(
                        "expected a set literal ('a', 'b', ...) after IN, found {}",
                        describe(&other)
                    ),
                )
            }
            (Tok::Str(s), _) => Literal::Str(s),
            (
                other,
                Operator::Like | Operator::Matches | Operator::IsSubset | Operator::IsSuperset,
            ) => {
                return err(
                    offset,
                    format!(
                        "expected a string literal after {}, found {}",
                        op.as_str(),
                        describe(&other)
                    ),
                )
            }
            (Tok::Bool(b), Operator::Eq | Operator::Neq) => Literal::Bool(b),
            (other, _) => match orderable(other) {
                Ok(l) => l,
                Err(other) => {
                    let what = if matches!(op, Operator::Eq | Operator::Neq) {
                        "a literal (string, number, boolean, b'…', h'…' or t'…')"
                    } else {
                        "an orderable literal (string, number, b'…', h'…' or t'…')"
                    };
                    return err(
                        offset,
                        format!(
                            "expected {what} after {}, found {}",
                            op.as_str(),
                            describe(&other)
                        ),
                    );
                }
            },
        };
        Ok(lit)
    }

    fn set(&mut self, open: usize) -> Result<Literal, PatternError> {
        let mut items = Vec::new();
        if self.eat(&Tok::RParen) {
            return Ok(Literal::Set(items));
        }
        loop {
            let t = self.bump();
            let lit = match t.tok {
                Tok::Bool(b) => Literal::Bool(b),
                other => match orderable(other) {
                    Ok(l) => l,
                    Err(other) => {
                        return err(
                            t.offset,
                            format!(
                                "expected a literal in the set opened at offset {open}, found {}",
                                describe(&other)
                            ),
                        )
                    }
                },
            };
            items.push(lit);
            let sep = self.bump();
            match sep.tok {
                Tok::Comma => continue,
                Tok::RParen => return Ok(Literal::Set(items)),
                other => {
                    return err(
                        sep.offset,
                        format!(
                            "expected ',' or ')' in the set opened at offset {open}, found {}",
                            describe(&other)
                        ),
                    )
                }
            }
        }
    }

    fn object_path(&mut self) -> Result<ObjectPath, PatternError> {
        let t = self.bump();
        let object_type = match t.tok {
            Tok::Ident(s, _) => s,
            other => {
                return err(
                    t.offset,
                    format!(
                        "expected an object type (such as ipv4-addr), found {}",
                        describe(&other)
                    ),
                )
            }
        };
        let c = self.bump();
        if c.tok != Tok::Colon {
            return err(
                c.offset,
                format!(
                    "expected ':' after object type {object_type:?}, found {}",
                    describe(&c.tok)
                ),
            );
        }
        let first = self.bump();
        let mut steps = vec![match first.tok {
            Tok::Ident(s, _) | Tok::Str(s) => PathStep::Key(s),
            other => {
                return err(
                    first.offset,
                    format!(
                        "expected a property name after '{object_type}:', found {}",
                        describe(&other)
                    ),
                )
            }
        }];
        loop {
            match self.peek().tok {
                Tok::Dot => {
                    self.bump();
                    let k = self.bump();
                    match k.tok {
                        Tok::Ident(s, _) | Tok::Str(s) => steps.push(PathStep::Key(s)),
                        other => {
                            return err(
                                k.offset,
                                format!(
                                    "expected a property name after '.', found {}",
                                    describe(&other)
                                ),
                            )
                        }
                    }
                }
                Tok::LBrack => {
                    let open = self.bump();
                    let idx = self.bump();
                    let step = match idx.tok {
                        Tok::Int(v, _) => PathStep::Index(v),
                        Tok::Star => PathStep::AnyIndex,
                        other => {
                            return err(
                                idx.offset,
                                format!(
                                    "expected a list index (integer or '*') after '[', found {}",
                                    describe(&other)
                                ),
                            )
                        }
                    };
                    let close = self.bump();
                    if close.tok != Tok::RBrack {
                        return err(
                            close.offset,
                            format!(
                                "expected ']' to close the list index opened at offset {}, found {}",
                                open.offset,
                                describe(&close.tok)
                            ),
                        );
                    }
                    steps.push(step);
                }
                _ => break,
            }
        }
        Ok(ObjectPath { object_type, steps })
    }
}

/// The literal of an orderable token, or the token back.
fn orderable(t: Tok) -> Result<Literal, Tok> {
    Ok(match t {
        Tok::Int(v, _) => Literal::Int(v),
        Tok::Float(v, _) => Literal::Float(v),
        Tok::Str(s) => Literal::Str(s),
        Tok::Binary(s) => Literal::Binary(s),
        Tok::Hex(s) => Literal::Hex(s),
        Tok::Timestamp(s) => Literal::Timestamp(s),
        other => return Err(other),
    })
}

// ---------------------------------------------------------------------------------------------
// Display: prints a pattern that parses back to the same AST.

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)
    }
}

fn write_joined<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    items: &[T],
    sep: &str,
    needs_parens: impl Fn(&T) -> bool,
) -> fmt::Result {
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            write!(f, " {sep} ")?;
        }
        if needs_parens(it) {
            write!(f, "({it})")?;
        } else {
            write!(f, "{it}")?;
        }
    }
    Ok(())
}

impl fmt::Display for ObservationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let compound = |e: &ObservationExpr| {
            matches!(
                e,
                ObservationExpr::And(_) | ObservationExpr::Or(_) | ObservationExpr::FollowedBy(_)
            )
        };
        match self {
            ObservationExpr::Observation(c) => write!(f, "[{c}]"),
            ObservationExpr::And(v) => write_joined(f, v, "AND", compound),
            ObservationExpr::Or(v) => write_joined(f, v, "OR", compound),
            ObservationExpr::FollowedBy(v) => write_joined(f, v, "FOLLOWEDBY", compound),
            ObservationExpr::Qualified(e, q) => {
                if compound(e) {
                    write!(f, "({e}) {q}")
                } else {
                    write!(f, "{e} {q}")
                }
            }
        }
    }
}

impl fmt::Display for Qualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Qualifier::Within(n) => write!(f, "WITHIN {n} SECONDS"),
            Qualifier::Repeats(n) => write!(f, "REPEATS {n} TIMES"),
            Qualifier::StartStop { start, stop } => write!(f, "START t'{start}' STOP t'{stop}'"),
        }
    }
}

impl fmt::Display for ComparisonExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let compound =
            |e: &ComparisonExpr| matches!(e, ComparisonExpr::And(_) | ComparisonExpr::Or(_));
        match self {
            ComparisonExpr::And(v) => write_joined(f, v, "AND", compound),
            ComparisonExpr::Or(v) => write_joined(f, v, "OR", compound),
            ComparisonExpr::Comparison(c) => write!(
                f,
                "{} {}{} {}",
                c.path,
                if c.negated { "NOT " } else { "" },
                c.op.as_str(),
                c.value
            ),
            ComparisonExpr::Exists { path, negated } => {
                write!(f, "{}EXISTS {path}", if *negated { "NOT " } else { "" })
            }
        }
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("'")
}

fn is_bare_key(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && keyword(s).is_none()
        && s != "true"
        && s != "false"
        && !(b.len() == 1 && matches!(b[0], b'b' | b'h' | b't'))
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if is_bare_key(k) {
                        f.write_str(k)?;
                    } else {
                        write_quoted(f, k)?;
                    }
                }
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) => write_quoted(f, s),
            Literal::Int(v) => write!(f, "{v}"),
            Literal::Float(v) => {
                let s = format!("{v}");
                if s.contains('.') {
                    f.write_str(&s)
                } else {
                    write!(f, "{s}.0")
                }
            }
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Binary(s) => write!(f, "b'{s}'"),
            Literal::Hex(s) => write!(f, "h'{s}'"),
            Literal::Timestamp(s) => write!(f, "t'{s}'"),
            Literal::Set(items) => {
                f.write_str("(")?;
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{it}")?;
                }
                f.write_str(")")
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Atom extraction

/// A matchable indicator value found in a pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Atom {
    pub kind: IndicatorType,
    /// Canonical value (see [`crate::normalize`]).
    pub value: String,
}

/// A comparison on a matchable path whose value did not normalise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedAtom {
    /// The object path as written back (`domain-name:value`).
    pub path: String,
    pub value: String,
    pub error: NormError,
}

/// Atoms of a pattern plus the values on matchable paths that were invalid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extraction {
    pub atoms: Vec<Atom>,
    pub rejected: Vec<RejectedAtom>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathKind {
    /// Ip, or Cidr if the value has '/'.
    IpFamily,
    /// network-traffic src_ref/dst_ref.value: an address, or a domain-name reference.
    IpOrDomain,
    Typed(IndicatorType),
}

fn path_kind(p: &ObjectPath) -> Option<PathKind> {
    if p.steps.len() > 2 {
        return None;
    }
    let mut keys = ["", ""];
    for (slot, step) in keys.iter_mut().zip(&p.steps) {
        match step {
            PathStep::Key(k) => *slot = k,
            _ => return None,
        }
    }
    Some(match (p.object_type.as_str(), &keys[..p.steps.len()]) {
        ("ipv4-addr" | "ipv6-addr", ["value"]) => PathKind::IpFamily,
        ("network-traffic", ["dst_ref" | "src_ref", "value"]) => PathKind::IpOrDomain,
        ("domain-name", ["value"]) => PathKind::Typed(IndicatorType::Domain),
        ("url", ["value"]) => PathKind::Typed(IndicatorType::Url),
        ("file", ["hashes", algo]) => {
            let a = algo.to_ascii_lowercase();
            PathKind::Typed(match a.as_str() {
                "md5" => IndicatorType::Md5,
                "sha-1" | "sha1" => IndicatorType::Sha1,
                "sha-256" | "sha256" => IndicatorType::Sha256,
                _ => return None,
            })
        }
        ("x-ja3" | "x-ja3-hash", ["value"]) => PathKind::Typed(IndicatorType::Ja3),
        ("x-ja3s" | "x-ja3s-hash", ["value"]) => PathKind::Typed(IndicatorType::Ja3s),
        ("x-ja4", ["value"]) => PathKind::Typed(IndicatorType::Ja4),
        _ => return None,
    })
}

struct Collector {
    out: Extraction,
    /// Built once there are many atoms; small patterns use a linear scan.
    seen: Option<HashSet<(IndicatorType, String)>>,
}

/// Atom count above which duplicates are found with a hash set.
const LINEAR_DEDUP: usize = 16;

impl Collector {
    fn add(&mut self, path: &ObjectPath, kind: PathKind, value: &str, subset: bool) {
        let res = match kind {
            PathKind::IpFamily if subset => normalize::normalize_as(IndicatorType::Cidr, value),
            PathKind::IpFamily => normalize::normalize_as(IndicatorType::Ip, value),
            PathKind::IpOrDomain => {
                normalize::normalize_as(IndicatorType::Ip, value).or_else(|e| {
                    if subset {
                        Err(e)
                    } else {
                        normalize::domain(value)
                            .map(|d| (IndicatorType::Domain, d))
                            .map_err(|_| e)
                    }
                })
            }
            PathKind::Typed(_) if subset => return,
            PathKind::Typed(t) => normalize::normalize_as(t, value),
        };
        match res {
            Ok((kind, value)) => {
                let atoms = &mut self.out.atoms;
                let new = match &mut self.seen {
                    Some(seen) => seen.insert((kind, value.clone())),
                    None => !atoms.iter().any(|a| a.kind == kind && a.value == value),
                };
                if new {
                    atoms.push(Atom { kind, value });
                    if self.seen.is_none() && atoms.len() > LINEAR_DEDUP {
                        self.seen = Some(atoms.iter().map(|a| (a.kind, a.value.clone())).collect());
                    }
                }
            }
            Err(error) => self.out.rejected.push(RejectedAtom {
                path: path.to_string(),
                value: value.to_string(),
                error,
            }),
        }
    }

    fn comparison(&mut self, e: &ComparisonExpr) {
        match e {
            ComparisonExpr::And(v) | ComparisonExpr::Or(v) => {
                for c in v {
                    self.comparison(c);
                }
            }
            ComparisonExpr::Exists { .. } => {}
            ComparisonExpr::Comparison(c) => {
                if c.negated {
                    return;
                }
                let Some(kind) = path_kind(&c.path) else {
                    return;
                };
                match (c.op, &c.value) {
                    (Operator::Eq, Literal::Str(s)) => self.add(&c.path, kind, s, false),
                    (Operator::In, Literal::Set(items)) => {
                        for it in items {
                            if let Literal::Str(s) = it {
                                self.add(&c.path, kind, s, false);
                            }
                        }
                    }
                    (Operator::IsSubset, Literal::Str(s)) => self.add(&c.path, kind, s, true),
                    _ => {}
                }
            }
        }
    }

    fn observation(&mut self, e: &ObservationExpr) {
        match e {
            ObservationExpr::Observation(c) => self.comparison(c),
            ObservationExpr::And(v) | ObservationExpr::Or(v) | ObservationExpr::FollowedBy(v) => {
                for o in v {
                    self.observation(o);
                }
            }
            ObservationExpr::Qualified(o, _) => self.observation(o),
        }
    }
}

/// Extracts the matchable atoms of a pattern, with the values that failed to normalise.
///
/// Atoms come from non-negated `=` comparisons with a string value, each string of an `IN` set,
/// and `ISSUBSET` on address paths (a network: `Cidr`, or `Ip` for a /32 or /128), on the paths
/// `ipv4-addr:value`, `ipv6-addr:value`, `network-traffic:{src_ref,dst_ref}.value` (an address or
/// a domain name), `domain-name:value`, `url:value`, `file:hashes.{MD5,SHA-1,SHA1,SHA-256,SHA256}`
/// (any case), and the custom `x-ja3:value`, `x-ja3-hash:value`, `x-ja3s:value`, `x-ja4:value`.
///
/// The boolean structure is deliberately flattened: `AND`, `OR` and `FOLLOWEDBY` (at both the
/// comparison and the observation level) all contribute the union of their atoms, and qualifiers
/// are ignored. A scanner alerts on any single atom; comparisons that cannot be matched on their
/// own (ports, file names, `MATCHES`, `LIKE`, …) are skipped, which widens `AND` patterns.
/// `!=`, `NOT` and `EXISTS` contribute nothing. Duplicates are removed, first occurrence kept.
pub fn extract_atoms(p: &Pattern) -> Extraction {
    let mut c = Collector {
        out: Extraction::default(),
        seen: None,
    };
    c.observation(&p.expr);
    c.out
}

/// The matchable atoms of a pattern (see [`extract_atoms`]); invalid values are dropped. An
/// empty result means the pattern has no matchable comparison.
pub fn indicator_atoms(p: &Pattern) -> Vec<Atom> {
    extract_atoms(p).atoms
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use IndicatorType as T;

    fn atoms(s: &str) -> Vec<(IndicatorType, String)> {
        indicator_atoms(&parse(s).unwrap())
            .into_iter()
            .map(|a| (a.kind, a.value))
            .collect()
    }

    fn perr(s: &str) -> PatternError {
        match parse(s) {
            Ok(p) => panic!("{s:?} parsed as {p:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn parses_simple_and_compound() {
        let p = parse("[ipv4-addr:value = '1.2.3.4']").unwrap();
        assert_eq!(
            p.expr,
            ObservationExpr::Observation(ComparisonExpr::Comparison(Comparison {
                path: ObjectPath {
                    object_type: "ipv4-addr".into(),
                    steps: vec![PathStep::Key("value".into())]
                },
                negated: false,
                op: Operator::Eq,
                value: Literal::Str("1.2.3.4".into()),
            }))
        );
        let p = parse(
            "([a:b = 1] AND [c:d = 2.5] OR [e:f != -3]) FOLLOWEDBY [g:h > -0.5] WITHIN 5 SECONDS",
        )
        .unwrap();
        match &p.expr {
            ObservationExpr::FollowedBy(v) => {
                assert_eq!(v.len(), 2);
                assert!(matches!(&v[0], ObservationExpr::Or(o) if o.len() == 2));
                assert!(matches!(
                    &v[1],
                    ObservationExpr::Qualified(_, Qualifier::Within(Literal::Int(5)))
                ));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_every_feature() {
        let cases = [
            "[file:hashes.'SHA-256' = 'aa' AND file:size > 10]",
            "[file:hashes.SHA-256 = 'aa']",
            "[network-traffic:dst_port IN (80, 443, +8080)]",
            "[x:y IN ()]",
            "[email-message:body_multipart[*].body_raw_ref.name MATCHES '^a\\\\.exe$']",
            "[x:list[0].'a b'[-1] = true]",
            "[x:'quoted first' = false]",
            "[NOT EXISTS x:y] OR [EXISTS x:z]",
            "[x:y NOT LIKE 'a%' OR (x:z ISSUBSET '10.0.0.0/8' AND x:w ISSUPERSET '1.2.3.4/32')]",
            "[x:y = b'AAAA' AND x:z = b'AAA=' AND x:w = b'AA==' AND x:v = h'0aFF' AND x:u = h'']",
            "[x:t >= t'2016-01-01T00:00:00Z' AND x:t <= t'2016-12-31T23:59:60.123Z']",
            "[a:b = 'x'] REPEATS 5 TIMES WITHIN .5 SECONDS",
            "[a:b = 'x'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
            "(([a:b = 'x']) AND [c:d == 'y']) OR [e:f <> 'z']",
            "[a:b = 'it\\'s \\\\ ok']",
            "/* comment */ [a:b = 'x'] // trailing\n",
            "\u{3000}[a:b\t=\n'x']",
            "[a:b = 'x'] FOLLOWEDBY [c:d = 'y'] FOLLOWEDBY [e:f = 'z']",
            "[x-ja3:value = 'abc']",
            "[a:b < 1.5 AND a:c > -2 AND a:d <= -.5 AND a:e >= +1.0]",
        ];
        for c in cases {
            let p = parse(c).unwrap_or_else(|e| panic!("{c:?}: {e}"));
            let printed = p.to_string();
            let again = parse(&printed).unwrap_or_else(|e| panic!("{printed:?}: {e}"));
            assert_eq!(p, again, "{c:?} printed as {printed:?}");
        }
        let p = parse("[a:b = 'it\\'s \\\\ ok']").unwrap();
        let ObservationExpr::Observation(ComparisonExpr::Comparison(c)) = p.expr else {
            panic!()
        };
        assert_eq!(c.value, Literal::Str("it's \\ ok".into()));
    }

    #[test]
    fn errors_have_offsets_and_expectations() {
        let cases: [(&str, usize, &str); 22] = [
            ("", 0, "expected '[' or '('"),
            ("[]", 1, "expected a comparison"),
            ("[ipv4-addr:value = '1.2.3.4'", 28, "expected ']' to close"),
            ("ipv4-addr:value = '1.2.3.4']", 0, "expected '[' or '('"),
            ("[ipv4-addr:value = '1.2.3.4]", 19, "unterminated string"),
            ("[ipv4-addr:value = 1.2.3.4]", 22, "expected ']' to close"),
            ("[ipv4-addr:value ~ 'x']", 17, "unexpected character"),
            (
                "[ipv4-addr:value EQUALS 'x']",
                17,
                "expected a comparison operator",
            ),
            ("[ipv4-addr:value = 'x']]", 23, "expected AND, OR"),
            ("[ipv4-addr:value = 'x'] garbage", 24, "expected AND, OR"),
            ("[a:b = 'x'] AND", 15, "expected '[' or '('"),
            ("[a:b = 'x' AND]", 14, "expected a comparison"),
            ("[a:b = 'x') ", 10, "expected ']'"),
            (
                "([a:b = 'x']",
                12,
                "expected ')' to close the parenthesis opened at offset 0",
            ),
            ("[a = 'x']", 3, "expected ':' after object type"),
            ("[a: = 'x']", 4, "expected a property name"),
            ("[a:b IN 'x']", 8, "expected a set literal"),
            ("[a:b IN ('x' 'y')]", 13, "expected ',' or ')'"),
            ("[a:b LIKE 5]", 10, "expected a string literal after LIKE"),
            ("[a:b > true]", 7, "expected an orderable literal"),
            ("[a:b = 'x\\d']", 9, "invalid escape"),
            (
                "[a:b = 'x'] WITHIN -5 SECONDS",
                19,
                "positive number of seconds",
            ),
        ];
        for (input, offset, msg) in cases {
            let e = perr(input);
            assert!(
                e.message.contains(msg) && e.offset == offset,
                "{input:?}: got {e}, expected offset {offset} and {msg:?}"
            );
        }
        let more = [
            "[a:b = 007]",
            "[a:b = b'A']",
            "[a:b = b'']",
            "[a:b = h'abc']",
            "[a:b = t'2016-13-01T00:00:00Z']",
            "[a:b = t'2016-01-01 00:00:00Z']",
            "[a:b = 'x'] REPEATS 2",
            "[a:b = 'x'] START t'2016-01-01T00:00:00Z'",
            "[a:b = 'x'] /* unterminated",
            "[a:b = 99999999999999999999]",
            "[a:b[x] = 1]",
            "[a:b[0 = 1]",
            "[NOT a:b = 1]",
            "[a:b = 'x'] and [c:d = 'y']",
            "[a:b = 'x' AND NOT]",
            "[a:b = (1)]",
            "[a:b.]",
            "[a:b = -]",
        ];
        for input in more {
            perr(input);
        }
        assert_eq!(
            perr("[ipv4-addr:value = '1.2.3.4'").to_string(),
            "stix pattern error at offset 28: expected ']' to close the observation expression opened at offset 0, found end of pattern"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}[a:b = 1]{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(perr(&deep).message.contains("nested"));
        let deep = format!("[{}a:b = 1{}]", "(".repeat(10_000), ")".repeat(10_000));
        assert!(perr(&deep).message.contains("nested"));
    }

    #[test]
    fn atom_extraction() {
        assert_eq!(
            atoms("[ipv4-addr:value = '1.2.3.4']"),
            vec![(T::Ip, "1.2.3.4".into())]
        );
        assert_eq!(
            atoms("[ipv4-addr:value = '223.166.0.0/15']"),
            vec![(T::Cidr, "223.166.0.0/15".into())]
        );
        assert_eq!(
            atoms("[ipv6-addr:value = '2001:DB8::1/128']"),
            vec![(T::Ip, "2001:db8::1".into())]
        );
        assert_eq!(
            atoms("[ipv4-addr:value ISSUBSET '10.1.0.0/16']"),
            vec![(T::Cidr, "10.1.0.0/16".into())]
        );
        assert_eq!(
            atoms("[domain-name:value = 'Evil.COM' OR ipv4-addr:value = '5.6.7.8']"),
            vec![(T::Domain, "evil.com".into()), (T::Ip, "5.6.7.8".into())]
        );
        assert_eq!(
            atoms("[network-traffic:dst_ref.value = '5.6.7.8' AND network-traffic:dst_port = 443]"),
            vec![(T::Ip, "5.6.7.8".into())]
        );
        assert_eq!(
            atoms("[network-traffic:src_ref.value = 'c2.example.net']"),
            vec![(T::Domain, "c2.example.net".into())]
        );
        assert_eq!(
            atoms("[url:value = 'HTTP://Evil.com:80/a/../b'] FOLLOWEDBY [file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']"),
            vec![
                (T::Url, "evil.com/b".into()),
                (T::Md5, "d41d8cd98f00b204e9800998ecf8427e".into())
            ]
        );
        let sha1 = "a".repeat(40);
        let sha256 = "b".repeat(64);
        assert_eq!(
            atoms(&format!(
                "[file:hashes.'SHA-1' = '{sha1}' OR file:hashes.SHA256 = '{sha256}' OR file:hashes.'SHA-512' = 'cc']"
            )),
            vec![(T::Sha1, sha1.clone()), (T::Sha256, sha256.clone())]
        );
        assert_eq!(
            atoms("[domain-name:value IN ('a.com', 'b.com', 'a.com', 5)]"),
            vec![(T::Domain, "a.com".into()), (T::Domain, "b.com".into())]
        );
        let j3 = "e7d705a3286e19ea42f587b344ee6865";
        let j4 = "t13d1516h2_8daaf6152771_b186095e22b6";
        assert_eq!(
            atoms(&format!(
                "[x-ja3:value = '{j3}'] OR [x-ja3-hash:value = '{j3}'] OR [x-ja3s:value = '{j3}'] OR [x-ja4:value = '{j4}']"
            )),
            vec![(T::Ja3, j3.into()), (T::Ja3s, j3.into()), (T::Ja4, j4.into())]
        );
        // Large IN sets: duplicates are removed past the linear-scan threshold too.
        let many: Vec<String> = (0..40).map(|i| format!("'10.0.0.{}'", i % 25)).collect();
        let got = atoms(&format!("[ipv4-addr:value IN ({})]", many.join(", ")));
        assert_eq!(got.len(), 25);
        assert_eq!(got[24], (T::Ip, "10.0.0.24".to_string()));
        // Nothing from negations, inequality, EXISTS, non-string values or unsupported paths.
        assert!(atoms("[ipv4-addr:value != '1.2.3.4']").is_empty());
        assert!(atoms("[ipv4-addr:value NOT = '1.2.3.4']").is_empty());
        assert!(atoms("[EXISTS ipv4-addr:value]").is_empty());
        assert!(atoms("[ipv4-addr:value = 5]").is_empty());
        assert!(atoms("[ipv4-addr:value ISSUPERSET '1.2.3.0/24']").is_empty());
        assert!(atoms("[domain-name:value ISSUBSET 'x.com']").is_empty());
        assert!(atoms("[x509-certificate:hashes.'SHA-256' = 'aa']").is_empty());
        assert!(atoms("[network-traffic:extensions.'tls-ext'.ja3 = 'aa']").is_empty());
        assert!(atoms("[file:name = 'CBricksDoc']").is_empty());
        assert!(atoms("[domain-name:value MATCHES 'evil']").is_empty());
        // Invalid values are reported, not dropped silently.
        let ex = extract_atoms(
            &parse(
                "[domain-name:value = 'domain autuo.xicp.net' OR ipv4-addr:value = '60.10.1.115']",
            )
            .unwrap(),
        );
        assert_eq!(
            ex.atoms,
            vec![Atom {
                kind: T::Ip,
                value: "60.10.1.115".into()
            }]
        );
        assert_eq!(ex.rejected.len(), 1);
        assert_eq!(ex.rejected[0].path, "domain-name:value");
    }

    /// Every `pattern` of every `indicator` object in the shared STIX data must parse.
    #[test]
    fn corpus_of_shared_stix_patterns_parses() {
        let Some(root) = crate::shared_data().map(|d| d.join("stix")) else {
            eprintln!("shared STIX data not found; skipping corpus test");
            return;
        };
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
            entries.sort_by_key(|e| e.path());
            for e in entries {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "json") {
                    out.push(p);
                }
            }
        }
        fn patterns(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    if m.get("type").and_then(|t| t.as_str()) == Some("indicator") {
                        if let Some(p) = m.get("pattern").and_then(|p| p.as_str()) {
                            out.push(p.to_string());
                        }
                    }
                    m.values().for_each(|x| patterns(x, out));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|x| patterns(x, out)),
                _ => {}
            }
        }
        let mut files = Vec::new();
        walk(&root, &mut files);
        let mut total = 0;
        let mut with_atoms = 0;
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let mut ps = Vec::new();
            patterns(&v, &mut ps);
            for p in ps {
                let parsed = parse(&p).unwrap_or_else(|e| panic!("{}: {p:?}: {e}", f.display()));
                assert_eq!(parse(&parsed.to_string()).unwrap(), parsed);
                total += 1;
                if !indicator_atoms(&parsed).is_empty() {
                    with_atoms += 1;
                }
            }
        }
        // 43 indicator patterns in the examples (apt1, poisonivy and four small examples); all
        // but the two email MATCHES, two x509 and two file:name ones yield atoms.
        assert_eq!(
            total,
            43,
            "indicator patterns found under {}",
            root.display()
        );
        assert_eq!(with_atoms, 37);
    }

    fn arb_path() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("ipv4-addr:value".to_string()),
            Just("domain-name:value".to_string()),
            Just("file:hashes.'SHA-256'".to_string()),
            "[a-z][a-z0-9-]{0,8}:[a-z_]{1,6}(\\.[a-z_]{1,4}|\\[[0-9*]\\]){0,2}",
        ]
    }

    fn arb_literal() -> impl Strategy<Value = String> {
        prop_oneof![
            "'([^'\\\\]|\\\\'|\\\\\\\\){0,8}'",
            "-?[1-9][0-9]{0,5}",
            "-?[0-9]{0,3}\\.[0-9]{1,3}",
            Just("true".to_string()),
            Just("b'AAAA'".to_string()),
            Just("h'0a'".to_string()),
            Just("t'2020-01-01T00:00:00Z'".to_string()),
        ]
    }

    fn arb_comparison() -> impl Strategy<Value = String> {
        let leaf = (
            arb_path(),
            prop_oneof![Just("="), Just("!="), Just("NOT ="), Just(">"), Just("<=")],
            arb_literal(),
        )
            .prop_map(|(p, o, l)| {
                let l = if o.contains('<') || o.contains('>') {
                    l.replace("true", "1")
                } else {
                    l
                };
                format!("{p} {o} {l}")
            });
        leaf.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} AND {b}")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} OR {b}")),
                inner.prop_map(|a| format!("({a})")),
            ]
        })
    }

    fn arb_pattern() -> impl Strategy<Value = String> {
        let obs = arb_comparison().prop_map(|c| format!("[{c}]"));
        obs.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} AND {b}")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} OR {b}")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} FOLLOWEDBY {b}")),
                inner
                    .clone()
                    .prop_map(|a| format!("({a}) WITHIN 10 SECONDS")),
                inner.prop_map(|a| format!("({a}) REPEATS 2 TIMES")),
            ]
        })
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = parse(&s);
        }

        #[test]
        fn parse_never_panics_on_pattern_like_input(s in "[\\[\\]()':.=!<>a-zA-Z0-9 _\\\\*,+-]{0,60}") {
            if let Ok(p) = parse(&s) {
                let _ = indicator_atoms(&p);
                let again = parse(&p.to_string());
                prop_assert_eq!(again.as_ref(), Ok(&p));
            }
        }

        #[test]
        fn generated_patterns_parse_and_round_trip(s in arb_pattern()) {
            let p = parse(&s).map_err(|e| TestCaseError::fail(format!("{s:?}: {e}")))?;
            let again = parse(&p.to_string());
                prop_assert_eq!(again.as_ref(), Ok(&p));
            let _ = indicator_atoms(&p);
        }

        #[test]
        fn error_offsets_are_within_input(s in "\\PC{0,40}") {
            if let Err(e) = parse(&s) {
                prop_assert!(e.offset <= s.len());
                prop_assert!(s.is_char_boundary(e.offset));
            }
        }
    }
}
