//! Suricata rules: parse the whole rule language into a typed AST, and tell which rules Vigil
//! can execute.
//!
//! - [`parse_rules`] reads a rule file (comments, blank lines, backslash-newline continuation,
//!   optionally the commented-out `#alert ...` rules) into a [`RuleSet`]: the rules that parsed
//!   and a [`RuleError`] (`file:line: message`, naming the keyword) for each that did not.
//!   A bad rule never stops the rest of the file.
//! - [`parse_rule`] parses one rule.
//! - [`Rule::executable`] checks a rule against [`support::SUPPORTED`], the contract of what the
//!   executor implements. A rule using keywords Vigil cannot execute yet parses fine and is only
//!   non-executable, with reasons ([`Unsupported`]); a keyword Suricata does not know at all, or
//!   broken syntax (missing `;`, bad quoting, bad address or port, missing `)`), is a parse error.
//! - [`classification`] reads `classification.config` (classtype → priority); ET's copy is
//!   embedded as the default table.
//! - [`pcre`] translates PCRE patterns to the `regex` crate, refusing what it cannot run
//!   (backreferences, lookaround, atomic groups, possessive quantifiers, ...).
//! - [`parse_address_spec`] / [`parse_port_spec`] parse header-style address and port strings;
//!   [`netset`] resolves them (with `$VAR`s from [`netset::Vars`]) into interval sets.
//! - [`config`] reads what rule loading needs from a suricata.yaml; [`iprep`], [`datasets`]
//!   and [`threshold_config`] load the IP reputation, dataset/datarep and threshold.config
//!   files it names. All I/O happens at load time; the loaded structures are immutable.
//!
//! The syntax follows Suricata (5.0 to 8.0): an option ends at the first `;` not preceded by a
//! backslash; keywords are case-insensitive; legacy content modifiers (`content:"x"; http_uri;`)
//! move the preceding payload content into their buffer, while sticky buffers (`http.uri;
//! content:"x";`, and the aliases `dns_query`, `tls_sni`, `ja3_hash`, `file_data`) apply to
//! everything after them until the next buffer or `pkt_data`.

pub mod ast;
pub mod classification;
pub mod config;
pub mod datasets;
pub mod iprep;
pub mod keywords;
pub mod netset;
mod parse;
pub mod pcre;
pub mod support;
#[cfg(test)]
mod tests;
pub mod threshold_config;

pub use ast::*;
/// Address and port strings as in rule headers and suricata.yaml vars (`any`, `$VAR`, `!x`,
/// `[a, b]`, CIDR, ranges). Errors are plain messages; never panics.
pub use parse::{parse_address_spec, parse_port_spec};
pub use support::{Unsupported, SUPPORTED, SUPPORTED_BUFFERS, SUPPORTED_PROTOCOLS};

use parse::{PErr, PResult};
use std::collections::HashMap;
use std::sync::Arc;

/// A rule that did not parse: `file:line: message`. `keyword` is the option at fault when
/// there is one (`None` for header errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct RuleError {
    pub file: String,
    pub line: usize,
    pub keyword: Option<String>,
    pub message: String,
}

/// How to read a rule file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Also parse commented-out rules: lines of `#`, optional spaces, an action keyword, a
    /// protocol and a `(` (ET Open ships its disabled rules this way).
    pub include_commented: bool,
}

/// The result of reading one rule file.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub failures: Vec<RuleError>,
}

impl RuleSet {
    /// Rules seen: parsed plus failed.
    pub fn total(&self) -> usize {
        self.rules.len() + self.failures.len()
    }

    /// The rules to load: all that parsed, or with `strict` none at all if any failed (the
    /// failures are returned instead).
    pub fn into_rules(self, strict: bool) -> Result<Vec<Rule>, Vec<RuleError>> {
        if strict && !self.failures.is_empty() {
            Err(self.failures)
        } else {
            Ok(self.rules)
        }
    }
}

