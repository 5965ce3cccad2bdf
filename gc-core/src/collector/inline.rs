//! Under loom there is no background thread: `collect()` runs a cycle on the calling thread
//! (one at a time), and allocation never starts or waits for one, so a model test decides
//! exactly which threads mutate and which one collects.

use super::run_cycle;
use crate::heap::list::ObjList;
use crate::primitive::{global, Mutex};
use std::time::Duration;

global! {
    /// The survivors of the last cycle; the lock also keeps cycles from overlapping.
    static OLD: Mutex<ObjList> = Mutex::new(ObjList::new());
}

/// Nothing to start.
pub(crate) fn ensure_started() {}

/// Automatic cycles are off under loom (a request counts as made).
pub(crate) fn request_cycle(_forced: bool) -> bool {
    true
}

/// Nothing runs in the background, so there is nothing to wait for.
pub(crate) fn wait_for_cycle_end(_limit: Option<Duration>, _enough: fn() -> bool) {}

/// Runs one full cycle on the calling thread. The thread counts as parked throughout (it runs
/// no user code of its own meanwhile), as a thread blocked in the threaded collector's
/// `collect()` does, so the marker reads the cells it holds.
pub(crate) fn collect() {
    let _parked = crate::park::park();
    let mut old = OLD.lock();
    run_cycle(&mut old, &mut Vec::new(), true);
}
