//! Per-thread allocation lists: each thread appends its new blocks to its own list, which the
//! collector drains at the start of a cycle by moving its chunks (the owner's lock is held for
//! that move only, never for copying entries), so allocation does not serialise threads and
//! the collector never holds an allocating thread for long.
//!
//! A small block its thread frees at once stays in the list, marked [`SPARE`], and the thread
//! hands it out again for its next allocation of the same size class: the list entry, the
//! block and its index are reused as they are, so freeing and allocating again touch neither
//! the list's chunks nor the block cache. A drain ends that: the spares are then in a snapshot,
//! and its sweep frees them.
//!
//! A small block the thread retires (a cycle took it, see `heap::reclaim`) is kept the same
//! way, as a husk, until the next drain of the thread's list: the next cycle's sweep, which
//! would free it, comes after that drain.

use super::blocks;
use super::header::{Header, HAS_CLEANUP, HUSK, RETIRING, SPARE};
use super::list::ObjList;
use super::thread_cell::ThreadCell;
use super::ObjPtr;
use crate::biased_lock::{self, BiasedLock};
use crate::collector::pacer;
use crate::collector::state::{self, Phase, State};
use crate::primitive::{global, local, Arc, Mutex, Ordering};
use std::alloc::Layout;
use std::cell::{Cell, OnceCell, RefCell};
use std::ptr::NonNull;

/// Blocks a thread allocated since the collector last drained its list, and its totals.
#[derive(Default)]
pub(crate) struct ThreadList {
    objects: ObjList,
    /// What this thread ever allocated, and freed at once (see `Local::unregister`).
    totals: Totals,
    /// The epoch of the last cycle that drained this list.
    drained_epoch: u32,
    /// How many times a cycle drained this list (the generation of its spares).
    drains: u64,
}

/// A thread's list: its owner takes the lock for each allocation and each block it frees at
/// once (without a read-modify-write: the lock is biased to it), the collector to drain it.
type Shared = Arc<BiasedLock<ThreadList>>;

global! {
    /// Every thread's list, plus lists of exited threads not yet drained.
    static LISTS: Mutex<Vec<Shared>> = Mutex::new(Vec::new());
}

global! {
    /// Blocks allocated while a thread's thread-locals were being torn down.
static ORPHANS: Mutex<ThreadList> = Mutex::new(ThreadList {
    objects: ObjList::new(),
    totals: Totals::ZERO,
    drained_epoch: 0,
    drains: 0,
});
}

/// Bytes allocated (or, negative, freed) by this thread and not yet reported to the pacer.
const FLUSH_BYTES: isize = 64 * 1024;

/// The calling thread's allocation state: its list, its unreported balance, its spares, and
/// the blocks it took from its list and is about to free.
pub(crate) struct Local {
    list: Shared,
    unflushed: Cell<isize>,
    /// The blocks this thread keeps for its next allocations (one cell: an allocation looks
    /// at both kinds).
    kept: ThreadCell<Kept>,
    /// Bytes of garbage left to the collector and not yet reported (see `note_floating`).
    floating: Cell<u64>,
    frees: Frees,
    /// Blocks whose last handle this thread dropped while cycle `.0` marked, each seen marked
    /// by that cycle before the decrement: retired by this thread once that cycle is over
    /// (see `heap::reclaim`).
    after_marking: RefCell<(u32, Vec<ObjPtr>)>,
    /// `after_marking` holds blocks.
    after_marking_pending: Cell<bool>,
}

/// Blocks a thread took from its list (see [`Local::unregister`]) whose values are waiting to
/// be dropped, and whether a loop on the thread is dropping them (`heap::reclaim` runs it).
#[derive(Default)]
pub(crate) struct Frees {
    pub(crate) active: Cell<bool>,
    /// Each block with its [`Taken`] packed in one word (two words an entry: a larger one
    /// went through the stack and cost binary-trees measurably).
    pending: ThreadCell<Vec<(ObjPtr, u64)>>,
}

impl Frees {
    /// Queues `obj`, taken as `taken`.
    #[inline]
    pub(crate) fn push(&self, obj: ObjPtr, taken: Taken) {
        // SAFETY: a push runs no code of this heap: growing the vector calls only the global
        // allocator, which must not make or drop `Gc` handles (README: the heap takes its own
        // blocks from it, and would be entered again from inside them).
        unsafe { self.pending.with(|p| p.push((obj, taken.pack()))) };
    }

