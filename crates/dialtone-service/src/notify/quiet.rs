//! Quiet hours: whether a moment falls in a user's quiet hours, in their local time.

use chrono::{DateTime, Timelike, Utc};

/// Minutes in a day.
pub const DAY_MINUTES: u16 = 24 * 60;

/// Whether `at` is within the quiet hours `from`..`to` (minutes of the local day, `from`
/// included, `to` not; a span may cross midnight: 22:00–07:00) for a user `offset`
/// minutes east of UTC. An empty span (`from == to`) is never quiet.
pub fn is_quiet(at: DateTime<Utc>, from: u16, to: u16, offset_minutes: i32) -> bool {
    let utc = i32::try_from(at.hour() * 60 + at.minute()).unwrap_or(0);
    let day = i32::from(DAY_MINUTES);
    let local = (utc + offset_minutes).rem_euclid(day);
    let (from, to) = (i32::from(from), i32::from(to));
    if from <= to {
        from <= local && local < to
    } else {
        local >= from || local < to
    }
}

/// Reads `HH:MM` (24-hour clock) as a minute of the day.
pub fn parse_minute(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Writes a minute of the day as `HH:MM`.
pub fn format_minute(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 8, h, m, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn a_span_within_the_day_includes_its_start_and_not_its_end() {
        let (from, to) = (13 * 60, 14 * 60);
        assert!(!is_quiet(at(12, 59), from, to, 0));
        assert!(is_quiet(at(13, 0), from, to, 0));
        assert!(is_quiet(at(13, 59), from, to, 0));
        assert!(!is_quiet(at(14, 0), from, to, 0));
    }

    #[test]
    fn a_night_span_crosses_midnight_in_local_time() {
        // 22:00–07:00 in Beijing (UTC+8): 14:00–23:00 UTC.
        let (from, to) = (22 * 60, 7 * 60);
        assert!(is_quiet(at(14, 0), from, to, 480));
        assert!(is_quiet(at(20, 0), from, to, 480));
        assert!(is_quiet(at(22, 59), from, to, 480));
        assert!(!is_quiet(at(23, 0), from, to, 480));
        assert!(!is_quiet(at(13, 59), from, to, 480));
        // West of UTC: New York in winter (UTC-5): 03:00–12:00 UTC.
        assert!(is_quiet(at(3, 0), from, to, -300));
        assert!(!is_quiet(at(12, 0), from, to, -300));
    }

    #[test]
    fn an_empty_span_is_never_quiet() {
        for h in 0..24 {
            assert!(!is_quiet(at(h, 30), 600, 600, 0));
        }
    }

    #[test]
    fn minutes_read_and_write_as_clock_times() {
        assert_eq!(parse_minute("22:00"), Some(1320));
        assert_eq!(parse_minute("7:05"), Some(425));
        assert_eq!(parse_minute("00:00"), Some(0));
        assert_eq!(parse_minute("23:59"), Some(1439));
        for bad in [
            "24:00", "12:60", "1200", "", ":30", "12:3", "-1:00", "12:30:00", "ab:cd",
        ] {
            assert_eq!(parse_minute(bad), None, "{bad}");
        }
        assert_eq!(format_minute(425), "07:05");
        assert_eq!(format_minute(1439), "23:59");
    }
}
