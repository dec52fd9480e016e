//! The billing calendar: which clock the ledger reads, in which time zone months and days begin,
//! and the optional credits-per-USD rate for estimated dollars.

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

use jiff::{tz::TimeZone, Timestamp};

/// Where Kinema's "now" comes from: ledger times, task times, deadlines and leases all read it.
#[derive(Clone, Debug, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// A clock that stands still until set or advanced (tests of month rollover), in
    /// milliseconds.
    Fixed(Arc<AtomicI64>),
}

impl Clock {
    /// A clock fixed at `unix_seconds`.
    pub fn fixed(unix_seconds: i64) -> Self {
        Clock::Fixed(Arc::new(AtomicI64::new(unix_seconds * 1000)))
    }

    /// The current time in unix seconds.
    pub fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// The current time in unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => super::tasks::now_ms(),
            Clock::Fixed(at) => at.load(Ordering::SeqCst),
        }
    }

    /// Moves a fixed clock to `unix_seconds`; the system clock cannot be moved.
    pub fn set(&self, unix_seconds: i64) {
        if let Clock::Fixed(at) = self {
            at.store(unix_seconds * 1000, Ordering::SeqCst);
        }
    }

    /// Moves a fixed clock forward by `by`; the system clock cannot be moved.
    pub fn advance(&self, by: std::time::Duration) {
        if let Clock::Fixed(at) = self {
            at.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
        }
    }
}

/// Looks up an IANA time zone name such as `Europe/Berlin` or `UTC`.
pub fn parse_time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name.trim()).map_err(|_| {
        format!("'{name}' is not a known time zone; use an IANA name such as UTC or Europe/Berlin")
    })
}

/// The calendar budgets and charts follow.
#[derive(Clone, Debug)]
pub struct Billing {
    zone: TimeZone,
    zone_name: String,
    credits_per_usd: Option<f64>,
    clock: Clock,
}

impl Default for Billing {
    fn default() -> Self {
        Billing {
            zone: TimeZone::UTC,
            zone_name: "UTC".into(),
            credits_per_usd: None,
            clock: Clock::System,
        }
    }
}

impl Billing {
    /// A calendar in the named zone (checked with [`parse_time_zone`] first).
    pub fn new(
        zone_name: &str,
        credits_per_usd: Option<f64>,
        clock: Clock,
    ) -> Result<Self, String> {
        Ok(Billing {
            zone: parse_time_zone(zone_name)?,
            zone_name: zone_name.trim().to_string(),
            credits_per_usd: credits_per_usd.filter(|rate| rate.is_finite() && *rate > 0.0),
            clock,
        })
    }

