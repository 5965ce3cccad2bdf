//! Mutator-visible pauses over a growing live heap.
//!
//! A live list of N objects (1, 4 and 16 million) is held by a global while a mutator thread
//! allocates small objects in a loop (cyclic garbage, so that the collector has work) and
//! records the gap between consecutive steps. Three
//! modes per size: cycles forced back to back by another thread, automatic cycles, and
//! collection disabled (the throughput baseline). Prints p50/p99/p99.9/max gaps and the
//! throughput cost.
//!
//! A gap can also come from the operating system: on Linux the example asks the kernel, after
//! every gap over 50 us, whether the thread was preempted (an involuntary context switch) or
//! took a page fault since the last such check (or the last 1024 steps), and reports the longest gap with neither
//! ("own max": the longest the library itself held the thread) and how many gaps over 1 ms
//! each kind had (a gap both preempted and faulting counts as preempted); an own gap in which
//! the thread gave up its CPU (it yielded or slept inside the library) is counted apart, and
//! so is a gap in which the thread's CPU time advanced by less than half the gap without a
//! context switch ("stalled": on a virtual machine, the host did not run this CPU).
//!
//! `cargo run --release --example pauses [-- 1,4,16 [seconds]]`

use examples::GapHistogram;
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

/// Gaps between steps, and which of them the operating system caused.
#[derive(Clone)]
struct Gaps {
    hist: GapHistogram,
    /// Longest gap without an involuntary context switch or a page fault.
    own_max: u64,
    /// Gaps over 1 ms: (own, own but the thread gave up its CPU in it, with a page fault,
    /// preempted, not running though not switched out).
    over_1ms: (u64, u64, u64, u64, u64),
    /// Involuntary context switches and page faults of this thread at the last check.
    os: OsEvents,
}

/// Gaps longer than this are checked for preemption.
const CHECK_NS: u64 = 50_000;

/// What the operating system did to the calling thread so far.
#[derive(Clone, Copy, Default, PartialEq)]
struct OsEvents {
    /// Involuntary context switches.
    switches: i64,
    /// Page faults, minor and major.
    faults: i64,
    /// Voluntary context switches (the thread blocked or yielded its CPU).
    yields: i64,
    /// CPU time the thread has run, in nanoseconds (on a virtual machine, time the host ran
    /// another guest's work on this CPU is not counted).
    cpu_ns: u64,
}

/// The calling thread's [`OsEvents`] so far (zero where not known).
#[cfg(target_os = "linux")]
fn os_events() -> OsEvents {
    // SAFETY: an all-zero `rusage` is a valid value of the plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable `rusage`; RUSAGE_THREAD reports the calling thread.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
    if rc == 0 {
        OsEvents {
            switches: ru.ru_nivcsw,
            faults: ru.ru_minflt + ru.ru_majflt,
            yields: ru.ru_nvcsw,
            cpu_ns: thread_cpu_ns(),
        }
    } else {
        OsEvents::default()
    }
}

/// CPU time of the calling thread, in nanoseconds.
#[cfg(target_os = "linux")]
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `timespec`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc == 0 {
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    } else {
        0
    }
}

#[cfg(not(target_os = "linux"))]
fn os_events() -> OsEvents {
    OsEvents::default()
}

impl Gaps {
    fn new() -> Gaps {
        Gaps {
            hist: GapHistogram::new(),
            own_max: 0,
            over_1ms: (0, 0, 0, 0, 0),
            os: os_events(),
        }
    }
    /// Reads the thread's [`OsEvents`] afresh (every 1024 steps, outside the timed steps), so
    /// that a long gap is blamed on the operating system only for what it did during that gap
    /// or the few steps before it.
    fn rebase(&mut self) {
        self.os = os_events();
    }

