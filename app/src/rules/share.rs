//! Share links: how long a link may live, chosen from a short list and read once at the boundary.

use super::vocab::text_enum;

text_enum! {
    /// How long a share link works: one of a few fixed spans, or until its owner revokes it.
    pub enum ShareExpiry {
        /// One hour.
        OneHour = "1h",
        /// One day.
        OneDay = "1d",
        /// Seven days.
        SevenDays = "7d",
        /// Thirty days, the longest fixed span.
        ThirtyDays = "30d",
        /// No end of its own; it works until revoked (or the task is deleted).
        UntilRevoked = "revoked",
    }
}

impl ShareExpiry {
    /// The choice the share form starts with.
    pub const DEFAULT: ShareExpiry = ShareExpiry::SevenDays;

    /// The span in seconds; `None` for [`ShareExpiry::UntilRevoked`].
    pub fn seconds(self) -> Option<i64> {
        const HOUR: i64 = 3_600;
        const DAY: i64 = 24 * HOUR;
        match self {
            ShareExpiry::OneHour => Some(HOUR),
            ShareExpiry::OneDay => Some(DAY),
            ShareExpiry::SevenDays => Some(7 * DAY),
            ShareExpiry::ThirtyDays => Some(30 * DAY),
            ShareExpiry::UntilRevoked => None,
        }
    }

    /// When a link made at `now` (unix seconds) stops; `None` for until revoked.
    pub fn expires_at(self, now: i64) -> Option<i64> {
        self.seconds().map(|span| now.saturating_add(span))
    }

    /// The choice in words, for the share form.
    pub fn label(self) -> &'static str {
        match self {
            ShareExpiry::OneHour => "1 hour",
            ShareExpiry::OneDay => "1 day",
            ShareExpiry::SevenDays => "7 days",
            ShareExpiry::ThirtyDays => "30 days",
            ShareExpiry::UntilRevoked => "Until revoked",
        }
    }
}

/// The words of a share form's refusal when the expiry is none of the choices.
pub const EXPIRY_CHOICES: &str =
    "Choose how long the link works: 1 hour, 1 day, 7 days, 30 days or until revoked.";

/// The path of the page a share link opens, for its token.
pub fn share_path(token: &str) -> String {
    format!("/s/{token}")
}

/// What a share link is at `now`, from its stored times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ShareStatus {
    /// It opens the page.
    Active,
    /// Its time ran out.
    Expired,
    /// Someone revoked it.
    Revoked,
}

impl ShareStatus {
    /// The status of a link with these times at `now` (unix seconds). Revoked wins over expired.
    pub fn at(now: i64, expires_at: Option<i64>, revoked_at: Option<i64>) -> ShareStatus {
        match (revoked_at, expires_at) {
            (Some(_), _) => ShareStatus::Revoked,
            (None, Some(expires)) if expires <= now => ShareStatus::Expired,
            _ => ShareStatus::Active,
        }
    }

    /// The status in words.
    pub fn label(self) -> &'static str {
        match self {
            ShareStatus::Active => "Active",
            ShareStatus::Expired => "Expired",
            ShareStatus::Revoked => "Revoked",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_choice_reads_back_and_fixed_spans_run_from_one_hour_to_thirty_days() {
        for choice in ShareExpiry::ALL {
            assert_eq!(ShareExpiry::parse(choice.as_str()), Some(*choice));
        }
        assert_eq!(ShareExpiry::OneHour.expires_at(1_000), Some(1_000 + 3_600));
        assert_eq!(ShareExpiry::ThirtyDays.expires_at(0), Some(30 * 24 * 3_600));
        assert_eq!(ShareExpiry::UntilRevoked.expires_at(1_000), None);
        for refused in ["", "2h", "31d", "forever", "1H"] {
            assert_eq!(ShareExpiry::parse(refused), None, "{refused}");
        }
    }

    #[test]
    fn a_link_is_expired_from_its_expiry_second_on_and_revoked_wins() {
        assert_eq!(ShareStatus::at(99, Some(100), None), ShareStatus::Active);
        assert_eq!(ShareStatus::at(100, Some(100), None), ShareStatus::Expired);
        assert_eq!(ShareStatus::at(5, None, None), ShareStatus::Active);
        assert_eq!(
            ShareStatus::at(200, Some(100), Some(50)),
            ShareStatus::Revoked
        );
    }
}
