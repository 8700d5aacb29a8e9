//! STIX 2.0 / 2.1 JSON: bundles, bare arrays of objects, or a single object.
//!
//! The input is deserialised in one streaming pass: the `objects` array is visited element by
//! element and each object is read into a small borrowed record (strings without escapes are
//! not copied), so a bundle of a million indicators never exists as a `serde_json::Value` tree.
//!
//! What becomes an indicator:
//!
//! * `indicator` objects whose `pattern_type` is absent (STIX 2.0) or `stix`: every atom of the
//!   pattern (see [`crate::pattern::extract_atoms`]) with `id` = the STIX id, `name` = `name`,
//!   `confidence` = `confidence` (clamped to 0–100) or the feed default, and the severity
//!   derived from the confidence, and `valid_from` = `valid_from` (else `created`). Revoked
//!   indicators are ignored; `valid_until` is not checked (a scanner looking at old traffic
//!   still wants expired indicators). An invalid pattern, a pattern without a matchable
//!   comparison, and atoms whose value does not normalise are skipped records located by JSON
//!   path (`objects[12].pattern`).
//! * cyber-observable objects `ipv4-addr`, `ipv6-addr`, `domain-name`, `url` (`value`) and `file`
//!   (`hashes` MD5 / SHA-1 / SHA-256), with `id` = the object id, the default confidence and
//!   `valid_from` = `created` when present (STIX 2.1 observables usually have none).
//! * everything else (other SDOs, SROs, marking definitions, indicators with other pattern
//!   types, files without a supported hash) is counted in [`Feed::ignored`].
//!
//! Timestamps are strict RFC 3339 ([`timestamp::parse_rfc3339`]). An unreadable one is counted
//! in [`Feed::bad_timestamps`] and the next candidate (`created`) is tried; in strict mode it is
//! an error located like `objects[3].valid_from`.
use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use vigil_model::{Confidence, Indicator, IndicatorType, Reliability, Severity};

use crate::normalize::{self, NormError};
use crate::pattern;
use crate::timestamp;
use crate::{Feed, FeedBuilder, IntelError, LoadOptions};

/// Parses STIX JSON held in memory. `name` is used in locations and as the default source.
pub fn parse(name: &str, data: &[u8], opts: &LoadOptions) -> Result<Feed, IntelError> {
    parse_with(name, data, opts, None)
}

/// [`parse`], handing indicators to `sink` when there is one.
pub(crate) fn parse_with(
    name: &str,
    data: &[u8],
    opts: &LoadOptions,
    sink: Option<crate::IndicatorSink<'_>>,
) -> Result<Feed, IntelError> {
    let data = crate::strip_bom(data);
    let mut loader = Loader {
        name,
        // Shortens the sink's lifetime to the name's, so one lifetime covers the loader.
        out: FeedBuilder::new(
            name,
            opts,
            match sink {
                Some(s) => Some(s),
                None => None,
            },
        ),
        default_confidence: opts.default_confidence,
        reliability: opts.reliability,
        fatal: None,
    };
    let mut de = serde_json::Deserializer::from_slice(data);
    let res = TopSeed {
        loader: &mut loader,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    if let Some(e) = loader.fatal.take() {
        return Err(e);
    }
    if let Err(e) = res {
        return Err(crate::json_error(name, &e));
    }
    Ok(loader.out.feed)
}

struct Loader<'n> {
    name: &'n str,
    out: FeedBuilder<'n>,
    default_confidence: Confidence,
    reliability: Option<Reliability>,
    /// An error that must abort loading (strict mode); the deserialiser is stopped with a
    /// placeholder error and this one is returned instead.
    fatal: Option<IntelError>,
}

/// Where an object sits in the input, for locations.
#[derive(Clone, Copy)]
enum Where {
    /// The whole document is the object.
    Root,
    /// `objects[i]` of a bundle.
    Bundle(usize),
    /// `[i]` of a bare array.
    Array(usize),
}

impl Where {
    fn path(self, field: &str) -> String {
        match self {
            Where::Root => field.to_string(),
            Where::Bundle(i) => format!("objects[{i}].{field}"),
            Where::Array(i) => format!("[{i}].{field}"),
        }
    }
    fn object(self) -> String {
        match self {
            Where::Root => "(document)".to_string(),
            Where::Bundle(i) => format!("objects[{i}]"),
            Where::Array(i) => format!("[{i}]"),
        }
    }
}

