//! The pacer: when to start a cycle, from Go's heap-goal formula and the memory limit.

use super::{request_cycle, wait_for_cycle_end};
use crate::primitive::{global, AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Once;

/// Go's minimum heap: the goal is never below 4 MiB x percent / 100.
const MIN_HEAP: u64 = 4 << 20;

global! {
    /// `GOGC`-style percent; negative disables automatic cycles. Statistics-grade value, `Relaxed`.
    static PERCENT: AtomicI64 = AtomicI64::new(100);
}
global! {
    /// Soft memory limit in bytes (`u64::MAX`: none). `Relaxed`, as above.
    static LIMIT: AtomicU64 = AtomicU64::new(u64::MAX);
}
global! {
    /// Bytes reported by allocating threads (in batches). `Relaxed`: a trigger heuristic.
    static REPORTED: AtomicU64 = AtomicU64::new(0);
}
global! {
    /// Bytes freed by the sweeper. `Relaxed`, as above.
    static FREED: AtomicU64 = AtomicU64::new(0);
}
global! {
    /// Heap goal in bytes. `Relaxed`, as above.
    static GOAL: AtomicU64 = AtomicU64::new(MIN_HEAP);
}
global! {
    /// Heap size at which the next cycle starts: part-way to the goal, so that the cycle can
    /// finish before the heap reaches the goal while mutators keep allocating. `Relaxed`.
    static TRIGGER: AtomicU64 = AtomicU64::new(MIN_HEAP);
}
global! {
    /// Bytes marked live by the last cycle, and the stack bytes then (for recomputing the goal).
    static LAST_MARKED: AtomicU64 = AtomicU64::new(0);
}
global! {
    static LAST_STACKS: AtomicU64 = AtomicU64::new(0);
}
/// The longest an allocating thread past the goal assists (marks, sweeps, then waits) per
/// 64 KiB batch. It bounds the library's own part of a mutator's longest gap: the pauses
/// example's longest own gap at 4 M and 16 M live objects went from 540-620 us (a 500 us
/// slice) to 300-400 us, with the same throughput and about 2% more peak heap there.
const ASSIST_SLICE: std::time::Duration = std::time::Duration::from_micros(250);

global! {
    /// Nanoseconds allocating threads spent assisting: marking for the collector, or waiting
    /// for it. `Relaxed`: a statistic.
    static ASSIST_NS: AtomicU64 = AtomicU64::new(0);
}

/// Total time allocating threads spent assisting.
pub(crate) fn assist_total() -> std::time::Duration {
    std::time::Duration::from_nanos(ASSIST_NS.load(Ordering::Relaxed))
}

global! {
    /// gctrace on (`GC_TRACE=1`). `Relaxed`: a flag read once per cycle.
    static TRACE: AtomicBool = AtomicBool::new(false);
}
global! {
    /// Low-latency mode (`GC_LOW_LATENCY`, default on). `Relaxed`: a policy flag.
    static LOW_LATENCY: AtomicBool = AtomicBool::new(true);
}

/// Reads `GC_PERCENT`, `GC_MEMORY_LIMIT` and `GC_TRACE` once, at first use of the heap.
pub(crate) fn init_from_env() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if let Ok(v) = std::env::var("GC_PERCENT") {
            match parse_percent(&v) {
                Some(p) => PERCENT.store(p, Ordering::Relaxed),
                None => eprintln!("gc: ignoring GC_PERCENT={v:?}: expected an integer or \"off\""),
            }
        }
        if let Ok(v) = std::env::var("GC_MEMORY_LIMIT") {
            match parse_bytes(&v) {
                Some(b) => LIMIT.store(b, Ordering::Relaxed),
                None => eprintln!(
                    "gc: ignoring GC_MEMORY_LIMIT={v:?}: expected bytes with an optional \
                     B, KiB, MiB, GiB or TiB suffix, or \"off\""
                ),
            }
        }
        if let Ok(v) = std::env::var("GC_TRACE") {
            TRACE.store(v.trim() == "1", Ordering::Relaxed);
        }
        if let Ok(v) = std::env::var("GC_LOW_LATENCY") {
            match v.trim() {
                "1" | "on" => LOW_LATENCY.store(true, Ordering::Relaxed),
                "0" | "off" => LOW_LATENCY.store(false, Ordering::Relaxed),
                _ => eprintln!("gc: ignoring GC_LOW_LATENCY={v:?}: expected 1, 0, on or off"),
            }
        }
        recompute_goal();
    });
}

