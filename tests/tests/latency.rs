//! The latency mode: with other threads keeping every CPU busy, `collect()` and allocation
//! past the heap goal still finish and free garbage in both modes (in low-latency mode the
//! collector runs at idle priority and relies on being boosted; a hang aborts the test).

use gc_core::{collect, set_low_latency, Gc, GcCell, Trace};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Trace)]
struct Node {
    next: GcCell<Option<Gc<Node>>>,
}

/// Garbage cycles of `n` nodes each, `count` times; returns weak refs to one node of each.
fn garbage_cycles(count: usize, n: usize) -> Vec<gc_core::GcWeak<Node>> {
    (0..count)
        .map(|_| {
            let first = Gc::new(Node {
                next: GcCell::new(None),
            });
            let mut last = first.clone();
            for _ in 1..n {
                let node = Gc::new(Node {
                    next: GcCell::new(None),
                });
                *last.next.borrow_mut() = Some(node.clone());
                last = node;
            }
            *last.next.borrow_mut() = Some(first.clone());
            Gc::downgrade(&first)
        })
        .collect()
}

/// Aborts the process if `f` takes longer than a generous bound: a starved collector would
/// otherwise hang the test run instead of failing it.
fn with_watchdog(what: &'static str, f: impl FnOnce()) {
    let done = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&done);
    std::thread::spawn(move || {
        for _ in 0..1200 {
            std::thread::sleep(Duration::from_millis(100));
            if flag.load(Ordering::SeqCst) {
                return;
            }
        }
        eprintln!("{what}: the collector made no progress in 120 s");
        std::process::abort();
    });
    f();
    done.store(true, Ordering::SeqCst);
}

fn run_with_busy_cpus(low_latency: bool) {
    let was = set_low_latency(low_latency);
    let stop = Arc::new(AtomicBool::new(false));
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let spinners: Vec<_> = (0..cpus * 2)
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    with_watchdog("collect() with busy CPUs", || {
        let weak = garbage_cycles(200, 50);
        collect();
        collect();
        assert!(
            weak.iter().all(|w| w.upgrade().is_none()),
            "garbage cycles are freed while other threads keep every CPU busy"
        );
        // Allocation far past the goal waits for cycles the busy CPUs must not starve.
        for _ in 0..20 {
            drop(garbage_cycles(500, 20));
        }
    });
    stop.store(true, Ordering::Relaxed);
    for s in spinners {
        s.join().unwrap();
    }
    set_low_latency(was);
}

/// One test: the mode is process-wide.
#[test]
fn busy_cpus_cannot_starve_the_collector_in_either_mode() {
    assert!(set_low_latency(true), "low-latency mode is on by default");
    run_with_busy_cpus(true);
    run_with_busy_cpus(false);
    assert!(
        set_low_latency(false),
        "run_with_busy_cpus restores the mode"
    );
    assert!(!set_low_latency(true), "the previous mode is reported");
}
