//! The wall clock the components see (WASI's `wall-clock`). Under Spin it is the system clock;
//! here tests may shift it, so that code reading the time through its platform (the core's
//! `Env::now`) runs at a chosen moment: maintenance windows, expiries, back-off.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wasmtime_wasi::HostWallClock;

/// A shared offset from the system clock, in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// From now on the components' clock reads `at` (and runs on from there).
    pub fn set(&self, at: SystemTime) {
        let real = millis(SystemTime::now());
        self.offset_ms.store(millis(at) - real, Ordering::SeqCst);
    }

    /// Moves the components' clock by `by` (negative goes back).
    pub fn advance(&self, by: Duration) {
        self.offset_ms.fetch_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX), Ordering::SeqCst);
    }

    /// Back to the system clock.
    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::SeqCst);
    }

    /// What the components' clock reads now.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        let ms = millis(SystemTime::now()) + self.offset_ms.load(Ordering::SeqCst);
        UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or_default())
    }

    /// The WASI wall clock of one store.
    pub(crate) fn wall_clock(&self) -> impl HostWallClock + use<> {
        WallClock(self.clone())
    }
}

fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

struct WallClock(Clock);

impl HostWallClock for WallClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        self.0.now().duration_since(UNIX_EPOCH).unwrap_or_default()
    }
}
