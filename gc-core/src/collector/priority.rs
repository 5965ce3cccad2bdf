//! The collector thread's CPU priority.
//!
//! Go runs mark workers on processors that would otherwise be idle. In low-latency mode (the
//! default: see [`crate::set_low_latency`]) the collector thread on Linux does the same with the `SCHED_IDLE` policy: it runs whenever a CPU has nothing else
//! to do, and a mutator thread (or anything else) that wants a CPU preempts it at once, and is
//! placed on the collector's CPU rather than on a busy mutator's. A thread about to *block* on
//! the collector (`collect()`, or an allocation at twice the heap goal) boosts it back to the
//! normal policy if the collector is starved (it got less than half a CPU while the thread
//! waited), so other busy threads or processes can never starve a cycle that someone waits
//! for.
//!
//! The collector is also boosted until its next cycle when the heap passes 1.5 times its goal
//! (allocating threads outrun it: Go's dedicated mark workers) and when a barrier has waited
//! for the gate the collector holds (it was preempted in a phase change).
//!
//! Returning from `SCHED_IDLE` to the normal policy needs privilege (root, or an
//! `RLIMIT_NICE` of at least 20). Without it, and with low-latency mode off, the collector
//! keeps the normal policy throughout.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};

/// The collector's thread id while it may be lowered (0: priorities are not managed). Set once
/// (`Release`, after `COLLECTOR_CLOCK`; pairs with the `Acquire` load in
/// `collector_cpu_time`); elsewhere `Relaxed`: a stale 0 only skips a priority change.
static COLLECTOR_TID: AtomicI32 = AtomicI32::new(0);

/// The collector thread's CPU-time clock, valid once `COLLECTOR_TID` is set (`Relaxed`:
/// ordered by `COLLECTOR_TID`'s `Release` store and `Acquire` load).
static COLLECTOR_CLOCK: AtomicI32 = AtomicI32::new(0);

/// Threads blocked on the collector, and whether it runs at idle priority now.
struct Policy {
    waiters: usize,
    idle: bool,
}

static POLICY: Mutex<Policy> = Mutex::new(Policy {
    waiters: 0,
    idle: false,
});

/// Called once on the collector thread before its first cycle.
pub(crate) fn init() {
    #[cfg(target_os = "linux")]
    if let Some(clock) = linux::own_cpu_clock() {
        if linux::may_restore_normal_policy() {
            COLLECTOR_CLOCK.store(clock, Ordering::Relaxed);
            // Release: pairs with the Acquire load in `collector_cpu_time`.
            COLLECTOR_TID.store(linux::gettid(), Ordering::Release);
            cycle_start();
        }
    }
}

/// Moves the collector to idle priority or back; `p` is the locked policy.
fn set(p: &mut Policy, idle: bool) {
    let tid = COLLECTOR_TID.load(Ordering::Relaxed);
    if tid == 0 || p.idle == idle {
        return;
    }
    #[cfg(target_os = "linux")]
    if linux::set_idle(idle, tid) {
        p.idle = idle;
    }
}

/// Called by the collector at the start of each cycle (and when the latency mode changes):
/// lowers it in low-latency mode if no thread is blocked on it; raises it otherwise.
pub(crate) fn cycle_start() {
    if COLLECTOR_TID.load(Ordering::Relaxed) == 0 {
        return;
    }
    let mut p = POLICY.lock();
    let idle = super::pacer::low_latency() && p.waiters == 0;
    set(&mut p, idle);
}

/// The collector thread's CPU time so far, if its priority is managed.
pub(crate) fn collector_cpu_time() -> Option<std::time::Duration> {
    // Acquire: pairs with the Release store in `init`, so the clock read below is set.
    if COLLECTOR_TID.load(Ordering::Acquire) == 0 {
        return None;
    }
    #[cfg(target_os = "linux")]
    return linux::clock_time(COLLECTOR_CLOCK.load(Ordering::Relaxed));
    #[cfg(not(target_os = "linux"))]
    None
}

/// Keeps the collector boosted while alive (see [`boost`]).
pub(crate) struct Boosted(bool);

/// Called by a thread blocked on the collector that found it starved: the collector runs under
/// the normal policy until no thread is blocked on it and a new cycle starts.
pub(crate) fn boost() -> Boosted {
    if COLLECTOR_TID.load(Ordering::Relaxed) == 0 {
        return Boosted(false);
    }
    let mut p = POLICY.lock();
    p.waiters += 1;
    set(&mut p, false);
    Boosted(true)
}

/// Boosts the collector until its next cycle starts (called when the heap is far past its
/// goal, or when a barrier waited for the gate the collector holds).
pub(crate) fn boost_until_next_cycle() {
    if COLLECTOR_TID.load(Ordering::Relaxed) == 0 {
        return;
    }
    set(&mut POLICY.lock(), false);
}

impl Drop for Boosted {
    fn drop(&mut self) {
        if self.0 {
            POLICY.lock().waiters -= 1;
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    /// The calling thread's id.
    pub(super) fn gettid() -> i32 {
        // SAFETY: gettid has no preconditions.
        unsafe { libc::gettid() }
    }

    /// The calling thread's CPU-time clock.
    pub(super) fn own_cpu_clock() -> Option<libc::clockid_t> {
        let mut clock: libc::clockid_t = 0;
        // SAFETY: `pthread_self()` is the calling, live thread; `clock` is writable.
        let rc = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
        (rc == 0).then_some(clock)
    }

    /// The time of `clock`.
    pub(super) fn clock_time(clock: libc::clockid_t) -> Option<std::time::Duration> {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is writable; `clock` is the CPU clock of the collector thread, which
        // lives as long as the process.
        let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
        (rc == 0).then(|| std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    }

    /// True if this process may move a thread from `SCHED_IDLE` back to the normal policy.
    pub(super) fn may_restore_normal_policy() -> bool {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            return true;
        }
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `lim` is a valid, writable rlimit.
        let rc = unsafe { libc::getrlimit(libc::RLIMIT_NICE, &mut lim) };
        // The normal policy at nice 0 needs a ceiling of 20 - 0.
        rc == 0 && lim.rlim_cur >= 20
    }

    /// Moves thread `tid` (0: the caller) to `SCHED_IDLE` or back to the normal policy;
    /// returns whether the kernel accepted.
    pub(super) fn set_idle(idle: bool, tid: i32) -> bool {
        let param = libc::sched_param { sched_priority: 0 };
        let policy = if idle {
            libc::SCHED_IDLE
        } else {
            libc::SCHED_OTHER
        };
        // SAFETY: `param` is a valid sched_param for either policy (priority 0), and `tid`
        // is the caller or the collector thread, which lives as long as the process.
        unsafe { libc::sched_setscheduler(tid, policy, &param) == 0 }
    }
}
