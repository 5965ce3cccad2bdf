//! A tour of the heap: the scenarios a Go programmer knows, with what was collected, the
//! gctrace lines and the statistics.
//!
//! `cargo run --release --example tour`

use gc_core::{
    add_cleanup, collect, keep_alive, set_gc_percent, set_gctrace, stats, Gc, GcCell, GcGlobal,
    GcWeak, Trace,
};
use std::sync::mpsc;
use std::time::Duration;

/// A package-level variable, as in Go.
static CURRENT: GcGlobal<String> = GcGlobal::new();

#[derive(Trace)]
struct Node {
    id: u64,
    next: GcCell<Option<Gc<Node>>>,
}

fn alive<T>(w: &GcWeak<T>) -> &'static str {
    if w.upgrade().is_some() {
        "alive"
    } else {
        "collected"
    }
}

fn main() {
    set_gctrace(true);
    println!("== 1. a goroutine stores x, then y, in a global; z is never referenced");
    let (tx, rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        let x = Gc::new(String::from("x"));
        let y = Gc::new(String::from("y"));
        let z = Gc::new(String::from("z"));
        tx.send([Gc::downgrade(&x), Gc::downgrade(&y), Gc::downgrade(&z)])
            .unwrap();
        CURRENT.store(Some(x));
        CURRENT.store(Some(y));
        drop(z);
        done_rx.recv().unwrap();
        CURRENT.store(None);
    });
    let [wx, wy, wz] = rx.recv().unwrap();
    while CURRENT.load().is_none_or(|g| *g != "y") {
        std::thread::yield_now();
    }
    collect();
    println!(
        "after collect(): x {}, y {}, z {}",
        alive(&wx),
        alive(&wy),
        alive(&wz)
    );
    done_tx.send(()).unwrap();
    worker.join().unwrap();
    collect();
    println!("after the global is cleared: y {}", alive(&wy));

    println!("\n== 2. keep_alive keeps a 64 MiB buffer until the call");
    let (tx, rx) = mpsc::channel();
    let buf = Gc::new(vec![1u8; 64 << 20]);
    add_cleanup(&buf, move || tx.send("buffer cleanup ran").unwrap());
    let wbuf = Gc::downgrade(&buf);
    collect();
    println!(
        "buffer {} before keep_alive (cleanup pending: {})",
        alive(&wbuf),
        rx.try_recv().is_err()
    );
    keep_alive(&buf);
    drop(buf);
    collect();
    println!("buffer {} after keep_alive and drop", alive(&wbuf));
    println!(
        "{}",
        rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or("cleanup did not run")
    );

    println!("\n== 3. a ring of 100000 nodes is a cycle; dropping the last handle frees it");
    let first = Gc::new(Node {
        id: 0,
        next: GcCell::new(None),
    });
    let mut last = first.clone();
    for id in 1..100_000 {
        let n = Gc::new(Node {
            id,
            next: GcCell::new(None),
        });
        *last.next.borrow_mut() = Some(n.clone());
        last = n;
    }
    *last.next.borrow_mut() = Some(first.clone());
    let wring = Gc::downgrade(&first);
    let before = stats().heap_objects;
    collect();
    let next_id = first.next.borrow().as_ref().map(|n| n.id);
    println!(
        "ring kept while held: {} (node 0 -> node {:?})",
        alive(&wring),
        next_id
    );
    drop((first, last));
    collect();
    println!(
        "ring {} after the handles are dropped: {} objects freed",
        alive(&wring),
        before.saturating_sub(stats().heap_objects)
    );

    println!("\n== 4. set_gc_percent(-1) turns automatic collection off, like GOGC=off");
    let old = set_gc_percent(-1);
    let n0 = stats().num_gc;
    for _ in 0..500_000 {
        let _garbage = Gc::new([0u64; 8]);
    }
    println!(
        "500000 allocations with the percent off: {} cycles",
        stats().num_gc - n0
    );
    set_gc_percent(old);
    let n1 = stats().num_gc;
    for _ in 0..500_000 {
        let _garbage = Gc::new([0u64; 8]);
    }
    collect();
    println!(
        "500000 more with the percent back at {old}: {} cycles",
        stats().num_gc - n1
    );

    set_gctrace(false);
    let s = stats();
    println!("\n== stats");
    println!(
        "heap live:      {} bytes in {} objects",
        s.heap_live_bytes, s.heap_objects
    );
    println!(
        "allocated:      {} bytes in {} objects",
        s.total_alloc_bytes, s.total_alloc_objects
    );
    println!(
        "freed:          {} bytes in {} objects",
        s.total_freed_bytes, s.total_freed_objects
    );
    println!("next goal:      {} bytes", s.next_gc);
    println!("cycles:         {} ({} forced)", s.num_gc, s.num_forced_gc);
    println!(
        "pauses:         total {:?}, last {:?}",
        s.pause_total, s.last_pause
    );
    println!("mark / sweep:   {:?} / {:?}", s.mark_total, s.sweep_total);
    println!("GC CPU share:   {:.2}%", s.gc_cpu_fraction * 100.0);
}