    /// The block queued last, if any.
    #[inline]
    pub(crate) fn pop(&self) -> Option<(ObjPtr, Taken)> {
        // SAFETY: a pop runs no user code.
        let (obj, packed) = unsafe { self.pending.with(Vec::pop) }?;
        Some((obj, Taken::unpack(packed)))
    }
}

/// The blocks a thread keeps for its next allocations.
#[derive(Default)]
struct Kept {
    /// Small blocks this thread freed at once. Each is still in the thread's list (at the
    /// index its header's `internal` holds), marked [`SPARE`], and may be handed out while
    /// the list has not been drained since.
    spares: Stacks,
    /// Small blocks this thread retired (see `heap::reclaim`). Each is [`HUSK`]: its value
    /// was dropped and it waits in some list (a snapshot's survivors, or another thread's
    /// list) for the next sweep, which comes after the next drain of this thread's list (see
    /// [`Local::unregister`]): it may be handed out until then.
    husks: Stacks,
}

/// Blocks a thread keeps for its next allocations, a stack per size class, all kept while its
/// list had been drained `generation` times. They may be handed out only while the list's
/// drain count (read under its lock) is still `generation`: a drain puts them in a snapshot,
/// for its sweep to free.
///
/// Each stack is linked through its blocks, as a free list is: a kept block's first value word
/// (the value was dropped) holds the block kept before it, so keeping and taking one touch
/// only the block itself (a vector of pointers beside the blocks was 8 more bytes written at
/// each free and read at each allocation). Only types whose block has room for the link are
/// kept ([`kept_class`]).
struct Stacks {
    generation: u64,
    tops: [Option<ObjPtr>; blocks::CLASSES],
}

impl Default for Stacks {
    fn default() -> Stacks {
        Stacks {
            generation: 0,
            tops: [None; blocks::CLASSES],
        }
    }
}

/// The size class a block of `layout` is kept in for reuse (as a spare or a husk), if it is
/// small (`blocks::class_of`) and has room after its header for the link of a kept stack
/// (every value but a zero-sized one).
pub(crate) const fn kept_class(layout: Layout) -> Option<usize> {
    if layout.size() < LINK_END {
        return None;
    }
    blocks::class_of(layout)
}

/// Where a kept block's link ends: a header, then the link in the value's first word.
const LINK_END: usize = std::mem::size_of::<Header>() + std::mem::size_of::<Option<ObjPtr>>();

/// The link of the kept block `obj`: its first value word.
fn link(obj: ObjPtr) -> *mut Option<ObjPtr> {
    // A block with a kept class has room for a link after its header, at an offset of 32
    // bytes from its (at least 8-byte aligned) start: aligned for a pointer.
    obj.0
        .as_ptr()
        .cast::<u8>()
        .wrapping_add(std::mem::size_of::<Header>())
        .cast()
}

impl Stacks {
    /// Keeps `obj`, of size class `class`, kept when the list had been drained `generation`
    /// times; false (and nothing kept, nothing written) if a later drain is already known (the
    /// block is its sweep's). A later generation forgets the blocks kept for earlier ones.
    ///
    /// # Safety
    /// `class` is `obj`'s [`kept_class`], its value was dropped, and this thread owns its
    /// value bytes: no other thread and no collector pass reads or writes them until it is
    /// handed out again (the caller marks it [`SPARE`] or [`HUSK`] only after this call).
    #[inline]
    unsafe fn keep(&mut self, obj: ObjPtr, class: usize, generation: u64) -> bool {
        if generation < self.generation {
            return false;
        }
        if generation > self.generation {
            self.restart(generation);
        }
        let Some(top) = self.tops.get_mut(class) else {
            return false;
        };
        // SAFETY: the block has room for the link (its kept class), and its value bytes are
        // this thread's (the caller's promise).
        unsafe { link(obj).write(*top) };
        *top = Some(obj);
        true
    }

    /// True if a block of `class` is kept (for some generation).
    #[inline]
    fn holds(&self, class: usize) -> bool {
        self.tops.get(class).is_some_and(Option::is_some)
    }

