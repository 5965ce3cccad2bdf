//! `stats()` reports what the heap and the collector did. Its own test binary: the figures are
//! process-wide.

use gc_core::{collect, stats, Gc};

#[test]
fn stats_follow_allocation_and_collection() {
    let s0 = stats();
    assert!(
        s0.next_gc >= 4 << 20,
        "the goal is at least Go's 4 MiB minimum"
    );
    assert_eq!(
        s0.heap_objects,
        s0.total_alloc_objects - s0.total_freed_objects
    );

    let kept: Vec<Gc<[u64; 4]>> = (0..1000).map(|i| Gc::new([i; 4])).collect();
    let garbage: Vec<Gc<[u64; 4]>> = (0..2000).map(|i| Gc::new([i; 4])).collect();
    let s1 = stats();
    assert_eq!(s1.total_alloc_objects - s0.total_alloc_objects, 3000);
    assert!(s1.total_alloc_bytes - s0.total_alloc_bytes >= 3000 * 32);
    assert!(s1.heap_objects >= 3000);

    drop(garbage);
    collect();
    let s2 = stats();
    assert!(s2.num_gc > s1.num_gc);
    assert!(s2.num_forced_gc > s1.num_forced_gc);
    assert!(s2.total_freed_objects - s1.total_freed_objects >= 2000);
    assert_eq!(
        s2.heap_objects,
        s2.total_alloc_objects - s2.total_freed_objects
    );
    assert_eq!(
        s2.heap_live_bytes,
        s2.total_alloc_bytes - s2.total_freed_bytes
    );
    assert!(
        s2.last_marked_bytes >= 1000 * 32,
        "the kept objects were marked"
    );
    assert!(!s2.recent_pauses.is_empty() && s2.recent_pauses.len() <= 256);
    assert_eq!(s2.last_pause, *s2.recent_pauses.last().unwrap());
    assert!(s2.pause_total >= s2.last_pause);
    assert!(s2.gc_cpu_fraction > 0.0 && s2.gc_cpu_fraction <= 1.0);
    assert!(s2.threads >= 1);
    assert!(kept.iter().enumerate().all(|(i, g)| **g == [i as u64; 4]));

    for _ in 0..300 {
        collect();
    }
    let s3 = stats();
    assert_eq!(
        s3.recent_pauses.len(),
        256,
        "like Go's PauseNs, the last 256 cycles"
    );
    assert!(s3.num_gc >= s2.num_gc + 300);
}