/// Parses a rule file. `name` is used in locations and errors. Never fails as a whole: rules
/// that do not parse become [`RuleSet::failures`], and so does a later rule reusing a gid:sid.
pub fn parse_rules(name: &str, text: &str, opts: &ParseOptions) -> RuleSet {
    let file: Arc<str> = Arc::from(name);
    let mut set = RuleSet::default();
    let mut seen: HashMap<(u32, u32), usize> = HashMap::new();
    let mut pending: Option<(String, usize, bool)> = None;

    let mut finish = |text: String, line: usize, commented: bool, set: &mut RuleSet| {
        let loc = Location {
            file: file.clone(),
            line,
        };
        match build_rule(&text, loc, commented) {
            Ok(rule) => match seen.get(&(rule.gid, rule.sid)) {
                Some(first) => set.failures.push(RuleError {
                    file: name.to_string(),
                    line,
                    keyword: Some("sid".to_string()),
                    message: format!(
                        "duplicate sid {} (gid {}): first defined at line {first}",
                        rule.sid, rule.gid
                    ),
                }),
                None => {
                    seen.insert((rule.gid, rule.sid), line);
                    set.rules.push(rule);
                }
            },
            Err(e) => set.failures.push(RuleError {
                file: name.to_string(),
                line,
                keyword: e.keyword,
                message: e.message,
            }),
        }
    };

    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.split('\n').enumerate() {
        let lineno = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        match pending.as_mut() {
            Some((buf, _, commented)) => {
                let mut l = line;
                if *commented {
                    let t = l.trim_start();
                    if let Some(r) = t.strip_prefix('#') {
                        l = r;
                    }
                }
                buf.push_str(l);
            }
            None => {
                let t = line.trim_start();
                if t.is_empty() {
                    continue;
                }
                if let Some(c) = t.strip_prefix('#') {
                    match commented_rule(c) {
                        Some(r) if opts.include_commented => {
                            pending = Some((r.to_string(), lineno, true));
                        }
                        _ => continue,
                    }
                } else {
                    pending = Some((t.to_string(), lineno, false));
                }
            }
        }
        let Some((buf, _, _)) = pending.as_mut() else {
            continue;
        };
        let trimmed = buf.trim_end().len();
        buf.truncate(trimmed);
        if buf.ends_with('\\') {
            buf.pop();
            continue;
        }
        if let Some((text, line, commented)) = pending.take() {
            finish(text, line, commented, &mut set);
        }
    }
    if let Some((text, line, commented)) = pending.take() {
        finish(text, line, commented, &mut set);
    }
    set
}

/// Parses a single rule (backslash-newline continuations allowed). Errors are located at
/// `<rule>:1`.
pub fn parse_rule(text: &str) -> Result<Rule, RuleError> {
    let joined = text.replace("\\\r\n", "").replace("\\\n", "");
    let loc = Location {
        file: Arc::from("<rule>"),
        line: 1,
    };
    build_rule(joined.trim(), loc, false).map_err(|e| RuleError {
        file: "<rule>".to_string(),
        line: 1,
        keyword: e.keyword,
        message: e.message,
    })
}

/// The rule text of a commented-out rule (`c` is what follows the `#`), if it looks like one:
/// optional spaces, an action, a known protocol, and a `(` later on the line.
fn commented_rule(c: &str) -> Option<&str> {
    let r = c.trim_start_matches([' ', '\t']);
    let mut toks = r.split_whitespace();
    let action = toks.next()?;
    Action::parse(action.split(':').next().unwrap_or(action))?;
    let proto = toks.next()?;
    keywords::protocol(
        &proto
            .split(':')
            .next()
            .unwrap_or(proto)
            .to_ascii_lowercase(),
    )?;
    r.contains('(').then_some(r)
}

fn kw_err<T>(kw: &str, message: impl Into<String>) -> PResult<T> {
    Err(PErr {
        keyword: Some(kw.to_string()),
        message: message.into(),
    })
}

