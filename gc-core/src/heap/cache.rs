//! Per-thread allocation logs: each thread appends its new blocks to its own log (no lock, no
//! read-modify-write: see [`super::log`]), which the collector drains at the start of a cycle
//! while the thread goes on allocating.

use super::list::ObjList;
use super::log::ThreadLog;
use super::ObjPtr;
use crate::collector::pacer;
use crate::primitive::{self, global, local, Arc, AtomicU64, Mutex, Ordering};
use std::cell::Cell;

/// A thread's log and its totals.
#[derive(Default)]
pub(crate) struct ThreadList {
    log: ThreadLog,
    /// Bytes this thread ever allocated. Stored by the owner only (`Relaxed`: a statistic,
    /// exact for the owner and after a join).
    alloc_bytes: AtomicU64,
    /// Objects this thread ever allocated (as above).
    alloc_objects: AtomicU64,
}

global! {
    /// Every thread's list, plus lists of exited threads not yet drained.
    static LISTS: Mutex<Vec<Arc<ThreadList>>> = Mutex::new(Vec::new());
}

/// Blocks allocated while a thread's thread-locals were being torn down, and the totals of
/// exited threads.
#[derive(Default)]
struct Orphans {
    objects: ObjList,
    alloc_bytes: u64,
    alloc_objects: u64,
}

global! {
    static ORPHANS: Mutex<Orphans> = Mutex::new(Orphans {
        objects: ObjList::new(),
        alloc_bytes: 0,
        alloc_objects: 0,
    });
}

/// Bytes allocated by this thread and not yet reported to the pacer.
const FLUSH_BYTES: usize = 64 * 1024;

struct Local {
    list: Arc<ThreadList>,
    unflushed: Cell<usize>,
}

impl Drop for Local {
    fn drop(&mut self) {
        // Under loom, thread-locals outlive the execution's statics: nothing to report then.
        #[cfg(not(loom))]
        pacer::note_alloc(self.unflushed.get());
    }
}

local! {
    static LOCAL: Local = {
        crate::collector::ensure_started();
        gc_stack::register_current_thread();
        let list: Arc<ThreadList> = Arc::default();
        LISTS.lock().push(Arc::clone(&list));
        Local { list, unflushed: Cell::new(0) }
    };
}

/// Records a new block in the calling thread's log.
pub(crate) fn register(obj: ObjPtr, bytes: usize) {
    let on_thread = LOCAL.try_with(|local| {
        let list = &*local.list;
        // SAFETY: `LOCAL` is this thread's own, so this thread is the log's only writer.
        unsafe { list.log.push(obj) };
        // Relaxed load and store (not an RMW): only this thread writes the totals.
        let b = list.alloc_bytes.load(Ordering::Relaxed);
        list.alloc_bytes.store(b + bytes as u64, Ordering::Relaxed);
        let n = list.alloc_objects.load(Ordering::Relaxed);
        list.alloc_objects.store(n + 1, Ordering::Relaxed);
        let unflushed = local.unflushed.get() + bytes;
        if unflushed >= FLUSH_BYTES {
            local.unflushed.set(0);
            pacer::note_alloc(unflushed);
        } else {
            local.unflushed.set(unflushed);
        }
    });
    if on_thread.is_err() {
        let mut orphans = ORPHANS.lock();
        orphans.objects.push(obj);
        orphans.alloc_bytes += bytes as u64;
        orphans.alloc_objects += 1;
        drop(orphans);
        pacer::note_alloc(bytes);
    }
}

/// Appends every block allocated so far to `into` and forgets lists of exited threads.
/// Collector only. Allocating threads are never blocked by this.
pub(crate) fn drain_into(into: &mut ObjList) {
    let mut lists = LISTS.lock();
    for list in lists.iter() {
        list.log.drain_into(into);
    }
    let mut orphans = ORPHANS.lock();
    into.append(&mut orphans.objects);
    // A list whose thread has exited is referenced only from here. Its last blocks (logged
    // after the loop above) join the snapshot and its totals move to the orphans, so
    // `totals()` keeps counting them.
    lists.retain(|l| {
        if Arc::strong_count(l) > 1 {
            return true;
        }
        // Acquire: pairs with the Release decrement of the exited thread's `Arc` drop, after
        // its last log entries and totals (`strong_count` loads `Relaxed`).
        primitive::fence(Ordering::Acquire);
        l.log.drain_into(into);
        orphans.alloc_bytes += l.alloc_bytes.load(Ordering::Relaxed);
        orphans.alloc_objects += l.alloc_objects.load(Ordering::Relaxed);
        false
    });
}

/// Total (bytes, objects) ever allocated: exact for the calling thread's own allocations and
/// for threads it has joined.
pub(crate) fn totals() -> (u64, u64) {
    let lists = LISTS.lock();
    let o = ORPHANS.lock();
    let (mut bytes, mut objects) = (o.alloc_bytes, o.alloc_objects);
    drop(o);
    for l in lists.iter() {
        bytes += l.alloc_bytes.load(Ordering::Relaxed);
        objects += l.alloc_objects.load(Ordering::Relaxed);
    }
    (bytes, objects)
}