/// The fields of an object that matter here, borrowed from the input where possible.
#[derive(Default)]
struct RawObject<'de> {
    kind: Option<Cow<'de, str>>,
    id: Option<Cow<'de, str>>,
    pattern: Option<Cow<'de, str>>,
    pattern_type: Option<Cow<'de, str>>,
    name: Option<Cow<'de, str>>,
    confidence: Option<f64>,
    revoked: bool,
    valid_from: Option<Cow<'de, str>>,
    created: Option<Cow<'de, str>>,
    value: Option<Cow<'de, str>>,
    hashes: Vec<(Cow<'de, str>, Cow<'de, str>)>,
}

impl Loader<'_> {
    fn location(&self, w: Where, field: &str) -> String {
        format!("{}: {}", self.name, w.path(field))
    }

    /// Records a skipped record; in strict mode stores the error and returns `Err(())`.
    fn skip(&mut self, location: String, reason: String) -> Result<(), ()> {
        self.out.skip(location, reason).map_err(|e| {
            self.fatal = Some(e);
        })
    }

    fn push(
        &mut self,
        kind: IndicatorType,
        value: String,
        id: Option<&str>,
        confidence: Confidence,
        name: Option<&str>,
        valid_from: Option<i64>,
    ) {
        let source = self.out.feed.source.clone();
        self.out.push(Indicator {
            kind,
            value,
            source,
            id: id.map(str::to_string),
            confidence,
            severity: Severity::from_confidence(confidence),
            name: name.map(str::to_string),
            valid_from,
            reliability: self.reliability,
        });
    }

    /// The first of `candidates` (field name, value) that is a valid timestamp. Unreadable ones
    /// are counted (or, in strict mode, stop loading) and the next one is tried.
    fn timestamp(
        &mut self,
        w: Where,
        candidates: &[(&str, Option<&str>)],
    ) -> Result<Option<i64>, ()> {
        for &(field, value) in candidates {
            let Some(v) = value else { continue };
            match timestamp::parse_rfc3339(v) {
                Ok(t) => return Ok(Some(t)),
                Err(e) => {
                    let location = self.location(w, field);
                    let reason = format!("invalid {field} {:?}: {e}", normalize::snippet(v));
                    if let Err(err) = self.out.bad_timestamp(location, reason) {
                        self.fatal = Some(err);
                        return Err(());
                    }
                }
            }
        }
        Ok(None)
    }

    fn object(&mut self, w: Where, o: RawObject<'_>) -> Result<(), ()> {
        let Some(kind) = o.kind.as_deref() else {
            return self.skip(
                format!("{}: {}", self.name, w.object()),
                "object has no \"type\"".to_string(),
            );
        };
        match kind {
            "indicator" => self.indicator(w, &o),
            "ipv4-addr" | "ipv6-addr" => {
                self.observable(w, &o, |v| normalize::normalize_as(IndicatorType::Ip, v))
            }
            "domain-name" => self.observable(w, &o, |v| {
                normalize::domain(v).map(|d| (IndicatorType::Domain, d))
            }),
            "url" => self.observable(w, &o, |v| {
                normalize::url(v).map(|u| (IndicatorType::Url, u))
            }),
            "file" => self.file(w, &o),
            _ => {
                self.out.feed.ignored += 1;
                Ok(())
            }
        }
    }

    fn indicator(&mut self, w: Where, o: &RawObject<'_>) -> Result<(), ()> {
        if o.revoked {
            self.out.feed.ignored += 1;
            return Ok(());
        }
        if let Some(pt) = o.pattern_type.as_deref() {
            if !pt.eq_ignore_ascii_case("stix") {
                self.out.feed.ignored += 1;
                return Ok(());
            }
        }
        let Some(text) = o.pattern.as_deref() else {
            return self.skip(
                self.location(w, "pattern"),
                "indicator has no pattern".to_string(),
            );
        };
        let parsed = match pattern::parse(text) {
            Ok(p) => p,
            Err(e) => {
                let location = self.location(w, "pattern");
                if self.out.strict {
                    self.fatal = Some(IntelError::Pattern {
                        location,
                        source: e,
                    });
                    return Err(());
                }
                return self.skip(location, e.to_string());
            }
        };
        let ex = pattern::extract_atoms(&parsed);
        for r in &ex.rejected {
            self.skip(
                self.location(w, "pattern"),
                format!("{}: {}", r.path, r.error),
            )?;
        }
        if ex.atoms.is_empty() {
            if ex.rejected.is_empty() {
                return self.skip(
                    self.location(w, "pattern"),
                    "no matchable comparison in pattern (supported: ipv4-addr/ipv6-addr/domain-name/url:value, file:hashes, network-traffic:src_ref/dst_ref.value, x-ja3/x-ja3s/x-ja4:value)".to_string(),
                );
            }
            return Ok(());
        }
        let confidence = o
            .confidence
            .map(|c| Confidence::new(c.round() as i64))
            .unwrap_or(self.default_confidence);
        let valid_from = self.timestamp(
            w,
            &[
                ("valid_from", o.valid_from.as_deref()),
                ("created", o.created.as_deref()),
            ],
        )?;
        for a in ex.atoms {
            self.push(
                a.kind,
                a.value,
                o.id.as_deref(),
                confidence,
                o.name.as_deref(),
                valid_from,
            );
        }
        Ok(())
    }

    fn observable(
        &mut self,
        w: Where,
        o: &RawObject<'_>,
        norm: impl Fn(&str) -> Result<(IndicatorType, String), NormError>,
    ) -> Result<(), ()> {
        let Some(v) = o.value.as_deref() else {
            return self.skip(
                self.location(w, "value"),
                "observable has no string \"value\"".to_string(),
            );
        };
        match norm(v) {
            Ok((kind, value)) => {
                let valid_from = self.timestamp(w, &[("created", o.created.as_deref())])?;
                let c = self.default_confidence;
                self.push(kind, value, o.id.as_deref(), c, None, valid_from);
                Ok(())
            }
            Err(e) => self.skip(self.location(w, "value"), e.to_string()),
        }
    }

    fn file(&mut self, w: Where, o: &RawObject<'_>) -> Result<(), ()> {
        let mut used = false;
        // Read once, at the first hash that yields an indicator.
        let mut valid_from: Option<Option<i64>> = None;
        for (algo, v) in &o.hashes {
            let kind = match algo.to_ascii_lowercase().as_str() {
                "md5" => IndicatorType::Md5,
                "sha-1" | "sha1" => IndicatorType::Sha1,
                "sha-256" | "sha256" => IndicatorType::Sha256,
                _ => continue,
            };
            used = true;
            match normalize::normalize(kind, v) {
                Ok(value) => {
                    let t = match valid_from {
                        Some(t) => t,
                        None => *valid_from
                            .insert(self.timestamp(w, &[("created", o.created.as_deref())])?),
                    };
                    let c = self.default_confidence;
                    self.push(kind, value, o.id.as_deref(), c, None, t);
                }
                Err(e) => {
                    self.skip(self.location(w, &format!("hashes.{algo}")), e.to_string())?;
                }
            }
        }
        if !used {
            self.out.feed.ignored += 1;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Streaming deserialisation

const STRICT_ABORT: &str = "loading stopped (strict mode)";

/// The document: a bundle (or any object with an `objects` array), a single object, or an array.
struct TopSeed<'l, 'n> {
    loader: &'l mut Loader<'n>,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(TopVisitor {
            loader: self.loader,
        })
    }
}

struct TopVisitor<'l, 'n> {
    loader: &'l mut Loader<'n>,
}

impl<'de> Visitor<'de> for TopVisitor<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a stix bundle, an array of stix objects or a stix object")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        visit_objects(self.loader, seq, Where::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        ObjectVisitor {
            loader: self.loader,
            at: Where::Root,
        }
        .visit_map(map)
    }
}