/// Parses a percent: an integer or `off` (-1), as `GOGC` does.
pub(crate) fn parse_percent(v: &str) -> Option<i64> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("off") {
        return Some(-1);
    }
    v.parse().ok()
}

/// Parses a byte count with an optional suffix, as `GOMEMLIMIT` does.
pub(crate) fn parse_bytes(v: &str) -> Option<u64> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("off") {
        return Some(u64::MAX);
    }
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        _ => return None,
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

pub(crate) fn trace_enabled() -> bool {
    TRACE.load(Ordering::Relaxed)
}

/// True in low-latency mode (see [`crate::set_low_latency`]).
#[cfg(not(loom))]
pub(crate) fn low_latency() -> bool {
    LOW_LATENCY.load(Ordering::Relaxed)
}

/// Sets low-latency mode; returns the previous setting.
pub(crate) fn set_low_latency(on: bool) -> bool {
    init_from_env();
    let old = LOW_LATENCY.swap(on, Ordering::Relaxed);
    #[cfg(not(loom))]
    super::priority::cycle_start();
    old
}

/// Turns the gctrace line on or off; returns the previous setting.
pub(crate) fn set_trace(on: bool) -> bool {
    init_from_env();
    TRACE.swap(on, Ordering::Relaxed)
}

/// The heap goal for `marked` live bytes and `stacks` stack bytes under the current knobs.
pub(crate) fn goal_for(marked: u64, stacks: u64, percent: i64, limit: u64) -> u64 {
    let by_percent = if percent < 0 {
        u64::MAX
    } else {
        let p = percent as u64;
        let grow = (marked + stacks).saturating_mul(p) / 100;
        (marked + grow).max(MIN_HEAP.saturating_mul(p) / 100)
    };
    by_percent.min(limit)
}

fn recompute_goal() {
    let goal = goal_for(
        LAST_MARKED.load(Ordering::Relaxed),
        LAST_STACKS.load(Ordering::Relaxed),
        PERCENT.load(Ordering::Relaxed),
        LIMIT.load(Ordering::Relaxed),
    );
    GOAL.store(goal, Ordering::Relaxed);
    TRIGGER.store(
        trigger_for(LAST_MARKED.load(Ordering::Relaxed), goal),
        Ordering::Relaxed,
    );
}

/// Fraction of the runway from the live heap to the goal after which a cycle starts (Go's
/// pacer keeps its trigger between 0.7 and 0.95 of the runway).
const TRIGGER_RUNWAY: f64 = 0.7;

/// Where the next cycle starts, for `marked` live bytes and heap `goal`.
pub(crate) fn trigger_for(marked: u64, goal: u64) -> u64 {
    if goal == u64::MAX {
        return u64::MAX;
    }
    let runway = goal.saturating_sub(marked) as f64;
    marked.saturating_add((runway * TRIGGER_RUNWAY) as u64)
}

/// Bytes live by the pacer's count (reported allocations minus frees).
pub(crate) fn heap_live() -> u64 {
    REPORTED
        .load(Ordering::Relaxed)
        .saturating_sub(FREED.load(Ordering::Relaxed))
}

/// The heap size at which the next automatic cycle starts.
#[cfg(not(loom))]
pub(crate) fn trigger() -> u64 {
    TRIGGER.load(Ordering::Relaxed)
}

/// The current heap goal.
pub(crate) fn goal() -> u64 {
    GOAL.load(Ordering::Relaxed)
}

