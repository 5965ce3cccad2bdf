//! Per-thread allocation lists: each thread appends its new blocks to its own list, which the
//! collector drains at the start of a cycle by moving its chunks (the owner's lock is held for
//! that move only, never for copying entries), so allocation does not serialise threads and
//! the collector never holds an allocating thread for long.

use super::list::ObjList;
use super::ObjPtr;
use crate::collector::pacer;
use crate::primitive::{global, local, Arc, Mutex};
use std::cell::Cell;

/// Blocks a thread allocated since the collector last drained its list, and its totals.
#[derive(Default)]
pub(crate) struct ThreadList {
    objects: ObjList,
    /// Bytes this thread ever allocated.
    pub(crate) alloc_bytes: u64,
    /// Objects this thread ever allocated.
    pub(crate) alloc_objects: u64,
}

type Shared = Arc<Mutex<ThreadList>>;

global! {
    /// Every thread's list, plus lists of exited threads not yet drained.
    static LISTS: Mutex<Vec<Shared>> = Mutex::new(Vec::new());
}

global! {
    /// Blocks allocated while a thread's thread-locals were being torn down.
static ORPHANS: Mutex<ThreadList> = Mutex::new(ThreadList {
    objects: ObjList::new(),
    alloc_bytes: 0,
    alloc_objects: 0,
});
}

/// Bytes allocated by this thread and not yet reported to the pacer.
const FLUSH_BYTES: usize = 64 * 1024;

struct Local {
    list: Shared,
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
        let list: Shared = Arc::default();
        LISTS.lock().push(Arc::clone(&list));
        Local { list, unflushed: Cell::new(0) }
    };
}

/// Records a new block in the calling thread's list.
pub(crate) fn register(obj: ObjPtr, bytes: usize) {
    let on_thread = LOCAL.try_with(|local| {
        {
            let mut list = local.list.lock();
            list.objects.push(obj);
            list.alloc_bytes += bytes as u64;
            list.alloc_objects += 1;
        }
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

/// Moves every block allocated so far to the end of `into` and forgets lists of exited
/// threads. Collector only. Each thread's lock is held only to move its chunks, not to copy
/// its entries.
pub(crate) fn drain_into(into: &mut ObjList) {
    let mut lists = LISTS.lock();
    for list in lists.iter() {
        into.append(&mut list.lock().objects);
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
        let mut o = ORPHANS.lock();
        o.alloc_bytes += l.alloc_bytes;
        o.alloc_objects += l.alloc_objects;
        false
    });
}

/// Total (bytes, objects) ever allocated, exact at the time of the call.
pub(crate) fn totals() -> (u64, u64) {
    let lists = LISTS.lock();
    let o = ORPHANS.lock();
    let (mut bytes, mut objects) = (o.alloc_bytes, o.alloc_objects);
    drop(o);
    for l in lists.iter() {
        let l = l.lock();
        bytes += l.alloc_bytes;
        objects += l.alloc_objects;
    }
    (bytes, objects)
}