    /// The ledger's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Now, in unix seconds, by the ledger's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The configured zone's name.
    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }

    /// Credits one US dollar buys, when configured.
    pub fn credits_per_usd(&self) -> Option<f64> {
        self.credits_per_usd
    }

    /// `unix_seconds` on the zone's calendar and clock.
    fn local(&self, unix_seconds: i64) -> Option<jiff::ZonedDateTime> {
        Timestamp::from_second(unix_seconds)
            .ok()
            .map(|moment| moment.to_zoned_datetime(self.zone.clone()))
    }

    /// `unix_seconds` in the zone, formatted with strftime's `pattern` (empty when out of range).
    fn format(&self, unix_seconds: i64, pattern: &str) -> String {
        self.local(unix_seconds)
            .map(|local| local.strftime(pattern).to_string())
            .unwrap_or_default()
    }

    /// Unix seconds of midnight on the first of the month containing `unix_seconds`, in the zone.
    pub fn month_start(&self, unix_seconds: i64) -> i64 {
        let Some(local) = self.local(unix_seconds) else {
            return 0;
        };
        local
            .first_of_month()
            .and_then(|first| first.start_of_day())
            .map(|start| start.timestamp().as_second())
            .unwrap_or(0)
    }

    /// Unix milliseconds at which the zone's calendar day `(year, month, day)` begins, or the
    /// next day when `next` (the end of an inclusive date range); `None` for a date that does
    /// not exist.
    pub fn day_start_ms(&self, (year, month, day): (i16, i8, i8), next: bool) -> Option<i64> {
        let mut date = jiff::civil::Date::new(year, month, day).ok()?;
        if next {
            date = date.tomorrow().ok()?;
        }
        let start = date
            .to_zoned_datetime(self.zone.clone())
            .ok()?
            .start_of_day()
            .ok()?;
        Some(start.timestamp().as_millisecond())
    }

    /// `unix_seconds` as the zone's wall-clock time for people, e.g. `2026-11-26 19:25`.
    pub fn wall_time(&self, unix_seconds: i64) -> String {
        self.format(unix_seconds, "%Y-%m-%d %H:%M")
    }

    /// The month containing `unix_seconds` in the zone, e.g. `November 2026`.
    pub fn month_label(&self, unix_seconds: i64) -> String {
        self.format(unix_seconds, "%B %Y")
    }

    /// The zone's calendar date of `unix_seconds`, as `YYYY-MM-DD`.
    pub fn day_of(&self, unix_seconds: i64) -> String {
        self.format(unix_seconds, "%Y-%m-%d")
    }

    /// `unix_seconds` as local time with its offset, e.g. `2026-11-26T11:25:16+01:00`.
    pub fn local_time(&self, unix_seconds: i64) -> String {
        self.format(unix_seconds, "%Y-%m-%dT%H:%M:%S%:z")
    }

    /// The last `days` calendar dates up to and including today, oldest first, with the unix
    /// second each one starts at.
    pub fn last_days(&self, days: u32) -> Vec<(String, i64)> {
        let Some(now) = self.local(self.now()) else {
            return Vec::new();
        };
        let today = now.date();
        (0..days as i64)
            .rev()
            .filter_map(|back| {
                let date = today.checked_sub(jiff::Span::new().days(back)).ok()?;
                let start = date
                    .to_zoned_datetime(self.zone.clone())
                    .ok()?
                    .start_of_day()
                    .ok()?;
                Some((date.to_string(), start.timestamp().as_second()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_months_start_on_the_first_at_midnight() {
        let billing = Billing::default();
        // 2026-11-26 10:25:16 UTC → 2026-11-01 00:00:00 UTC.
        assert_eq!(billing.month_start(1_795_688_716), 1_793_491_200);
        assert_eq!(billing.month_start(1_793_491_200), 1_793_491_200);
        assert_eq!(billing.month_start(1_793_491_199), 1_790_812_800);
    }

    #[test]
    fn months_follow_the_configured_zone() {
        let tokyo = Billing::new("Asia/Tokyo", None, Clock::System).unwrap();
        // 2026-10-31 16:00 UTC is already 2026-11-01 01:00 in Tokyo (UTC+9): November there,
        // which began at 2026-10-31 15:00 UTC.
        let moment = 1_793_491_200 - 8 * 3600; // 2026-10-31 16:00 UTC
        assert_eq!(tokyo.month_start(moment), 1_793_491_200 - 9 * 3600);
        assert_eq!(tokyo.day_of(moment), "2026-11-01");
        assert_eq!(tokyo.month_label(moment), "November 2026");
        assert_eq!(tokyo.wall_time(moment), "2026-11-01 01:00");
        assert_eq!(Billing::default().month_start(moment), 1_790_812_800);
        assert_eq!(Billing::default().day_of(moment), "2026-10-31");
        // New York: summer time ends at 02:00 on 2026-11-01, so its November began at midnight
        // UTC-4, 04:00 UTC.
        let new_york = Billing::new("America/New_York", None, Clock::System).unwrap();
        assert_eq!(
            new_york.month_start(1_795_688_716),
            1_793_491_200 + 4 * 3600
        );
    }

    #[test]
    fn unknown_zones_are_refused_in_words() {
        let err = parse_time_zone("Mars/Olympus").unwrap_err();
        assert!(err.contains("not a known time zone"), "{err}");
    }

    #[test]
    fn a_fixed_clock_moves_only_when_told() {
        let clock = Clock::fixed(1_000);
        let billing = Billing::new("UTC", Some(100.0), clock.clone()).unwrap();
        assert_eq!(billing.now(), 1_000);
        clock.set(2_000);
        assert_eq!(billing.now(), 2_000);
        let days = billing.last_days(3);
        assert_eq!(
            days.iter().map(|(d, _)| d.as_str()).collect::<Vec<_>>(),
            ["1969-12-30", "1969-12-31", "1970-01-01"]
        );
        assert_eq!(days[2].1, 0);
        assert_eq!(days[1].1, -86_400);
        assert_eq!(billing.credits_per_usd(), Some(100.0));
    }
}
