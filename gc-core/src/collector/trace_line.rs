//! The gctrace line, in Go's format (`GODEBUG=gctrace=1`).

use super::CycleReport;
use crate::stats;
use std::time::Duration;

fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1e3;
    if v >= 10.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn mb(bytes: u64) -> u64 {
    bytes >> 20
}

/// Formats cycle `n` like Go: `gc 1 @0.003s 2%: 0.045+5.7+0.032 ms clock, 0.045+0/5.7/0+0.032
/// ms cpu, 4->4->0 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)`.
///
/// CPU figures: the collector thread's own CPU time for the pauses and the concurrent mark
/// (the background worker), the time allocating threads spent assisting, and no idle marking.
pub(crate) fn format(n: u64, r: &CycleReport, busy: Duration) -> String {
    let since = r.start.duration_since(stats::start_time()).as_secs_f64();
    let pct = (stats::cpu_fraction(busy) * 100.0).round() as u64;
    format!(
        "gc {n} @{since:.3}s {pct}%: {}+{}+{} ms clock, {}+{}/{}/0+{} ms cpu, {}->{}->{} MB, {} MB \
         goal, {} MB stacks, 0 MB globals, {} P{}",
        ms(r.pause_start),
        ms(r.concurrent_mark),
        ms(r.pause_end),
        ms(r.cpu_pause_start),
        ms(r.assist),
        ms(r.cpu_mark),
        ms(r.cpu_pause_end),
        mb(r.heap_start),
        mb(r.heap_mark_end),
        mb(r.marked),
        mb(r.goal.min(u64::MAX >> 1)),
        mb(r.stacks),
        stats::procs(),
        if r.forced { " (forced)" } else { "" },
    )
}
