//! MAX's rate limits: at most 30 requests a second overall and 2 messages a second to one
//! chat. [`Pacer::wait`] blocks a sending job until both allow one more call, and spaces
//! calls evenly (one per 1/30 s, one per 1/2 s per chat), so no one-second window ever
//! holds more than the limit.
//!
//! Both limits are taken together under one lock: checking two independent limiters
//! (e.g. two `governor` instances) can use up a slot in one while the other refuses.
//! Time comes from a [`PaceClock`], so tests run a virtual clock that sleeps instantly.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Gap between two calls to MAX: 30 a second.
pub const OVERALL_INTERVAL: Duration = Duration::from_nanos(1_000_000_000 / 30 + 1);
/// Gap between two messages to one chat: 2 a second.
pub const CHAT_INTERVAL: Duration = Duration::from_millis(500);

/// Chats remembered before old entries are dropped.
const CHATS_KEPT: usize = 10_000;

/// Monotonic time for pacing, and a way to wait.
pub trait PaceClock: Send + Sync {
    /// Time since some fixed start.
    fn now(&self) -> Duration;
    fn sleep(&self, duration: Duration);
}

/// The real monotonic clock.
pub struct MonotonicClock(Instant);

impl MonotonicClock {
    pub fn new() -> Self {
        MonotonicClock(Instant::now())
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl PaceClock for MonotonicClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A clock that only moves when someone sleeps on it: for tests and benchmarks, so
/// pacing can be checked without waiting.
#[derive(Default)]
pub struct VirtualClock(AtomicU64);

impl VirtualClock {
    pub fn new() -> Self {
        VirtualClock(AtomicU64::new(0))
    }
}

impl PaceClock for VirtualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::SeqCst))
    }

    fn sleep(&self, duration: Duration) {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.0.fetch_add(nanos, Ordering::SeqCst);
    }
}

#[derive(Default)]
struct Slots {
    overall_next: Duration,
    chats: HashMap<String, Duration>,
}

/// Paces calls to MAX. Shared by every sending job of the process.
pub struct Pacer {
    clock: Arc<dyn PaceClock>,
    slots: Mutex<Slots>,
}

impl Pacer {
    pub fn new(clock: Arc<dyn PaceClock>) -> Self {
        Pacer {
            clock,
            slots: Mutex::new(Slots::default()),
        }
    }

    /// A pacer on the real clock.
    pub fn real() -> Self {
        Self::new(Arc::new(MonotonicClock::new()))
    }

    pub fn clock(&self) -> &Arc<dyn PaceClock> {
        &self.clock
    }

    /// Blocks until one more call is allowed (and, for a message, one more to `chat`),
    /// takes it, and returns the pace clock's time at which it was granted.
    pub fn wait(&self, chat: Option<&str>) -> Duration {
        loop {
            let now = self.clock.now();
            match self.try_take(chat, now) {
                Ok(()) => return now,
                Err(wait) => self.clock.sleep(wait),
            }
        }
    }

    /// Takes a slot at `now`, or says how long to wait for one.
    fn try_take(&self, chat: Option<&str>, now: Duration) -> Result<(), Duration> {
        // A poisoned lock still holds valid times.
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let chat_next = chat
            .and_then(|c| slots.chats.get(c).copied())
            .unwrap_or_default();
        let ready = slots.overall_next.max(chat_next);
        if ready > now {
            return Err(ready - now);
        }
        slots.overall_next = now + OVERALL_INTERVAL;
        if let Some(chat) = chat {
            if slots.chats.len() >= CHATS_KEPT {
                slots.chats.retain(|_, next| *next > now);
            }
            slots.chats.insert(chat.to_string(), now + CHAT_INTERVAL);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn most_in_a_second(times: &[Duration]) -> usize {
        times
            .iter()
            .map(|start| {
                times
                    .iter()
                    .filter(|t| **t >= *start && **t < *start + Duration::from_secs(1))
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn one_chat_gets_two_messages_a_second() {
        let pacer = Pacer::new(Arc::new(VirtualClock::new()));
        let times: Vec<_> = (0..20).map(|_| pacer.wait(Some("user:1"))).collect();
        assert_eq!(most_in_a_second(&times), 2);
        assert_eq!(times[19], CHAT_INTERVAL * 19);
    }

    #[test]
    fn many_chats_share_thirty_calls_a_second() {
        let pacer = Pacer::new(Arc::new(VirtualClock::new()));
        let times: Vec<_> = (0..200)
            .map(|i| pacer.wait(Some(&format!("user:{i}"))))
            .collect();
        assert_eq!(most_in_a_second(&times), 30);
        assert!(times[199] < Duration::from_secs(7));
    }
}