/// Called by allocating threads with a batch of newly allocated bytes.
pub(crate) fn note_alloc(bytes: usize) {
    if bytes == 0 {
        return;
    }
    let reported = REPORTED.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
    let live = reported.saturating_sub(FREED.load(Ordering::Relaxed));
    if live >= TRIGGER.load(Ordering::Relaxed) {
        request_cycle(false);
        let goal = goal();
        // Past the goal the allocator is outrunning the collector: it pays for each batch by
        // marking for the collector, then waiting for the cycle, at most one slice per batch
        // (which caps its allocation rate without stopping it for a whole cycle); at twice the
        // goal it waits for the cycle.
        #[cfg(not(loom))]
        if live >= goal.saturating_add(goal / 2) {
            super::boost_until_next_cycle();
        }
        let limit = if live >= goal.saturating_mul(2) {
            None
        } else if live >= goal {
            Some(ASSIST_SLICE)
        } else {
            return;
        };
        let t = std::time::Instant::now();
        match limit {
            // Past twice the goal: wait for the cycle to end, marking or sweeping for it
            // whenever it can.
            #[cfg(not(loom))]
            None => super::wait_helping(ASSIST_SLICE),
            #[cfg(loom)]
            None => wait_for_cycle_end(None, || false),
            Some(limit) => {
                // First help the marker for up to a slice (parked: the marker may read the
                // cells this thread holds), then sweep for the collector if it sweeps, then
                // wait for what is left of the limit.
                #[cfg(not(loom))]
                {
                    {
                        let _parked = crate::park::park();
                        super::assist::help(Some(t + ASSIST_SLICE));
                    }
                    let _swept = super::sweep::help(t + limit, || heap_live() < self::goal());
                }
                let left = limit.saturating_sub(t.elapsed());
                if left != std::time::Duration::ZERO {
                    // The sweep reports what it frees as it goes: once the heap is back under
                    // its goal, nothing more is owed.
                    wait_for_cycle_end(Some(left), || heap_live() < self::goal());
                }
            }
        }
        ASSIST_NS.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }
}

global! {
    /// Bytes of blocks retired (value dropped by a mutator, block waiting for a sweep) since
    /// the last cycle ended. `Relaxed`: a trigger heuristic.
    static RETIRED: AtomicU64 = AtomicU64::new(0);
}

/// Reports `bytes` of blocks retired by a mutator (see `heap::reclaim`): they are garbage the
/// next sweep frees without tracing. Once they reach a quarter of the heap (at least the
/// minimum heap), a cycle is requested (unless automatic cycles are off), so that memory is
/// reused instead of the heap growing past them.
pub(crate) fn note_retired(bytes: u64) {
    if bytes == 0 {
        return;
    }
    let retired = RETIRED.fetch_add(bytes, Ordering::Relaxed) + bytes;
    // Counted again from zero once a cycle is asked for (a request dropped because the
    // collector's lock was busy is repeated at the next retirement).
    if garbage_due(retired, heap_live(), goal()) && request_cycle(false) {
        RETIRED.store(0, Ordering::Relaxed);
    }
}

global! {
    /// Bytes of blocks whose last handle was dropped while a cycle ran (or that could not be
    /// retired) since the last cycle ended: garbage the running cycle keeps (SATB shades what
    /// is dropped while marking) and only the next one frees. `Relaxed`: a trigger heuristic.
    static FLOATING: AtomicU64 = AtomicU64::new(0);
}

/// Reports `bytes` of garbage left to the collector by a last handle's drop (see
/// [`FLOATING`]).
pub(crate) fn note_floating(bytes: u64) {
    FLOATING.fetch_add(bytes, Ordering::Relaxed);
}

/// Called by the collector when a cycle has ended: true if the next should start at once,
/// because the heap is past its trigger, or because a quarter of it (at least the minimum
/// heap) became garbage while the cycle ran, which only the next cycle frees: the heap would
/// otherwise grow past that garbage to its goal before it is reused.
#[cfg(not(loom))]
pub(crate) fn next_cycle_due() -> bool {
    let floating = FLOATING.swap(0, Ordering::Relaxed);
    let live = heap_live();
    live >= trigger() || garbage_due(floating, live, goal())
}

/// True if `garbage` bytes waiting for a sweep in a heap of `live` bytes (garbage included)
/// call for a cycle now: they reach a quarter of the heap, at least the minimum heap, and
/// automatic cycles are on (the goal is finite).
fn garbage_due(garbage: u64, live: u64, goal: u64) -> bool {
    goal != u64::MAX && garbage >= (live / 4).max(MIN_HEAP)
}

