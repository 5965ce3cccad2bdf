//! `set_gc_percent(-1)` stops automatic cycles; restoring it starts them again. Its own test
//! binary: the percent is process-wide.

use gc_core::{set_gc_percent, stats};

fn churn(bytes: usize) {
    let mut made = 0;
    while made < bytes {
        made += tests::cyclic_garbage();
    }
}

#[test]
fn negative_percent_stops_automatic_cycles_and_restoring_starts_them() {
    assert_eq!(set_gc_percent(-1), 100, "default percent is 100");
    let before = stats();
    churn(64 << 20);
    let during = stats();
    assert_eq!(
        during.num_gc, before.num_gc,
        "no automatic cycle with the percent off"
    );
    assert!(
        during.heap_live_bytes >= 64 << 20,
        "garbage piles up with the percent off"
    );

    assert_eq!(set_gc_percent(100), -1);
    churn(64 << 20);
    // Cycles run in the background; the allocator waits far past the goal, so by now some
    // have completed.
    let after = stats();
    assert!(after.num_gc > during.num_gc, "automatic cycles resume");
    assert!(after.total_freed_bytes > during.total_freed_bytes);
}
