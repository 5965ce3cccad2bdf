//! Cleanups: code that runs after an object is collected and cannot observe it (Go's
//! `runtime.AddCleanup`). This is the sound alternative to `Drop` on traced types.

use crate::gc::Gc;
use crate::heap::header::{Header, HAS_CLEANUP};
use crate::primitive::Ordering;
use crate::primitive::{global, Mutex};
use std::collections::HashMap;

/// A cleanup waiting for its object to die.
pub(crate) type Cleanup = Box<dyn FnOnce() + Send + 'static>;

global! {
    /// Registered cleanups by object address. An entry is removed by the sweeper before the block
    /// is freed, so an address is never reused while it has an entry.
    static TABLE: Mutex<Option<HashMap<usize, Vec<Cleanup>>>> = Mutex::new(None);
}

/// Runs `cleanup` on the heap's cleanup thread after `gc`'s object has been collected.
///
/// The closure must not capture a handle to the object itself: it would keep the object alive
/// forever (a leak, as with Go's `AddCleanup`). Cleanups run one at a time on a dedicated
/// thread, after the cycle that freed the object; a panic in one is reported and does not
/// stop the others. Cleanups of objects still alive at exit do not run.
///
/// ```
/// use gc_core::{add_cleanup, collect, Gc};
/// use std::sync::mpsc;
///
/// let (tx, rx) = mpsc::channel();
/// let file_id = 42;
/// let obj = Gc::new(vec![1, 2, 3]);
/// add_cleanup(&obj, move || tx.send(file_id).unwrap());
/// drop(obj);
/// collect();
/// assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(10)), Ok(42));
/// ```
pub fn add_cleanup<T: 'static>(gc: &Gc<T>, cleanup: impl FnOnce() + Send + 'static) {
    let h = gc.header_ptr();
    TABLE
        .lock()
        .get_or_insert_with(HashMap::new)
        .entry(h.as_ptr() as usize)
        .or_default()
        .push(Box::new(cleanup));
    // SAFETY: `gc` keeps the header alive.
    let header = unsafe { h.as_ref() };
    // AcqRel: pairs with the sweeper's Acquire load in `take`; the table entry above is
    // published by the table's lock anyway.
    header.flags.fetch_or(HAS_CLEANUP, Ordering::AcqRel);
}

/// Takes the cleanups of a dead object. Sweeper only.
pub(crate) fn take(h: &Header, into: &mut Vec<Cleanup>) {
    if h.flags.load(Ordering::Acquire) & HAS_CLEANUP == 0 {
        return;
    }
    let addr = h as *const Header as usize;
    if let Some(list) = TABLE.lock().as_mut().and_then(|t| t.remove(&addr)) {
        into.extend(list);
    }
}

/// Hands cleanups to the cleanup thread (started on first use); under loom, runs them here.
pub(crate) fn run(cleanups: Vec<Cleanup>) {
    if cleanups.is_empty() {
        return;
    }
    #[cfg(loom)]
    cleanups.into_iter().for_each(|c| c());
    #[cfg(not(loom))]
    run_on_thread(cleanups);
}

#[cfg(not(loom))]
fn run_on_thread(cleanups: Vec<Cleanup>) {
    use std::sync::mpsc::{channel, Sender};
    use std::sync::OnceLock;

    static QUEUE: OnceLock<Mutex<Sender<Vec<Cleanup>>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (tx, rx) = channel::<Vec<Cleanup>>();
        std::thread::Builder::new()
            .name("gc-cleanup".into())
            .spawn(move || {
                for batch in rx {
                    for c in batch {
                        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(c)).is_err() {
                            eprintln!("gc: a cleanup panicked; the remaining cleanups still run");
                        }
                    }
                }
            })
            .expect("gc: cannot spawn the cleanup thread");
        Mutex::new(tx)
    });
    // The receiver lives as long as the process: sending cannot fail.
    let _ = queue.lock().send(cleanups);
}
