//! The collector: a background thread that runs cycles as an explicit phase machine.
//!
//! One cycle, with the phase mutators see in brackets:
//! 1. close the gate, bump the epoch, publish [`Phase::Mark`], open the gate (a pause);
//! 2. snapshot: take every block allocated so far (later ones are black and not swept);
//! 3. count internal handles, find roots (objects with more handles than were found inside
//!    the heap), trace from them and from what barriers shade;
//! 4. terminate: under the closed gate, if no barrier left work, publish [`Phase::Sweep`]
//!    (a pause); otherwise open the gate and keep marking;
//! 5. sweep the snapshot (weak refs cleared, values dropped, blocks freed);
//! 6. close the gate, publish [`Phase::Idle`], open it (a pause); pace the next cycle.

pub(crate) mod assist;
#[cfg(loom)]
mod inline;
pub(crate) mod mark;
pub(crate) mod pacer;
#[cfg(not(loom))]
pub(crate) mod priority;
pub(crate) mod state;
pub(crate) mod sweep;
pub(crate) mod sweep_work;
#[cfg(not(loom))]
mod thread;
mod trace_line;

use crate::barrier;
use crate::cleanup;
use crate::heap::cache;
use crate::heap::header::Header;
use crate::heap::list::{self, ObjList};
use crate::stats::{self, RECENT_PAUSES};
use state::{Phase, State};
use std::ptr::NonNull;
use std::time::{Duration, Instant};

#[cfg(loom)]
pub(crate) use inline::{ensure_started, request_cycle, wait_for_cycle_end};
#[cfg(not(loom))]
pub(crate) use priority::boost_until_next_cycle;
#[cfg(not(loom))]
pub(crate) use thread::{ensure_started, request_cycle, wait_for_cycle_end, wait_helping};

/// Runs a full collection cycle and returns when it is done, like Go's `runtime.GC()`: every
/// object unreachable when `collect` was called has been dropped and freed and its weak
/// references cleared. Cycles cannot be nested: called from a value's `Drop` while the
/// collector sweeps, it returns at once.
///
/// Objects held only by a cell that some thread has borrowed mutably for the whole cycle are
/// kept (conservatively) until a later cycle.
///
/// ```
/// use gc_core::{collect, Gc, GcCell};
///
/// struct Node(GcCell<Option<Gc<Node>>>);
/// // SAFETY: the cell is the only field and is traced.
/// unsafe impl gc_core::Trace for Node {
///     fn trace(&self, t: &mut gc_core::Tracer) { self.0.trace(t) }
/// }
///
/// let a = Gc::new(Node(GcCell::new(None)));
/// *a.0.borrow_mut() = Some(a.clone()); // a self-cycle
/// let w = Gc::downgrade(&a);
/// drop(a);
/// collect();
/// assert!(w.upgrade().is_none());
/// ```
pub fn collect() {
    #[cfg(not(loom))]
    thread::collect();
    #[cfg(loom)]
    inline::collect();
}

/// Closes the gate, publishes `s`, opens it; returns how long mutators could be held.
fn change_phase(s: State) -> Duration {
    let t = Instant::now();
    let gate = barrier::close_gate();
    if s.phase() == Phase::Mark {
        state::marking_begins();
    }
    state::store(s);
    drop(gate);
    t.elapsed()
}

/// Timings and sizes of one cycle, for stats and the gctrace line.
pub(crate) struct CycleReport {
    pub(crate) forced: bool,
    pub(crate) start: Instant,
    pub(crate) pause_start: Duration,
    pub(crate) concurrent_mark: Duration,
    pub(crate) pause_end: Duration,
    pub(crate) sweep: Duration,
    /// CPU time of the collector thread in the three parts of the clock figures.
    pub(crate) cpu_pause_start: Duration,
    pub(crate) cpu_mark: Duration,
    pub(crate) cpu_pause_end: Duration,
    /// Time allocating threads spent assisting during this cycle.
    pub(crate) assist: Duration,
    pub(crate) heap_start: u64,
    pub(crate) heap_mark_end: u64,
    pub(crate) marked: u64,
    pub(crate) goal: u64,
    pub(crate) stacks: u64,
}

