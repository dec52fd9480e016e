//! Reconciling the upstream's own figures for a task (its reservation and, when reported, its
//! charge) with Kinema's price table, so a stale table shows at once (`docs/upstream.md` §8.3).

use crate::backend::{evolink::wire, store::DriftRecord};
use crate::model::PriceDriftView;
use crate::rules::{
    pricing::format_credits_exact,
    vocab::{Quality, TaskKind, TaskState},
};

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

/// The admins' notice for a task whose upstream figure differs: the charge when the upstream
/// reported one that differs, else the reservation; `None` when neither differs.
pub fn notice(record: &DriftRecord) -> Option<PriceDriftView> {
    let kinema_charge = match record.cost_final {
        Some(cost) if record.state != TaskState::Failed => cost,
        _ => record.cost_reserved,
    };
    let (figure, verb, upstream, kinema) = match (record.upstream_charged, record.upstream_reserved)
    {
        (Some(charged), _) if differs(charged, kinema_charge) => {
            ("charged", "charged", charged, kinema_charge)
        }
        (_, Some(reserved)) if differs(reserved, record.cost_reserved) => {
            ("reserved", "reserved", reserved, record.cost_reserved)
        }
        _ => return None,
    };
    Some(PriceDriftView {
        task_id: record.task_id.clone(),
        member: record.username.clone(),
        model: match record.task_kind {
            TaskKind::Element => wire::ELEMENT_MODEL,
            TaskKind::Motion => wire::MOTION_MODEL,
        }
        .to_string(),
        quality: record
            .quality
            .map(Quality::as_str)
            .unwrap_or_default()
            .to_string(),
        figure: figure.to_string(),
        upstream,
        kinema,
        notice: format!(
            "EvoLink {verb} {} credits for this task; Kinema's price table says {}.",
            format_credits_exact(upstream),
            format_credits_exact(kinema)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> DriftRecord {
        DriftRecord {
            task_id: "t1".into(),
            task_kind: TaskKind::Motion,
            quality: Some(Quality::P720),
            state: TaskState::Completed,
            username: "moe".into(),
            created_at: 0,
            cost_reserved: EIGHT_SECONDS_720P,
            cost_final: Some(EIGHT_SECONDS_720P),
            upstream_reserved: Some(EIGHT_SECONDS_720P),
            upstream_charged: None,
        }
    }

    #[test]
    fn the_notice_names_both_figures_in_plain_words() {
        assert_eq!(notice(&record()), None);
        let reserved = notice(&DriftRecord {
            upstream_reserved: Some(70_000_000),
            ..record()
        })
        .unwrap();
        assert_eq!(
            reserved.notice,
            "EvoLink reserved 70.00 credits for this task; Kinema's price table says 65.3184."
        );
        assert_eq!(
            (reserved.upstream, reserved.kinema),
            (70_000_000, EIGHT_SECONDS_720P)
        );
        let charged = notice(&DriftRecord {
            upstream_charged: Some(60_000_000),
            ..record()
        })
        .unwrap();
        assert_eq!(charged.figure, "charged");
        assert!(charged
            .notice
            .starts_with("EvoLink charged 60.00 credits for this task"));
    }

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