    /// The block of `class` kept last, if the list, drained `drains` times, was not drained
    /// since; on a later drain every block is forgotten instead. (In sanitizer builds the
    /// block's value bytes are addressable again.)
    ///
    /// # Safety
    /// The caller holds the list's lock and read `drains` under it, and hands the block out.
    #[inline]
    unsafe fn take(&mut self, class: usize, drains: u64) -> Option<ObjPtr> {
        if self.generation != drains {
            self.restart(drains);
            return None;
        }
        let top = self.tops.get_mut(class)?;
        let obj = (*top)?;
        poison::reuse(obj, class);
        // SAFETY: `obj` was kept in this generation and no drain has come since (the lock
        // keeps one from coming), so it is in no snapshot, no sweep frees it, and its value
        // bytes still hold the link `keep` wrote.
        *top = unsafe { link(obj).read() };
        Some(obj)
    }

    /// Forgets every block (a drain put them in a snapshot: its sweep frees them) and starts
    /// `generation`.
    fn restart(&mut self, generation: u64) {
        self.generation = generation;
        self.tops = [None; blocks::CLASSES];
    }
}

/// In sanitizer builds, AddressSanitizer is told that a spare's value bytes must not be touched
/// until the spare is handed out again (a use after free at once is reported as it would be
/// after a free to the system allocator). Elsewhere these do nothing.
#[cfg(gc_sanitize)]
mod poison {
    use super::{blocks, Header, ObjPtr};
    use std::ffi::c_void;

    extern "C" {
        fn __asan_poison_memory_region(addr: *const c_void, size: usize);
        fn __asan_unpoison_memory_region(addr: *const c_void, size: usize);
    }

    /// The value bytes of a block of class `class`: everything after the header.
    fn value_bytes(obj: ObjPtr, class: usize) -> (*const c_void, usize) {
        let header = std::mem::size_of::<Header>();
        // A block of class `class` has `class_size(class)` bytes, a header and then the value.
        let start = obj.0.as_ptr().cast::<u8>().wrapping_add(header);
        (start.cast(), blocks::class_size(class) - header)
    }

    /// Marks the value bytes of the spare `obj` as not addressable.
    pub(super) fn spare(obj: ObjPtr, class: usize) {
        let (addr, size) = value_bytes(obj, class);
        // SAFETY: the range lies inside the block, which is allocated (poisoning only changes
        // AddressSanitizer's shadow memory).
        unsafe { __asan_poison_memory_region(addr, size) };
    }

    /// Marks the value bytes of the spare `obj` as addressable again, before it is reused.
    pub(super) fn reuse(obj: ObjPtr, class: usize) {
        let (addr, size) = value_bytes(obj, class);
        // SAFETY: as in `spare`.
        unsafe { __asan_unpoison_memory_region(addr, size) };
    }
}

#[cfg(not(gc_sanitize))]
mod poison {
    use super::ObjPtr;

    /// Nothing to tell outside sanitizer builds.
    #[inline(always)]
    pub(super) fn spare(_: ObjPtr, _: usize) {}

    /// Nothing to tell outside sanitizer builds.
    #[inline(always)]
    pub(super) fn reuse(_: ObjPtr, _: usize) {}
}

impl Local {
    fn new() -> Local {
        crate::collector::ensure_started();
        gc_stack::register_current_thread();
        let list: Shared = {
            // Made under the registry's lock, so `bias_every_list` finds it if it was made
            // unbiased.
            let mut lists = LISTS.lock();
            let list: Shared = Arc::default();
            lists.push(Arc::clone(&list));
            list
        };
        biased_lock::register_in_background(bias_every_list);
        Local {
            list,
            unflushed: Cell::new(0),
            kept: ThreadCell::default(),
            floating: Cell::new(0),
            frees: Frees::default(),
            after_marking: RefCell::new((0, Vec::new())),
            after_marking_pending: Cell::new(false),
        }
    }

