//! Feed timestamps as Unix seconds, without a date-time dependency: only parsing to a UTC
//! instant is needed, and the civil-date arithmetic is a few lines.
//!
//! * [`parse_rfc3339`] — strict RFC 3339 date-time (STIX timestamps): `2024-05-01T12:00:00Z`,
//!   `2024-05-01t12:00:00.123+02:00`, `2024-05-01 12:00:00Z`. A zone is required.
//! * [`parse_feed_time`] — what CSV feeds put in `first_seen` / `date` columns: everything
//!   [`parse_rfc3339`] takes, plus a missing zone or ` UTC` (read as UTC), `+hhmm` / `+hh`
//!   offsets, a bare date (`2024-05-01`, midnight UTC), and Unix time as digits (MISP's
//!   `timestamp` and `date`), with an optional fraction; 13 or more digits are milliseconds
//!   (as seconds they would be past the year 5000).
//!
//! Fractions of a second are dropped (the result is floored to the second). A leap second
//! (`:60`) is accepted and lands on the next second.

/// Why a timestamp was not understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimestampError(&'static str);

const RFC3339: &str = "expected an RFC 3339 date-time such as 2024-05-01T12:00:00Z";
const FEED: &str =
    "expected Unix seconds, a date (2024-05-01) or a date-time (2024-05-01T12:00:00Z)";

/// Strict RFC 3339 `date-time`, as STIX requires for `created`, `valid_from`, ….
pub fn parse_rfc3339(s: &str) -> Result<i64, TimestampError> {
    parse(s.as_bytes(), false).ok_or(TimestampError(RFC3339))
}

/// A timestamp in the forms CSV feeds use; see the module docs.
pub fn parse_feed_time(s: &str) -> Result<i64, TimestampError> {
    let s = s.trim();
    if let Some(t) = unix(s) {
        return Ok(t);
    }
    parse(s.as_bytes(), true).ok_or(TimestampError(FEED))
}

/// Unix time as digits with an optional fraction.
fn unix(s: &str) -> Option<i64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || (s.contains('.') && frac.is_empty()) {
        return None;
    }
    // 19 digits still fit in an i64; more cannot be a time.
    let v: i64 = int.parse().ok()?;
    Some(if int.len() >= 13 { v / 1000 } else { v })
}

/// A cursor over ASCII bytes.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    fn digits(&mut self, n: usize) -> Option<i64> {
        let d = self.b.get(self.i..self.i + n)?;
        if !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        Some(d.iter().fold(0, |acc, &c| acc * 10 + i64::from(c - b'0')))
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn rest(&self) -> &[u8] {
        &self.b[self.i..]
    }
}