/// Buffer selection while walking the options.
struct Cursor {
    buffer: Buffer,
    /// A sticky buffer (not the payload) is active.
    sticky: bool,
    transforms: Vec<Transform>,
}

fn build_rule(text: &str, location: Location, commented: bool) -> PResult<Rule> {
    let (h, body) = parse::parse_header(text)?;
    let raw = parse::split_options(body)?;
    let mut rule = Rule {
        action: h.action,
        action_scope: h.action_scope,
        proto: h.proto,
        proto_hook: h.proto_hook,
        src: h.src,
        src_ports: h.src_ports,
        direction: h.direction,
        dst: h.dst,
        dst_ports: h.dst_ports,
        options: Vec::with_capacity(raw.len()),
        msg: String::new(),
        sid: 0,
        rev: 0,
        gid: 1,
        classtype: None,
        priority: None,
        references: Vec::new(),
        metadata: Vec::new(),
        flow: None,
        flowbits: Vec::new(),
        threshold: None,
        detection_filter: None,
        target: None,
        noalert: false,
        detects: Vec::new(),
        commented,
        location,
        text: text.to_string(),
    };
    let mut cur = Cursor {
        buffer: Buffer::Payload,
        sticky: false,
        transforms: Vec::new(),
    };
    let mut seen: Vec<&'static str> = Vec::new();
    for (idx, ro) in raw.iter().enumerate() {
        let kw = ro.name.to_ascii_lowercase();
        let Some((canonical, kind)) = keywords::lookup(&kw) else {
            return kw_err(
                &kw,
                format!("unknown keyword \"{}\"", parse::snippet(ro.name)),
            );
        };
        let parsed = parse::parse_option_value(canonical, kind, &kw, ro.value)?;
        if matches!(
            canonical,
            "msg" | "sid" | "rev" | "gid" | "classtype" | "priority" | "target" | "flow"
        ) {
            if seen.contains(&canonical) {
                return kw_err(&kw, format!("duplicate \"{kw}\" keyword"));
            }
            seen.push(canonical);
        }
        apply(&mut rule, &mut cur, idx, &kw, &parsed)?;
        rule.options.push(RuleOption {
            keyword: kw,
            value: ro.value.map(str::to_string),
            parsed,
        });
    }
    if rule.sid == 0 {
        return kw_err("sid", "rule has no sid");
    }
    Ok(rule)
}

/// Index in `detects` of the content a modifier applies to: with a sticky buffer active, the
/// last content in that buffer; otherwise the last content of the rule (Suricata's lookup).
fn last_content(detects: &[Detect], cur: &Cursor) -> Option<usize> {
    detects.iter().rposition(|d| {
        matches!(d.kind, DetectKind::Content(_)) && (!cur.sticky || d.buffer == cur.buffer)
    })
}

