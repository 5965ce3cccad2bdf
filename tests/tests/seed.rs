//! The seed scenarios: a goroutine-like thread and a global, `keep_alive`.

use gc_core::{add_cleanup, collect, keep_alive, Gc, GcGlobal};
use std::sync::mpsc;
use std::time::Duration;
use tests::DropCounter;

struct Big {
    _buf: Vec<u8>,
    _token: tests::DropToken,
}

// SAFETY: no handles.
unsafe impl gc_core::Trace for Big {
    const HOLDS_HANDLES: bool = false;
    fn trace(&self, _: &mut gc_core::Tracer) {}
}

static GLOBAL: GcGlobal<String> = GcGlobal::new();

#[test]
fn thread_stores_x_then_y_in_a_global_then_clears_it() {
    let (tx, rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        let x = Gc::new(String::from("x"));
        let y = Gc::new(String::from("y"));
        let z = Gc::new(String::from("z")); // never referenced from the global
        tx.send((Gc::downgrade(&x), Gc::downgrade(&y), Gc::downgrade(&z)))
            .unwrap();
        GLOBAL.store(Some(x));
        GLOBAL.store(Some(y));
        drop(z);
        go_rx.recv().unwrap(); // main thread collects while `y` is in the global
        GLOBAL.store(None);
    });
    let (wx, wy, wz) = rx.recv().unwrap();
    // Wait until the worker has stored y (x is then only in the past).
    while GLOBAL.load().is_none_or(|g| *g != "y") {
        std::thread::yield_now();
    }
    collect();
    assert!(
        wx.upgrade().is_none(),
        "x was replaced in the global and must be collected"
    );
    assert!(
        wz.upgrade().is_none(),
        "z was never referenced and must be collected"
    );
    assert_eq!(
        wy.upgrade().as_deref().map(String::as_str),
        Some("y"),
        "y is in the global"
    );
    go_tx.send(()).unwrap();
    worker.join().unwrap();
    collect();
    assert!(
        wy.upgrade().is_none(),
        "y must be collected once the global is cleared"
    );
}

#[test]
fn keep_alive_keeps_a_large_buffer_until_the_call() {
    let drops = DropCounter::new();
    let (tx, rx) = mpsc::channel();
    let buf = Gc::new(Big {
        _buf: vec![7u8; 16 << 20],
        _token: drops.token(),
    });
    add_cleanup(&buf, move || tx.send(()).unwrap());
    let w = Gc::downgrade(&buf);
    collect();
    collect();
    assert_eq!(drops.dropped(), 0, "buf is used by keep_alive below");
    assert!(
        rx.try_recv().is_err(),
        "the cleanup must not run before keep_alive"
    );
    keep_alive(&buf);
    drop(buf);
    collect();
    assert!(w.upgrade().is_none());
    assert_eq!(drops.dropped(), 1);
    rx.recv_timeout(Duration::from_secs(30))
        .expect("cleanup runs after collection");
}