fn parse(b: &[u8], lenient: bool) -> Option<i64> {
    let mut c = Cur { b, i: 0 };
    let year = c.digits(4)?;
    c.eat(b'-').then_some(())?;
    let month = c.digits(2)?;
    c.eat(b'-').then_some(())?;
    let day = c.digits(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if c.peek().is_none() {
        return lenient.then_some(days * 86_400);
    }
    if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
        return None;
    }
    let hour = c.digits(2)?;
    c.eat(b':').then_some(())?;
    let minute = c.digits(2)?;
    c.eat(b':').then_some(())?;
    let second = c.digits(2)?;
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if c.eat(b'.') {
        let start = c.i;
        while c.peek().is_some_and(|d| d.is_ascii_digit()) {
            c.i += 1;
        }
        if c.i == start {
            return None;
        }
    }
    let offset = zone(&mut c, lenient)?;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// The zone offset in seconds east of UTC; `None` if malformed or (strict) missing.
fn zone(c: &mut Cur<'_>, lenient: bool) -> Option<i64> {
    let rest = c.rest();
    if rest.is_empty() {
        return lenient.then_some(0);
    }
    if rest == b"Z" || rest == b"z" {
        return Some(0);
    }
    if lenient && (rest == b" UTC" || rest == b"UTC") {
        return Some(0);
    }
    let sign = match rest[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    c.i += 1;
    let h = c.digits(2)?;
    let m = if c.eat(b':') {
        c.digits(2)?
    } else if !lenient {
        return None;
    } else if c.rest().is_empty() {
        0
    } else {
        c.digits(2)?
    };
    if !c.rest().is_empty() || h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// Days in month `m` (1–12) of year `y`, proleptic Gregorian.
pub fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SS` (UTC, no zone): the common stem of the forms below,
/// and Suricata's certificate time form.
pub fn format_seconds(secs: i64) -> String {
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// Unix seconds as STIX's UTC timestamp form with milliseconds, `2024-05-01T12:00:00.000Z`.
pub fn format_rfc3339(secs: i64) -> String {
    format_seconds(secs) + ".000Z"
}

/// Unix seconds as a calendar date, `2024-05-01`.
pub fn format_date(secs: i64) -> String {
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{mo:02}-{d:02}")
}

/// A duration like `90s`, `30m`, `12h`, `7d` or `2w` (a bare number is seconds), in seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| format!("invalid duration {s:?} (expected e.g. 90s, 30m, 12h, 7d, 2w)"))?;
    let mult = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1,
        "m" | "min" | "mins" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 7 * 86_400,
        _ => return Err(format!("invalid duration unit in {s:?} (s, m, h, d or w)")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("duration {s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations_have_units() {
        assert_eq!(parse_duration("90"), Ok(90));
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert!(parse_duration("7y").is_err());
        assert!(parse_duration("h").is_err());
    }

    #[test]
    fn formatting_reads_back() {
        for t in [0, 1_700_000_000, -86_401, 4_102_444_799] {
            assert_eq!(parse_rfc3339(&format_rfc3339(t)), Ok(t));
        }
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_date(1_700_000_000), "2023-11-14");
    }

    #[test]
    fn rfc3339_forms() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("2020-01-01T00:00:00Z"), Ok(1_577_836_800));
        assert_eq!(parse_rfc3339("2020-01-01T00:00:00.999Z"), Ok(1_577_836_800));
        assert_eq!(
            parse_rfc3339("2020-01-01t01:00:00+01:00"),
            Ok(1_577_836_800)
        );
        assert_eq!(
            parse_rfc3339("2019-12-31 23:30:00-00:30"),
            Ok(1_577_836_800)
        );
        assert_eq!(parse_rfc3339("2024-02-29T12:34:56z"), Ok(1_709_210_096));
        assert_eq!(parse_rfc3339("2016-12-31T23:59:60Z"), Ok(1_483_228_800));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), Ok(-1));
        for bad in [
            "",
            "2020-01-01",
            "2020-01-01T00:00:00",
            "2020-01-01T00:00Z",
            "2020-1-01T00:00:00Z",
            "2020-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2020-04-31T00:00:00Z",
            "2020-01-01T24:00:00Z",
            "2020-01-01T00:60:00Z",
            "2020-01-01T00:00:61Z",
            "2020-01-01T00:00:00.Z",
            "2020-01-01T00:00:00+0100",
            "2020-01-01T00:00:00+24:00",
            "2020-01-01T00:00:00Z ",
            "2020-01-01T00:00:00 UTC",
            "2020-01-01X00:00:00Z",
            "１９７０-01-01T00:00:00Z",
            "1577836800",
        ] {
            assert_eq!(parse_rfc3339(bad), Err(TimestampError(RFC3339)), "{bad:?}");
        }
    }

    #[test]
    fn feed_forms() {
        assert_eq!(parse_feed_time("1595000000"), Ok(1_595_000_000));
        assert_eq!(parse_feed_time(" 1595000000.75 "), Ok(1_595_000_000));
        assert_eq!(parse_feed_time("1595000000123"), Ok(1_595_000_000));
        assert_eq!(parse_feed_time("2020-01-01"), Ok(1_577_836_800));
        assert_eq!(parse_feed_time("2020-01-01 00:00:00"), Ok(1_577_836_800));
        assert_eq!(
            parse_feed_time("2020-01-01 00:00:00 UTC"),
            Ok(1_577_836_800)
        );
        assert_eq!(
            parse_feed_time("2020-01-01T02:00:00+0200"),
            Ok(1_577_836_800)
        );
        assert_eq!(parse_feed_time("2020-01-01T02:00:00+02"), Ok(1_577_836_800));
        assert_eq!(parse_feed_time("2020-01-01T00:00:00Z"), Ok(1_577_836_800));
        let e = parse_feed_time("yesterday").unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected Unix seconds, a date (2024-05-01) or a date-time (2024-05-01T12:00:00Z)"
        );
        for bad in [
            "",
            "-5",
            "1595000000.",
            ".5",
            "12e9",
            "99999999999999999999",
            "2020-01-32",
            "2020-01-01T",
            "2020-01-01T00:00:00+2",
            "2020-01-01T00:00:00+02:0",
            "01/02/2020",
        ] {
            assert!(parse_feed_time(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn formatted_instants_round_trip(t in -62_167_219_200i64..253_402_300_800) {
            let days = t.div_euclid(86_400);
            let secs = t.rem_euclid(86_400);
            let (y, m, d) = super::civil_from_days(days);
            let s = format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            );
            prop_assert_eq!(parse_rfc3339(&s), Ok(t), "{}", s);
            prop_assert_eq!(parse_feed_time(&s), Ok(t));
        }

        #[test]
        fn arbitrary_text_does_not_panic(s in "\\PC{0,40}") {
            let _ = parse_rfc3339(&s);
            let _ = parse_feed_time(&s);
        }
    }
}