fn visit_objects<'de, A: SeqAccess<'de>>(
    loader: &mut Loader<'_>,
    mut seq: A,
    at: fn(usize) -> Where,
) -> Result<(), A::Error> {
    let mut i = 0usize;
    while seq
        .next_element_seed(ObjectSeed {
            loader: &mut *loader,
            at: at(i),
        })?
        .is_some()
    {
        i += 1;
    }
    Ok(())
}

struct ObjectSeed<'l, 'n> {
    loader: &'l mut Loader<'n>,
    at: Where,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(ObjectVisitor {
            loader: self.loader,
            at: self.at,
        })
    }
}

struct ObjectVisitor<'l, 'n> {
    loader: &'l mut Loader<'n>,
    at: Where,
}

impl<'de> Visitor<'de> for ObjectVisitor<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a stix object")
    }

    /// Anything that is not a JSON object where an object is expected is a skipped record.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.not_an_object()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.not_an_object()
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.not_an_object()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.not_an_object()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.not_an_object()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.not_an_object()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.not_an_object()
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut o = RawObject::default();
        let mut saw_objects = false;
        while let Some(key) = map.next_key::<Str<'de>>()? {
            match key.0.as_ref() {
                "type" => o.kind = map.next_value::<LenientStr<'de>>()?.0,
                "id" => o.id = map.next_value::<LenientStr<'de>>()?.0,
                "pattern" => o.pattern = map.next_value::<LenientStr<'de>>()?.0,
                "pattern_type" => o.pattern_type = map.next_value::<LenientStr<'de>>()?.0,
                "name" => o.name = map.next_value::<LenientStr<'de>>()?.0,
                "value" => o.value = map.next_value::<LenientStr<'de>>()?.0,
                "confidence" => o.confidence = map.next_value::<LenientNum>()?.0,
                "revoked" => o.revoked = map.next_value::<LenientBool>()?.0,
                "valid_from" => o.valid_from = map.next_value::<LenientStr<'de>>()?.0,
                "created" => o.created = map.next_value::<LenientStr<'de>>()?.0,
                "hashes" => o.hashes = map.next_value::<Hashes<'de>>()?.0,
                "objects" if matches!(self.at, Where::Root) => {
                    saw_objects |= map.next_value_seed(ObjectsSeed {
                        loader: &mut *self.loader,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            if self.loader.fatal.is_some() {
                return Err(de::Error::custom(STRICT_ABORT));
            }
        }
        if saw_objects {
            // A bundle (or a container of objects): its own fields are not an indicator.
            return Ok(());
        }
        self.loader
            .object(self.at, o)
            .map_err(|()| de::Error::custom(STRICT_ABORT))
    }
}

impl ObjectVisitor<'_, '_> {
    fn not_an_object<E: de::Error>(self) -> Result<(), E> {
        let location = format!("{}: {}", self.loader.name, self.at.object());
        self.loader
            .skip(location, "expected a json object".to_string())
            .map_err(|()| E::custom(STRICT_ABORT))
    }
}

/// The `objects` member: streams an array; returns whether it was one (anything else, such as
/// STIX 2.0 `observed-data` `objects` maps, is ignored).
struct ObjectsSeed<'l, 'n> {
    loader: &'l mut Loader<'n>,
}

impl<'de> DeserializeSeed<'de> for ObjectsSeed<'_, '_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(ObjectsVisitor {
            loader: self.loader,
        })
    }
}

