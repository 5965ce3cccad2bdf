//! Handles crossing threads, and threads that exit.

use gc_core::{collect, Gc, GcCell, GcGlobal, Trace, Tracer};
use std::sync::mpsc;
use std::thread;

struct Node {
    value: u64,
    next: GcCell<Option<Gc<Node>>>,
}

// SAFETY: `next` is traced; `value` holds no handle.
unsafe impl Trace for Node {
    fn trace(&self, t: &mut Tracer) {
        self.next.trace(t)
    }
}

fn node(value: u64) -> Gc<Node> {
    Gc::new(Node {
        value,
        next: GcCell::new(None),
    })
}

#[test]
fn handles_sent_to_other_threads_keep_objects_alive() {
    let (tx, rx) = mpsc::channel::<Gc<Node>>();
    let consumer = thread::spawn(move || {
        let mut sum = 0;
        for n in rx {
            collect();
            sum += n.value + n.next.borrow().as_ref().map_or(0, |m| m.value);
        }
        sum
    });
    for i in 0..100 {
        let a = node(i);
        *a.next.borrow_mut() = Some(node(1000));
        tx.send(a).unwrap();
    }
    drop(tx);
    assert_eq!(consumer.join().unwrap(), (0..100).sum::<u64>() + 100 * 1000);
}

#[test]
fn a_thread_that_exits_releases_what_only_it_held() {
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        let a = node(1);
        let b = node(2);
        *a.next.borrow_mut() = Some(b.clone());
        *b.next.borrow_mut() = Some(a.clone());
        tx.send((Gc::downgrade(&a), Gc::downgrade(&b))).unwrap();
        thread_local! { static KEEP: std::cell::RefCell<Option<Gc<Node>>> = const { std::cell::RefCell::new(None) }; }
        KEEP.with(|k| *k.borrow_mut() = Some(a));
    });
    let (wa, wb) = rx.recv().unwrap();
    t.join().unwrap();
    collect();
    assert!(wa.upgrade().is_none() && wb.upgrade().is_none());
}

static SHARED: GcGlobal<Node> = GcGlobal::new();

#[test]
fn objects_built_on_one_thread_and_published_survive_its_exit() {
    thread::spawn(|| {
        let head = node(0);
        let mut tail = head.clone();
        for i in 1..1000 {
            let n = node(i);
            *tail.next.borrow_mut() = Some(n.clone());
            tail = n;
        }
        SHARED.store(Some(head));
    })
    .join()
    .unwrap();
    collect();
    let mut cur = SHARED.load();
    let mut expect = 0;
    while let Some(n) = cur {
        assert_eq!(n.value, expect);
        expect += 1;
        cur = n.next.borrow().clone();
    }
    assert_eq!(expect, 1000);
    let w = Gc::downgrade(&SHARED.load().unwrap());
    SHARED.store(None);
    collect();
    assert!(w.upgrade().is_none());
}