/// Reports `bytes` of large blocks freed by allocating threads at once (a last handle
/// dropped), not by a sweep: the heap is that much smaller. (A small block freed at once is
/// kept as a spare, still part of the heap, and reported when a sweep frees it.)
pub(crate) fn note_free(bytes: usize) {
    if bytes > 0 {
        FREED.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

/// Reports `bytes` freed by the running sweep (it reports the rest when the cycle ends).
pub(crate) fn note_swept(bytes: u64) {
    FREED.fetch_add(bytes, Ordering::Relaxed);
}

/// Called by the collector when a cycle has swept.
pub(crate) fn cycle_done(marked: u64, freed: u64, stacks: u64) {
    FREED.fetch_add(freed, Ordering::Relaxed);
    RETIRED.store(0, Ordering::Relaxed);
    LAST_MARKED.store(marked, Ordering::Relaxed);
    LAST_STACKS.store(stacks, Ordering::Relaxed);
    recompute_goal();
}

/// Sets the percent; returns the previous one. See [`crate::set_gc_percent`].
pub(crate) fn set_percent(p: i64) -> i64 {
    init_from_env();
    let old = PERCENT.swap(p, Ordering::Relaxed);
    recompute_goal();
    if heap_live() >= TRIGGER.load(Ordering::Relaxed) {
        request_cycle(false);
    }
    old
}

/// Sets the memory limit; returns the previous one.
pub(crate) fn set_limit(bytes: u64) -> u64 {
    init_from_env();
    let old = LIMIT.swap(bytes, Ordering::Relaxed);
    recompute_goal();
    if heap_live() >= TRIGGER.load(Ordering::Relaxed) {
        request_cycle(false);
    }
    old
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_leaves_runway_before_the_goal() {
        assert_eq!(trigger_for(10 << 20, 20 << 20), (10 << 20) + (7 << 20));
        assert_eq!(trigger_for(0, 4 << 20), ((4 << 20) as f64 * 0.7) as u64);
        assert_eq!(trigger_for(1 << 30, u64::MAX), u64::MAX);
    }

    #[test]
    fn goal_follows_go() {
        // Go: goal = live + (live + stacks) * GOGC / 100, at least 4 MiB * GOGC / 100.
        assert_eq!(goal_for(10 << 20, 0, 100, u64::MAX), 20 << 20);
        assert_eq!(
            goal_for(10 << 20, 2 << 20, 50, u64::MAX),
            (10 << 20) + (6 << 20)
        );
        assert_eq!(goal_for(0, 0, 100, u64::MAX), 4 << 20);
        assert_eq!(goal_for(0, 0, 200, u64::MAX), 8 << 20);
        assert_eq!(goal_for(1 << 30, 0, -1, u64::MAX), u64::MAX);
        assert_eq!(goal_for(1 << 30, 0, -1, 64 << 20), 64 << 20);
        assert_eq!(goal_for(10 << 20, 0, 100, 15 << 20), 15 << 20);
    }

    #[test]
    fn garbage_calls_for_a_cycle_past_a_quarter_of_the_heap() {
        assert!(garbage_due(25 << 20, 100 << 20, 200 << 20));
        assert!(!garbage_due((25 << 20) - 1, 100 << 20, 200 << 20));
        assert!(
            !garbage_due(3 << 20, 8 << 20, 16 << 20),
            "at least the minimum heap"
        );
        assert!(garbage_due(4 << 20, 8 << 20, 16 << 20));
        assert!(
            !garbage_due(1 << 30, 1 << 30, u64::MAX),
            "not with cycles off"
        );
    }

    #[test]
    fn env_values_parse_like_go() {
        assert_eq!(parse_percent("off"), Some(-1));
        assert_eq!(parse_percent(" 50 "), Some(50));
        assert_eq!(parse_percent("x"), None);
        assert_eq!(parse_bytes("512MiB"), Some(512 << 20));
        assert_eq!(parse_bytes("1024"), Some(1024));
        assert_eq!(parse_bytes("off"), Some(u64::MAX));
        assert_eq!(parse_bytes("3 GiB"), Some(3 << 30));
        assert_eq!(parse_bytes("5MB"), None);
    }
}
