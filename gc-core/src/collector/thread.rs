//! The background collector thread and the requests mutators send it.

use super::{pacer, priority, run_cycle};
use crate::heap::list::ObjList;
use crate::stats;
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Once;
use std::sync::OnceLock;
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

/// `Control::started`, readable without the lock (stored under it; `Release`, pairs with
/// `Acquire` loads in `request_cycle`).
static STARTED: AtomicU64 = AtomicU64::new(0);

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
/// the pacer again when that cycle ends. Returns false if an automatic request was dropped
/// because the collector's lock was busy (the caller repeats it later).
pub(crate) fn request_cycle(forced: bool) -> bool {
    ensure_started();
    // Acquire: pairs with the Release stores under the lock. A stale view either takes the
    // lock needlessly or drops this automatic request, which the next 64 KiB batch repeats.
    if !forced && STARTED.load(Ordering::Acquire) > COMPLETED.load(Ordering::Acquire) {
        return true;
    }
    let mut c = if forced {
        CONTROL.lock()
    } else {
        // An automatic request never waits for the lock: its holder may be the collector,
        // preempted at idle priority (an allocation waited 3.8 ms here). Every holder either
        // starts a cycle, or checks the pacer before it sleeps (the collector), or holds the
        // lock for a few instructions; and the next 64 KiB batch repeats the request.
        match CONTROL.try_lock() {
            Some(c) => c,
            None => return false,
        }
    };
    if !forced && c.started > c.completed {
        return true;
    }
    c.requested = true;
    c.forced |= forced;
    PROGRESS.notify_all();
    true
}

/// Waits until the cycle running or requested now (if any) has finished, until `limit` has
/// passed, or (checked while waiting) until `enough` returns true. No-op on the collector
/// thread.
///
/// In low-latency mode a wait with a limit spins instead of sleeping: a thread that sleeps
/// gives up its CPU, and waking it again can take milliseconds on a busy (or virtual) machine,
/// far longer than the limit. Spinners leave one CPU to the collector: past that, a waiter
/// sleeps. A wait without a limit boosts a starved collector
/// (see [`wait_for`]).
pub(crate) fn wait_for_cycle_end(limit: Option<Duration>, enough: fn() -> bool) {
    if on_collector_thread() {
        return;
    }
    let _parked = crate::park::park();
    if let Some(limit) = limit {
        let deadline = Instant::now() + limit;
        if let Some(_spinner) = Spinner::enter() {
            // The caller has just requested a cycle: wait for one more to complete (without
            // the lock, which the collector may hold while preempted).
            // Acquire: pairs with the collector's Release store of `COMPLETED`.
            let target = COMPLETED.load(Ordering::Acquire) + 1;
            while COMPLETED.load(Ordering::Acquire) < target
                && Instant::now() < deadline
                && !enough()
            {
                std::thread::yield_now();
            }
            return;
        }
    }
    let mut c = CONTROL.lock();
    let running = c.started + u64::from(c.requested);
    match limit {
        Some(limit) => {
            let deadline = Instant::now() + limit;
            while c.completed < running && !enough() {
                if PROGRESS.wait_until(&mut c, deadline).timed_out() {
                    return;
                }
            }
        }
        None => wait_for(&mut c, running),
    }
}

/// Allocating thread past twice the heap goal: waits until the cycle running or requested now
/// has finished, marking or sweeping for it (in slices of `slice`) whenever it can, and
/// waiting at most a slice at a time otherwise. Waiting for the whole cycle idle left the
/// thread asleep while the collector alone swept (a 6 ms gap in the pauses example, traced).
/// No-op on the collector thread.
pub(crate) fn wait_helping(slice: Duration) {
    if on_collector_thread() {
        return;
    }
    let end = {
        let c = CONTROL.lock();
        c.started + u64::from(c.requested)
    };
    // Acquire: pairs with the collector's Release store of `COMPLETED`.
    while COMPLETED.load(Ordering::Acquire) < end {
        let t = Instant::now();
        {
            let _parked = crate::park::park();
            super::assist::help(Some(t + slice));
        }
        // Waits only for what the slice has left: a slice spent marking is not followed by a
        // slice spent idle while marking work may still be shared.
        if t.elapsed() < slice && super::sweep::help(t + slice, || false) == 0 {
            wait_for_cycle_end(Some(slice.saturating_sub(t.elapsed())), || false);
        }
    }
}

/// Threads spinning in `wait_for_cycle_end`. `Relaxed`: a heuristic bound.
static SPINNERS: AtomicUsize = AtomicUsize::new(0);

/// A thread's place among the spinners.
struct Spinner;

impl Spinner {
    /// Takes a place if in low-latency mode and spinning leaves a CPU to the collector.
    fn enter() -> Option<Spinner> {
        if !pacer::low_latency() {
            return None;
        }
        static CPUS: OnceLock<usize> = OnceLock::new();
        let cpus =
            *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let previous = SPINNERS.fetch_add(1, Ordering::Relaxed);
        if previous + 1 < cpus {
            Some(Spinner)
        } else {
            SPINNERS.fetch_sub(1, Ordering::Relaxed);
            None
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        SPINNERS.fetch_sub(1, Ordering::Relaxed);
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
    wait_for(&mut c, target);
}

/// How often a blocked thread checks that the collector is not starved.
const STARVATION_CHECK: Duration = Duration::from_millis(10);

/// Blocks until `target` cycles have completed. If the collector got less than half a CPU
/// over a check interval, boosts it (see [`priority`]): its CPU time is then guaranteed even
/// if other threads keep every CPU busy.
fn wait_for(c: &mut MutexGuard<'_, Control>, target: u64) {
    let Some(mut cpu) = priority::collector_cpu_time() else {
        while c.completed < target {
            PROGRESS.wait(c);
        }
        return;
    };
    let mut since = Instant::now();
    while c.completed < target {
        if !PROGRESS.wait_until(c, since + STARVATION_CHECK).timed_out() {
            continue;
        }
        let now_cpu = priority::collector_cpu_time().unwrap_or(cpu);
        if (now_cpu.saturating_sub(cpu)) * 2 < since.elapsed() {
            let _boost = priority::boost();
            while c.completed < target {
                PROGRESS.wait(c);
            }
            return;
        }
        (cpu, since) = (now_cpu, Instant::now());
    }
}

fn collector_loop() {
    IS_COLLECTOR.with(|c| c.set(true));
    priority::init();
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
            // Release: pairs with the Acquire load in `request_cycle`.
            STARTED.store(c.started, Ordering::Release);
            std::mem::take(&mut c.forced)
        };
        priority::cycle_start();
        run_cycle(&mut snapshot, &mut grey, forced);
        {
            let mut c = CONTROL.lock();
            c.completed += 1;
            // Release: pairs with the Acquire loads in `wait_for_cycle_end`.
            COMPLETED.store(c.completed, Ordering::Release);
            if pacer::next_cycle_due() {
                c.requested = true;
            }
            PROGRESS.notify_all();
        }
    }
}
