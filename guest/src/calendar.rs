//! UTC instants: RFC 3339 text and billing periods.
//!
//! Civil-date arithmetic after Howard Hinnant's `days_from_civil` /
//! `civil_from_days` (proleptic Gregorian calendar), so the engine needs no
//! clock and no time-zone database.

use crate::model::{DAY, Instant};

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month, day) of a day number since 1970-01-01.
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

pub fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 31,
    }
}

/// The start (00:00 UTC) of the billing period that follows the one holding
/// `at`. Periods are calendar months starting on `billing_day`; in a month
/// shorter than `billing_day` the period starts on its last day.
pub fn next_billing_start(at: Instant, billing_day: u8) -> Instant {
    let (year, month, _) = civil_from_days(at.div_euclid(DAY));
    let start_in = |year: i64, month: u32| {
        let day = u32::from(billing_day.max(1)).min(days_in_month(year, month));
        days_from_civil(year, month, day) * DAY
    };
    let this_month = start_in(year, month);
    if at < this_month {
        this_month
    } else if month == 12 {
        start_in(year + 1, 1)
    } else {
        start_in(year, month + 1)
    }
}

/// Formats an instant as RFC 3339 in UTC, e.g. `2026-11-22T10:00:00Z`.
pub fn format_rfc3339(at: Instant) -> String {
    let (year, month, day) = civil_from_days(at.div_euclid(DAY));
    let secs = at.rem_euclid(DAY);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Parses RFC 3339 (`2026-11-22T10:00:00Z`, `2026-11-22T11:00:00+01:00`;
/// `t`/`z` and a space for `T` accepted) into seconds since the epoch.
/// Instants have whole-second precision: a fraction must be all zeros.
pub fn parse_rfc3339(text: &str) -> Result<Instant, String> {
    let bad = |why: &str| Err(format!("`{text}` is not an RFC 3339 instant ({why}), e.g. 2026-11-22T10:00:00Z"));
    let b = text.as_bytes();
    if b.len() < 20 {
        return bad("too short");
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        if part.iter().all(u8::is_ascii_digit) {
            Some(part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
        } else {
            None
        }
    };
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) =
        (num(0..4), num(5..7), num(8..10), num(11..13), num(14..16), num(17..19))
    else {
        return bad("expected digits in YYYY-MM-DDTHH:MM:SS");
    };
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return bad("expected YYYY-MM-DDTHH:MM:SS");
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(i64::from(year), month) {
        return bad("no such date");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return bad("no such time of day");
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return bad("empty fraction of a second");
        }
        if fraction[..digits].iter().any(|&d| d != b'0') {
            return bad("instants have whole-second precision");
        }
        rest = &fraction[digits..];
    }
    let offset = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digits = [*h1, *h2, *m1, *m2];
            if !digits.iter().all(u8::is_ascii_digit) {
                return bad("bad UTC offset");
            }
            let [h1, h2, m1, m2] = digits.map(|d| i64::from(d - b'0'));
            let (hours, minutes) = (h1 * 10 + h2, m1 * 10 + m2);
            if hours > 23 || minutes > 59 {
                return bad("bad UTC offset");
            }
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'-' { -offset } else { offset }
        }
        _ => return bad("expected `Z` or a UTC offset like +01:00 at the end"),
    };
    let days = days_from_civil(i64::from(year), month, day);
    Ok(days * DAY + i64::from(hour * 3600 + minute * 60 + second) - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Instant {
        parse_rfc3339(text).unwrap()
    }

    #[test]
    fn epoch_and_known_instants() {
        assert_eq!(at("1970-01-01T00:00:00Z"), 0);
        assert_eq!(at("2026-11-22T10:00:00Z"), 1_795_341_600);
        assert_eq!(at("2026-11-22T11:00:00+01:00"), at("2026-11-22T10:00:00Z"));
        assert_eq!(at("2026-11-22T10:00:00.000Z"), at("2026-11-22T10:00:00Z"));
        assert_eq!(at("1969-12-31T23:59:59Z"), -1);
    }

    #[test]
    fn format_round_trips() {
        for text in ["2026-11-22T10:00:00Z", "2024-02-29T23:59:59Z", "1969-12-31T23:59:59Z", "2000-01-01T00:00:00Z"] {
            assert_eq!(format_rfc3339(at(text)), text);
        }
    }

    #[test]
    fn civil_days_agree_over_four_centuries() {
        let mut days = days_from_civil(1900, 1, 1);
        for year in 1900..2300 {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    assert_eq!(civil_from_days(days), (year, month, day));
                    assert_eq!(days_from_civil(year, month, day), days);
                    days += 1;
                }
            }
        }
    }

    #[test]
    fn rejects_malformed_instants() {
        for text in [
            "2026-11-22",
            "2026-11-22T10:00:00",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T10:00:00.5Z",
            "2026-11-22T10:00:00+1:00",
            "2026/11/22T10:00:00Z",
            "yesterday at noon",
        ] {
            assert!(parse_rfc3339(text).is_err(), "{text} should be rejected");
        }
    }

    #[test]
    fn billing_period_starts() {
        let next = |a: &str, day| format_rfc3339(next_billing_start(at(a), day));
        assert_eq!(next("2026-11-22T10:00:00Z", 1), "2026-12-01T00:00:00Z");
        assert_eq!(next("2026-12-31T23:59:59Z", 1), "2027-01-01T00:00:00Z");
        assert_eq!(next("2026-12-01T00:00:00Z", 1), "2027-01-01T00:00:00Z");
        assert_eq!(next("2026-11-10T00:00:00Z", 15), "2026-11-15T00:00:00Z");
        assert_eq!(next("2026-11-15T00:00:00Z", 15), "2026-12-15T00:00:00Z");
        assert_eq!(next("2026-12-20T08:00:00Z", 15), "2027-01-15T00:00:00Z");
        // Billing day 31: short months start their period on their last day.
        assert_eq!(next("2027-01-31T12:00:00Z", 31), "2027-02-28T00:00:00Z");
        assert_eq!(next("2028-02-10T12:00:00Z", 31), "2028-02-29T00:00:00Z");
        assert_eq!(next("2027-04-30T00:00:00Z", 31), "2027-05-31T00:00:00Z");
    }
}
