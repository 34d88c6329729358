//! Times of the call sources, read into one shape and written as ISO 8601 with an offset.
//!
//! Rules (documented for 1C developers in docs/call-sources.md):
//! - a time given with an offset (`Z`, `+03:00`, `+0300`, `+03`) keeps that offset;
//! - a time given without one (UIScom's `2016-07-24 23:59:07.863`) is local time of the configured fixed offset
//!   (default `+03:00`) and is written with it;
//! - unix timestamps (Binotel's `startTime`, seconds; milliseconds when the value is too large to be seconds) are
//!   converted and written in the configured offset.
//!
//! Fixed offsets only: the sources give local wall-clock times of one account, and a 1C server needs no tz database
//! to follow them. The calendar arithmetic is the well-known days-from-civil algorithm; no dependency needed.

use std::fmt;

use crate::error::CallsError;

/// A fixed offset from UTC in minutes (east positive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UtcOffset {
    minutes: i32,
}

impl UtcOffset {
    pub const UTC: UtcOffset = UtcOffset { minutes: 0 };
    /// Moscow: what UIS reports for most accounts.
    pub const MOSCOW: UtcOffset = UtcOffset { minutes: 180 };

    /// `minutes` east of UTC; `None` outside ±18:00.
    pub fn from_minutes(minutes: i32) -> Option<UtcOffset> {
        (minutes.abs() <= 18 * 60).then_some(UtcOffset { minutes })
    }

    pub fn minutes(self) -> i32 {
        self.minutes
    }

    /// Reads `+03:00`, `-05:30`, `+0300`, `+03`, `3`, `Z`, `UTC`, `UTC+3`, `GMT+03:00`.
    pub fn parse(text: &str) -> Result<UtcOffset, CallsError> {
        let invalid = || CallsError::InvalidTimeZone {
            given: text.to_string(),
        };
        let trimmed = text.trim();
        let upper = trimmed.to_ascii_uppercase();
        let rest = upper
            .strip_prefix("UTC")
            .or_else(|| upper.strip_prefix("GMT"))
            .unwrap_or(&upper)
            .trim();
        if rest.is_empty() || rest == "Z" {
            return if trimmed.is_empty() {
                Err(invalid())
            } else {
                Ok(UtcOffset::UTC)
            };
        }
        let (sign, digits) = match rest.as_bytes()[0] {
            b'+' => (1, &rest[1..]),
            b'-' => (-1, &rest[1..]),
            b'0'..=b'9' => (1, rest),
            _ => return Err(invalid()),
        };
        let (hours, minutes) = split_offset_digits(digits).ok_or_else(invalid)?;
        if hours > 18 || minutes > 59 {
            return Err(invalid());
        }
        UtcOffset::from_minutes(sign * (hours * 60 + minutes)).ok_or_else(invalid)
    }
}

impl Default for UtcOffset {
    fn default() -> Self {
        UtcOffset::MOSCOW
    }
}

impl fmt::Display for UtcOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minutes < 0 { '-' } else { '+' };
        let abs = self.minutes.abs();
        write!(f, "{sign}{:02}:{:02}", abs / 60, abs % 60)
    }
}

/// `HH:MM`, `HHMM`, `HH`, `H` → (hours, minutes).
fn split_offset_digits(digits: &str) -> Option<(i32, i32)> {
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some((h, m)) = digits.split_once(':') {
        if all_digits(h) && h.len() <= 2 && all_digits(m) && m.len() == 2 {
            return Some((h.parse().ok()?, m.parse().ok()?));
        }
        return None;
    }
    if !all_digits(digits) {
        return None;
    }
    match digits.len() {
        1 | 2 => Some((digits.parse().ok()?, 0)),
        4 => Some((digits[..2].parse().ok()?, digits[2..].parse().ok()?)),
        _ => None,
    }
}

/// An instant plus the offset it is to be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallTime {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix_seconds: i64,
    /// Fraction of the second in nanoseconds.
    pub nanos: u32,
    /// How many fraction digits the source gave (0 = none); written back the same way.
    pub fraction_digits: u8,
    pub offset: UtcOffset,
}

