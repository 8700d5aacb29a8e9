//! PCRE (as Suricata uses it: non-UTF, byte subjects) to `regex::bytes`.
//!
//! [`translate`] rewrites a pattern and its flags into `regex` syntax, and refuses what the
//! `regex` crate cannot run (it has no backtracking): backreferences, lookaround, atomic groups,
//! possessive quantifiers, `\K`, `\G`, recursion and subroutine calls, conditionals, backtracking
//! verbs, callouts, branch reset. [`compile`] also builds the regex with a size limit, so a
//! pattern that translates but is too large is refused too. Nothing is cached.
//!
//! Semantic differences handled by the rewrite:
//! - PCRE `$` without `m`/`E` also matches before a final newline: rewritten to `(?:\n?\z)`;
//!   `\Z` likewise.
//! - `{` that does not start a valid quantifier is a literal in PCRE, an error in `regex`.
//! - Inside a class PCRE treats `[` literally (except `[:name:]`) and has no set operators;
//!   `regex` nests classes and has `&&`, `--`, `~~`: such characters are escaped.
//! - `\h \H \v \V \R \N \e \cX \o{..}`, octal `\0nn`, one-digit `\xH`, `\Q..\E`, `(?'name')`,
//!   `(?#comment)` are rewritten; `x` (extended) is applied here, not passed on.
//! - Unicode is off: `\w \d \s`, `.` and case folding are ASCII/byte-wise, as in Suricata.

use super::ast::Pcre;

/// Compiled-program size limit for one pcre (the `regex` crate's default is 10 MiB too, but
/// set explicitly: it is part of the contract).
pub const SIZE_LIMIT: usize = 10 * (1 << 20);

/// Why a pcre cannot run on the `regex` crate. `Display` is the reason for
/// [`super::Unsupported`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PcreError {
    #[error("pcre uses {0}, which the regex crate cannot run")]
    Feature(&'static str),
    #[error("pcre does not compile with the regex crate: {0}")]
    Compile(String),
    #[error("pcre is too large for the regex crate (over {} MiB compiled)", SIZE_LIMIT >> 20)]
    TooLarge,
}

/// Translates and compiles `p` into a `regex::bytes::Regex` (flags applied).
pub fn compile(p: &Pcre) -> Result<regex::bytes::Regex, PcreError> {
    let pattern = translate(p)?;
    regex::bytes::RegexBuilder::new(&pattern)
        .unicode(false)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => PcreError::TooLarge,
            other => {
                let msg = other.to_string();
                let last = msg
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .trim()
                    .trim_start_matches("error: ")
                    .to_string();
                PcreError::Compile(last)
            }
        })
}

#[derive(Clone, Copy)]
struct Mode {
    extended: bool,
    multiline: bool,
}

/// Translates `p` (pattern and flags) into `regex` syntax.
pub fn translate(p: &Pcre) -> Result<String, PcreError> {
    let src: Vec<char> = p.pattern.chars().collect();
    let groups = count_groups(&src);
    let mut t = Translator {
        groups,
        src,
        i: 0,
        out: String::with_capacity(p.pattern.len() + 16),
        dollar_endonly: p.dollar_endonly,
        mode: Mode {
            extended: p.extended,
            multiline: p.multiline,
        },
        stack: Vec::new(),
    };
    let mut flags = String::new();
    if p.caseless {
        flags.push('i');
    }
    if p.multiline {
        flags.push('m');
    }
    if p.dotall {
        flags.push('s');
    }
    if p.ungreedy {
        flags.push('U');
    }
    if !flags.is_empty() {
        t.out.push_str("(?");
        t.out.push_str(&flags);
        t.out.push(')');
    }
    if p.anchored {
        t.out.push_str("\\A(?:");
    }
    t.run()?;
    if p.anchored {
        t.out.push(')');
    }
    Ok(t.out)
}

/// Capturing groups in a pattern (a close estimate: escapes and classes are skipped).
fn count_groups(src: &[char]) -> usize {
    let mut n = 0;
    let mut i = 0;
    let mut in_class = false;
    while let Some(&c) = src.get(i) {
        match c {
            '\\' => i += 1,
            '[' if !in_class => {
                in_class = true;
                if src.get(i + 1) == Some(&']') {
                    i += 1;
                }
            }
            ']' if in_class => in_class = false,
            '(' if !in_class => match src.get(i + 1) {
                Some('?') => {
                    let named = matches!(
                        (src.get(i + 2), src.get(i + 3)),
                        (Some('P'), Some('<')) | (Some('\''), _)
                    ) || (src.get(i + 2) == Some(&'<')
                        && !matches!(src.get(i + 3), Some('=') | Some('!')));
                    if named {
                        n += 1;
                    }
                }
                Some('*') => {}
                _ => n += 1,
            },
            _ => {}
        }
        i += 1;
    }
    n
}

