//! Reading `Retry-After` (seconds or an HTTP date) from a 429 or 503, range-checked: an absurd
//! wait (over a day) or an unreadable value counts as not sent.

use std::time::{Duration, SystemTime};

/// The longest wait taken from the upstream; anything longer is treated as unreadable.
pub const LONGEST: Duration = Duration::from_secs(24 * 3600);

/// The wait `value` asks for, seen at `now`; a date in the past means "now".
pub fn parse(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        Duration::from_secs(value.parse::<u64>().ok()?)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    (wait <= LONGEST).then_some(wait)
}

/// The wait a response's `Retry-After` header asks for, if it carries a readable one.
pub fn from_headers(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(super::wire::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse(v, SystemTime::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_dates_are_read_and_absurd_values_dropped() {
        let now = httpdate::parse_http_date("Wed, 02 Dec 2026 10:00:00 GMT").unwrap();
        assert_eq!(parse("30", now), Some(Duration::from_secs(30)));
        assert_eq!(parse(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse("Wed, 02 Dec 2026 10:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse("Wed, 02 Dec 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for absurd in [
            "-5",
            "1.5",
            "NaN",
            "",
            "soon",
            "1000000000000",
            "99999999999999999999999",
        ] {
            assert_eq!(parse(absurd, now), None, "{absurd}");
        }
        assert_eq!(parse("Fri, 01 Jan 2100 00:00:00 GMT", now), None);
    }
}
