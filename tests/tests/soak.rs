//! Soak mode: a long stress workload, off by default.
//!
//! `GC_SOAK_MINS=N cargo test --release -p tests --test soak -- --nocapture` runs for N minutes
//! (fractions allowed) three threads that rewire a shared graph (edges added and removed,
//! handles moved between cells, locals and a global, weak references upgraded, subgraphs
//! walked and verified) while a fourth calls `collect()` every few milliseconds and the pacer
//! starts cycles of its own. It prints a progress line every minute and, at the end,
//! operations done, cycles run, peak heap and anomalies (corrupted nodes, nodes dropped twice,
//! live nodes freed, dead ones kept), and fails if there was any anomaly.

use gc_core::{collect, stats, Gc, GcCell, GcGlobal, GcWeak, Trace, Tracer};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use tests::Rng;

const SLOTS: usize = 256;
const MAGIC: u64 = 0x9e37_79b9_7f4a_7c15;

/// Counts one drop per node; a second drop of the same node is an anomaly.
struct Mark {
    dropped: Arc<AtomicUsize>,
    once: AtomicBool,
    anomalies: Arc<AtomicU64>,
}

impl Drop for Mark {
    fn drop(&mut self) {
        if self.once.swap(true, Ordering::SeqCst) {
            self.anomalies.fetch_add(1, Ordering::SeqCst);
        }
        self.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

struct Node {
    id: u64,
    check: u64,
    payload: Vec<u64>,
    edges: GcCell<Vec<Gc<Node>>>,
    _mark: Mark,
}

// SAFETY: `edges` is the only field holding handles, traced through its cell. Its drop frees
// the payload, gives the edges back and updates atomic counters: any sweeping thread may run it.
unsafe impl Trace for Node {
    const PLAIN_DROP: bool = true;
    fn trace(&self, t: &mut Tracer) {
        self.edges.trace(t)
    }
}

struct Roots {
    slots: Vec<GcCell<Option<Gc<Node>>>>,
}

// SAFETY: every slot is traced.
unsafe impl Trace for Roots {
    fn trace(&self, t: &mut Tracer) {
        self.slots.trace(t)
    }
}

static ROOTS: GcGlobal<Roots> = GcGlobal::new();
static SPARE: GcGlobal<Node> = GcGlobal::new();

struct Shared {
    stop: AtomicBool,
    ids: AtomicU64,
    dropped: Arc<AtomicUsize>,
    anomalies: Arc<AtomicU64>,
    ops: AtomicU64,
}

impl Shared {
    fn node(&self, size: usize) -> Gc<Node> {
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        Gc::new(Node {
            id,
            check: id.wrapping_mul(MAGIC),
            payload: (0..size as u64).map(|i| id ^ i).collect(),
            edges: GcCell::new(Vec::new()),
            _mark: Mark {
                dropped: Arc::clone(&self.dropped),
                once: AtomicBool::new(false),
                anomalies: Arc::clone(&self.anomalies),
            },
        })
    }

    /// Checks a node's checksum and payload; counts (and reports) a corrupted one.
    fn verify(&self, n: &Node) -> bool {
        let ok = n.check == n.id.wrapping_mul(MAGIC)
            && n.payload
                .iter()
                .enumerate()
                .all(|(i, &v)| v == n.id ^ i as u64);
        if !ok {
            self.anomalies.fetch_add(1, Ordering::SeqCst);
            eprintln!("soak: ANOMALY: node {} corrupted", n.id);
        }
        ok
    }
}

fn mutate(seed: u64, s: &Shared) {
    let mut rng = Rng::new(seed);
    let roots = ROOTS.load().unwrap();
    let mut held: Vec<Gc<Node>> = Vec::new();
    let mut weaks: Vec<GcWeak<Node>> = Vec::new();
    while !s.stop.load(Ordering::Relaxed) {
        s.ops.fetch_add(1, Ordering::Relaxed);
        let slot = &roots.slots[rng.below(SLOTS)];
        match rng.below(12) {
            0 => *slot.borrow_mut() = Some(s.node(rng.below(32))),
            1 => {
                let next = slot.borrow().as_ref().and_then(|n| {
                    s.verify(n);
                    let e = n.edges.borrow();
                    (!e.is_empty()).then(|| e[rng.below(e.len())].clone())
                });
                if let Some(next) = next {
                    s.verify(&next);
                    *roots.slots[rng.below(SLOTS)].borrow_mut() = Some(next);
                }
            }
            2 | 3 => {
                let from = slot.borrow().clone();
                let to = match rng.below(3) {
                    0 => roots.slots[rng.below(SLOTS)].borrow().clone(),
                    1 => held.pop(),
                    _ => Some(s.node(rng.below(8))),
                };
                if let (Some(from), Some(to)) = (from, to) {
                    let mut e = from.edges.borrow_mut();
                    if e.len() < 8 {
                        e.push(to);
                    } else {
                        let i = rng.below(e.len());
                        e[i] = to;
                    }
                }
            }
            4 => {
                if let Some(n) = slot.borrow().clone() {
                    let mut e = n.edges.borrow_mut();
                    if !e.is_empty() {
                        let i = rng.below(e.len());
                        held.push(e.swap_remove(i));
                    }
                }
            }
            5 => {
                if let Some(n) = slot.borrow_mut().take() {
                    held.push(n);
                }
                if let Some(n) = held.pop() {
                    s.verify(&n);
                    *roots.slots[rng.below(SLOTS)].borrow_mut() = Some(n);
                }
            }
            6 => {
                if let Some(n) = slot.borrow().as_ref() {
                    weaks.push(Gc::downgrade(n));
                }
                if weaks.len() > 64 {
                    weaks.swap_remove(rng.below(weaks.len()));
                }
            }
            7 => {
                if !weaks.is_empty() {
                    if let Some(n) = weaks[rng.below(weaks.len())].upgrade() {
                        s.verify(&n);
                        if rng.below(4) == 0 {
                            *slot.borrow_mut() = Some(n);
                        }
                    }
                }
            }
            8 => {
                let mut cur = slot.borrow().clone();
                for _ in 0..32 {
                    let Some(n) = cur else { break };
                    s.verify(&n);
                    let e = n.edges.borrow();
                    cur = (!e.is_empty()).then(|| e[rng.below(e.len())].clone());
                }
            }
            9 => {
                // Through the global: publish a node, or take the published one.
                if rng.below(2) == 0 {
                    SPARE.store(slot.borrow().clone());
                } else if let Some(n) = SPARE.swap(None) {
                    s.verify(&n);
                    held.push(n);
                }
            }
            10 => {
                // Garbage: a short-lived cycle.
                let a = s.node(rng.below(16));
                let b = s.node(0);
                a.edges.borrow_mut().push(b.clone());
                b.edges.borrow_mut().push(a);
            }
            _ => {
                held.truncate(rng.below(4));
                *slot.borrow_mut() = None;
            }
        }
        if held.len() > 32 {
            held.clear();
        }
    }
}

fn reachable(s: &Shared) -> HashSet<u64> {
    let roots = ROOTS.load().unwrap();
    let mut seen = HashSet::new();
    let mut stack: Vec<Gc<Node>> = roots
        .slots
        .iter()
        .filter_map(|c| c.borrow().clone())
        .chain(SPARE.load())
        .collect();
    while let Some(n) = stack.pop() {
        s.verify(&n);
        if seen.insert(n.id) {
            stack.extend(n.edges.borrow().iter().cloned());
        }
    }
    seen
}

#[test]
fn soak() {
    let Some(mins) = std::env::var("GC_SOAK_MINS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
    else {
        eprintln!("soak: off (set GC_SOAK_MINS to run it)");
        return;
    };
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        ids: AtomicU64::new(0),
        dropped: Arc::new(AtomicUsize::new(0)),
        anomalies: Arc::new(AtomicU64::new(0)),
        ops: AtomicU64::new(0),
    });
    ROOTS.store(Some(Gc::new(Roots {
        slots: (0..SLOTS).map(|_| GcCell::new(None)).collect(),
    })));
    let start_stats = stats();
    let started = Instant::now();
    let mutators: Vec<_> = (0..3u64)
        .map(|i| {
            let s = Arc::clone(&shared);
            thread::spawn(move || mutate(0x5eed_0000 + i * 7919, &s))
        })
        .collect();
    let collector = {
        let s = Arc::clone(&shared);
        thread::spawn(move || {
            let mut calls = 0u64;
            while !s.stop.load(Ordering::Relaxed) {
                collect();
                calls += 1;
                thread::sleep(Duration::from_millis(5));
            }
            calls
        })
    };
    let deadline = started + Duration::from_secs_f64(mins * 60.0);
    let mut peak = 0u64;
    let mut next_report = started + Duration::from_secs(60);
    while Instant::now() < deadline {
        peak = peak.max(stats().heap_live_bytes);
        if Instant::now() >= next_report {
            next_report += Duration::from_secs(60);
            let st = stats();
            eprintln!(
                "soak: {:.0} s, {} ops, {} cycles, heap {:.1} MiB (peak {:.1} MiB), {} anomalies",
                started.elapsed().as_secs_f64(),
                shared.ops.load(Ordering::Relaxed),
                st.num_gc - start_stats.num_gc,
                st.heap_live_bytes as f64 / 1048576.0,
                peak as f64 / 1048576.0,
                shared.anomalies.load(Ordering::SeqCst)
            );
        }
        thread::sleep(Duration::from_millis(10));
    }
    shared.stop.store(true, Ordering::Relaxed);
    for m in mutators {
        m.join().expect("mutator panicked");
    }
    let calls = collector.join().expect("collector thread panicked");

    // The graph is quiet: exactly the unreachable nodes are dropped.
    collect();
    let live = reachable(&shared).len();
    let made = shared.ids.load(Ordering::SeqCst) as usize;
    let dropped = shared.dropped.load(Ordering::SeqCst);
    if made - dropped != live {
        shared.anomalies.fetch_add(1, Ordering::SeqCst);
        eprintln!("soak: ANOMALY: {made} made, {dropped} dropped, {live} reachable");
    }
    ROOTS.store(None);
    SPARE.store(None);
    collect();
    let freed_all = shared.dropped.load(Ordering::SeqCst);
    if freed_all != made {
        shared.anomalies.fetch_add(1, Ordering::SeqCst);
        eprintln!("soak: ANOMALY: {made} made, {freed_all} dropped after clearing the roots");
    }
    let end = stats();
    let anomalies = shared.anomalies.load(Ordering::SeqCst);
    eprintln!(
        "soak: {:.1} min, {} operations, {} nodes, {} cycles ({} forced by {} collect() calls), \
         peak heap {:.1} MiB, pause total {:?}, max recent pause {:?}, drop panics {}, \
         objects swept by assists {}, anomalies {}",
        started.elapsed().as_secs_f64() / 60.0,
        shared.ops.load(Ordering::SeqCst),
        made,
        end.num_gc - start_stats.num_gc,
        end.num_forced_gc - start_stats.num_forced_gc,
        calls,
        peak as f64 / 1048576.0,
        end.pause_total - start_stats.pause_total,
        end.recent_pauses.iter().max().copied().unwrap_or_default(),
        end.drop_panics - start_stats.drop_panics,
        end.assist_swept_objects - start_stats.assist_swept_objects,
        anomalies
    );
    assert_eq!(anomalies, 0, "anomalies during the soak");
}
