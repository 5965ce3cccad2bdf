//! The memory limit triggers cycles even with the percent off (like `GOGC=off` with
//! `GOMEMLIMIT`). Its own test binary: the knobs are process-wide.

use gc_core::{set_gc_percent, set_memory_limit, stats};

#[test]
fn memory_limit_collects_with_the_percent_off() {
    set_gc_percent(-1);
    assert_eq!(set_memory_limit(32 << 20), u64::MAX, "no limit by default");
    let before = stats().num_gc;
    let mut peak = 0;
    for round in 0..40 {
        for _ in 0..50_000 {
            tests::cyclic_garbage();
        }
        if round > 5 {
            peak = peak.max(stats().heap_live_bytes);
        }
    }
    let after = stats();
    assert!(after.num_gc > before, "cycles ran under the limit");
    assert!(after.next_gc <= 32 << 20, "the goal is capped by the limit");
    // 2 M objects of ~100 bytes were made; the heap stays near the limit.
    assert!(
        peak < 96 << 20,
        "heap grew to {peak} bytes under a 32 MiB limit"
    );
}
