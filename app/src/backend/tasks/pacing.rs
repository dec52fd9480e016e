//! How often the engine asks EvoLink about a running task: pure arithmetic on the number of
//! running tasks and the request ceiling (`KINEMA_UPSTREAM_RPS`), so that all polls together stay
//! under the ceiling while each task is still polled at least every
//! `max(poll_max, running tasks ÷ ceiling)`.
//!
//! A young task is polled on a backoff that grows by half each time, with jitter, up to
//! `poll_max`. No poll is ever scheduled sooner than `running ÷ ceiling` after the last one (the
//! *spacing*): with N running tasks each waiting at least N ÷ C seconds, they ask at most C times
//! a second together. That spacing carries no jitter: the shared rate limiter already spreads
//! polls that fall due together one slot apart, and each task then keeps its slot, so the
//! promised bound is the spacing itself, not the spacing plus a random excess.
//!
//! The next poll is timed from when the last one happened, not from when it was due: after a
//! hiccup (a slow disk, a stalled network) the polls that slipped leave a hole in the schedule
//! one cycle later, the backlog fills it, and polls are on time again. Other calls (creates,
//! retries, balance checks) share the ceiling; while they are made, polls slip by their share.

/// How the engine spaces its retries and polls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// First pause, in milliseconds; grows by half with each attempt.
    pub poll_first_ms: i64,
    /// Longest backoff pause, in milliseconds.
    pub poll_max_ms: i64,
    /// This step's random factor for the backoff (0.8–1.2 in production, 1.0 in tests).
    pub jitter: f64,
    /// How long after its first send an unconfirmed create is asked again before the task is
    /// given up and refunded, in milliseconds.
    pub reconcile_grace_ms: i64,
    /// Tasks running upstream (an estimate, counted every few seconds).
    pub running_tasks: i64,
    /// The ceiling on requests per second to EvoLink.
    pub upstream_rps: u32,
}

impl Pacing {
    /// The pause after `attempts` tries: grows by half each time up to `poll_max`, times the
    /// jitter.
    pub fn delay_ms(&self, attempts: i64) -> i64 {
        let grown = self.poll_first_ms as f64 * 1.5f64.powi(attempts.clamp(0, 30) as i32);
        let capped = grown.min(self.poll_max_ms as f64);
        (capped * self.jitter).max(0.0) as i64
    }

    /// The shortest pause between two polls of one task: running tasks ÷ requests per second,
    /// so that all running tasks together stay under the ceiling.
    pub fn poll_spacing_ms(&self) -> i64 {
        self.running_tasks
            .max(0)
            .saturating_mul(1000)
            .checked_div(i64::from(self.upstream_rps.max(1)))
            .unwrap_or(0)
    }

    /// The promise: every running task is polled at least this often,
    /// `max(poll_max, running ÷ ceiling)`.
    pub fn poll_bound_ms(&self) -> i64 {
        self.poll_max_ms.max(self.poll_spacing_ms())
    }

