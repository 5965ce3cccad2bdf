//! Frames: drop order, unwinding, growth by segments, the limit, and the thread registry.

use gc_stack::{frame, register_current_thread, set_max_stack, thread_count};
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

/// Pushes its id to a shared log when dropped.
struct Noisy(u32, Rc<RefCell<Vec<u32>>>);

impl Drop for Noisy {
    fn drop(&mut self) {
        self.1.borrow_mut().push(self.0);
    }
}

#[test]
fn values_are_dropped_at_frame_end_newest_first() {
    let log = Rc::new(RefCell::new(Vec::new()));
    frame(|f| {
        let _a = f.place(Noisy(1, log.clone()));
        let b = f.place(Noisy(2, log.clone()));
        let _ = { b }; // dropping the handle does not drop the value
        forget_root(f.place(Noisy(3, log.clone())));
        assert!(log.borrow().is_empty());
    });
    assert_eq!(*log.borrow(), [3, 2, 1]);
}

#[test]
fn nested_frames_end_in_order() {
    let log = Rc::new(RefCell::new(Vec::new()));
    frame(|outer| {
        outer.place(Noisy(1, log.clone()));
        frame(|inner| {
            inner.place(Noisy(2, log.clone()));
            outer.place(Noisy(3, log.clone())); // the outer frame can still grow
        });
        assert_eq!(*log.borrow(), [2]);
    });
    assert_eq!(*log.borrow(), [2, 3, 1]);
}

#[test]
fn values_of_every_alignment_and_size() {
    #[repr(align(64))]
    struct Wide(u8);
    frame(|f| {
        let mut roots = Vec::new();
        for i in 0..10_000u32 {
            roots.push(f.place(i));
            let w = f.place(Wide(i as u8));
            assert_eq!(&*w as *const Wide as usize % 64, 0);
            assert_eq!(w.0, i as u8);
        }
        let big = f.place([7u8; 100_000]);
        let zst = f.place(());
        assert_eq!(big[99_999], 7);
        assert_eq!(*zst, ());
        assert!(roots.iter().enumerate().all(|(i, r)| **r == i as u32));
        assert!(register_current_thread().stack_bytes() > 100_000);
    });
    assert_eq!(register_current_thread().stack_bytes(), 0);
}

#[test]
fn frames_are_released_when_the_body_panics() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        frame(|f| {
            f.place(Noisy(1, log.clone()));
            panic!("body fails");
        })
    }));
    assert!(result.is_err());
    assert_eq!(*log.borrow(), [1]);
    assert_eq!(register_current_thread().stack_bytes(), 0);
}

#[test]
fn growing_past_the_limit_panics_and_releases_the_frames() {
    std::thread::spawn(|| {
        let log = Rc::new(RefCell::new(Vec::new()));
        assert_eq!(set_max_stack(64 * 1024), 1_000_000_000);
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            frame(|f| {
                f.place(Noisy(1, log.clone()));
                frame(|g| {
                    for i in 0.. {
                        g.place([i; 1024]);
                    }
                })
            })
        }));
        let message = result.expect_err("the limit is reached");
        let message = message
            .downcast_ref::<String>()
            .expect("a formatted message");
        assert_eq!(message, "thread stack exceeds 65536-byte limit");
        assert_eq!(*log.borrow(), [1]);
        assert_eq!(register_current_thread().stack_bytes(), 0);
        assert_eq!(set_max_stack(1_000_000_000), 64 * 1024);
        frame(|f| assert_eq!(*f.place(5), 5)); // usable again
    })
    .join()
    .unwrap();
}

#[test]
fn limits_are_per_thread() {
    let old = set_max_stack(1024);
    std::thread::spawn(|| frame(|f| assert_eq!(f.place([1u8; 4096])[0], 1)))
        .join()
        .unwrap();
    assert_eq!(set_max_stack(old), 1024);
}

#[test]
fn exiting_threads_free_their_trackers() {
    register_current_thread();
    let (ready, wait) = std::sync::mpsc::channel();
    let (release, hold) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        frame(|f| {
            f.place(1);
            ready.send(register_current_thread()).unwrap();
            hold.recv().unwrap();
        })
    });
    let record = wait.recv().unwrap();
    assert!(record.stack_bytes() > 0);
    assert!(thread_count() >= 2);
    release.send(()).unwrap();
    worker.join().unwrap();
    assert_eq!(record.stack_bytes(), 0);
    // Other tests' threads may come and go; this one is gone for good.
    let id = record.thread_id();
    assert!(
        std::sync::Arc::strong_count(&record) == 1,
        "the registry dropped {id:?}"
    );
}

/// `mem::forget` of a root: the frame still owns (and later drops) the value.
#[expect(
    clippy::forget_non_drop,
    reason = "forgetting a root is what is tested"
)]
fn forget_root<T>(root: gc_stack::StackRoot<'_, T>) {
    std::mem::forget(root);
}
