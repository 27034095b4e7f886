//! Calendar arithmetic for CQL `date` and `timestamp` values: civil dates
//! and day counts, parsing and printing them as cqlsh does.

/// Days from 1970-01-01 to a civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DD` → days since the epoch.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    // Years a CQL `date` can hold (±5.8 million); more would overflow.
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || y.unsigned_abs() > 5_000_000 {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// `YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|+0000]` (UTC) → milliseconds since the epoch.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s
        .strip_suffix('Z')
        .or_else(|| s.strip_suffix("+0000"))
        .or_else(|| s.strip_suffix("+00:00"))
        .unwrap_or(s);
    let (date, time) = match s.find(['T', ' ']) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, "00:00:00"),
    };
    let days = parse_date(date)?;
    let mut parts = time.split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let mi: i64 = parts.next().unwrap_or("0").parse().ok()?;
    let sec = parts.next().unwrap_or("0");
    let (sec, ms) = match sec.split_once('.') {
        Some((a, b)) => {
            let b3: String = format!("{b:0<3}").chars().take(3).collect();
            (a.parse::<i64>().ok()?, b3.parse::<i64>().ok()?)
        }
        None => (sec.parse::<i64>().ok()?, 0),
    };
    // A clock time, not any number: out of range it is not a timestamp (and
    // large ones overflowed the sum below).
    if !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0..=60).contains(&sec) || ms < 0 {
        return None;
    }
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms)
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS.fffZ` (cqlsh's style).
pub fn fmt_timestamp(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

pub fn fmt_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A double printed the way the checker prints the dataset's numbers.
pub fn fmt_double(v: f64) -> String {
    format!("{v}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_timestamps_round_trip() {
        let d = parse_date("2024-03-01").unwrap();
        assert_eq!(fmt_date(d), "2024-03-01");
        let t = parse_timestamp("2024-03-01T06:15:00Z").unwrap();
        assert_eq!(fmt_timestamp(t), "2024-03-01 06:15:00.000Z");
        assert_eq!(parse_timestamp("1970-01-01 00:00:01.5"), Some(1500));
        // Found by fuzz/cql_line: huge hours overflowed instead of failing.
        assert_eq!(parse_timestamp("24-01-2 666666666666665"), None);
        assert_eq!(parse_timestamp("2024-01-01 25:00"), None);
        assert_eq!(parse_timestamp("2024-01-01 00:00:01.-5"), None);
        assert_eq!(parse_date("99999999999999-01-01"), None);
        assert_eq!(
            parse_timestamp("2024-01-01 23:59:60.999"),
            Some(1_704_153_600_999)
        );
    }
}
