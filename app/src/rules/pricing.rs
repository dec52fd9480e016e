//! The one price table and the cost rules (`docs/upstream.md` §8). Money is integer
//! micro-credits (1 credit = 1 000 000), never floating point.

/// Micro-credits in one credit.
pub const MICRO_PER_CREDIT: i64 = 1_000_000;

pub use super::vocab::{Orientation, Quality};

impl Quality {
    /// Price per output second in micro-credits: 8.1648 and 10.88368 credits.
    pub fn micro_credits_per_second(self) -> i64 {
        match self {
            Quality::P720 => 8_164_800,
            Quality::P1080 => 10_883_680,
        }
    }
}

/// A custom element costs one credit per creation.
pub const ELEMENT_MICRO_CREDITS: i64 = MICRO_PER_CREDIT;

/// Longest reason an admin may give for a ledger adjustment.
pub const ADJUSTMENT_REASON_MAX_CHARS: usize = 200;

/// Billed output seconds: the duration rounded to the nearest second (halves round up),
/// capped by the orientation.
pub fn billed_seconds(duration_ms: u64, orientation: Orientation) -> u32 {
    let rounded = (duration_ms + 500) / 1000;
    rounded.min(u64::from(orientation.max_seconds())) as u32
}

/// The cost of a motion-control task whose output lasts `duration_ms`.
pub fn motion_cost(quality: Quality, orientation: Orientation, duration_ms: u64) -> i64 {
    i64::from(billed_seconds(duration_ms, orientation)) * quality.micro_credits_per_second()
}

/// Formats micro-credits with two decimals, rounding half away from zero: `40824000` → `40.82`.
pub fn format_credits(micro: i64) -> String {
    let hundredths = (micro.abs() + 5_000) / 10_000;
    let sign = if micro < 0 && hundredths > 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", hundredths / 100, hundredths % 100)
}

/// Formats micro-credits with every significant decimal (at least two): `8164800` → `8.1648`.
pub fn format_credits_exact(micro: i64) -> String {
    let sign = if micro < 0 { "-" } else { "" };
    let micro = micro.unsigned_abs();
    let whole = micro / MICRO_PER_CREDIT as u64;
    let fraction = format!("{:06}", micro % MICRO_PER_CREDIT as u64);
    let trimmed = fraction.trim_end_matches('0');
    let decimals = if trimmed.len() < 2 {
        &fraction[..2]
    } else {
        trimmed
    };
    format!("{sign}{whole}.{decimals}")
}

/// An amount in prose, without needless decimals: `1 credit`, `3 credits`, `8.1648 credits`.
pub fn credits_in_words(micro: i64) -> String {
    if micro % MICRO_PER_CREDIT == 0 {
        let whole = micro / MICRO_PER_CREDIT;
        format!("{whole} credit{}", if whole.abs() == 1 { "" } else { "s" })
    } else {
        format!("{} credits", format_credits_exact(micro))
    }
}

/// Parses credits typed by a person (`"120"`, `"40.824"`) into micro-credits; at most six
/// decimals, never negative.
pub fn parse_credits(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let invalid = || format!("'{text}' is not an amount of credits; write it like 120 or 40.82.");
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(invalid());
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    if fraction.len() > 6 || whole.len() > 12 {
        return Err(invalid());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| invalid())?
    };
    let fraction: i64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<6}").parse().map_err(|_| invalid())?
    };
    Ok(whole * MICRO_PER_CREDIT + fraction)
}

/// Parses a signed amount (`-5`, `+2.5`, `10`) for ledger adjustments; zero is refused.
pub fn parse_signed_credits(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let amount = parse_credits(rest).map_err(|_| {
        format!("'{text}' is not an amount of credits; write it like 5, -5 or 2.50.")
    })?;
    if amount == 0 {
        return Err("An adjustment of 0 credits changes nothing; enter an amount.".into());
    }
    Ok(if negative { -amount } else { amount })
}

/// Checks the (trimmed) reason of a ledger adjustment: required, at most
/// `ADJUSTMENT_REASON_MAX_CHARS` characters.
pub fn check_adjustment_reason(reason: &str) -> Result<(), String> {
    let count = reason.chars().count();
    if count == 0 || count > ADJUSTMENT_REASON_MAX_CHARS {
        return Err(format!(
            "Give a reason for the adjustment (up to {ADJUSTMENT_REASON_MAX_CHARS} characters)."
        ));
    }
    Ok(())
}

/// Estimated US dollars for `micro_credits` at `credits_per_usd`: `≈ $0.41`.
pub fn format_usd(micro_credits: i64, credits_per_usd: f64) -> String {
    let dollars = micro_credits as f64 / MICRO_PER_CREDIT as f64 / credits_per_usd;
    if dollars < 0.0 {
        format!("≈ -${:.2}", -dollars)
    } else {
        format!("≈ ${dollars:.2}")
    }
}