    /// Takes this thread's list lock, as its owner (no read-modify-write).
    #[inline(always)]
    fn own_list(&self) -> crate::biased_lock::OwnerGuard<'_, ThreadList> {
        // SAFETY: a `Local` lives in its thread's `LOCAL` and is reached only from that thread
        // (`Cell`s make it `!Sync`), so its list has one owner; every hold is a few statements
        // that allocate no block and free none, so none nests in another.
        unsafe { self.list.lock_as_owner() }
    }

    /// Counts `bytes` of a block whose last handle this thread dropped and left to the
    /// collector (see [`unregister`](Self::unregister)), reporting them to the pacer past a
    /// batch.
    #[inline]
    pub(crate) fn note_floating(&self, bytes: usize) {
        let floating = self.floating.get() + bytes as u64;
        if floating >= FLUSH_BYTES.unsigned_abs() as u64 {
            self.floating.set(0);
            pacer::note_floating(floating);
        } else {
            self.floating.set(floating);
        }
    }

    /// The blocks this thread is freeing.
    pub(crate) fn frees(&self) -> &Frees {
        &self.frees
    }

    /// Keeps `obj`, whose last handle this thread dropped while cycle `epoch` marked and which
    /// that cycle had marked before the decrement, to retire it once the cycle is over (blocks
    /// kept for an earlier cycle are forgotten: that cycle is over and the next one has them).
    pub(crate) fn keep_until_marking_ends(&self, obj: ObjPtr, epoch: u32) {
        let mut after = self.after_marking.borrow_mut();
        if after.0 != epoch {
            *after = (epoch, Vec::new());
        }
        after.1.push(obj);
        self.after_marking_pending.set(true);
    }

    /// True if [`keep_until_marking_ends`](Self::keep_until_marking_ends) kept blocks not
    /// taken yet.
    #[inline]
    pub(crate) fn keeps_blocks_until_marking_ends(&self) -> bool {
        self.after_marking_pending.get()
    }

    /// Up to `most` of the blocks kept by
    /// [`keep_until_marking_ends`](Self::keep_until_marking_ends) (the last kept first) and the
    /// epoch of their cycle, if that cycle is over (its phase is `Idle` and no other has
    /// started): they are this thread's to retire ([`unregister`](Self::unregister) with that
    /// state); the others stay for the next call. Blocks of a cycle not yet over stay; those
    /// of an earlier one are forgotten (the next cycle frees them).
    pub(crate) fn take_after_marking(&self, most: usize) -> Option<(u32, Vec<ObjPtr>)> {
        if !self.after_marking_pending.get() {
            return None;
        }
        let mut after = self.after_marking.borrow_mut();
        let now = state::load();
        if now.epoch() == after.0 && now.phase() != Phase::Idle {
            return None;
        }
        if now != State::new(after.0, Phase::Idle) {
            self.after_marking_pending.set(false);
            *after = (0, Vec::new());
            return None;
        }
        let kept = after.1.len();
        let taken = after.1.split_off(kept.saturating_sub(most));
        if after.1.is_empty() {
            self.after_marking_pending.set(false);
            after.1 = Vec::new();
        }
        Some((after.0, taken))
    }

    /// Adds `delta` bytes to the unreported balance and reports it past a batch either way.
    #[inline]
    fn account(&self, delta: isize) {
        let unflushed = self.unflushed.get() + delta;
        if unflushed.unsigned_abs() >= FLUSH_BYTES.unsigned_abs() {
            self.unflushed.set(0);
            report(unflushed);
        } else {
            self.unflushed.set(unflushed);
        }
    }
}

/// Reports a balance of allocated (positive) or freed (negative) bytes to the pacer.
fn report(bytes: isize) {
    if bytes >= 0 {
        pacer::note_alloc(bytes.unsigned_abs());
    } else {
        pacer::note_free(bytes.unsigned_abs());
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        // Under loom, thread-locals outlive the execution's statics: nothing to report then.
        #[cfg(not(loom))]
        report(self.unflushed.get());
    }
}

local! {
    /// The calling thread's list, made at its first allocation (a thread that only drops
    /// handles, like the collector, never makes one).
    static LOCAL: OnceCell<Local> = OnceCell::new();
}

/// Calls `f` with the calling thread's allocation state, if the thread has allocated and is
/// not exiting; else returns `None`.
#[inline]
pub(crate) fn with_local<R>(f: impl FnOnce(&Local) -> R) -> Option<R> {
    LOCAL.try_with(|local| local.get().map(f)).ok().flatten()
}

/// The value `Header::internal` holds for a block at `index` of its thread's list: the index in
/// the low half, zero in the epoch half (no cycle has epoch zero, so the collector reads it as
/// no internal handles), or zero if the index does not fit.
fn index_tag(index: usize) -> u64 {
    u32::try_from(index).map_or(0, u64::from)
}

