//! `GcStats`: what the heap and the collector have done, like Go's `runtime.MemStats`.

use crate::collector::pacer;
use crate::heap::cache;
use crate::primitive::{global, Mutex, MutexGuard};
use std::collections::VecDeque;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How many recent cycles' pauses are kept (Go keeps 256 in `PauseNs`).
pub(crate) const RECENT_PAUSES: usize = 256;

/// A snapshot of the heap's statistics, returned by [`stats`].
///
/// ```
/// let before = gc_core::stats();
/// let _x = gc_core::Gc::new([0u8; 100]);
/// gc_core::collect();
/// let after = gc_core::stats();
/// assert!(after.num_gc > before.num_gc);
/// assert!(after.total_alloc_objects > before.total_alloc_objects);
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct GcStats {
    /// Bytes in heap blocks not yet freed (live or awaiting the next sweep), headers included.
    pub heap_live_bytes: u64,
    /// Heap blocks not yet freed.
    pub heap_objects: u64,
    /// Bytes of memory the heap holds in spans for small blocks, carved into blocks in use or
    /// free (like Go's `HeapSys` for small objects). A span's pages go back to the operating
    /// system when a sweep finds all its blocks free past what the pool keeps. Zero in
    /// sanitizer builds, where every block comes from the system allocator.
    pub heap_span_bytes: u64,
    /// Bytes ever allocated on the heap.
    pub total_alloc_bytes: u64,
    /// Blocks ever allocated.
    pub total_alloc_objects: u64,
    /// Bytes ever freed: by the sweeper, or at once when the last handle to an object was
    /// dropped by the thread that allocated it before any cycle took it.
    pub total_freed_bytes: u64,
    /// Blocks ever freed.
    pub total_freed_objects: u64,
    /// The heap goal: the next automatic cycle finishes before the heap grows past it.
    pub next_gc: u64,
    /// Bytes marked live by the last cycle.
    pub last_marked_bytes: u64,
    /// Completed cycles, forced ones included (Go's `NumGC`).
    pub num_gc: u64,
    /// Completed cycles started by [`collect`](crate::collect) (Go's `NumForcedGC`).
    pub num_forced_gc: u64,
    /// Total time mutators could be held at the collector's phase changes.
    pub pause_total: Duration,
    /// The last cycle's pause (sum of its phase changes).
    pub last_pause: Duration,
    /// The longest pause of any cycle so far.
    pub pause_max: Duration,
    /// Pauses of the most recent cycles, oldest first (at most 256, like Go's `PauseNs`).
    pub recent_pauses: Vec<Duration>,
    /// Time spent counting, finding roots and marking, over all cycles.
    pub mark_total: Duration,
    /// Time spent sweeping, over all cycles.
    pub sweep_total: Duration,
    /// Time allocating threads spent helping the collector when allocation ran past the goal
    /// (marking for it, then waiting for the cycle to end), over all threads.
    pub assist_total: Duration,
    /// Objects scanned by allocating threads' mark assists, over all cycles.
    pub assist_scanned_objects: u64,
    /// Objects swept by allocating threads past the heap goal (kept, freed, or found dead and
    /// left to the collector's thread), over all cycles.
    pub assist_swept_objects: u64,
    /// Fraction of the available CPU time (all cores since the heap started) the collector
    /// used (Go's `GCCPUFraction`).
    pub gc_cpu_fraction: f64,
    /// Bytes on the per-thread stacks (frame values).
    pub stack_bytes: u64,
    /// Threads currently registered with the heap.
    pub threads: usize,
    /// Values whose `Drop` panicked while being freed (the panic is caught and counted).
    pub drop_panics: u64,
}

/// What the collector records per cycle; read by [`stats`].
#[derive(Default)]
pub(crate) struct Record {
    pub(crate) num_gc: u64,
    pub(crate) num_forced_gc: u64,
    pub(crate) freed_bytes: u64,
    pub(crate) freed_objects: u64,
    pub(crate) last_marked_bytes: u64,
    pub(crate) pause_total: Duration,
    pub(crate) pause_max: Duration,
    pub(crate) pauses: VecDeque<Duration>,
    pub(crate) mark_total: Duration,
    pub(crate) sweep_total: Duration,
    pub(crate) busy: Duration,
    pub(crate) drop_panics: u64,
}

global! {
static RECORD: Mutex<Record> = Mutex::new(Record {
    num_gc: 0,
    num_forced_gc: 0,
    freed_bytes: 0,
    freed_objects: 0,
    last_marked_bytes: 0,
    pause_total: Duration::ZERO,
    pause_max: Duration::ZERO,
    pauses: VecDeque::new(),
    mark_total: Duration::ZERO,
    sweep_total: Duration::ZERO,
    busy: Duration::ZERO,
    drop_panics: 0,
});
}

/// The collector's record, locked.
pub(crate) fn record() -> MutexGuard<'static, Record> {
    RECORD.lock()
}

/// When the heap was first used: the origin of gctrace's `@` times and the CPU fraction.
pub(crate) fn start_time() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// CPU time the calling thread has used (Go's gctrace splits clock and CPU time).
pub(crate) fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is supported on every
    // Linux and macOS this crate builds for, and on failure `ts` stays zero.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Available parallelism (Go's `GOMAXPROCS`).
pub(crate) fn procs() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
}

/// Fraction of all cores' time since start spent in `busy`.
pub(crate) fn cpu_fraction(busy: Duration) -> f64 {
    let wall = start_time().elapsed().as_secs_f64() * procs() as f64;
    if wall > 0.0 {
        busy.as_secs_f64() / wall
    } else {
        0.0
    }
}

/// Reads the heap's statistics now, like Go's `runtime.ReadMemStats`.
///
/// ```
/// let s = gc_core::stats();
/// assert!(s.next_gc >= 4 << 20);
/// assert_eq!(s.heap_objects, s.total_alloc_objects - s.total_freed_objects);
/// ```
pub fn stats() -> GcStats {
    pacer::init_from_env();
    let rec = record();
    // Read the collector's totals first, under its record lock, then the allocation totals:
    // a block is counted as allocated before it can be freed, so alloc >= freed holds.
    let t = cache::totals();
    let freed_bytes = rec.freed_bytes + t.freed_bytes;
    let freed_objects = rec.freed_objects + t.freed_objects;
    GcStats {
        heap_live_bytes: t.alloc_bytes - freed_bytes,
        heap_objects: t.alloc_objects - freed_objects,
        heap_span_bytes: crate::heap::blocks::span_bytes(),
        total_alloc_bytes: t.alloc_bytes,
        total_alloc_objects: t.alloc_objects,
        total_freed_bytes: freed_bytes,
        total_freed_objects: freed_objects,
        next_gc: pacer::goal(),
        last_marked_bytes: rec.last_marked_bytes,
        num_gc: rec.num_gc,
        num_forced_gc: rec.num_forced_gc,
        pause_total: rec.pause_total,
        last_pause: rec.pauses.back().copied().unwrap_or_default(),
        pause_max: rec.pause_max,
        recent_pauses: rec.pauses.iter().copied().collect(),
        mark_total: rec.mark_total,
        sweep_total: rec.sweep_total,
        assist_total: pacer::assist_total(),
        assist_scanned_objects: crate::collector::assist::scanned(),
        assist_swept_objects: crate::collector::sweep_work::swept_by_allocators(),
        gc_cpu_fraction: cpu_fraction(rec.busy),
        stack_bytes: gc_stack::total_stack_bytes() as u64,
        threads: gc_stack::thread_count(),
        drop_panics: rec.drop_panics,
    }
}
