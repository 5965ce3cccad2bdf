//! `GcCell` borrow rules: panics on the same thread, waits across threads, never blocks the
//! collector.

use gc_core::{collect, Gc, GcCell};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

#[test]
#[should_panic(expected = "already mutably borrowed on this thread")]
fn borrow_mut_twice_on_one_thread_panics() {
    let c = GcCell::new(1);
    let _a = c.borrow_mut();
    let _b = c.borrow_mut();
}

#[test]
#[should_panic(expected = "already mutably borrowed on this thread")]
fn borrow_while_mutably_borrowed_on_one_thread_panics() {
    let c = GcCell::new(1);
    let _a = c.borrow_mut();
    let _b = c.borrow();
}

#[test]
#[should_panic(expected = "already borrowed on this thread")]
fn borrow_mut_while_borrowed_on_one_thread_panics() {
    let c = GcCell::new(1);
    let _a = c.borrow();
    let _b = c.borrow_mut();
}

#[test]
fn try_borrows_report_conflicts_without_waiting() {
    let c = GcCell::new(1);
    let r = c.borrow();
    assert!(c.try_borrow().is_ok());
    assert!(c.try_borrow_mut().is_err());
    drop(r);
    let w = c.try_borrow_mut().unwrap();
    assert!(c.try_borrow().is_err());
    assert!(c.try_borrow_mut().is_err());
    drop(w);
    assert_eq!(*c.try_borrow().unwrap(), 1);
}

#[test]
fn a_panic_while_borrowed_releases_the_cell() {
    let c = Arc::new(GcCell::new(vec![1]));
    let c2 = Arc::clone(&c);
    let r = thread::spawn(move || {
        let mut g = c2.borrow_mut();
        g.push(2);
        panic!("user code panics while holding the cell");
    })
    .join();
    assert!(r.is_err());
    assert_eq!(*c.borrow(), vec![1, 2]);
}

#[test]
fn conflicting_borrows_across_threads_wait() {
    let cell = Gc::new(GcCell::new(0u64));
    let start = Arc::new(Barrier::new(2));
    let guard = cell.borrow_mut();
    let (c2, s2) = (cell.clone(), Arc::clone(&start));
    let t = thread::spawn(move || {
        s2.wait();
        *c2.borrow_mut() += 1; // waits for the main thread's guard
        *c2.borrow()
    });
    start.wait();
    thread::sleep(Duration::from_millis(50));
    drop(guard);
    assert_eq!(t.join().unwrap(), 1);
}

#[test]
fn collect_while_this_thread_holds_a_cell_mutably_does_not_deadlock() {
    struct Holder(GcCell<Option<Gc<u64>>>);
    // SAFETY: the cell is traced.
    unsafe impl gc_core::Trace for Holder {
        fn trace(&self, t: &mut gc_core::Tracer) {
            self.0.trace(t)
        }
    }
    let h = Gc::new(Holder(GcCell::new(Some(Gc::new(5)))));
    let mut g = h.0.borrow_mut();
    collect(); // the collector skips the held cell instead of waiting for it
    let inner = g.take().unwrap();
    drop(g);
    collect();
    assert_eq!(*inner, 5, "a handle taken out of a held cell stays valid");
}

#[test]
fn borrow_mut_is_flat_in_the_cell_size_when_not_marking() {
    // Not a timing assertion: checks that a cell with a million handles can be borrowed
    // mutably many times (each borrow is O(1)), which would take minutes if every borrow
    // walked the contents.
    let handles: Vec<Gc<u8>> = (0..1_000_000).map(|_| Gc::new(0u8)).collect();
    let cell = Gc::new(GcCell::new(handles));
    let mut n = 0;
    for _ in 0..100_000 {
        n += cell.borrow_mut().len();
    }
    assert_eq!(n, 100_000 * 1_000_000);
}
