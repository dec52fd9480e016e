//! Reconciling the upstream's own figures for a task (its reservation and, when reported, its
//! charge) with Kinema's price table, so a stale table shows at once (`docs/upstream.md` §8.3).

/// Micro-credits per credit.
const MICRO_PER_CREDIT: f64 = 1_000_000.0;
/// Upstream units per credit, where the upstream counts in units (1 credit = 10,000 UC).
const UNITS_PER_CREDIT: f64 = 10_000.0;
/// The rounding step: one upstream unit (0.0001 credit) in micro-credits. Differences up to it
/// are rounding, not drift.
pub const ROUNDING_STEP: i64 = 100;
/// The largest figure converted (a million credits); larger is treated as unknown.
const MAX_MICRO: f64 = 1e12;

/// The upstream's `reported` figure in micro-credits. Whether it is in credits (the simulator,
/// the element example's `1`) or in units of 1/10,000 credit (the pricing rules, the docs'
/// 408,240) is not settled (§8.3), so the reading closer to Kinema's own figure `kinema` is
/// taken: a unit change upstream is not mistaken for a price change, a price change still shows.
pub fn upstream_micro(reported: f64, kinema: i64) -> Option<i64> {
    if !reported.is_finite() || reported < 0.0 {
        return None;
    }
    let as_credits = reported * MICRO_PER_CREDIT;
    let as_units = reported * MICRO_PER_CREDIT / UNITS_PER_CREDIT;
    let target = kinema as f64;
    let closer = if (as_units - target).abs() < (as_credits - target).abs() {
        as_units
    } else {
        as_credits
    };
    (closer <= MAX_MICRO).then(|| closer.round() as i64)
}

/// True when the upstream's figure and Kinema's differ by more than a rounding step.
pub fn differs(upstream: i64, kinema: i64) -> bool {
    upstream.abs_diff(kinema) > ROUNDING_STEP as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const EIGHT_SECONDS_720P: i64 = 65_318_400;

    #[test]
    fn both_units_read_as_the_same_figure() {
        assert_eq!(
            upstream_micro(65.3184, EIGHT_SECONDS_720P),
            Some(EIGHT_SECONDS_720P)
        );
        assert_eq!(
            upstream_micro(653_184.0, EIGHT_SECONDS_720P),
            Some(EIGHT_SECONDS_720P)
        );
        assert_eq!(upstream_micro(1.0, 1_000_000), Some(1_000_000));
        assert_eq!(upstream_micro(0.0, 1_000_000), Some(0));
    }

    #[test]
    fn a_different_price_shows_and_rounding_does_not() {
        // 8 s at 1080p: the page's 10.88368/s against the pricing rules' 10.8918432/s.
        let kinema = 87_069_440;
        let upstream = upstream_micro(871_347.456, kinema).unwrap();
        assert!(differs(upstream, kinema));
        assert_eq!(upstream, 87_134_746);
        // 870,694 units is 87.0694 credits: within one unit of 87.06944.
        let rounded = upstream_micro(870_694.0, kinema).unwrap();
        assert!(!differs(rounded, kinema));
        // A stale table: the upstream reserves 70 credits where Kinema says 65.3184.
        let stale = upstream_micro(70.0, EIGHT_SECONDS_720P).unwrap();
        assert_eq!(stale, 70_000_000);
        assert!(differs(stale, EIGHT_SECONDS_720P));
    }

    #[test]
    fn unusable_figures_are_unknown() {
        for bad in [f64::NAN, f64::INFINITY, -1.0, 1e13] {
            assert_eq!(upstream_micro(bad, EIGHT_SECONDS_720P), None, "{bad}");
        }
    }
}
