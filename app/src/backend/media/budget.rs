//! The work a single probe may do. Every parser loop charges it (a part per box, element, chunk
//! or segment visited; steps for samples summed or bytes scanned) and stops once it is spent, so a
//! probe finishes quickly whatever the file claims about itself. A clock deadline backs the counts
//! up, so a slow source (a disk under load, later a remote store) cannot stretch a probe either.

use std::{
    cell::Cell,
    time::{Duration, Instant},
};

/// Most parts (boxes, elements, chunks, segments, nested ones included) one probe visits. A
/// real upload has a few hundred; a 30 s video cut into one fragment per frame has about 15 000.
pub const MAX_PARTS: u64 = 200_000;
/// Most steps (samples summed, bytes scanned) one probe takes. Scanning a 10 MB JPEG end to end
/// is 10 million; a 30 s video has a few thousand samples.
pub const MAX_STEPS: u64 = 20_000_000;
/// Longest a probe may run before it gives up on its own.
pub const MAX_TIME: Duration = Duration::from_secs(3);

/// How often (in charges) the clock is looked at.
const CLOCK_EVERY: u32 = 1024;

/// The plain words for a file that needs more work than the budget allows.
pub const TOO_COMPLEX: &str = "This file is too complex to read: it has far more parts than a \
photo or video normally has. Export it again from your camera or editing app and upload that.";
/// The plain words for a probe that ran out of time.
pub const TOO_SLOW: &str = "Reading this file took too long, so it was not accepted. Export it \
again from your camera or editing app and upload that.";

/// Why a budget ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spent {
    Work,
    Time,
}

/// A per-probe allowance of parts, steps and time. Shared by reference (`&Budget`) so nested
/// loops can all charge it; once spent it stays spent and every charge answers `false`.
#[derive(Debug)]
pub struct Budget {
    parts_left: Cell<u64>,
    steps_left: Cell<u64>,
    deadline: Instant,
    charges: Cell<u32>,
    spent: Cell<Option<Spent>>,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget::new(MAX_PARTS, MAX_STEPS, MAX_TIME)
    }
}

impl Budget {
    /// A budget of `parts`, `steps` and `time` from now.
    pub fn new(parts: u64, steps: u64, time: Duration) -> Budget {
        let now = Instant::now();
        Budget {
            parts_left: Cell::new(parts),
            steps_left: Cell::new(steps),
            deadline: now.checked_add(time).unwrap_or(now),
            charges: Cell::new(0),
            spent: Cell::new(None),
        }
    }

    /// Charges one part; `false` once the budget is spent.
    pub fn part(&self) -> bool {
        self.charge(&self.parts_left, 1)
    }

    /// Charges `count` steps; `false` once the budget is spent.
    pub fn steps(&self, count: u64) -> bool {
        self.charge(&self.steps_left, count)
    }

    fn charge(&self, left: &Cell<u64>, count: u64) -> bool {
        if self.spent.get().is_some() {
            return false;
        }
        match left.get().checked_sub(count) {
            Some(rest) => left.set(rest),
            None => {
                left.set(0);
                self.spent.set(Some(Spent::Work));
                return false;
            }
        }
        let charges = self.charges.get().wrapping_add(1);
        self.charges.set(charges);
        if charges.is_multiple_of(CLOCK_EVERY) && Instant::now() >= self.deadline {
            self.spent.set(Some(Spent::Time));
            return false;
        }
        true
    }

    /// True once any charge was refused.
    pub fn is_spent(&self) -> bool {
        self.spent.get().is_some()
    }

    /// The probe's outcome: once the budget is spent, its plain message, whatever the parser
    /// said when it stopped (it may have stopped anywhere).
    pub fn settle<T>(&self, outcome: Result<T, String>) -> Result<T, String> {
        match self.spent.get() {
            Some(Spent::Work) => Err(TOO_COMPLEX.into()),
            Some(Spent::Time) => Err(TOO_SLOW.into()),
            None => outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_and_steps_run_out_and_stay_out() {
        let budget = Budget::new(2, 10, MAX_TIME);
        assert!(budget.part() && budget.part());
        assert!(!budget.part());
        assert!(!budget.steps(1), "spent is spent");
        assert_eq!(budget.settle(Ok(1)), Err(TOO_COMPLEX.to_string()));

        let budget = Budget::new(10, 10, MAX_TIME);
        assert!(budget.steps(10));
        assert!(!budget.steps(u64::MAX));
        assert!(budget.is_spent());
    }

    #[test]
    fn the_clock_ends_a_budget() {
        let budget = Budget::new(u64::MAX, u64::MAX, Duration::ZERO);
        let mut charges = 0u64;
        while budget.steps(1) {
            charges += 1;
        }
        assert!(charges < u64::from(CLOCK_EVERY));
        assert_eq!(budget.settle(Ok(())), Err(TOO_SLOW.to_string()));
    }

    #[test]
    fn an_unspent_budget_keeps_the_parser_outcome() {
        let budget = Budget::default();
        assert!(budget.part());
        assert_eq!(
            budget.settle(Err::<(), _>("damaged".into())),
            Err("damaged".into())
        );
    }
}