    /// Records a gap; returns true if it made a system call (to check for preemption).
    fn record(&mut self, ns: u64) -> bool {
        self.hist.record(ns);
        let checked = ns > CHECK_NS;
        let (mut preempted, mut faulted, mut yielded, mut stalled) = (false, false, false, false);
        if checked {
            let now = os_events();
            preempted = now.switches > self.os.switches;
            faulted = now.faults > self.os.faults;
            yielded = now.yields > self.os.yields;
            // Ran for less than half the gap without being switched out: the virtual CPU
            // itself was not running (the host ran something else).
            stalled = !yielded && now.cpu_ns.saturating_sub(self.os.cpu_ns) < ns / 2;
            self.os = now;
        }
        if !preempted && !faulted && !stalled {
            self.own_max = self.own_max.max(ns);
        }
        if ns > 1_000_000 {
            if preempted {
                self.over_1ms.3 += 1;
            } else if stalled {
                self.over_1ms.4 += 1;
            } else if faulted {
                self.over_1ms.2 += 1;
            } else if yielded {
                self.over_1ms.1 += 1;
            } else {
                self.over_1ms.0 += 1;
            }
        }
        checked
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

#[derive(Clone)]
struct Run {
    steps: u64,
    gaps: Gaps,
    cycles: u64,
    /// Time the mutator spent assisting (marking and sweeping for the collector, and waiting
    /// for it, past the heap goal).
    assist: Duration,
    /// Objects the mutator's assists swept.
    swept: u64,
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
    let assist0 = stats().assist_total;
    let swept0 = stats().assist_swept_objects;
    let mut gaps = Gaps::new();
    let mut steps = 0u64;
    let mut peak_heap = 0;
    let mut keep: Vec<Gc<Small>> = Vec::with_capacity(1024);
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut last = Instant::now();
    loop {
        // One step: a small allocation linked to the previous one; every 1024 steps the
        // chain is closed into a ring and dropped (cyclic garbage that lived a while: only a
        // cycle frees it, where an acyclic chain would be freed at once by the drop).
        if keep.len() == 1024 {
            // Not timed: reading the counters. Timed (in this step): closing the ring.
            gaps.rebase();
            last = Instant::now();
            *keep[0].b.borrow_mut() = keep.last().cloned();
            keep.clear();
        }
        let s = Gc::new(Small {
            a: steps,
            b: GcCell::new(keep.last().cloned()),
        });
        keep.push(s);
        steps += 1;
        let mut now = Instant::now();
        if gaps.record((now - last).as_nanos() as u64) {
            // The check is not part of the next step.
            now = Instant::now();
        }
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
        assist: stats().assist_total - assist0,
        swept: stats().assist_swept_objects - swept0,
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
         own max us | gaps > 1 ms (own + own yielding + faulting + preempted + stalled) | assist ms | swept by assists | throughput vs off | peak heap MB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for &n in &sizes {
        build(n);
        collect();
        let base = run(Mode::Off, secs);
        collect();
        for mode in [Mode::Forced, Mode::Auto, Mode::Off] {
            let r = if mode == Mode::Off {
                Run {
                    gaps: base.gaps.clone(),
                    ..base
                }
            } else {
                run(mode, secs)
            };
            let rate = r.steps as f64 / secs;
            println!(
                "| {}M | {:?} | {:.1}M | {} | {} | {} | {} | {} | {} | {} + {} + {} + {} + {} | {:.1} | {:.1}M | {:.2} | {} |",
                n / 1_000_000,
                mode,
                rate / 1e6,
                r.cycles,
                us(r.gaps.hist.quantile(0.5)),
                us(r.gaps.hist.quantile(0.99)),
                us(r.gaps.hist.quantile(0.999)),
                us(r.gaps.hist.max()),
                us(r.gaps.own_max),
                r.gaps.over_1ms.0,
                r.gaps.over_1ms.1,
                r.gaps.over_1ms.2,
                r.gaps.over_1ms.3,
                r.gaps.over_1ms.4,
                r.assist.as_secs_f64() * 1e3,
                r.swept as f64 / 1e6,
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
