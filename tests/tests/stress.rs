//! Several threads rewire a shared graph while another collects in a loop; afterwards every
//! reachable node is intact and every unreachable one has been dropped.
//!
//! `GC_STRESS_SECS` sets the duration (default 3 seconds).

use gc_core::{collect, Gc, GcCell, GcGlobal, GcWeak, Trace, Tracer};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use tests::{DropCounter, GraphNode, Rng};

const SLOTS: usize = 64;

struct Roots {
    slots: Vec<GcCell<Option<Gc<GraphNode>>>>,
}

// SAFETY: every slot is traced.
unsafe impl Trace for Roots {
    fn trace(&self, t: &mut Tracer) {
        self.slots.trace(t)
    }
}

static ROOTS: GcGlobal<Roots> = GcGlobal::new();

fn mutate(seed: u64, stop: &AtomicBool, ids: &AtomicU64, drops: &DropCounter) -> u64 {
    let mut rng = Rng::new(seed);
    let roots = ROOTS.load().unwrap();
    let mut held: Vec<Gc<GraphNode>> = Vec::new();
    let mut weaks: Vec<GcWeak<GraphNode>> = Vec::new();
    let mut ops = 0;
    let new_node = |ids: &AtomicU64| GraphNode::new(ids.fetch_add(1, Ordering::Relaxed), drops);
    while !stop.load(Ordering::Relaxed) {
        ops += 1;
        let slot = &roots.slots[rng.below(SLOTS)];
        match rng.below(10) {
            0 => *slot.borrow_mut() = Some(new_node(ids)),
            1 => {
                // Follow an edge and store it in a root slot (moves a handle out of the heap).
                let next = slot.borrow().as_ref().and_then(|n| {
                    n.verify();
                    let e = n.edges.borrow();
                    (!e.is_empty()).then(|| e[rng.below(e.len())].clone())
                });
                if let Some(next) = next {
                    next.verify();
                    *roots.slots[rng.below(SLOTS)].borrow_mut() = Some(next);
                }
            }
            2 | 3 => {
                // Add an edge from one rooted node to another (or to a held or a new node).
                let from = slot.borrow().clone();
                let to = match rng.below(3) {
                    0 => roots.slots[rng.below(SLOTS)].borrow().clone(),
                    1 => held.pop(),
                    _ => Some(new_node(ids)),
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
                // Remove an edge, keeping the handle in a local for a while.
                if let Some(n) = slot.borrow().clone() {
                    let mut e = n.edges.borrow_mut();
                    if !e.is_empty() {
                        let i = rng.below(e.len());
                        held.push(e.swap_remove(i));
                    }
                }
            }
            5 => {
                // Take a node out of a root slot into a local; put one back elsewhere.
                if let Some(n) = slot.borrow_mut().take() {
                    held.push(n);
                }
                if let Some(n) = held.pop() {
                    n.verify();
                    *roots.slots[rng.below(SLOTS)].borrow_mut() = Some(n);
                }
            }
            6 => {
                if let Some(n) = slot.borrow().as_ref() {
                    weaks.push(Gc::downgrade(n));
                }
                if weaks.len() > 32 {
                    weaks.swap_remove(rng.below(weaks.len()));
                }
            }
            7 => {
                if !weaks.is_empty() {
                    let w = &weaks[rng.below(weaks.len())];
                    if let Some(n) = w.upgrade() {
                        n.verify();
                        if rng.below(4) == 0 {
                            *slot.borrow_mut() = Some(n);
                        }
                    }
                }
            }
            8 => {
                // Walk a few steps from a root, verifying every node.
                let mut cur = slot.borrow().clone();
                for _ in 0..16 {
                    let Some(n) = cur else { break };
                    n.verify();
                    let e = n.edges.borrow();
                    cur = (!e.is_empty()).then(|| e[rng.below(e.len())].clone());
                }
            }
            _ => {
                held.truncate(rng.below(4));
                *slot.borrow_mut() = None;
            }
        }
        if held.len() > 16 {
            held.clear();
        }
    }
    ops
}

fn reachable() -> HashSet<u64> {
    let roots = ROOTS.load().unwrap();
    let mut seen = HashSet::new();
    let mut stack: Vec<Gc<GraphNode>> = roots
        .slots
        .iter()
        .filter_map(|s| s.borrow().clone())
        .collect();
    while let Some(n) = stack.pop() {
        n.verify();
        if seen.insert(n.id) {
            stack.extend(n.edges.borrow().iter().cloned());
        }
    }
    seen
}

#[test]
fn threads_rewire_a_shared_graph_while_collect_runs_in_a_loop() {
    let secs = std::env::var("GC_STRESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    ROOTS.store(Some(Gc::new(Roots {
        slots: (0..SLOTS).map(|_| GcCell::new(None)).collect(),
    })));
    let stop = Arc::new(AtomicBool::new(false));
    let ids = Arc::new(AtomicU64::new(0));
    let drops = DropCounter::new();
    let mutators: Vec<_> = (0..3)
        .map(|i| {
            let (stop, ids, drops) = (Arc::clone(&stop), Arc::clone(&ids), drops.clone());
            thread::spawn(move || mutate(0x1234_5678 + i * 7919, &stop, &ids, &drops))
        })
        .collect();
    let done_cycles = Arc::new(AtomicU64::new(0));
    let collector = {
        let (stop, done_cycles) = (Arc::clone(&stop), Arc::clone(&done_cycles));
        thread::spawn(move || {
            let mut cycles = 0u64;
            while !stop.load(Ordering::Relaxed) {
                collect();
                cycles += 1;
                done_cycles.store(cycles, Ordering::Relaxed);
            }
            cycles
        })
    };
    // Run for the time asked, and at least until a few cycles overlapped the mutators (under
    // valgrind, which runs one thread at a time, the collecting thread gets little time).
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline || done_cycles.load(Ordering::Relaxed) < 5 {
        thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    let ops: u64 = mutators.into_iter().map(|t| t.join().unwrap()).sum();
    let cycles = collector.join().unwrap();
    eprintln!("stress: {ops} mutator operations, {cycles} collect() calls");
    assert!(ops > 1000 && cycles > 3, "ops {ops}, cycles {cycles}");

    collect();
    collect();
    let live = reachable();
    let made = ids.load(Ordering::Relaxed) as usize;
    assert_eq!(
        made - drops.dropped(),
        live.len(),
        "after the mutators stop, exactly the unreachable nodes are dropped"
    );
    ROOTS.store(None);
    collect();
    assert_eq!(
        drops.dropped(),
        made,
        "clearing the root frees the whole graph"
    );
}