/// Runs one cycle. `snapshot` holds the survivors of the last cycle and is left holding this
/// cycle's; `grey` is the marker's work list (empty between cycles, kept for its capacity).
fn run_cycle(snapshot: &mut ObjList, grey: &mut Vec<NonNull<Header>>, forced: bool) {
    let start = Instant::now();
    let cpu_start = stats::thread_cpu_time();
    let assist_start = pacer::assist_total();
    let heap_start = pacer::heap_live();
    let goal = pacer::goal();
    let epoch = state::next_epoch(state::load().epoch());
    let pause_start = change_phase(State::new(epoch, Phase::Mark));

    let mark_start = Instant::now();
    let cpu_mark_start = stats::thread_cpu_time();
    cache::drain_into(snapshot, epoch);
    mark::count(snapshot, epoch);
    mark::roots(snapshot, epoch, grey);
    state::roots_found();
    let mut pause_end = Duration::ZERO;
    let mut cpu_pause_end = Duration::ZERO;
    let mut abandoned = false;
    loop {
        abandoned |= mark::drain(grey, epoch).is_err();
        let t = Instant::now();
        let cpu_t = stats::thread_cpu_time();
        let gate = barrier::close_gate();
        let done = abandoned || barrier::grey_is_empty();
        if done {
            state::store(State::new(epoch, Phase::Sweep));
        }
        drop(gate);
        pause_end += t.elapsed();
        cpu_pause_end += stats::thread_cpu_time().saturating_sub(cpu_t);
        if done {
            break;
        }
    }
    let concurrent_mark = mark_start.elapsed().saturating_sub(pause_end);
    let cpu_mark = stats::thread_cpu_time()
        .saturating_sub(cpu_mark_start)
        .saturating_sub(cpu_pause_end);
    let heap_mark_end = pacer::heap_live();

    let sweep_start = Instant::now();
    let swept = if abandoned {
        // A `Trace` impl panicked: keep the whole snapshot for the next cycle.
        eprintln!("gc: a Trace impl panicked while marking; this cycle frees nothing");
        grey.clear();
        sweep::Swept::default()
    } else {
        sweep::sweep(snapshot, epoch)
    };
    // Keep about one cycle's worth of spare list chunks: the survivors' count is what the
    // allocating threads fill again before the next cycle at the default percent.
    list::trim_pool(snapshot.chunk_count());
    let sweep = sweep_start.elapsed();
    let t = Instant::now();
    let gate = barrier::close_gate();
    if abandoned {
        barrier::clear_grey();
    }
    state::store(State::new(epoch, Phase::Idle));
    drop(gate);
    pause_end += t.elapsed();

    let stacks = gc_stack::total_stack_bytes() as u64;
    pacer::cycle_done(
        swept.marked_bytes,
        swept.freed_bytes + swept.spare_bytes,
        stacks,
    );
    let report = CycleReport {
        forced,
        start,
        pause_start,
        concurrent_mark,
        pause_end,
        sweep,
        cpu_pause_start: cpu_mark_start.saturating_sub(cpu_start),
        cpu_mark,
        cpu_pause_end,
        assist: pacer::assist_total().saturating_sub(assist_start),
        heap_start,
        heap_mark_end,
        marked: swept.marked_bytes,
        goal,
        stacks,
    };
    let line = {
        let mut rec = stats::record();
        rec.num_gc += 1;
        rec.num_forced_gc += u64::from(forced);
        rec.freed_bytes += swept.freed_bytes;
        rec.freed_objects += swept.freed_objects;
        rec.last_marked_bytes = swept.marked_bytes;
        let pause = report.pause_start + report.pause_end;
        rec.pause_total += pause;
        rec.pause_max = rec.pause_max.max(pause);
        if rec.pauses.len() == RECENT_PAUSES {
            rec.pauses.pop_front();
        }
        rec.pauses.push_back(pause);
        rec.mark_total += report.concurrent_mark + report.pause_start + report.pause_end;
        rec.sweep_total += report.sweep;
        rec.busy += start.elapsed();
        rec.drop_panics += swept.drop_panics;
        pacer::trace_enabled().then(|| trace_line::format(rec.num_gc, &report, rec.busy))
    };
    if let Some(line) = line {
        eprintln!("{line}");
    }
    cleanup::run(swept.cleanups);
}