impl CallTime {
    /// Reads a textual time. `local_offset` is used when the text has no offset of its own.
    pub fn parse_text(text: &str, local_offset: UtcOffset) -> Option<CallTime> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        if let Some(number) = parse_plain_number(text) {
            return CallTime::from_unix_number(number, local_offset);
        }
        parse_calendar(text, local_offset)
    }

    /// A unix timestamp in seconds, or milliseconds when it is too large to be seconds (after year 5138).
    pub fn from_unix_number(value: f64, offset: UtcOffset) -> Option<CallTime> {
        if !value.is_finite() || value < 0.0 {
            return None;
        }
        let seconds = if value >= 1e11 { value / 1000.0 } else { value };
        if seconds >= 253_402_300_800.0 {
            return None; // beyond 9999-12-31
        }
        let whole = seconds.floor();
        let millis = ((seconds - whole) * 1000.0).round() as u32;
        let (whole, millis) = if millis >= 1000 {
            (whole + 1.0, 0)
        } else {
            (whole, millis)
        };
        Some(CallTime {
            unix_seconds: whole as i64,
            nanos: millis * 1_000_000,
            fraction_digits: if millis == 0 { 0 } else { 3 },
            offset,
        })
    }

    pub fn with_offset(self, offset: UtcOffset) -> CallTime {
        CallTime { offset, ..self }
    }

    pub fn plus_seconds(self, seconds: u64) -> CallTime {
        let seconds = i64::try_from(seconds).unwrap_or(i64::MAX / 2);
        CallTime {
            unix_seconds: self.unix_seconds.saturating_add(seconds),
            ..self
        }
    }

    /// ISO 8601 with the offset: `2016-07-24T23:59:07.863+03:00`.
    pub fn to_iso(self) -> String {
        format!("{}{}", self.to_local_iso(), self.offset)
    }

    /// The wall-clock time in the offset, without it: `2016-07-24T23:59:07` (what `XMLЗначение(Тип("Дата"), ...)`
    /// reads). The fraction is dropped: a 1C Дата has whole seconds.
    pub fn to_local_seconds_iso(self) -> String {
        let (y, mo, d, h, mi, s) = self.local_fields();
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
    }

    fn to_local_iso(self) -> String {
        let mut out = self.to_local_seconds_iso();
        if self.fraction_digits > 0 {
            let digits = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(&digits[..usize::from(self.fraction_digits.min(9))]);
        }
        out
    }

    fn local_fields(self) -> (i64, u32, u32, u32, u32, u32) {
        let local = self.unix_seconds + i64::from(self.offset.minutes) * 60;
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400) as u32;
        let (y, mo, d) = civil_from_days(days);
        (y, mo, d, secs / 3600, secs / 60 % 60, secs % 60)
    }
}

/// `123`, `123.5`: a unix timestamp written as a number or a numeric string.
fn parse_plain_number(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let digits_before_dot = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits_before_dot == 0 {
        return None;
    }
    let rest = &text[digits_before_dot..];
    let valid = rest.is_empty()
        || (rest.starts_with('.')
            && rest.len() > 1
            && rest[1..].bytes().all(|b| b.is_ascii_digit()));
    if !valid {
        return None;
    }
    text.parse().ok()
}

/// `YYYY-MM-DD[ T]HH:MM[:SS[.f+]][offset]`, `DD.MM.YYYY HH:MM[:SS]`, and a date alone (midnight).
fn parse_calendar(text: &str, local_offset: UtcOffset) -> Option<CallTime> {
    let (date_part, time_part) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], text[i + 1..].trim_start()),
        None => (text, ""),
    };
    let (year, month, day) = parse_date(date_part)?;
    let (time_part, offset) = split_offset(time_part, local_offset)?;
    let (hour, minute, second, nanos, fraction_digits) = if time_part.is_empty() {
        (0, 0, 0, 0, 0)
    } else {
        parse_clock(time_part)?
    };
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let local = days_from_civil(year, month, day) * 86_400
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second);
    Some(CallTime {
        unix_seconds: local - i64::from(offset.minutes) * 60,
        nanos,
        fraction_digits,
        offset,
    })
}

fn parse_date(text: &str) -> Option<(i64, u32, u32)> {
    let number = |s: &str, max_len: usize| -> Option<u32> {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())?
    };
    if let Some((y, rest)) = text.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        if y.len() != 4 {
            return None;
        }
        return Some((i64::from(number(y, 4)?), number(m, 2)?, number(d, 2)?));
    }
    let mut parts = text.split(['.', '/']);
    let d = number(parts.next()?, 2)?;
    let m = number(parts.next()?, 2)?;
    let y = parts.next()?;
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    Some((i64::from(number(y, 4)?), m, d))
}

/// Splits a trailing `Z` / `±HH:MM` / `±HHMM` / `±HH` from the clock part.
fn split_offset(time_part: &str, local_offset: UtcOffset) -> Option<(&str, UtcOffset)> {
    let trimmed = time_part.trim_end();
    if let Some(clock) = trimmed.strip_suffix(['Z', 'z']) {
        return Some((clock.trim_end(), UtcOffset::UTC));
    }
    if let Some(i) = trimmed.rfind(['+', '-']) {
        let offset = UtcOffset::parse(&trimmed[i..]).ok()?;
        return Some((trimmed[..i].trim_end(), offset));
    }
    Some((trimmed, local_offset))
}

