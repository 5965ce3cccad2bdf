//! The background collector thread and the requests mutators send it.

use super::{pacer, run_cycle};
use crate::heap::list::ObjList;
use crate::stats;
use parking_lot::{Condvar, Mutex};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};
/// Requests and progress, shared by mutators and the collector thread.
struct Control {
    /// A cycle was asked for and has not started yet.
    requested: bool,
    /// The requested cycle was asked for by `collect()`.
    forced: bool,
    /// Cycles started.
    started: u64,
    /// Cycles finished (swept).
    completed: u64,
}

static CONTROL: Mutex<Control> = Mutex::new(Control {
    requested: false,
    forced: false,
    started: 0,
    completed: 0,
});
static PROGRESS: Condvar = Condvar::new();

/// `Control::completed`, readable without the lock by threads spinning in a short wait.
/// Stored under the lock (`Release`, pairs with the spinners' `Acquire` loads: what the cycle
/// did is visible to a thread that sees it end).
static COMPLETED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set on the collector thread, which runs user `Drop` code while sweeping.
    static IS_COLLECTOR: Cell<bool> = const { Cell::new(false) };
}

fn on_collector_thread() -> bool {
    IS_COLLECTOR.try_with(Cell::get).unwrap_or(false)
}

/// Starts the collector thread once.
pub(crate) fn ensure_started() {
    static START: Once = Once::new();
    START.call_once(|| {
        pacer::init_from_env();
        stats::start_time();
        std::thread::Builder::new()
            .name("gc-collector".into())
            .spawn(collector_loop)
            .expect("gc: cannot spawn the collector thread");
    });
}

/// Asks for a cycle. An automatic request while a cycle runs is dropped: the collector checks
/// the pacer again when that cycle ends.
pub(crate) fn request_cycle(forced: bool) {
    ensure_started();
    let mut c = CONTROL.lock();
    if !forced && c.started > c.completed {
        return;
    }
    c.requested = true;
    c.forced |= forced;
    PROGRESS.notify_all();
}

/// Waits until the cycle running or requested now (if any) has finished, or until `limit` has
/// passed. No-op on the collector thread.
///
/// A wait with a limit spins (yielding the CPU to any other runnable thread) instead of
/// sleeping: a thread that sleeps gives up its CPU, and waking it again can take milliseconds
/// on a busy (or virtual) machine, far longer than the limit.
pub(crate) fn wait_for_cycle_end(limit: Option<Duration>) {
    if on_collector_thread() {
        return;
    }
    let mut c = CONTROL.lock();
    let running = c.started + u64::from(c.requested);
    let _parked = crate::park::park();
    if let Some(limit) = limit {
        drop(c);
        let deadline = Instant::now() + limit;
        // Acquire: pairs with the collector's Release store of `COMPLETED`.
        while COMPLETED.load(Ordering::Acquire) < running && Instant::now() < deadline {
            std::thread::yield_now();
        }
        return;
    }
    while c.completed < running {
        PROGRESS.wait(&mut c);
    }
}

/// Asks for a cycle that starts after this call and waits until it has finished (see
/// [`crate::collect`]).
pub(crate) fn collect() {
    if on_collector_thread() {
        return;
    }
    ensure_started();
    let mut c = CONTROL.lock();
    // A cycle already running took its snapshot before this call: wait for the next one.
    let target = c.started + 1;
    c.requested = true;
    c.forced = true;
    PROGRESS.notify_all();
    let _parked = crate::park::park();
    while c.completed < target {
        PROGRESS.wait(&mut c);
    }
}

fn collector_loop() {
    IS_COLLECTOR.with(|c| c.set(true));
    let mut snapshot = ObjList::new();
    let mut grey = Vec::new();
    loop {
        let forced = {
            let mut c = CONTROL.lock();
            while !c.requested {
                PROGRESS.wait(&mut c);
            }
            c.requested = false;
            c.started += 1;
            std::mem::take(&mut c.forced)
        };
        run_cycle(&mut snapshot, &mut grey, forced);
        {
            let mut c = CONTROL.lock();
            c.completed += 1;
            // Release: pairs with the Acquire loads in `wait_for_cycle_end`.
            COMPLETED.store(c.completed, Ordering::Release);
            if pacer::heap_live() >= pacer::trigger() {
                c.requested = true;
            }
            PROGRESS.notify_all();
        }
    }
}