/// Records a new block in the calling thread's list and gives it its mark.
///
/// The mark is read under the list's lock: the collector publishes `Mark` before it drains
/// the lists (taking each lock), so a block registered after its list was drained reads the
/// new epoch and is black, and a block that read an older epoch is in the snapshot. Hence,
/// once a marking cycle has drained a list, every block in it is black: the marker never
/// scans it and no barrier queues it, which is what lets `unregister` free it at once.
pub(crate) fn register(obj: ObjPtr, bytes: usize) {
    // SAFETY: the block is freshly allocated and initialised; no other thread has it yet.
    let h = unsafe { obj.0.as_ref() };
    let on_thread = LOCAL.try_with(|local| {
        let local = local.get_or_init(Local::new);
        {
            let mut list = local.own_list();
            // Relaxed: published with the block (by this lock to the collector, by whatever
            // publishes the handle to other threads).
            h.mark.store(state::load().epoch(), Ordering::Relaxed);
            h.internal
                .store(index_tag(list.objects.pushed_len()), Ordering::Relaxed);
            list.objects.push(obj);
            list.totals.allocated(bytes);
        }
        local.account(bytes as isize);
    });
    if on_thread.is_err() {
        let mut orphans = ORPHANS.lock();
        h.mark.store(state::load().epoch(), Ordering::Relaxed);
        orphans.objects.push(obj);
        orphans.totals.allocated(bytes);
        drop(orphans);
        pacer::note_alloc(bytes);
    }
}

/// Allocates a block for `layout` from the blocks the calling thread keeps for its size
/// class ([`kept_class`]): a spare (see [`Local::keep_spare`]), else a husk (see
/// [`Local::keep_husk`]), either only if the thread's list was not drained since it was kept.
/// `init` writes the whole block (header and value) with the mark [`register`] would give it
/// and, for a husk, the `internal` word to write (a spare keeps its list index there), all
/// under one hold of the list's lock: a drain, which would put a spare in a snapshot and comes
/// before the sweep that frees a husk, waits for it. The block stays in the list that holds
/// it, as the object it now is. Returns the block, or `None` without calling `init` (and
/// without taking the lock if no block of the class is kept).
///
/// A husk's mark is right whichever state is read: if a cycle has published `Mark` but not
/// yet drained this list, the block is in that cycle's snapshot and its root phase, which
/// comes after every drain, finds the new handle (or the block is black).
#[inline]
pub(crate) fn reuse(
    layout: Layout,
    init: impl FnOnce(NonNull<Header>, u32, Option<u64>),
) -> Option<NonNull<Header>> {
    let class = kept_class(layout)?;
    with_local(|local| {
        // SAFETY: `reuse_kept` runs no user code (`init` moves the value into the block; no
        // drop runs), so the cell's access does not nest.
        unsafe {
            local
                .kept
                .with(|kept| reuse_kept(local, kept, class, layout, init))
        }
    })
    .flatten()
}

/// The body of [`reuse`], with the thread's kept blocks.
#[inline(always)]
fn reuse_kept(
    local: &Local,
    kept: &mut Kept,
    class: usize,
    layout: Layout,
    init: impl FnOnce(NonNull<Header>, u32, Option<u64>),
) -> Option<NonNull<Header>> {
    let Kept { spares, husks } = kept;
    let spare_kept = spares.holds(class);
    if !spare_kept && !husks.holds(class) {
        return None;
    }
    let obj = {
        let mut list = local.own_list();
        let spare = if spare_kept {
            // SAFETY: the lock is held, `drains` read under it; the block is handed out.
            unsafe { spares.take(class, list.drains) }
        } else {
            None
        };
        let obj = match spare {
            Some(obj) => obj,
            // SAFETY: as for the spare.
            None => unsafe { husks.take(class, list.drains) }?,
        };
        // A spare of this generation is in this list, undrained: no snapshot holds it and
        // no handle to it exists. A husk was retired by this thread after `list.drains`
        // drains (`unregister`), and no drain has come since: the sweep that would free it
        // comes after the next drain, which waits for this lock; no handle to it exists
        // and no other thread keeps it.
        // SAFETY: so the block is live, not freed, and this thread's.
        let h = unsafe { obj.0.as_ref() };
        debug_assert!(spare.is_some() || h.mark.load(Ordering::Relaxed) == HUSK);
        // The block's mark is read as `register` reads it (Relaxed: published with the
        // block, as there). A spare keeps its list index in `internal`; a husk, in no
        // list of this thread, gets zero (no index, no internal handles).
        init(
            obj.0,
            state::load().epoch(),
            spare.map_or(Some(0), |_| None),
        );
        if spare.is_none() {
            // The husk's old object is freed and the new one allocated: the heap's size
            // is unchanged, and the totals count both.
            list.totals.freed(layout.size());
        }
        list.totals.allocated(layout.size());
        obj
    };
    // Nothing is reported to the pacer: a spare, like a husk, stayed part of the heap
    // (see `Local::unregister`).
    Some(obj.0)
}