struct ObjectsVisitor<'l, 'n> {
    loader: &'l mut Loader<'n>,
}

impl<'de> Visitor<'de> for ObjectsVisitor<'_, '_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of stix objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<bool, A::Error> {
        visit_objects(self.loader, seq, Where::Bundle).map(|()| true)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// A string, borrowed from the input when it has no escapes.
struct Str<'de>(Cow<'de, str>);

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

impl<'de> de::Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor).map(Str)
    }
}

/// Accepts any JSON value; `Some` only for a string. Wrong types in a record make the field
/// absent instead of failing the whole document.
struct LenientStr<'de>(Option<Cow<'de, str>>);

/// Accepts any JSON value; `Some` only for a number.
struct LenientNum(Option<f64>);

/// Accepts any JSON value; `true` only for `true`.
struct LenientBool(bool);

/// Accepts any JSON value; the string members of an object.
struct Hashes<'de>(Vec<(Cow<'de, str>, Cow<'de, str>)>);

/// What a lenient visitor saw.
enum Seen<'de> {
    Str(Cow<'de, str>),
    Num(f64),
    Bool(bool),
    Map(Vec<(Cow<'de, str>, Cow<'de, str>)>),
    Other,
}

struct AnyVisitor {
    /// Collect string members of maps (for `hashes`); otherwise maps are skipped.
    collect_map: bool,
}