fn apply(
    rule: &mut Rule,
    cur: &mut Cursor,
    idx: usize,
    kw: &str,
    parsed: &OptionValue,
) -> PResult<()> {
    let push = |rule: &mut Rule, buffer: Buffer, transforms: Vec<Transform>, kind: DetectKind| {
        rule.detects.push(Detect {
            buffer,
            transforms,
            kind,
            option: idx,
        })
    };
    match parsed {
        OptionValue::Msg(m) => rule.msg = m.clone(),
        OptionValue::Sid(n) => rule.sid = *n,
        OptionValue::Rev(n) => rule.rev = *n,
        OptionValue::Gid(n) => rule.gid = *n,
        OptionValue::Classtype(c) => rule.classtype = Some(c.clone()),
        OptionValue::Priority(p) => rule.priority = Some(*p),
        OptionValue::Reference(r) => rule.references.push(r.clone()),
        OptionValue::Metadata(m) => rule.metadata.extend(m.iter().cloned()),
        OptionValue::Target(t) => rule.target = Some(*t),
        OptionValue::Noalert => rule.noalert = true,
        OptionValue::Flow(f) => rule.flow = Some(f.clone()),
        OptionValue::Flowbits(f) => {
            if f.command == BitsCommand::NoAlert {
                rule.noalert = true;
            }
            rule.flowbits.push(f.clone());
        }
        OptionValue::Threshold(t) => {
            if rule.threshold.is_some() || rule.detection_filter.is_some() {
                return kw_err(kw, "only one threshold or detection_filter per rule");
            }
            rule.threshold = Some(t.clone());
        }
        OptionValue::DetectionFilter(d) => {
            if rule.threshold.is_some() || rule.detection_filter.is_some() {
                return kw_err(kw, "only one threshold or detection_filter per rule");
            }
            rule.detection_filter = Some(d.clone());
        }
        OptionValue::StickyBuffer(b) => {
            cur.buffer = *b;
            cur.sticky = *b != Buffer::Payload;
            cur.transforms.clear();
        }
        OptionValue::Transform(t) => {
            if !cur.sticky {
                return kw_err(
                    kw,
                    format!("transform \"{kw}\" must follow a sticky buffer"),
                );
            }
            cur.transforms.push(t.clone());
        }
        OptionValue::Content(c) => {
            if kw == "uricontent" {
                push(
                    rule,
                    Buffer::Sticky("http.uri"),
                    Vec::new(),
                    DetectKind::Content(c.clone()),
                );
            } else {
                push(
                    rule,
                    cur.buffer,
                    cur.transforms.clone(),
                    DetectKind::Content(c.clone()),
                );
            }
        }
        OptionValue::BufferContent { buffer, content } => push(
            rule,
            *buffer,
            Vec::new(),
            DetectKind::Content(content.clone()),
        ),
        OptionValue::Nocase
        | OptionValue::Rawbytes
        | OptionValue::Depth(_)
        | OptionValue::Offset(_)
        | OptionValue::Distance(_)
        | OptionValue::Within(_)
        | OptionValue::StartsWith
        | OptionValue::EndsWith
        | OptionValue::FastPattern(_) => {
            if matches!(parsed, OptionValue::FastPattern(_))
                && rule
                    .detects
                    .iter()
                    .any(|d| matches!(&d.kind, DetectKind::Content(c) if c.fast_pattern.is_some()))
            {
                return kw_err(kw, "fast_pattern is already set on another content");
            }
            let Some(i) = last_content(&rule.detects, cur) else {
                return kw_err(
                    kw,
                    if cur.sticky {
                        format!(
                            "\"{kw}\" needs a preceding content in the \"{}\" buffer",
                            cur.buffer.name()
                        )
                    } else {
                        format!("\"{kw}\" needs a preceding content")
                    },
                );
            };
            let Some(DetectKind::Content(c)) = rule.detects.get_mut(i).map(|d| &mut d.kind) else {
                return kw_err(kw, format!("\"{kw}\" needs a preceding content"));
            };
            modify_content(c, kw, parsed)?;
        }
        OptionValue::ContentModifier(b) => {
            if cur.sticky {
                return kw_err(
                    kw,
                    format!(
                        "\"{kw}\" cannot follow the sticky buffer \"{}\" (reset with pkt_data first)",
                        cur.buffer.name()
                    ),
                );
            }
            let Some(d) =
                rule.detects.iter_mut().rev().find(|d| {
                    matches!(d.kind, DetectKind::Content(_)) && d.buffer == Buffer::Payload
                })
            else {
                return kw_err(kw, format!("\"{kw}\" needs a preceding content"));
            };
            if let DetectKind::Content(c) = &d.kind {
                if c.rawbytes {
                    return kw_err(kw, format!("\"{kw}\" cannot be used with rawbytes"));
                }
            }
            d.buffer = *b;
            d.transforms.clear();
        }
        OptionValue::Pcre(p) => {
            let (buffer, transforms) = match p.buffer_flag {
                Some((_, b)) => (Buffer::Sticky(b), Vec::new()),
                None => (cur.buffer, cur.transforms.clone()),
            };
            push(rule, buffer, transforms, DetectKind::Pcre(p.clone()));
        }
        OptionValue::Bsize(m) => {
            if !cur.sticky {
                return kw_err(kw, "bsize must follow a sticky buffer");
            }
            push(
                rule,
                cur.buffer,
                cur.transforms.clone(),
                DetectKind::Bsize(*m),
            );
        }
        OptionValue::Dataset(d) => {
            if !cur.sticky {
                return kw_err(kw, "dataset must follow a sticky buffer");
            }
            push(
                rule,
                cur.buffer,
                cur.transforms.clone(),
                DetectKind::Dataset(d.clone()),
            );
        }
        OptionValue::Datarep(d) => {
            if !cur.sticky {
                return kw_err(kw, "datarep must follow a sticky buffer");
            }
            push(
                rule,
                cur.buffer,
                cur.transforms.clone(),
                DetectKind::Datarep(d.clone()),
            );
        }
        OptionValue::Isdataat(x) => push(
            rule,
            cur.buffer,
            cur.transforms.clone(),
            DetectKind::Isdataat(x.clone()),
        ),
        OptionValue::ByteTest(x) => push(
            rule,
            cur.buffer,
            cur.transforms.clone(),
            DetectKind::ByteTest(x.clone()),
        ),
        OptionValue::ByteJump(x) => push(
            rule,
            cur.buffer,
            cur.transforms.clone(),
            DetectKind::ByteJump(x.clone()),
        ),
        OptionValue::ByteExtract(x) => push(
            rule,
            cur.buffer,
            cur.transforms.clone(),
            DetectKind::ByteExtract(x.clone()),
        ),
        OptionValue::ByteMath(x) => push(
            rule,
            cur.buffer,
            cur.transforms.clone(),
            DetectKind::ByteMath(x.clone()),
        ),
        _ => {}
    }
    Ok(())
}