/// In sanitizer builds, marks the value bytes of `obj`, a retired block of size class
/// `class` whose value was just dropped, as not addressable, as for a spare (it may be handed
/// out again as a husk).
///
/// # Safety
/// The caller still owns the block (it is not yet [`HUSK`]).
#[inline]
pub(crate) unsafe fn poison_husk(obj: ObjPtr, class: usize) {
    poison::spare(obj, class);
}

/// How [`Local::unregister`] took a block out of the list's hands.
#[derive(Clone, Copy)]
pub(crate) enum Taken {
    /// Removed from the list: the caller drops the value and frees the block.
    Removed,
    /// Left in the list, marked [`RETIRING`] (every collector pass skips its value): the
    /// caller drops the value and hands the block (small: it has a size class) to
    /// [`Local::keep_spare`] with `generation`.
    Kept { generation: u64 },
    /// Not in this list (a cycle took it, or another thread allocated it) and marked
    /// [`RETIRING`] while no cycle had started since the last handle's drop: the caller drops
    /// the value, marks the block [`HUSK`] and, if it is small, hands it to
    /// [`Local::keep_husk`] with `drains` (this list's drain count when it was retired).
    Retired { drains: u64 },
    /// As `Retired`, but while the cycle whose state the handle's drop read is sweeping: the
    /// block is never kept (the running sweep frees it if it finds it a husk), and its bytes
    /// are garbage for the next cycle.
    RetiredInSweep,
}

impl Taken {
    /// `self` in one word: the kind in the low two bits, the generation or drain count above
    /// (a list is drained once per cycle: 2^62 cycles do not happen).
    #[inline]
    fn pack(self) -> u64 {
        let (kind, count) = match self {
            Taken::Removed => (0, 0),
            Taken::Kept { generation } => (1, generation),
            Taken::Retired { drains } => (2, drains),
            Taken::RetiredInSweep => (3, 0),
        };
        debug_assert!(count < 1 << 62);
        kind | (count << 2)
    }

    /// The `Taken` that [`pack`](Self::pack) made `word` of.
    #[inline]
    fn unpack(word: u64) -> Taken {
        let count = word >> 2;
        match word & 3 {
            0 => Taken::Removed,
            1 => Taken::Kept { generation: count },
            2 => Taken::Retired { drains: count },
            _ => Taken::RetiredInSweep,
        }
    }
}

