//! Spans go back to the operating system: after a spike of cyclic garbage (hundreds of MB of
//! small blocks) is collected, the heap keeps at most the pool's cap in spans, not the spike,
//! and the process's resident memory falls with it.
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
    let rss_peak = resident_bytes();
    set_gc_percent(old);
    collect();
    collect();
    let after = stats().heap_span_bytes;
    let rss_after = resident_bytes();
    assert!(
        peak > before + (64 << 20),
        "the spike was carved from spans: {before} -> {peak}"
    );
    assert!(
        after < peak / 2,
        "collecting the spike gave most of its spans back: peak {peak}, after {after}"
    );
    if let (Some(rss_peak), Some(rss_after)) = (rss_peak, rss_after) {
        assert!(
            rss_after < rss_peak / 2,
            "the spans' pages went back to the operating system: resident {rss_peak} -> {rss_after}"
        );
    }
}

/// The process's resident memory (in pages of 4 KiB: only compared), where the operating
/// system reports it.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
