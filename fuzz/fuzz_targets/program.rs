//! Interprets the fuzzer's bytes as a heap program (allocate, link, unlink, clone and drop
//! handles, store and clear globals, upgrade weak references, borrow a cell across a collection,
//! collect) and checks it against a plain reachability model: after every `collect()` exactly
//! the unreachable objects are gone (weak reference cleared, dropped exactly once) and every
//! reachable one is intact (payload checksum, edges as the model says).

#![no_main]

use gc_core::{collect, Gc, GcCell, GcGlobal, GcWeak, Trace};
use libfuzzer_sys::fuzz_target;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

const SLOTS: usize = 8;
const GLOBALS: usize = 2;
const EDGE_CAP: usize = 4;
const MAX_OPS: usize = 256;

static ROOTS: [GcGlobal<Node>; GLOBALS] = [const { GcGlobal::new() }; GLOBALS];

struct DropMark {
    counts: Arc<Vec<AtomicU32>>,
    id: usize,
}

impl Drop for DropMark {
    fn drop(&mut self) {
        self.counts[self.id].fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: a mark holds no handle; its drop is one atomic increment, which any sweeping thread
// may run.
unsafe impl Trace for DropMark {
    const HOLDS_HANDLES: bool = false;
    const PLAIN_DROP: bool = true;
    fn trace(&self, _: &mut gc_core::Tracer) {}
}

#[derive(Trace)]
struct Node {
    id: u32,
    payload: [u64; 3],
    edges: GcCell<Vec<Gc<Node>>>,
    _mark: DropMark,
}

fn payload(id: u32) -> [u64; 3] {
    let x = u64::from(id)
        .wrapping_add(1)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    [x, !x, x.rotate_left(29)]
}

fn verify(n: &Node) {
    assert_eq!(n.payload, payload(n.id), "node {} corrupted", n.id);
}

/// The heap side and the model side of one program.
struct Run {
    slots: Vec<Option<Gc<Node>>>,
    weaks: Vec<GcWeak<Node>>,
    counts: Arc<Vec<AtomicU32>>,
    m_slots: [Option<u32>; SLOTS],
    m_globals: [Option<u32>; GLOBALS],
    m_edges: Vec<Vec<u32>>,
    m_gone: Vec<bool>,
}

impl Run {
    fn reachable(&self) -> Vec<bool> {
        let mut seen = vec![false; self.m_edges.len()];
        let mut stack: Vec<u32> = self
            .m_slots
            .iter()
            .chain(self.m_globals.iter())
            .flatten()
            .copied()
            .collect();
        while let Some(id) = stack.pop() {
            if !std::mem::replace(&mut seen[id as usize], true) {
                stack.extend(&self.m_edges[id as usize]);
            }
        }
        seen
    }

    fn check(&mut self) {
        collect();
        for (id, live) in self.reachable().into_iter().enumerate() {
            let drops = self.counts[id].load(Ordering::SeqCst);
            let got = self.weaks[id].upgrade();
            if live {
                assert_eq!(drops, 0, "reachable {id} dropped");
                let n = got.unwrap_or_else(|| panic!("reachable {id}: weak cleared"));
                verify(&n);
                let edges: Vec<u32> = n.edges.borrow().iter().map(|e| e.id).collect();
                assert_eq!(edges, self.m_edges[id], "edges of {id}");
            } else {
                assert_eq!(drops, 1, "unreachable {id} dropped {drops} times");
                assert!(got.is_none(), "unreachable {id}: weak not cleared");
                self.m_gone[id] = true;
            }
        }
    }

    fn step(&mut self, op: u8, a: usize, b: usize) {
        let (sa, sb) = (a % SLOTS, b % SLOTS);
        match op % 12 {
            0 | 1 => {
                let id = self.m_edges.len() as u32;
                let n = Gc::new(Node {
                    id,
                    payload: payload(id),
                    edges: GcCell::new(Vec::new()),
                    _mark: DropMark {
                        counts: Arc::clone(&self.counts),
                        id: id as usize,
                    },
                });
                self.weaks.push(Gc::downgrade(&n));
                self.slots[sa] = Some(n);
                self.m_edges.push(Vec::new());
                self.m_gone.push(false);
                self.m_slots[sa] = Some(id);
            }
            2 | 3 => {
                if let (Some(f), Some(t)) = (&self.slots[sa], &self.slots[sb]) {
                    let mut e = f.edges.borrow_mut();
                    if e.len() >= EDGE_CAP {
                        e.remove(0);
                    }
                    e.push(t.clone());
                    let me = &mut self.m_edges[f.id as usize];
                    if me.len() >= EDGE_CAP {
                        me.remove(0);
                    }
                    me.push(t.id);
                }
            }
            4 => {
                if let Some(n) = &self.slots[sa] {
                    let mut e = n.edges.borrow_mut();
                    if !e.is_empty() {
                        let k = b % e.len();
                        e.remove(k);
                        self.m_edges[n.id as usize].remove(k);
                    }
                }
            }
            5 => {
                let got = self.slots[sa].as_ref().and_then(|n| {
                    let e = n.edges.borrow();
                    (!e.is_empty()).then(|| e[b % e.len()].clone())
                });
                if let Some(g) = got {
                    verify(&g);
                    self.m_slots[(a / SLOTS) % SLOTS] = Some(g.id);
                    self.slots[(a / SLOTS) % SLOTS] = Some(g);
                }
            }
            6 => {
                if let Some(g) = self.slots[sa].clone() {
                    self.slots[sb] = Some(g);
                    self.m_slots[sb] = self.m_slots[sa];
                }
            }
            7 => {
                self.slots[sa] = None;
                self.m_slots[sa] = None;
            }
            8 => {
                let g = b % GLOBALS;
                if a & 0x80 != 0 {
                    ROOTS[g].store(None);
                    self.m_globals[g] = None;
                } else if let Some(n) = &self.slots[sa] {
                    ROOTS[g].store(Some(n.clone()));
                    self.m_globals[g] = self.m_slots[sa];
                }
            }
            9 => {
                let g = b % GLOBALS;
                if let Some(n) = ROOTS[g].load() {
                    verify(&n);
                    self.slots[sa] = Some(n);
                    self.m_slots[sa] = self.m_globals[g];
                }
            }
            10 => {
                if self.weaks.is_empty() {
                    return;
                }
                let obj = b % self.weaks.len();
                let reachable = self.reachable()[obj];
                let got = self.weaks[obj].upgrade();
                // Single-threaded: only cycles the pacer starts run in the background, so an
                // unreachable object may or may not be gone yet; a collected one must stay gone.
                assert!(
                    !reachable || got.is_some(),
                    "upgrade of reachable {obj} failed"
                );
                assert!(
                    !self.m_gone[obj] || got.is_none(),
                    "collected {obj} revived"
                );
                if let Some(n) = got {
                    verify(&n);
                    self.slots[sa] = Some(n);
                    self.m_slots[sa] = Some(obj as u32);
                }
            }
            _ => {
                if a & 1 == 0 {
                    self.check();
                } else if let Some(n) = &self.slots[sa] {
                    // Hold the cell mutably across a whole cycle, one handle moved into a local.
                    let mut e = n.edges.borrow_mut();
                    let last = e.pop();
                    collect();
                    if let Some(last) = last {
                        verify(&last);
                        e.insert(0, last);
                        self.m_edges[n.id as usize].rotate_right(1);
                    }
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let ops: Vec<&[u8]> = data.chunks_exact(3).take(MAX_OPS).collect();
    let mut run = Run {
        slots: (0..SLOTS).map(|_| None).collect(),
        weaks: Vec::new(),
        counts: Arc::new((0..ops.len()).map(|_| AtomicU32::new(0)).collect()),
        m_slots: [None; SLOTS],
        m_globals: [None; GLOBALS],
        m_edges: Vec::new(),
        m_gone: Vec::new(),
    };
    for op in ops {
        run.step(op[0], usize::from(op[1]), usize::from(op[2]));
    }
    run.check();
    // Tear down: clear every root; then everything must be dropped exactly once.
    run.slots.iter_mut().for_each(|s| *s = None);
    run.m_slots = [None; SLOTS];
    for g in &ROOTS {
        g.store(None);
    }
    run.m_globals = [None; GLOBALS];
    run.check();
});