impl Local {
    /// Takes `obj`, whose last handle this thread just dropped, out of the collector's hands if
    /// it can, and says how: the caller then owns the value and drops it at once.
    ///
    /// - Still in this list: it is taken from the list (see below).
    /// - Elsewhere (a cycle took it, or another thread allocated it), and the state is still
    ///   `dropped_in`, which the handle's drop read (`Idle`, or `Sweep`): it is retired,
    ///   marked [`RETIRING`], unless it has cleanups (they run after the sweep frees the
    ///   block).
    /// - Otherwise (marking runs: the marker may be tracing the value) it is left to the
    ///   collector.
    ///
    /// A block taken from this list cannot be reached by anything else: no handle to it exists
    /// (a weak upgrade refuses a zero count), it is in no snapshot, and no shade of it can be
    /// pending: marking is not running, or it is and has drained this list, so the block is
    /// black (see [`register`]). A marking cycle that has not drained this list yet may have
    /// queued a white block of it (a barrier shades after the phase change, before the
    /// drain): then nothing is freed here. The marker otherwise only touches a block through
    /// an edge of an object it scans, which would be a handle. The phase is read after the
    /// count reached zero: a shade of this block by any thread came before that thread's drop
    /// of its handle, hence before our decrement, so if it shaded during a marking phase we
    /// read that phase (or a later one).
    ///
    /// A block is retired under this list's lock: a cycle publishes `Mark` before it drains
    /// the lists, so if this list was drained since, the state read here is that cycle's (or a
    /// later one). If it is still `dropped_in`, the next cycle has not drained this list yet,
    /// hence has not counted, marked or swept anything: every pass it makes sees `RETIRING`
    /// and skips the value, and its sweep keeps the block. The block was reachable through
    /// the handle until the decrement, in that state, so the last cycle marked it (or it was
    /// allocated black): its sweep, whether it is over or still running, keeps it whether it
    /// reads the mark before or after `RETIRING` (and frees it if it finds it a husk).
    ///
    /// `index_hint` is `Header::internal` as read before the count dropped to zero: after
    /// that, the header of a block that is not in this list may already be freed, so it is not
    /// read unless the state shows it cannot be.
    #[inline]
    pub(crate) fn unregister(
        &self,
        obj: ObjPtr,
        index_hint: u64,
        dropped_in: State,
    ) -> Option<Taken> {
        let (taken, bytes) = {
            let mut list = self.own_list();
            // The tag is a hint: the entry it names is checked (`obj` can be in at most one
            // list, and only once). A tag with an epoch is a count phase's, which overwrote
            // the index (the block is in a snapshot, or a snapshot object holds a handle to
            // it): the entry is not looked up, and the block is taken as not in this list,
            // which is safe for one that is (as for a block another thread allocated).
            let index = (index_hint as u32) as usize;
            if index_hint >> 32 != 0 || list.objects.get(index) != Some(obj) {
                let phase = dropped_in.phase();
                if phase == Phase::Mark || state::load() != dropped_in {
                    return None;
                }
                // The state is still the one the drop read, `Idle` or `Sweep`: the block,
                // reachable through the handle then, was kept by the last cycle or is kept by
                // the running sweep, and the next cycle has not drained this list (see above).
                // SAFETY: so the block is not freed; the vtable is static.
                let h = unsafe { obj.0.as_ref() };
                // Acquire: pairs with the AcqRel set of the flag, made through a handle whose
                // drop came before ours.
                if h.flags.load(Ordering::Acquire) & HAS_CLEANUP != 0 {
                    return None;
                }
                // Relaxed: the lock orders it before the next drain, hence before every pass
                // of the next cycle.
                h.mark.store(RETIRING, Ordering::Relaxed);
                return Some(if phase == Phase::Idle {
                    Taken::Retired {
                        drains: list.drains,
                    }
                } else {
                    Taken::RetiredInSweep
                });
            }
            // Found in this list: no cycle has taken the block, so it is not freed. (A block
            // at the same address freed and allocated again would have had to be allocated by
            // this thread, which is busy dropping.)
            let s = state::load();
            if s.is_marking() && list.drained_epoch != s.epoch() {
                return None;
            }
            // SAFETY: found in this list, so not freed (see above); the vtable is static.
            let h = unsafe { obj.0.as_ref() };
            let layout = h.vtable.layout;
            let taken = if h.vtable.class.is_some() {
                // Relaxed: the lock orders it before the next drain, hence before every
                // collector pass that could find the block in a snapshot.
                h.mark.store(RETIRING, Ordering::Relaxed);
                Taken::Kept {
                    generation: list.drains,
                }
            } else {
                if let Some(moved) = list.objects.swap_remove(index) {
                    // SAFETY: `moved` is in this list, so it is not yet freed.
                    let moved = unsafe { moved.0.as_ref() };
                    moved.internal.store(index_tag(index), Ordering::Relaxed);
                }
                Taken::Removed
            };
            list.totals.freed(layout.size());
            (taken, layout.size())
        };
        // A removed block goes back to the system allocator: the heap is smaller. A spare
        // stays part of the heap for the pacer (as a husk does) until it is handed out again
        // or a sweep frees it (which reports it then).
        if let Taken::Removed = taken {
            self.account(-(bytes as isize));
        }
        Some(taken)
    }

    /// Keeps `obj`, a husk of size class `class` this thread retired when its list had been
    /// drained `drains` times, for its next allocation of that class, and says so. A husk
    /// retired before a drain that has since come is left to the sweep.
    ///
    /// # Safety
    /// [`unregister`](Self::unregister) returned `Taken::Retired { drains }` for `obj` on this
    /// thread, `class` is its [`kept_class`], its value has been dropped, and it is still
    /// [`RETIRING`]: the caller marks it [`HUSK`] after this call, and does not touch it after
    /// that.
    #[inline]
    pub(crate) unsafe fn keep_husk(&self, obj: ObjPtr, class: usize, drains: u64) -> bool {
        // SAFETY: a `RETIRING` block's value bytes are this thread's (every collector pass
        // skips or keeps it), and its value was dropped.
        // (`keep` runs no user code: the cell's access does not nest.)
        unsafe { self.kept.with(|kept| kept.husks.keep(obj, class, drains)) }
    }

