//! Spans go back to the system allocator: after a spike of cyclic garbage (hundreds of MB of
//! small blocks) is collected, the heap keeps at most the pool's cap in spans, not the spike.
//! Its own test binary: it measures the whole heap.

use gc_core::{collect, set_gc_percent, stats};

#[test]
fn a_collected_spike_gives_its_spans_back() {
    if cfg!(gc_sanitize) {
        // Sanitizer builds take every block from the system allocator: there are no spans.
        assert_eq!(stats().heap_span_bytes, 0);
        return;
    }
    let before = stats().heap_span_bytes;
    // About 400 MB of self-cycles (only a cycle frees them), with automatic cycles off so
    // that they pile up.
    let old = set_gc_percent(-1);
    let per = tests::cyclic_garbage();
    let n = (400 << 20) / (per + 32);
    for _ in 0..n {
        tests::cyclic_garbage();
    }
    let peak = stats().heap_span_bytes;
    set_gc_percent(old);
    collect();
    collect();
    let after = stats().heap_span_bytes;
    assert!(
        peak > before + (64 << 20),
        "the spike was carved from spans: {before} -> {peak}"
    );
    assert!(
        after < peak / 2,
        "collecting the spike gave most of its spans back: peak {peak}, after {after}"
    );
}
