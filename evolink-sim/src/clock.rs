//! Wall-clock readings in the shapes the upstream puts on the wire.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, as in a task's `created` and its id.
pub fn unix_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch, for the test counters.
pub fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or(0)
}

/// The file service's timestamp format, to the minute: `2026-03-01 14:05 UTC`.
pub fn file_service_time(unix: i64) -> String {
    let at =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_service_times_are_utc_to_the_minute() {
        assert_eq!(file_service_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(file_service_time(951_782_459), "2000-02-29 00:00 UTC");
        assert_eq!(file_service_time(1_757_169_743), "2025-09-06 14:42 UTC");
    }

    #[test]
    fn the_clock_reads_now() {
        let seconds = unix_seconds();
        let millis = unix_millis();
        assert!(seconds > 1_700_000_000, "{seconds}");
        assert!(
            (millis / 1000).abs_diff(seconds as u64) <= 1,
            "{millis} vs {seconds}"
        );
    }
}