    /// The pause before the next poll after `attempts` polls: the backoff, but never shorter
    /// than the spacing. The backoff stops at nine tenths of `poll_max` whatever the jitter: the
    /// last tenth is room for the wait in the rate limiter's queue when polls fall due together,
    /// so the poll itself still happens within `poll_max`.
    pub fn poll_delay_ms(&self, attempts: i64) -> i64 {
        self.delay_ms(attempts)
            .min(self.poll_max_ms / 10 * 9)
            .max(self.poll_spacing_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::Pacing;
    use std::collections::{BTreeSet, HashMap};

    fn pacing(running_tasks: i64, upstream_rps: u32) -> Pacing {
        Pacing {
            poll_first_ms: 2_000,
            poll_max_ms: 60_000,
            jitter: 1.0,
            reconcile_grace_ms: 600_000,
            running_tasks,
            upstream_rps,
        }
    }

    #[test]
    fn the_spacing_is_running_tasks_over_the_ceiling() {
        assert_eq!(pacing(10_000, 20).poll_spacing_ms(), 500_000);
        assert_eq!(pacing(10_000, 20).poll_bound_ms(), 500_000);
        assert_eq!(pacing(3, 20).poll_spacing_ms(), 150);
        // Few tasks: the backoff's maximum is the bound.
        assert_eq!(pacing(3, 20).poll_bound_ms(), 60_000);
        assert_eq!(pacing(0, 20).poll_spacing_ms(), 0);
        // A ceiling of zero is read as one, never a division by zero.
        assert_eq!(pacing(5, 0).poll_spacing_ms(), 5_000);
        assert_eq!(pacing(-4, 20).poll_spacing_ms(), 0);
    }

    #[test]
    fn a_poll_is_never_sooner_than_the_spacing_nor_later_than_the_bound() {
        for running in [0, 1, 50, 1_200, 1_201, 10_000, 250_000] {
            for rps in [1, 7, 20, 100] {
                for jitter in [0.8, 0.93, 1.0, 1.2] {
                    let p = Pacing {
                        jitter,
                        ..pacing(running, rps)
                    };
                    for attempts in [0, 1, 5, 12, 40, 1_000] {
                        let delay = p.poll_delay_ms(attempts);
                        assert!(delay >= p.poll_spacing_ms(), "{running} {rps} {attempts}");
                        assert!(delay <= p.poll_bound_ms(), "{running} {rps} {attempts}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_backoff_grows_then_the_spacing_takes_over() {
        let p = pacing(200, 20); // spacing 10 s
        assert_eq!(p.poll_delay_ms(0), 10_000);
        assert_eq!(p.poll_delay_ms(4), 10_125); // 2 s × 1.5⁴
        assert_eq!(p.poll_delay_ms(30), 54_000);
        let crowded = pacing(10_000, 20);
        assert_eq!(crowded.poll_delay_ms(0), 500_000);
        assert_eq!(crowded.poll_delay_ms(30), 500_000);
    }

    /// Plays the engine against a ceiling of `rps` requests a second: each slot of `1 / rps`
    /// seconds polls the task due longest (as the claim query does), which reschedules itself by
    /// [`Pacing::poll_delay_ms`]; no slot is served during `hiccup` (milliseconds from, to).
    /// Returns the polls made, the longest gap between two polls of one task that began after
    /// `measure_from` ms, and the longest a poll made after `measure_from` came after its due
    /// time.
    fn play(
        tasks: i64,
        rps: u32,
        seconds: i64,
        jitters: &[f64],
        hiccup: (i64, i64),
        measure_from: i64,
    ) -> (usize, i64, i64) {
        let slot_ms = 1000 / i64::from(rps);
        let mut due: BTreeSet<(i64, i64)> = (0..tasks).map(|id| (0, id)).collect();
        let mut last: HashMap<i64, i64> = HashMap::new();
        let mut attempts: HashMap<i64, i64> = HashMap::new();
        let (mut polls, mut max_gap, mut max_late) = (0, 0, 0);
        let mut now = 0;
        while now < seconds * 1000 {
            let stalled = (hiccup.0..hiccup.1).contains(&now);
            if let Some(&(at, id)) = due.iter().next().filter(|_| !stalled) {
                if at <= now {
                    due.remove(&(at, id));
                    polls += 1;
                    if now >= measure_from {
                        max_late = max_late.max(now - at);
                    }
                    if let Some(before) = last.insert(id, now) {
                        if before >= measure_from {
                            max_gap = max_gap.max(now - before);
                        }
                    }
                    let tries = attempts.entry(id).or_insert(0);
                    let p = Pacing {
                        jitter: jitters[polls % jitters.len()],
                        ..pacing(tasks, rps)
                    };
                    due.insert((now + p.poll_delay_ms(*tries), id));
                    *tries += 1;
                }
            }
            now += slot_ms;
        }
        (polls, max_gap, max_late)
    }

    #[test]
    fn many_tasks_at_the_ceiling_are_each_polled_within_the_bound() {
        let jitters = [0.8, 1.2, 1.0, 0.9, 1.1];
        let calm = (0, 0);
        // 2,000 tasks all due at once at 20 requests a second: the spacing (100 s) governs.
        let (polls, max_gap, _) = play(2_000, 20, 600, &jitters, calm, 0);
        assert!(polls <= 20 * 600, "{polls}");
        assert!(
            polls >= 20 * 590,
            "the ceiling is used, not wasted: {polls}"
        );
        assert!(max_gap <= pacing(2_000, 20).poll_bound_ms(), "{max_gap}");
        // 300 tasks (spacing 15 s): the backoff up to a minute governs, still under the ceiling.
        let (polls, max_gap, _) = play(300, 20, 600, &jitters, calm, 0);
        assert!(polls <= 20 * 600, "{polls}");
        assert!(max_gap <= pacing(300, 20).poll_bound_ms(), "{max_gap}");
        assert!(max_gap > pacing(300, 20).poll_spacing_ms(), "{max_gap}");
    }

    #[test]
    fn after_a_hiccup_polls_are_on_time_again_within_a_cycle() {
        // Nothing is served for 20 s of the 100 s cycle: 400 polls slip by up to 20 s.
        let bound = pacing(2_000, 20).poll_bound_ms();
        let hiccup = (200_000, 220_000);
        let (_, _, late_during) = play(2_000, 20, 260, &[1.0], hiccup, hiccup.1);
        assert_eq!(late_during, 20_000, "the hiccup made polls late");
        // A cycle later they are on time, and every gap is within the bound again.
        let (_, max_gap, late_after) = play(2_000, 20, 900, &[1.0], hiccup, hiccup.1 + bound);
        assert_eq!(late_after, 0, "polls are on time again");
        assert!(max_gap <= bound, "{max_gap} against {bound}");
    }
}