/// Folds a content modifier into its content, with Suricata's consistency checks.
fn modify_content(c: &mut Content, kw: &str, m: &OptionValue) -> PResult<()> {
    let dup = |set: bool| -> PResult<()> {
        if set {
            kw_err(kw, format!("\"{kw}\" given twice for the same content"))
        } else {
            Ok(())
        }
    };
    let absolute = c.depth.is_some() || c.offset.is_some();
    let relative = c.distance.is_some() || c.within.is_some();
    let mix = || {
        kw_err(
            kw,
            format!("\"{kw}\" mixes a relative (distance/within) and an absolute (depth/offset) position on one content"),
        )
    };
    match m {
        OptionValue::Nocase => {
            dup(c.nocase)?;
            c.nocase = true;
        }
        OptionValue::Rawbytes => c.rawbytes = true,
        OptionValue::Depth(n) => {
            dup(c.depth.is_some())?;
            if relative {
                return mix();
            }
            c.depth = Some(n.clone());
        }
        OptionValue::Offset(n) => {
            dup(c.offset.is_some())?;
            if relative {
                return mix();
            }
            c.offset = Some(n.clone());
        }
        OptionValue::Distance(n) => {
            dup(c.distance.is_some())?;
            if absolute {
                return mix();
            }
            c.distance = Some(n.clone());
        }
        OptionValue::Within(n) => {
            dup(c.within.is_some())?;
            if absolute {
                return mix();
            }
            if let Num::Lit(w) = n {
                if *w < 1 {
                    return kw_err(kw, format!("within {w} is less than 1"));
                }
            }
            c.within = Some(n.clone());
        }
        // Suricata just sets the flag again.
        OptionValue::StartsWith => c.startswith = true,
        OptionValue::EndsWith => c.endswith = true,
        OptionValue::FastPattern(f) => {
            dup(c.fast_pattern.is_some())?;
            c.fast_pattern = Some(*f);
        }
        _ => {}
    }
    Ok(())
}