struct Translator {
    /// Capturing groups in the whole pattern (decides `\NN`: backreference or octal).
    groups: usize,
    src: Vec<char>,
    i: usize,
    out: String,
    dollar_endonly: bool,
    mode: Mode,
    stack: Vec<Mode>,
}

fn compile_err<T>(msg: impl Into<String>) -> Result<T, PcreError> {
    Err(PcreError::Compile(msg.into()))
}

/// A byte value as a `regex` escape. Two-digit `\xHH` matches the byte when Unicode is off
/// (the braced form would mean the code point).
fn hex_byte(v: u32) -> String {
    format!("\\x{v:02X}")
}

/// Escapes one literal char for use outside a class.
fn lit(c: char) -> String {
    let mut s = String::new();
    if "\\.+*?()|[]{}^$#&-~ ".contains(c) {
        if c == ' ' {
            return "\\x20".into();
        }
        s.push('\\');
    }
    s.push(c);
    s
}

/// Escapes one literal char for use inside a class.
fn class_lit(c: char) -> String {
    if "\\[]^-&~".contains(c) {
        format!("\\{c}")
    } else if c == ' ' {
        "\\x20".into()
    } else {
        c.to_string()
    }
}

const POSIX: &[&str] = &[
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

impl Translator {
    fn peek(&self, k: usize) -> Option<char> {
        self.src.get(self.i + k).copied()
    }

    fn run(&mut self) -> Result<(), PcreError> {
        while let Some(c) = self.peek(0) {
            if self.mode.extended {
                if c.is_whitespace() {
                    self.i += 1;
                    continue;
                }
                if c == '#' {
                    while let Some(c) = self.peek(0) {
                        self.i += 1;
                        if c == '\n' {
                            break;
                        }
                    }
                    continue;
                }
            }
            match c {
                '\\' => {
                    self.i += 1;
                    let s = self.escape(false)?;
                    self.out.push_str(&s);
                }
                '[' => {
                    self.i += 1;
                    let s = self.class()?;
                    self.out.push_str(&s);
                }
                '(' => {
                    self.i += 1;
                    self.group_open()?;
                }
                ')' => {
                    self.i += 1;
                    match self.stack.pop() {
                        Some(m) => self.mode = m,
                        None => return compile_err("unmatched ')'"),
                    }
                    self.out.push(')');
                }
                '*' | '+' | '?' => {
                    self.i += 1;
                    self.out.push(c);
                    self.lazy_or_possessive()?;
                }
                '{' => {
                    if let Some(q) = self.counted_quantifier() {
                        self.out.push_str(&q);
                        self.lazy_or_possessive()?;
                    } else {
                        self.i += 1;
                        self.out.push_str("\\{");
                    }
                }
                '}' => {
                    self.i += 1;
                    self.out.push_str("\\}");
                }
                '$' => {
                    self.i += 1;
                    if self.mode.multiline || self.dollar_endonly {
                        self.out.push('$');
                    } else {
                        self.out.push_str("(?:\\n?\\z)");
                    }
                }
                '^' | '.' | '|' => {
                    self.i += 1;
                    self.out.push(c);
                }
                _ => {
                    self.i += 1;
                    self.out.push_str(&lit(c));
                }
            }
        }
        if !self.stack.is_empty() {
            return compile_err("missing ')'");
        }
        Ok(())
    }

    /// After a quantifier: `?` makes it lazy, `+` possessive (refused).
    fn lazy_or_possessive(&mut self) -> Result<(), PcreError> {
        match self.peek(0) {
            Some('?') => {
                self.i += 1;
                self.out.push('?');
            }
            Some('+') => return Err(PcreError::Feature("a possessive quantifier")),
            _ => {}
        }
        Ok(())
    }

    /// `{n}`, `{n,}`, `{n,m}` at the cursor, consumed and returned; `None` (nothing consumed)
    /// when the brace is a literal.
    fn counted_quantifier(&mut self) -> Option<String> {
        let mut j = self.i + 1;
        let digits = |j: &mut usize| {
            let s = *j;
            while self.src.get(*j).is_some_and(|c| c.is_ascii_digit()) {
                *j += 1;
            }
            *j > s
        };
        if !digits(&mut j) {
            return None;
        }
        if self.src.get(j) == Some(&',') {
            j += 1;
            digits(&mut j);
        }
        if self.src.get(j) != Some(&'}') {
            return None;
        }
        let q: String = self.src.get(self.i..=j)?.iter().collect();
        self.i = j + 1;
        Some(q)
    }

    fn group_open(&mut self) -> Result<(), PcreError> {
        let saved = self.mode;
        match self.peek(0) {
            Some('*') => return Err(PcreError::Feature("a backtracking control verb")),
            Some('?') => {}
            _ => {
                self.stack.push(saved);
                self.out.push('(');
                return Ok(());
            }
        }
        self.i += 1; // the '?'
        match self.peek(0) {
            Some('=') | Some('!') => Err(PcreError::Feature("lookaround")),
            Some('<') if matches!(self.peek(1), Some('=') | Some('!')) => {
                Err(PcreError::Feature("lookaround"))
            }
            Some('>') => Err(PcreError::Feature("an atomic group")),
            Some('|') => Err(PcreError::Feature("a branch reset group")),
            Some('(') => Err(PcreError::Feature("a conditional group")),
            Some('C') => Err(PcreError::Feature("a callout")),
            Some('R') | Some('&') | Some('+') => Err(PcreError::Feature("recursion")),
            Some(c) if c.is_ascii_digit() => Err(PcreError::Feature("recursion")),
            Some('-') if self.peek(1).is_some_and(|c| c.is_ascii_digit()) => {
                Err(PcreError::Feature("recursion"))
            }
            Some('#') => {
                while let Some(c) = self.peek(0) {
                    self.i += 1;
                    if c == ')' {
                        return Ok(());
                    }
                }
                compile_err("unterminated (?# comment")
            }
            Some(':') => {
                self.i += 1;
                self.stack.push(saved);
                self.out.push_str("(?:");
                Ok(())
            }
            Some('P') => match self.peek(1) {
                Some('<') => {
                    self.i += 2;
                    self.named_group('>', saved)
                }
                Some('=') => Err(PcreError::Feature("a backreference")),
                Some('>') => Err(PcreError::Feature("recursion")),
                _ => compile_err("unknown (?P group"),
            },
            Some('<') => {
                self.i += 1;
                self.named_group('>', saved)
            }
            Some('\'') => {
                self.i += 1;
                self.named_group('\'', saved)
            }
            _ => self.inline_flags(saved),
        }
    }

    fn named_group(&mut self, close: char, saved: Mode) -> Result<(), PcreError> {
        let mut name = String::new();
        loop {
            match self.peek(0) {
                Some(c) if c == close => {
                    self.i += 1;
                    break;
                }
                Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
                    name.push(c);
                    self.i += 1;
                }
                _ => return compile_err("bad group name"),
            }
        }
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return compile_err("bad group name");
        }
        self.stack.push(saved);
        self.out.push_str("(?P<");
        self.out.push_str(&name);
        self.out.push('>');
        Ok(())
    }

    /// `(?imsxU-imsx)` or `(?imsx-imsx:`. `x` is applied by the translator, the rest passed on.
    fn inline_flags(&mut self, saved: Mode) -> Result<(), PcreError> {
        let mut on = true;
        let mut kept = String::new();
        let mut mode = self.mode;
        loop {
            let Some(c) = self.peek(0) else {
                return compile_err("unterminated group");
            };
            self.i += 1;
            match c {
                '-' => {
                    on = false;
                    kept.push('-');
                }
                'x' => mode.extended = on,
                'm' => {
                    mode.multiline = on;
                    kept.push('m');
                }
                'i' | 's' | 'U' => kept.push(c),
                // PCRE2 "no auto capture": harmless to drop for matching.
                'n' => {}
                ')' | ':' => {
                    let kept = kept.trim_end_matches('-');
                    if c == ')' {
                        self.mode = mode;
                        if !kept.is_empty() {
                            self.out.push_str("(?");
                            self.out.push_str(kept);
                            self.out.push(')');
                        }
                    } else {
                        self.stack.push(saved);
                        self.mode = mode;
                        self.out.push_str("(?");
                        self.out.push_str(kept);
                        self.out.push(':');
                    }
                    return Ok(());
                }
                'J' | 'X' => return Err(PcreError::Feature("the (?J)/(?X) options")),
                _ => return compile_err(format!("unknown group syntax (?{c}")),
            }
        }
    }

    /// Reads up to `max` digits of `radix` at the cursor.
    fn digits(&mut self, radix: u32, max: usize) -> Option<u32> {
        let mut v: u32 = 0;
        let mut n = 0;
        while n < max {
            let Some(d) = self.peek(0).and_then(|c| c.to_digit(radix)) else {
                break;
            };
            v = v.checked_mul(radix)?.checked_add(d)?;
            self.i += 1;
            n += 1;
        }
        (n > 0).then_some(v)
    }

    /// `{...}` digits for `\x{..}` / `\o{..}`.
    fn braced(&mut self, radix: u32) -> Result<u32, PcreError> {
        self.i += 1; // '{'
        let v = self.digits(radix, 8);
        if self.peek(0) != Some('}') {
            return compile_err("unterminated \\x{ or \\o{");
        }
        self.i += 1;
        match v {
            Some(v) if v <= 0xff => Ok(v),
            Some(_) => compile_err("character code point value is too large in non-UTF mode"),
            None => compile_err("empty \\x{} or \\o{}"),
        }
    }

    /// An escape after `\` (cursor on the char after the backslash). Returns `regex` syntax.
    fn escape(&mut self, in_class: bool) -> Result<String, PcreError> {
        let Some(c) = self.peek(0) else {
            return compile_err("\\ at end of pattern");
        };
        self.i += 1;
        Ok(match c {
            '1'..='9' if !in_class => {
                // PCRE: a backreference if below 10, starting with 8 or 9, or if there are that
                // many groups; otherwise up to three octal digits.
                self.i -= 1;
                let start = self.i;
                let n = self.digits(10, 12);
                let is_ref = match n {
                    Some(n) => n < 10 || c == '8' || c == '9' || n as usize <= self.groups,
                    None => true,
                };
                if is_ref {
                    return Err(PcreError::Feature("a backreference"));
                }
                self.i = start;
                match self.digits(8, 3) {
                    Some(v) if v <= 0xff => hex_byte(v),
                    _ => return compile_err("octal value is greater than \\377"),
                }
            }
            '0'..='7' => {
                self.i -= 1;
                let v = self.digits(8, 3).unwrap_or(0);
                if v > 0xff {
                    return compile_err("octal value is greater than \\377");
                }
                hex_byte(v)
            }
            '8' | '9' => return compile_err("invalid escape \\8 or \\9 in a class"),
            'o' => {
                if self.peek(0) != Some('{') {
                    return compile_err("\\o must be followed by {");
                }
                hex_byte(self.braced(8)?)
            }
            'x' => {
                if self.peek(0) == Some('{') {
                    hex_byte(self.braced(16)?)
                } else {
                    hex_byte(self.digits(16, 2).unwrap_or(0))
                }
            }
            'c' => {
                let Some(x) = self.peek(0).filter(char::is_ascii) else {
                    return compile_err("\\c at end of pattern or before a non-ASCII char");
                };
                self.i += 1;
                hex_byte(u32::from(x.to_ascii_uppercase() as u8 ^ 0x40))
            }
            'a' => "\\x07".into(),
            'e' => "\\x1B".into(),
            'f' => "\\x0C".into(),
            'n' => "\\n".into(),
            'r' => "\\r".into(),
            't' => "\\t".into(),
            'd' | 'D' | 'w' | 'W' | 's' | 'S' => format!("\\{c}"),
            'h' => if in_class {
                "\\t\\x20\\xA0"
            } else {
                "[\\t\\x20\\xA0]"
            }
            .into(),
            'H' => "[^\\t\\x20\\xA0]".into(),
            'v' => if in_class {
                "\\n\\x0B\\x0C\\r\\x85"
            } else {
                "[\\n\\x0B\\x0C\\r\\x85]"
            }
            .into(),
            'V' => "[^\\n\\x0B\\x0C\\r\\x85]".into(),
            'b' if in_class => "\\x08".into(),
            'b' | 'B' | 'A' | 'z' => format!("\\{c}"),
            'Z' => "(?:\\n?\\z)".into(),
            'R' if !in_class => "(?:\\r\\n|[\\n\\x0B\\x0C\\r\\x85])".into(),
            'N' if !in_class && self.peek(0) != Some('{') => "[^\\n]".into(),
            'C' if !in_class => "(?s:.)".into(),
            'G' => return Err(PcreError::Feature("\\G")),
            'K' => return Err(PcreError::Feature("\\K")),
            'g' => {
                return Err(if self.peek(0) == Some('<') || self.peek(0) == Some('\'') {
                    PcreError::Feature("recursion")
                } else {
                    PcreError::Feature("a backreference")
                })
            }
            'k' => return Err(PcreError::Feature("a backreference")),
            'p' | 'P' | 'X' => return Err(PcreError::Feature("unicode properties")),
            'Q' => {
                let mut s = String::new();
                while let Some(x) = self.peek(0) {
                    if x == '\\' && self.peek(1) == Some('E') {
                        self.i += 2;
                        break;
                    }
                    self.i += 1;
                    s.push_str(&if in_class { class_lit(x) } else { lit(x) });
                }
                if s.is_empty() && !in_class {
                    // `\Q\E` is nothing; keep the output well-formed before a quantifier.
                    s.push_str("(?:)");
                }
                s
            }
            'E' => String::new(),
            c if c.is_ascii_alphanumeric() => {
                return compile_err(format!("unrecognized escape \\{c}"))
            }
            c => {
                if in_class {
                    class_lit(c)
                } else {
                    lit(c)
                }
            }
        })
    }

    /// A character class; cursor after `[`. Returns `regex` syntax.
    fn class(&mut self) -> Result<String, PcreError> {
        let mut out = String::from("[");
        if self.peek(0) == Some('^') {
            self.i += 1;
            out.push('^');
        }
        let mut first = true;
        // Whether the previous item can start a range (a single char).
        let mut prev_char = false;
        loop {
            let Some(c) = self.peek(0) else {
                return compile_err("missing terminating ] for character class");
            };
            if c == ']' && !first {
                self.i += 1;
                out.push(']');
                return Ok(out);
            }
            first = false;
            match c {
                '[' if self.peek(1) == Some(':') => {
                    let start = self.i;
                    let rest: String = self.src.get(self.i + 2..).unwrap_or(&[]).iter().collect();
                    let Some(end) = rest.find(":]") else {
                        self.i += 1;
                        out.push_str("\\[");
                        prev_char = true;
                        continue;
                    };
                    let name = &rest[..end];
                    let bare = name.strip_prefix('^').unwrap_or(name);
                    if bare.is_empty() || !bare.chars().all(|c| c.is_ascii_alphabetic()) {
                        // Not `[:name:]`: PCRE takes the '[' literally.
                        self.i += 1;
                        out.push_str("\\[");
                        prev_char = true;
                        continue;
                    }
                    if !POSIX.contains(&bare) {
                        return compile_err(format!("unknown POSIX class name [:{name}:]"));
                    }
                    out.push_str("[:");
                    out.push_str(name);
                    out.push_str(":]");
                    self.i = start + 2 + name.chars().count() + 2;
                    prev_char = false;
                }
                '\\' => {
                    self.i += 1;
                    let single = matches!(
                        self.peek(0),
                        Some(x) if !matches!(x, 'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'h' | 'H' | 'v' | 'V' | 'Q' | 'E' | 'p' | 'P')
                    );
                    let s = self.escape(true)?;
                    out.push_str(&s);
                    prev_char = single && !s.is_empty();
                }
                '-' => {
                    self.i += 1;
                    let next = self.peek(0);
                    if prev_char && next.is_some() && next != Some(']') {
                        // A range: the next item must be a single char.
                        out.push('-');
                        match next {
                            Some('\\') => {
                                self.i += 1;
                                let single = matches!(
                                    self.peek(0),
                                    Some(x) if !matches!(x, 'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'h' | 'H' | 'v' | 'V' | 'Q' | 'E' | 'p' | 'P')
                                );
                                if !single {
                                    return compile_err("invalid range in character class");
                                }
                                out.push_str(&self.escape(true)?);
                            }
                            Some('[') if self.peek(1) == Some(':') => {
                                return compile_err("invalid range in character class")
                            }
                            Some(x) => {
                                self.i += 1;
                                out.push_str(&class_lit(x));
                            }
                            None => {}
                        }
                        prev_char = false;
                    } else {
                        out.push_str("\\-");
                        prev_char = true;
                    }
                }
                _ => {
                    self.i += 1;
                    out.push_str(&class_lit(c));
                    prev_char = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse::parse_pcre;

    fn pcre(v: &str) -> Pcre {
        parse_pcre("pcre", &format!("\"{v}\"")).unwrap()
    }

    fn is_match(v: &str, hay: &[u8]) -> bool {
        compile(&pcre(v)).unwrap().is_match(hay)
    }

    #[test]
    fn translates_and_matches() {
        assert!(is_match(r"/^GET\s+\/foo/i", b"get /foo"));
        assert!(is_match(r"/a{2,3}b/", b"aab"));
        assert!(is_match(r"/a{b/", b"a{b"));
        assert!(is_match(r"/x{,3}/", b"x{,3}"));
        assert!(is_match(r"/[a[b]/", b"["));
        assert!(is_match(r"/[\w-.]+@/", b"a-b.c@"));
        assert!(is_match(r"/[^\x00-\x1f]{3}/", b"abc"));
        assert!(is_match(r"/\x41\101\x{42}\cA/", b"AAB\x01"));
        assert!(is_match(r"/foo$/", b"foo\n"));
        assert!(!is_match(r"/foo$/E", b"foo\n"));
        assert!(is_match(r"/^b$/m", b"a\nb\nc"));
        assert!(is_match(r"/a b # comment\n c/x", b"abc"));
        assert!(is_match(r"/(?i)ab(?-i)C/", b"ABC"));
        assert!(is_match(r"/\Qa.b\E+/", b"a.bbb"));
        assert!(is_match(r"/(?P<flow_x>\d+)(?<y>z)(?'w'q)/", b"12zq"));
        assert!(is_match(r"/[[:alpha:]]+[[:^digit:]]/", b"ab-"));
        assert!(is_match(r#"/\/path\/to\"x\;y/"#, b"/path/to\"x;y"));
        assert!(is_match(r"/a(?#note)b/", b"ab"));
        assert!(is_match(r"/\xff\xfe/", b"\xff\xfe"));
        assert!(is_match(r"/x\h+y/", b"x \ty"));
        assert!(is_match(r"/[a\-z]/", b"-"));
        assert!(is_match(r"/a&&b~~c--d/", b"a&&b~~c--d"));
        assert!(is_match(r"/\d+\.\d+/A", b"1.5"));
        assert!(!is_match(r"/\d+/A", b"x1"));
    }

    #[test]
    fn refuses_what_regex_cannot_run() {
        let cases = [
            (r"/(a)\1/", "a backreference"),
            (r"/(?P<n>a)(?P=n)/", "a backreference"),
            (r"/(?<n>a)\k<n>/", "a backreference"),
            (r"/foo(?=bar)/", "lookaround"),
            (r"/foo(?!bar)/", "lookaround"),
            (r"/(?<=a)b/", "lookaround"),
            (r"/(?<!a)b/", "lookaround"),
            (r"/(?>a+)b/", "an atomic group"),
            (r"/a++b/", "a possessive quantifier"),
            (r"/a{2}+/", "a possessive quantifier"),
            (r"/a\Kb/", "\\K"),
            (r"/(a|(?R))/", "recursion"),
            (r"/(a)(?1)/", "recursion"),
            (r"/(?(1)a|b)/", "a conditional group"),
            (r"/(*UTF)a/", "a backtracking control verb"),
            (r"/\Ga/", "\\G"),
        ];
        for (pat, what) in cases {
            assert_eq!(
                compile(&pcre(pat)).err(),
                Some(PcreError::Feature(what)),
                "{pat}"
            );
        }
        assert_eq!(
            PcreError::Feature("lookaround").to_string(),
            "pcre uses lookaround, which the regex crate cannot run"
        );
        assert!(matches!(
            compile(&pcre(r"/a(b/")),
            Err(PcreError::Compile(_))
        ));
        assert!(matches!(
            compile(&pcre(r"/\i/")),
            Err(PcreError::Compile(_))
        ));
        assert!(matches!(
            compile(&pcre(r"/(?:a{1000}){1000}/")),
            Err(PcreError::TooLarge)
        ));
    }

    #[test]
    fn never_panics_on_junk() {
        for s in [
            "\\",
            "[",
            "[]",
            "[^]",
            "(?",
            "(?P",
            "(?<",
            "\\x{",
            "\\x{zz}",
            "\\o",
            "\\c",
            "{1,",
            "[[:",
            "[a-",
            "[a-\\",
            "(?#",
            "(?'",
            ")",
            "\\Q",
            "[\\Q]",
            "a{99999999999}",
        ] {
            let p = Pcre {
                pattern: s.to_string(),
                ..Pcre::default()
            };
            let _ = compile(&p);
        }
    }
}
