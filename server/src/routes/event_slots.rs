//! Counting live-update streams: a cap per member and one for the whole server, with a slot that
//! frees itself when its stream ends (the page closed, the connection dropped, the server stops).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

/// The open streams, per member and in all.
#[derive(Clone, Debug)]
pub struct EventSlots {
    open: Arc<Mutex<Open>>,
    per_member: usize,
    total: usize,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_member: HashMap<i64, usize>,
}

/// Why no slot was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoSlot {
    /// The member holds `per_member` streams already.
    MemberFull(usize),
    /// The server holds `total` streams already.
    ServerFull,
}

/// One open stream; dropping it frees the slot.
#[derive(Debug)]
pub struct EventSlot {
    open: Arc<Mutex<Open>>,
    member: i64,
}

impl EventSlots {
    /// Room for `per_member` streams per member and `total` in all.
    pub fn new(per_member: usize, total: usize) -> EventSlots {
        EventSlots {
            open: Arc::default(),
            per_member,
            total,
        }
    }

    /// A slot for `member`, if both caps allow one more.
    pub fn take(&self, member: i64) -> Result<EventSlot, NoSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let held = open.by_member.get(&member).copied().unwrap_or(0);
        if held >= self.per_member {
            return Err(NoSlot::MemberFull(self.per_member));
        }
        if open.total >= self.total {
            return Err(NoSlot::ServerFull);
        }
        open.total += 1;
        *open.by_member.entry(member).or_default() += 1;
        Ok(EventSlot {
            open: self.open.clone(),
            member,
        })
    }

    /// Streams open now (for tests and logs).
    pub fn open_count(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

impl Drop for EventSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(held) = open.by_member.get_mut(&self.member) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                open.by_member.remove(&self.member);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_per_member_and_in_all_and_slots_come_back() {
        let slots = EventSlots::new(2, 3);
        let a1 = slots.take(1).unwrap();
        let _a2 = slots.take(1).unwrap();
        assert_eq!(slots.take(1).unwrap_err(), NoSlot::MemberFull(2));
        let _b1 = slots.take(2).unwrap();
        assert_eq!(slots.take(3).unwrap_err(), NoSlot::ServerFull);
        assert_eq!(slots.open_count(), 3);
        drop(a1);
        assert_eq!(slots.open_count(), 2);
        let _a3 = slots.take(1).unwrap();
        assert_eq!(slots.take(2).unwrap_err(), NoSlot::ServerFull);
    }
}