/// A cost as the UI states it: `40.82 credits (≈ $0.41)`, or `40.82 credits` when no
/// credits-per-USD rate is configured.
pub fn credits_with_usd(micro_credits: i64, credits_per_usd: Option<f64>) -> String {
    match credits_per_usd {
        Some(rate) => format!(
            "{} credits ({})",
            format_credits(micro_credits),
            format_usd(micro_credits, rate)
        ),
        None => format!("{} credits", format_credits(micro_credits)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_amounts_and_dollars() {
        assert_eq!(parse_signed_credits("-5"), Ok(-5_000_000));
        assert_eq!(parse_signed_credits("+2.5"), Ok(2_500_000));
        assert_eq!(parse_signed_credits(" 10 "), Ok(10_000_000));
        assert!(parse_signed_credits("0")
            .unwrap_err()
            .contains("changes nothing"));
        assert!(parse_signed_credits("--1")
            .unwrap_err()
            .contains("not an amount"));
        assert_eq!(format_usd(40_824_000, 100.0), "≈ $0.41");
        assert_eq!(format_usd(-1_000_000, 2.0), "≈ -$0.50");
        assert_eq!(
            credits_with_usd(40_824_000, Some(100.0)),
            "40.82 credits (≈ $0.41)"
        );
        assert_eq!(credits_with_usd(40_824_000, None), "40.82 credits");
    }

    #[test]
    fn rates_show_every_significant_decimal() {
        assert_eq!(
            format_credits_exact(Quality::P720.micro_credits_per_second()),
            "8.1648"
        );
        assert_eq!(
            format_credits_exact(Quality::P1080.micro_credits_per_second()),
            "10.88368"
        );
        assert_eq!(format_credits_exact(ELEMENT_MICRO_CREDITS), "1.00");
    }

    #[test]
    fn adjustments_need_a_reason_of_bounded_length() {
        assert!(check_adjustment_reason("Goodwill").is_ok());
        assert!(check_adjustment_reason(&"é".repeat(200)).is_ok());
        let too_long = check_adjustment_reason(&"a".repeat(201)).unwrap_err();
        assert_eq!(
            too_long,
            "Give a reason for the adjustment (up to 200 characters)."
        );
        assert_eq!(check_adjustment_reason("").unwrap_err(), too_long);
    }

    #[test]
    fn amounts_in_words_drop_needless_decimals() {
        assert_eq!(credits_in_words(ELEMENT_MICRO_CREDITS), "1 credit");
        assert_eq!(credits_in_words(3 * MICRO_PER_CREDIT), "3 credits");
        assert_eq!(credits_in_words(0), "0 credits");
        assert_eq!(credits_in_words(8_164_800), "8.1648 credits");
    }

    #[test]
    fn credits_are_parsed_exactly() {
        assert_eq!(parse_credits("120"), Ok(120_000_000));
        assert_eq!(parse_credits(" 122.472 "), Ok(122_472_000));
        assert_eq!(parse_credits(".5"), Ok(500_000));
        assert!(parse_credits("-1").is_err());
        assert!(parse_credits("1.2345678").is_err());
        assert!(parse_credits("abc").is_err());
        assert!(parse_credits("").is_err());
    }

    #[test]
    fn the_documented_examples_cost_what_the_docs_say() {
        // 8 s at 720p = 65.3184 credits; 8 s at 1080p = 87.06944 credits.
        assert_eq!(
            motion_cost(Quality::P720, Orientation::Video, 8_000),
            65_318_400
        );
        assert_eq!(
            motion_cost(Quality::P1080, Orientation::Video, 8_000),
            87_069_440
        );
        // 5 s at 720p = 40.824 credits, shown as 40.82.
        assert_eq!(
            format_credits(motion_cost(Quality::P720, Orientation::Image, 5_000)),
            "40.82"
        );
    }

    #[test]
    fn seconds_round_to_nearest_and_are_capped_by_orientation() {
        assert_eq!(billed_seconds(4_499, Orientation::Image), 4);
        assert_eq!(billed_seconds(4_500, Orientation::Image), 5);
        assert_eq!(billed_seconds(12_000, Orientation::Image), 10);
        assert_eq!(billed_seconds(12_000, Orientation::Video), 12);
        assert_eq!(billed_seconds(31_000, Orientation::Video), 30);
    }

    #[test]
    fn credits_format_with_two_decimals() {
        assert_eq!(format_credits(0), "0.00");
        assert_eq!(format_credits(ELEMENT_MICRO_CREDITS), "1.00");
        assert_eq!(format_credits(87_069_440), "87.07");
        assert_eq!(format_credits(-1_005_000), "-1.01");
    }
}