fn parse_clock(text: &str) -> Option<(u32, u32, u32, u32, u8)> {
    let (clock, fraction) = match text.split_once(['.', ',']) {
        Some((c, f)) => (c, Some(f)),
        None => (text, None),
    };
    let mut parts = clock.split(':');
    let field = |s: Option<&str>| -> Option<u32> {
        let s = s?;
        (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())?
    };
    let hour = field(parts.next())?;
    let minute = field(parts.next())?;
    let second = match parts.next() {
        Some(s) => field(Some(s))?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    let (nanos, digits) = match fraction {
        None => (0, 0),
        Some(f) => {
            if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let kept = &f[..f.len().min(9)];
            let nanos: u32 = format!("{kept:0<9}").parse().ok()?;
            (nanos, kept.len() as u8)
        }
    };
    Some((hour, minute, second, nanos, digits))
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day counted from 1970-01-01, proleptic Gregorian (H. Hinnant's algorithm). Public
/// because the add-in's log timestamps need the same calendar and should not carry a second copy of it.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(text: &str) -> Option<String> {
        CallTime::parse_text(text, UtcOffset::MOSCOW).map(CallTime::to_iso)
    }

    #[test]
    fn naive_times_take_the_configured_offset() {
        assert_eq!(
            iso("2016-07-24 23:59:07.863").as_deref(),
            Some("2016-07-24T23:59:07.863+03:00")
        );
        assert_eq!(
            iso("2016-07-24T23:59:07").as_deref(),
            Some("2016-07-24T23:59:07+03:00")
        );
        assert_eq!(
            iso("24.07.2016 23:59").as_deref(),
            Some("2016-07-24T23:59:00+03:00")
        );
        assert_eq!(
            iso("2016-07-24").as_deref(),
            Some("2016-07-24T00:00:00+03:00")
        );
    }

    #[test]
    fn explicit_offsets_are_kept() {
        assert_eq!(
            iso("2016-07-24T20:59:07Z").as_deref(),
            Some("2016-07-24T20:59:07+00:00")
        );
        assert_eq!(
            iso("2016-07-24 23:59:07+0500").as_deref(),
            Some("2016-07-24T23:59:07+05:00")
        );
        assert_eq!(
            iso("2016-07-24T23:59:07.5-03:30").as_deref(),
            Some("2016-07-24T23:59:07.5-03:30")
        );
    }

    #[test]
    fn unix_timestamps_are_converted_into_the_offset() {
        // 1535457189 = 2018-08-28T11:53:09Z
        assert_eq!(
            iso("1535457189").as_deref(),
            Some("2018-08-28T14:53:09+03:00")
        );
        assert_eq!(
            iso("1535457189123").as_deref(),
            Some("2018-08-28T14:53:09.123+03:00")
        );
        assert_eq!(iso("0").as_deref(), Some("1970-01-01T03:00:00+03:00"));
    }

    #[test]
    fn nonsense_is_not_a_time() {
        for bad in [
            "",
            "yesterday",
            "2016-13-01",
            "2016-02-30 10:00",
            "2016-07-24 24:00",
            "1.2.3",
            "-5",
            "2016-07",
        ] {
            assert_eq!(iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn leap_days_and_far_dates_round_trip() {
        assert_eq!(
            iso("2024-02-29 12:00").as_deref(),
            Some("2024-02-29T12:00:00+03:00")
        );
        assert_eq!(
            iso("9999-12-31 23:59:59").as_deref(),
            Some("9999-12-31T23:59:59+03:00")
        );
        assert_eq!(
            iso("0001-01-01 00:00:00").as_deref(),
            Some("0001-01-01T00:00:00+03:00")
        );
    }

    #[test]
    fn offsets_parse_in_the_usual_spellings() {
        for (text, minutes) in [
            ("+03:00", 180),
            ("-05:30", -330),
            ("+0300", 180),
            ("3", 180),
            ("Z", 0),
            ("UTC+3", 180),
        ] {
            assert_eq!(
                UtcOffset::parse(text).map(UtcOffset::minutes),
                Ok(minutes),
                "{text}"
            );
        }
        for bad in ["", "+25:00", "Moscow", "+3:0", "+03:60"] {
            assert!(UtcOffset::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            UtcOffset::from_minutes(-330)
                .map(|o| o.to_string())
                .as_deref(),
            Some("-05:30")
        );
    }
}
