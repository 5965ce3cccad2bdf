//! Mutator-visible pauses over a growing live heap.
//!
//! A live list of N objects (1, 4 and 16 million) is held by a global while a mutator thread
//! allocates small objects in a loop and records the gap between consecutive steps. Three
//! modes per size: cycles forced back to back by another thread, automatic cycles, and
//! collection disabled (the throughput baseline). Prints p50/p99/p99.9/max gaps and the
//! throughput cost.
//!
//! `cargo run --release --example pauses [-- 1,4,16 [seconds]]`

use gc_core::{collect, set_gc_percent, stats, Gc, GcCell, GcGlobal, Trace};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Trace)]
struct Node {
    next: Option<Gc<Node>>,
}

#[derive(Trace)]
struct Small {
    a: u64,
    b: GcCell<Option<Gc<Small>>>,
}

static LIVE: GcGlobal<Node> = GcGlobal::new();

/// Gaps in nanoseconds, bucketed: exact below 64 us (1 ns resolution would be wasteful:
/// 16 ns buckets), then powers of two.
struct Gaps {
    fine: Vec<u64>,
    coarse: [u64; 40],
    max: u64,
    count: u64,
}

const FINE_NS: u64 = 16;
const FINE_BUCKETS: usize = 4096; // 64 us

impl Gaps {
    fn new() -> Gaps {
        Gaps {
            fine: vec![0; FINE_BUCKETS],
            coarse: [0; 40],
            max: 0,
            count: 0,
        }
    }
    fn record(&mut self, ns: u64) {
        self.count += 1;
        self.max = self.max.max(ns);
        let b = (ns / FINE_NS) as usize;
        if b < FINE_BUCKETS {
            self.fine[b] += 1;
        } else {
            self.coarse[(64 - ns.leading_zeros()) as usize] += 1;
        }
    }
    fn quantile(&self, q: f64) -> u64 {
        let target = (self.count as f64 * q).ceil() as u64;
        let mut seen = 0;
        for (i, &c) in self.fine.iter().enumerate() {
            seen += c;
            if seen >= target {
                return (i as u64 + 1) * FINE_NS;
            }
        }
        for (i, &c) in self.coarse.iter().enumerate() {
            seen += c;
            if seen >= target {
                return 1 << i;
            }
        }
        self.max
    }
}

fn build(n: usize) {
    let mut head: Option<Gc<Node>> = None;
    for _ in 0..n {
        head = Some(Gc::new(Node { next: head }));
    }
    LIVE.store(head);
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Forced,
    Auto,
    Off,
}

struct Run {
    steps: u64,
    gaps: Gaps,
    cycles: u64,
    peak_heap: u64,
}

fn run(mode: Mode, secs: f64) -> Run {
    let old = set_gc_percent(if mode == Mode::Off { -1 } else { 100 });
    let stop = Arc::new(AtomicBool::new(false));
    let forcer = (mode == Mode::Forced).then(|| {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                collect();
            }
        })
    });
    let cycles0 = stats().num_gc;
    let mut gaps = Gaps::new();
    let mut steps = 0u64;
    let mut peak_heap = 0;
    let mut keep: Vec<Gc<Small>> = Vec::with_capacity(1024);
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut last = Instant::now();
    loop {
        // One step: a small allocation linked to the previous one; every 1024 steps the
        // chain is dropped (garbage that lived a while).
        if keep.len() == 1024 {
            keep.clear();
        }
        let s = Gc::new(Small {
            a: steps,
            b: GcCell::new(keep.last().cloned()),
        });
        keep.push(s);
        steps += 1;
        let now = Instant::now();
        gaps.record((now - last).as_nanos() as u64);
        last = now;
        if steps.is_multiple_of(65536) {
            peak_heap = peak_heap.max(stats().heap_live_bytes);
            if now >= deadline {
                break;
            }
            last = Instant::now();
        }
    }
    stop.store(true, Ordering::Relaxed);
    if let Some(f) = forcer {
        f.join().unwrap();
    }
    assert!(keep.iter().all(|k| k.a < steps));
    set_gc_percent(old);
    Run {
        steps,
        gaps,
        cycles: stats().num_gc - cycles0,
        peak_heap,
    }
}

fn us(ns: u64) -> String {
    format!("{:.1}", ns as f64 / 1000.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes: Vec<usize> = args
        .get(1)
        .map(|s| {
            s.split(',')
                .map(|m| m.parse::<usize>().unwrap() * 1_000_000)
                .collect()
        })
        .unwrap_or_else(|| vec![1_000_000, 4_000_000, 16_000_000]);
    let secs: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3.0);
    println!(
        "| live objects | mode | steps/s | cycles | p50 us | p99 us | p99.9 us | max us | \
         throughput vs off | peak heap MB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for &n in &sizes {
        build(n);
        collect();
        let base = run(Mode::Off, secs);
        collect();
        for mode in [Mode::Forced, Mode::Auto, Mode::Off] {
            let r = if mode == Mode::Off {
                base.clone_summary()
            } else {
                run(mode, secs)
            };
            let rate = r.steps as f64 / secs;
            println!(
                "| {}M | {:?} | {:.1}M | {} | {} | {} | {} | {} | {:.2} | {} |",
                n / 1_000_000,
                mode,
                rate / 1e6,
                r.cycles,
                us(r.gaps.quantile(0.5)),
                us(r.gaps.quantile(0.99)),
                us(r.gaps.quantile(0.999)),
                us(r.gaps.max),
                r.steps as f64 / base.steps as f64,
                r.peak_heap >> 20,
            );
            collect();
        }
        LIVE.store(None);
        collect();
    }
    let s = stats();
    println!(
        "\ncollector pauses: {} cycles, max {:?}, total {:?}",
        s.num_gc, s.pause_max, s.pause_total
    );
}

impl Run {
    fn clone_summary(&self) -> Run {
        Run {
            steps: self.steps,
            gaps: Gaps {
                fine: self.gaps.fine.clone(),
                coarse: self.gaps.coarse,
                max: self.gaps.max,
                count: self.gaps.count,
            },
            cycles: self.cycles,
            peak_heap: self.peak_heap,
        }
    }
}