impl<'de> Visitor<'de> for AnyVisitor {
    type Value = Seen<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any json value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Seen<'de>, E> {
        Ok(Seen::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Seen<'de>, E> {
        Ok(Seen::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Seen<'de>, E> {
        Ok(Seen::Str(Cow::Owned(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Seen<'de>, E> {
        Ok(Seen::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seen<'de>, E> {
        Ok(Seen::Num(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seen<'de>, E> {
        Ok(Seen::Num(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Seen<'de>, E> {
        Ok(Seen::Num(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Seen<'de>, E> {
        Ok(Seen::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Seen<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Seen::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Seen<'de>, A::Error> {
        let mut out = Vec::new();
        while let Some(k) = map.next_key::<Str<'de>>()? {
            let v = map.next_value_seed(AnySeed { collect_map: false })?;
            if let (true, Seen::Str(s)) = (self.collect_map, v) {
                out.push((k.0, s));
            }
        }
        Ok(Seen::Map(out))
    }
}

struct AnySeed {
    collect_map: bool,
}

impl<'de> DeserializeSeed<'de> for AnySeed {
    type Value = Seen<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Seen<'de>, D::Error> {
        d.deserialize_any(AnyVisitor {
            collect_map: self.collect_map,
        })
    }
}

impl<'de> de::Deserialize<'de> for LenientStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(LenientStr(
            match (AnySeed { collect_map: false }).deserialize(d)? {
                Seen::Str(s) => Some(s),
                _ => None,
            },
        ))
    }
}

impl<'de> de::Deserialize<'de> for LenientNum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(LenientNum(
            match (AnySeed { collect_map: false }).deserialize(d)? {
                Seen::Num(n) if n.is_finite() => Some(n),
                _ => None,
            },
        ))
    }
}

impl<'de> de::Deserialize<'de> for LenientBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(LenientBool(matches!(
            (AnySeed { collect_map: false }).deserialize(d)?,
            Seen::Bool(true)
        )))
    }
}

impl<'de> de::Deserialize<'de> for Hashes<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Hashes(
            match (AnySeed { collect_map: true }).deserialize(d)? {
                Seen::Map(m) => m,
                _ => Vec::new(),
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_model::IndicatorType as T;

    fn load(json: &str) -> Feed {
        parse("b.json", json.as_bytes(), &LoadOptions::default()).unwrap()
    }

    fn values(f: &Feed) -> Vec<(T, &str)> {
        f.indicators
            .iter()
            .map(|i| (i.kind, i.value.as_str()))
            .collect()
    }

    const BUNDLE: &str = r#"{
      "type": "bundle",
      "id": "bundle--1",
      "objects": [
        {"type": "identity", "id": "identity--1", "name": "ACME"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--a",
         "name": "C2 \"server\"", "confidence": 85, "pattern_type": "stix",
         "pattern": "[ipv4-addr:value = '198.51.100.7' OR domain-name:value = 'C2.Example.com']",
         "valid_from": "2020-01-01T00:00:00Z"},
        {"type": "indicator", "id": "indicator--b", "pattern_type": "stix",
         "pattern": "[ipv4-addr:value = '1.2.3.4'", "valid_from": "2020-01-01T00:00:00Z"},
        {"type": "indicator", "id": "indicator--c", "pattern_type": "yara", "pattern": "rule x {}"},
        {"type": "indicator", "id": "indicator--d", "revoked": true,
         "pattern": "[ipv4-addr:value = '9.9.9.9']"},
        {"type": "indicator", "id": "indicator--e", "pattern": "[file:name = 'x.exe']"},
        {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "203.0.113.0/24"},
        {"type": "ipv6-addr", "id": "ipv6-addr--1", "value": "2001:DB8::1"},
        {"type": "domain-name", "id": "domain-name--1", "value": "bad..example"},
        {"type": "url", "id": "url--1", "value": "https://evil.example:443/a/./b"},
        {"type": "file", "id": "file--1", "hashes": {"MD5": "D41D8CD98F00B204E9800998ECF8427E",
           "SHA-256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "SSDEEP": "3:abc"}},
        {"type": "file", "id": "file--2", "name": "x.exe"},
        {"type": "indicator", "id": "indicator--f", "confidence": "high",
         "pattern": "[url:value = 'http://x.example/\u00e9']"}
      ]
    }"#;

    #[test]
    fn bundle_objects_become_indicators() {
        let f = load(BUNDLE);
        assert_eq!(
            values(&f),
            vec![
                (T::Ip, "198.51.100.7"),
                (T::Domain, "c2.example.com"),
                (T::Cidr, "203.0.113.0/24"),
                (T::Ip, "2001:db8::1"),
                (T::Url, "evil.example/a/b"),
                (T::Md5, "d41d8cd98f00b204e9800998ecf8427e"),
                (
                    T::Sha256,
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                ),
                (T::Url, "x.example/%C3%A9"),
            ]
        );
        let a = &f.indicators[0];
        assert_eq!(a.id.as_deref(), Some("indicator--a"));
        assert_eq!(a.name.as_deref(), Some("C2 \"server\""));
        assert_eq!(a.confidence.get(), 85);
        assert_eq!(a.severity.get(), 1);
        assert_eq!(a.source, "b.json");
        assert_eq!(f.indicators[2].id.as_deref(), Some("ipv4-addr--1"));
        assert_eq!(f.indicators[2].confidence.get(), 50);
        // Confidence of the wrong type falls back to the default.
        assert_eq!(f.indicators[7].confidence.get(), 50);
        let skipped: Vec<String> = f.skipped.iter().map(|s| s.to_string()).collect();
        assert_eq!(skipped.len(), 3, "{skipped:#?}");
        assert!(skipped[0].starts_with(
            "b.json: objects[2].pattern: stix pattern error at offset 28: expected ']'"
        ));
        assert!(skipped[1].starts_with("b.json: objects[5].pattern: no matchable comparison"));
        assert!(skipped[2].starts_with("b.json: objects[8].value: invalid domain \"bad..example\""));
        // identity, yara indicator, revoked indicator, file without supported hash.
        assert_eq!(f.ignored, 4);
        // valid_from on the indicator; the observables have no `created`.
        assert_eq!(a.valid_from, Some(1_577_836_800));
        assert_eq!(f.indicators[2].valid_from, None);
        assert_eq!(f.bad_timestamps, 0);
        assert!(f.indicators.iter().all(|i| i.reliability.is_none()));
    }

    const DATED: &str = r#"[
        {"type": "indicator", "id": "indicator--1", "pattern": "[ipv4-addr:value = '192.0.2.1']",
         "created": "2021-01-01T00:00:00.000Z", "valid_from": "2022-01-01T00:00:00Z"},
        {"type": "indicator", "id": "indicator--2", "pattern": "[ipv4-addr:value = '192.0.2.2']",
         "created": "2021-01-01T00:00:00.000Z"},
        {"type": "indicator", "id": "indicator--3", "pattern": "[ipv4-addr:value = '192.0.2.3']",
         "created": "2021-01-01T00:00:00.000Z", "valid_from": "last tuesday"},
        {"type": "indicator", "id": "indicator--4", "pattern": "[ipv4-addr:value = '192.0.2.4']",
         "created": 5, "valid_from": "2022-13-01T00:00:00Z"},
        {"type": "domain-name", "id": "domain-name--1", "value": "a.example",
         "created": "2023-06-01T12:00:00+02:00"},
        {"type": "file", "id": "file--1", "created": "2023-06-01T10:00:00Z",
         "hashes": {"MD5": "D41D8CD98F00B204E9800998ECF8427E", "SHA-1": "bad",
           "SHA-256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}
    ]"#;

    #[test]
    fn valid_from_comes_from_valid_from_then_created() {
        let o = LoadOptions {
            reliability: Some(Reliability::C),
            ..LoadOptions::default()
        };
        let f = parse("d.json", DATED.as_bytes(), &o).unwrap();
        let got: Vec<_> = f
            .indicators
            .iter()
            .map(|i| (i.value.as_str(), i.valid_from))
            .collect();
        let jan_2021 = Some(1_609_459_200);
        let june_2023 = Some(1_685_613_600);
        assert_eq!(
            got,
            [
                ("192.0.2.1", Some(1_640_995_200)),
                ("192.0.2.2", jan_2021),
                // An unreadable valid_from falls back to created …
                ("192.0.2.3", jan_2021),
                // … and with nothing readable the age is unknown.
                ("192.0.2.4", None),
                ("a.example", june_2023),
                ("d41d8cd98f00b204e9800998ecf8427e", june_2023),
                (
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                    june_2023
                ),
            ]
        );
        assert_eq!(f.bad_timestamps, 2);
        assert_eq!(f.skipped.len(), 1, "{:?}", f.skipped); // the bad SHA-1
        assert!(f
            .indicators
            .iter()
            .all(|i| i.reliability == Some(Reliability::C)));

        let strict = LoadOptions {
            strict: true,
            ..LoadOptions::default()
        };
        let e = parse("d.json", DATED.as_bytes(), &strict).unwrap_err();
        assert_eq!(
            e.to_string(),
            "d.json: [2].valid_from: invalid valid_from \"last tuesday\": expected an RFC 3339 date-time such as 2024-05-01T12:00:00Z (strict mode)"
        );
    }

    #[test]
    fn strict_mode_stops_at_the_first_problem() {
        let o = LoadOptions {
            strict: true,
            ..LoadOptions::default()
        };
        let e = parse("b.json", BUNDLE.as_bytes(), &o).unwrap_err();
        assert!(matches!(e, IntelError::Pattern { .. }), "{e:?}");
        assert!(e
            .to_string()
            .starts_with("b.json: objects[2].pattern: stix pattern error at offset 28"));
        let e = parse("b.json", br#"[{"type":"domain-name","value":"x"}]"#, &o).unwrap_err();
        assert!(matches!(e, IntelError::Strict { .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("b.json: [0].value: invalid domain"),
            "{e}"
        );
    }

    #[test]
    fn shapes_array_single_object_and_stix_2_0() {
        let f =
            load(r#"[{"type":"domain-name","id":"d--1","value":"a.example"}, 5, {"value":"x"}]"#);
        assert_eq!(values(&f), vec![(T::Domain, "a.example")]);
        let locs: Vec<_> = f.skipped.iter().map(|s| s.location.as_str()).collect();
        assert_eq!(locs, ["b.json: [1]", "b.json: [2]"]);
        let f = load(
            r#"{"type":"indicator","id":"indicator--x","pattern":"[url:value = 'http://a.example/']"}"#,
        );
        assert_eq!(values(&f), vec![(T::Url, "a.example/")]);
        // STIX 2.0: spec_version on the bundle, no pattern_type; observed-data with an
        // "objects" map is ignored.
        let f = load(
            r#"{"objects":[{"type":"indicator","id":"indicator--y","labels":["malicious-activity"],
                "pattern":"[file:hashes.'SHA-1' = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']"},
               {"type":"observed-data","id":"observed-data--1","objects":{"0":{"type":"ipv4-addr","value":"1.1.1.1"}}}],
               "type":"bundle","id":"bundle--2","spec_version":"2.0"}"#,
        );
        assert_eq!(values(&f), vec![(T::Sha1, &*"a".repeat(40))]);
        assert_eq!(f.ignored, 1);
        assert!(load("[]").indicators.is_empty());
        assert!(load(r#"{"type":"bundle","id":"bundle--3"}"#)
            .indicators
            .is_empty());
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let e = parse(
            "bad.json",
            b"{\n  \"objects\": [\n    {\"type\": }\n  ]\n}",
            &LoadOptions::default(),
        )
        .unwrap_err();
        match &e {
            IntelError::Json { line, column, .. } => assert_eq!((*line, *column), (3, 14)),
            other => panic!("{other:?}"),
        }
        assert_eq!(e.to_string(), "bad.json:3:14: invalid json: expected value");
        for bad in [
            "",
            "{",
            "[1,",
            "{\"objects\": [",
            "nul",
            "{} {}",
            "\"str\"",
            "5",
        ] {
            let r = parse("bad.json", bad.as_bytes(), &LoadOptions::default());
            assert!(r.is_err(), "{bad:?} loaded: {r:?}");
        }
    }

    #[test]
    fn shared_example_bundles_load() {
        let Some(data) = crate::shared_data() else {
            eprintln!("shared data not found; skipping");
            return;
        };
        let root = data.join("stix/cti-stix2-json-schemas/examples");
        let read = |rel: &str| {
            let p = root.join(rel);
            parse(
                &p.display().to_string(),
                &std::fs::read(&p).unwrap(),
                &LoadOptions::default(),
            )
            .unwrap()
        };
        let f = read("threat-reports/apt1.json");
        let count = |f: &Feed, k: T| f.indicators.iter().filter(|i| i.kind == k).count();
        assert_eq!(count(&f, T::Cidr), 4);
        assert_eq!(count(&f, T::Domain), 3);
        assert_eq!(count(&f, T::Md5), 3);
        assert_eq!(f.skipped.len(), 2, "{:?}", f.skipped); // two x509-certificate patterns
        let f = read("threat-reports/poisonivy.json");
        assert!(f.indicators.len() > 50);
        // 'domain autuo.xicp.net' (a space in a domain) and two file:name patterns.
        assert_eq!(f.skipped.len(), 3, "{:#?}", f.skipped);
        assert!(f
            .skipped
            .iter()
            .any(|s| s.reason.contains("autuo.xicp.net")));
        let f = read("indicator-for-c2-ip-address.json");
        assert_eq!(values(&f), vec![(T::Ip, "10.0.0.0")]);

        let attack = data.join("stix/attack/ics-attack-18.1.json");
        {
            let f = parse(
                "ics",
                &std::fs::read(&attack).unwrap(),
                &LoadOptions::default(),
            )
            .unwrap();
            assert!(f.indicators.is_empty());
            assert!(f.skipped.is_empty());
            assert!(f.ignored > 1000);
        }
    }

    #[test]
    fn large_generated_bundle() {
        let mut s = String::from(r#"{"type":"bundle","id":"bundle--x","objects":["#);
        for i in 0..5000 {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&format!(
                r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{i}","created":"2020-01-01T00:00:00.000Z","pattern_type":"stix","pattern":"[ipv4-addr:value = '10.0.{}.{}']","valid_from":"2020-01-01T00:00:00Z","confidence":{}}}"#,
                i / 256,
                i % 256,
                i % 101
            ));
        }
        s.push_str("]}");
        let f = load(&s);
        assert_eq!(f.indicators.len(), 5000);
        assert_eq!(f.indicators[4999].value, "10.0.19.135");
        assert_eq!(f.indicators[100].confidence.get(), 100);
    }

    /// Release timing of a bundle with 1M indicators; run with
    /// `cargo test --release -p vigil-intel -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn million_indicator_bundle_timing() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        write!(w, r#"{{"type":"bundle","id":"bundle--big","objects":["#).unwrap();
        for i in 0..1_000_000u32 {
            let sep = if i > 0 { "," } else { "" };
            let pattern = match i % 4 {
                0 => format!(
                    "[ipv4-addr:value = '10.{}.{}.{}']",
                    i >> 16,
                    (i >> 8) & 255,
                    i & 255
                ),
                1 => format!("[domain-name:value = 'host{i}.example.com']"),
                2 => format!("[file:hashes.'SHA-256' = '{:064x}']", u128::from(i) * 7919),
                _ => format!("[url:value = 'http://evil{i}.example.org/gate.php?id={i}']"),
            };
            write!(
                w,
                r#"{sep}{{"type":"indicator","spec_version":"2.1","id":"indicator--{i:08}-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"generated {i}","pattern_type":"stix","pattern":"{pattern}","valid_from":"2024-01-01T00:00:00Z","confidence":75}}"#
            )
            .unwrap();
        }
        write!(w, "]}}").unwrap();
        w.flush().unwrap();
        drop(w);
        let size = std::fs::metadata(&path).unwrap().len();
        let t = std::time::Instant::now();
        let feeds = crate::load_path(&path, &LoadOptions::default()).unwrap();
        let elapsed = t.elapsed();
        assert_eq!(feeds[0].indicators.len(), 1_000_000);
        assert!(feeds[0].skipped.is_empty());
        eprintln!("loaded a {size}-byte bundle of 1,000,000 indicators in {elapsed:?}");
    }
}