    /// Keeps `obj`, whose value was dropped, as a spare of this thread: it is marked
    /// [`SPARE`], and kept for reuse unless its list was drained since `generation` (then it
    /// is in a snapshot, and the sweep frees it).
    ///
    /// # Safety
    /// [`unregister`](Self::unregister) returned `Taken::Kept { generation }` for `obj` on this
    /// thread, `class` is its [`kept_class`], its value has been dropped, and the caller does
    /// not touch the block again.
    #[inline]
    pub(crate) unsafe fn keep_spare(&self, obj: ObjPtr, generation: u64, class: usize) {
        // Kept (its link written) before it is marked `SPARE`: until then the block is this
        // thread's (`RETIRING`: every sweep keeps it); after, a sweep whose drain came
        // meanwhile may free it. (Not kept if such a drain is already known.)
        // SAFETY: still `RETIRING`, its value dropped (the caller's promise).
        // (`keep` runs no user code: the cell's access does not nest.)
        unsafe {
            self.kept
                .with(|kept| kept.spares.keep(obj, class, generation))
        };
        // SAFETY: as above, the block is not freed before the store below, and not read after.
        let h = unsafe { obj.0.as_ref() };
        poison::spare(obj, class);
        // Release: pairs with the sweep's Acquire load of the mark, so a sweep that frees the
        // block (its list was drained meanwhile) does so after the value's drop and the link.
        h.mark.store(SPARE, Ordering::Release);
    }
}

/// Biases every thread's list lock, once `membarrier` is registered (see `biased_lock`).
fn bias_every_list() {
    let lists = LISTS.lock();
    debug_assert!(biased_lock::ready());
    for list in lists.iter() {
        list.bias();
    }
}

/// Moves every block allocated so far to the end of `into`, records `epoch` as each list's last
/// drain (see [`Local::unregister`]), and forgets lists of exited threads. Collector only, after it
/// published `Mark` for `epoch`. Each thread's lock is held only to take its list (a swap),
/// not to copy its entries or chunks.
pub(crate) fn drain_into(into: &mut ObjList, epoch: u32) {
    let mut lists = LISTS.lock();
    // Each thread's lock is held for a swap of the list's head only: appending to `into` may
    // grow its vector (a copy, or a call to the system allocator), and the thread waits for its
    // lock meanwhile. One process-wide barrier serves every list.
    let mut taken = Vec::with_capacity(lists.len());
    biased_lock::for_each_locked(lists.iter().map(|l| &**l), |list| {
        list.drained_epoch = epoch;
        list.drains += 1;
        taken.push(std::mem::take(&mut list.objects));
    });
    for mut objects in taken {
        into.append(&mut objects);
    }
    into.append(&mut ORPHANS.lock().objects);
    // A list whose thread has exited is referenced only from here. Its last blocks (allocated
    // after the loop above) join the snapshot and its totals move to the orphans, so
    // `totals()` keeps counting them.
    lists.retain(|l| {
        if Arc::strong_count(l) > 1 {
            return true;
        }
        let mut l = l.lock();
        into.append(&mut l.objects);
        ORPHANS.lock().totals.add(&l.totals);
        false
    });
}

/// Totals over every thread: bytes and objects ever allocated, and bytes and objects freed at
/// once by their last handle's drop. Exact at the time of the call.
pub(crate) fn totals() -> Totals {
    let lists = LISTS.lock();
    let mut t = ORPHANS.lock().totals;
    biased_lock::for_each_locked(lists.iter().map(|l| &**l), |l| t.add(&l.totals));
    t
}

/// Bytes and objects allocated, and freed at once by their last handle's drop: one thread's,
/// or (from [`totals`]) every thread's.
#[derive(Clone, Copy, Default)]
pub(crate) struct Totals {
    pub(crate) alloc_bytes: u64,
    pub(crate) alloc_objects: u64,
    pub(crate) freed_bytes: u64,
    pub(crate) freed_objects: u64,
}

impl Totals {
    const ZERO: Totals = Totals {
        alloc_bytes: 0,
        alloc_objects: 0,
        freed_bytes: 0,
        freed_objects: 0,
    };

    /// Counts one block of `bytes` allocated.
    fn allocated(&mut self, bytes: usize) {
        self.alloc_bytes += bytes as u64;
        self.alloc_objects += 1;
    }

    /// Counts one block of `bytes` freed at once.
    fn freed(&mut self, bytes: usize) {
        self.freed_bytes += bytes as u64;
        self.freed_objects += 1;
    }

    /// Adds `other`'s counts.
    fn add(&mut self, other: &Totals) {
        self.alloc_bytes += other.alloc_bytes;
        self.alloc_objects += other.alloc_objects;
        self.freed_bytes += other.freed_bytes;
        self.freed_objects += other.freed_objects;
    }
}
