//! Differential model testing: random programs over several threads run against the heap and
//! against a plain reachability model.
//!
//! A program allocates nodes, links and unlinks them, clones, drops and moves handles between
//! threads, stores and clears globals, upgrades weak references, borrows cells across a
//! `collect()`, and starts collections in the background. After every checked `collect()`,
//! exactly the objects the model finds unreachable are gone (weak reference cleared, dropped
//! exactly once) and every reachable one is intact (payload checksum, edges as the model says).
//!
//! Handles live in the slots of a fixed set of worker threads, driven one step at a time from
//! the test thread, so the model knows where every handle is. Collections started in the
//! background overlap those steps (barriers, weak upgrades while marking or sweeping).
//!
//! `GC_MODEL_CASES` sets the number of programs (default 3000); `GC_MODEL_OPS` the maximum
//! program length (default 48). The whole binary is this one test: the globals and the
//! drop counts are its own.

use gc_core::{collect, Gc, GcCell, GcGlobal, GcWeak, Trace};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

/// Worker threads holding handles.
const THREADS: usize = 3;
/// Handle slots per worker.
const SLOTS: usize = 4;
/// Global roots.
const GLOBALS: usize = 2;
/// Edges per node; linking past it drops the oldest edge.
const EDGE_CAP: usize = 4;

static ROOTS: [GcGlobal<MNode>; GLOBALS] = [const { GcGlobal::new() }; GLOBALS];

/// Counts the drops of one object in the per-program drop table.
struct DropMark {
    counts: Arc<Vec<AtomicU32>>,
    id: usize,
}

impl Drop for DropMark {
    fn drop(&mut self) {
        self.counts[self.id].fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Trace)]
struct MNode {
    id: u32,
    payload: [u64; 4],
    edges: GcCell<Vec<Gc<MNode>>>,
    #[gc(unsafe_no_trace)] // holds no handle
    _mark: DropMark,
}

fn payload(id: u32) -> [u64; 4] {
    let x = u64::from(id)
        .wrapping_add(1)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    [x, !x, x.rotate_left(17), x ^ 0x5555_5555_5555_5555]
}

fn verify(n: &MNode) -> Result<(), String> {
    if n.payload == payload(n.id) {
        Ok(())
    } else {
        Err(format!("node {} corrupted: {:x?}", n.id, n.payload))
    }
}

/// One step of a program. Threads, slots and globals are indices; `i` picks an edge.
#[derive(Clone, Debug)]
enum Op {
    Alloc {
        t: usize,
        s: usize,
    },
    Link {
        t: usize,
        from: usize,
        to: usize,
    },
    Unlink {
        t: usize,
        s: usize,
        i: usize,
    },
    LoadEdge {
        t: usize,
        s: usize,
        i: usize,
        dst: usize,
    },
    Clone {
        t: usize,
        src: usize,
        dst: usize,
    },
    Drop {
        t: usize,
        s: usize,
    },
    Move {
        from: usize,
        s: usize,
        to: usize,
        dst: usize,
    },
    StoreGlobal {
        t: usize,
        s: usize,
        g: usize,
    },
    LoadGlobal {
        t: usize,
        g: usize,
        s: usize,
    },
    ClearGlobal {
        t: usize,
        g: usize,
    },
    Upgrade {
        t: usize,
        obj: usize,
        s: usize,
    },
    BorrowCollect {
        t: usize,
        s: usize,
    },
    CollectInBackground,
    Collect,
}

fn op() -> impl Strategy<Value = Op> {
    let t = || 0..THREADS;
    let s = || 0..SLOTS;
    let g = || 0..GLOBALS;
    prop_oneof![
        6 => (t(), s()).prop_map(|(t, s)| Op::Alloc { t, s }),
        6 => (t(), s(), s()).prop_map(|(t, from, to)| Op::Link { t, from, to }),
        3 => (t(), s(), 0..8usize).prop_map(|(t, s, i)| Op::Unlink { t, s, i }),
        3 => (t(), s(), 0..8usize, s()).prop_map(|(t, s, i, dst)| Op::LoadEdge { t, s, i, dst }),
        3 => (t(), s(), s()).prop_map(|(t, src, dst)| Op::Clone { t, src, dst }),
        4 => (t(), s()).prop_map(|(t, s)| Op::Drop { t, s }),
        4 => (t(), s(), t(), s()).prop_map(|(from, s, to, dst)| Op::Move { from, s, to, dst }),
        2 => (t(), s(), g()).prop_map(|(t, s, g)| Op::StoreGlobal { t, s, g }),
        2 => (t(), g(), s()).prop_map(|(t, g, s)| Op::LoadGlobal { t, g, s }),
        1 => (t(), g()).prop_map(|(t, g)| Op::ClearGlobal { t, g }),
        2 => (t(), 0..64usize, s()).prop_map(|(t, obj, s)| Op::Upgrade { t, obj, s }),
        1 => (t(), s()).prop_map(|(t, s)| Op::BorrowCollect { t, s }),
        2 => Just(Op::CollectInBackground),
        3 => Just(Op::Collect),
    ]
}

/// What a worker is told to do with its slots.
enum Cmd {
    Alloc {
        s: usize,
        id: u32,
        counts: Arc<Vec<AtomicU32>>,
    },
    Link {
        from: usize,
        to: usize,
    },
    Unlink {
        s: usize,
        i: usize,
    },
    LoadEdge {
        s: usize,
        i: usize,
        dst: usize,
    },
    Clone {
        src: usize,
        dst: usize,
    },
    Drop {
        s: usize,
    },
    Take {
        s: usize,
    },
    Put {
        s: usize,
        h: Option<Gc<MNode>>,
    },
    StoreGlobal {
        s: usize,
        g: usize,
    },
    LoadGlobal {
        g: usize,
        s: usize,
    },
    ClearGlobal {
        g: usize,
    },
    Upgrade {
        w: GcWeak<MNode>,
        s: usize,
    },
    BorrowCollect {
        s: usize,
    },
    ClearAll,
}

/// A worker's answer.
enum Out {
    Done,
    Weak(GcWeak<MNode>),
    Handle(Option<Gc<MNode>>),
    Upgraded(bool),
}

struct Worker {
    cmds: Sender<Cmd>,
    outs: Receiver<Result<Out, String>>,
}

impl Worker {
    fn spawn() -> (Worker, JoinHandle<()>) {
        let (cmds, cmd_rx) = channel::<Cmd>();
        let (out_tx, outs) = channel();
        let join = thread::spawn(move || {
            let mut slots: Vec<Option<Gc<MNode>>> = (0..SLOTS).map(|_| None).collect();
            for cmd in cmd_rx {
                let out = execute(cmd, &mut slots);
                if out_tx.send(out).is_err() {
                    break;
                }
            }
        });
        (Worker { cmds, outs }, join)
    }

    fn run(&self, cmd: Cmd) -> Result<Out, TestCaseError> {
        self.cmds
            .send(cmd)
            .map_err(|_| TestCaseError::fail("worker gone"))?;
        self.outs
            .recv()
            .map_err(|_| TestCaseError::fail("worker gone"))?
            .map_err(TestCaseError::fail)
    }
}

fn execute(cmd: Cmd, slots: &mut [Option<Gc<MNode>>]) -> Result<Out, String> {
    for n in slots.iter().flatten() {
        verify(n)?;
    }
    match cmd {
        Cmd::Alloc { s, id, counts } => {
            let n = Gc::new(MNode {
                id,
                payload: payload(id),
                edges: GcCell::new(Vec::new()),
                _mark: DropMark {
                    counts,
                    id: id as usize,
                },
            });
            let w = Gc::downgrade(&n);
            slots[s] = Some(n);
            return Ok(Out::Weak(w));
        }
        Cmd::Link { from, to } => {
            if let (Some(f), Some(t)) = (&slots[from], &slots[to]) {
                let mut e = f.edges.borrow_mut();
                if e.len() >= EDGE_CAP {
                    e.remove(0);
                }
                e.push(t.clone());
            }
        }
        Cmd::Unlink { s, i } => {
            if let Some(n) = &slots[s] {
                let mut e = n.edges.borrow_mut();
                if !e.is_empty() {
                    let k = i % e.len();
                    e.remove(k);
                }
            }
        }
        Cmd::LoadEdge { s, i, dst } => {
            let got = slots[s].as_ref().and_then(|n| {
                let e = n.edges.borrow();
                (!e.is_empty()).then(|| e[i % e.len()].clone())
            });
            if let Some(g) = got {
                verify(&g)?;
                slots[dst] = Some(g);
            }
        }
        Cmd::Clone { src, dst } => {
            if let Some(g) = slots[src].clone() {
                slots[dst] = Some(g);
            }
        }
        Cmd::Drop { s } => slots[s] = None,
        Cmd::Take { s } => return Ok(Out::Handle(slots[s].take())),
        Cmd::Put { s, h } => {
            if let Some(h) = h {
                verify(&h)?;
                slots[s] = Some(h);
            }
        }
        Cmd::StoreGlobal { s, g } => {
            if let Some(n) = &slots[s] {
                ROOTS[g].store(Some(n.clone()));
            }
        }
        Cmd::LoadGlobal { g, s } => {
            if let Some(n) = ROOTS[g].load() {
                verify(&n)?;
                slots[s] = Some(n);
            }
        }
        Cmd::ClearGlobal { g } => ROOTS[g].store(None),
        Cmd::Upgrade { w, s } => {
            let got = w.upgrade();
            let ok = got.is_some();
            if let Some(n) = got {
                verify(&n)?;
                // Everything it reaches must be intact too (the upgrade may revive it).
                let mut stack = vec![n.clone()];
                let mut seen = 0;
                while let Some(m) = stack.pop() {
                    verify(&m)?;
                    seen += 1;
                    if seen < 64 {
                        stack.extend(m.edges.borrow().iter().cloned());
                    }
                }
                slots[s] = Some(n);
            }
            return Ok(Out::Upgraded(ok));
        }
        Cmd::BorrowCollect { s } => {
            if let Some(n) = &slots[s] {
                // Hold the cell mutably across a whole cycle, with one of its handles moved
                // out into a local meanwhile.
                let mut e = n.edges.borrow_mut();
                let last = e.pop();
                collect();
                if let Some(last) = last {
                    verify(&last)?;
                    e.insert(0, last);
                }
            }
        }
        Cmd::ClearAll => slots.iter_mut().for_each(|s| *s = None),
    }
    Ok(Out::Done)
}

/// The reachability model of one program.
#[derive(Default)]
struct Model {
    slots: [[Option<u32>; SLOTS]; THREADS],
    globals: [Option<u32>; GLOBALS],
    /// Edges of every object ever allocated, by id.
    edges: Vec<Vec<u32>>,
    /// Objects a checked `collect()` found unreachable: they must stay gone.
    gone: Vec<bool>,
}

impl Model {
    fn reachable(&self) -> Vec<bool> {
        let mut seen = vec![false; self.edges.len()];
        let mut stack: Vec<u32> = self
            .slots
            .iter()
            .flatten()
            .chain(self.globals.iter())
            .flatten()
            .copied()
            .collect();
        while let Some(id) = stack.pop() {
            if !std::mem::replace(&mut seen[id as usize], true) {
                stack.extend(&self.edges[id as usize]);
            }
        }
        seen
    }
}

struct Program<'a> {
    workers: &'a [Worker],
    model: Model,
    weaks: Vec<GcWeak<MNode>>,
    counts: Arc<Vec<AtomicU32>>,
    background: Option<JoinHandle<()>>,
}

fn check(cond: bool, msg: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if cond {
        Ok(())
    } else {
        Err(TestCaseError::fail(msg()))
    }
}

impl Program<'_> {
    fn join_background(&mut self) -> Result<(), TestCaseError> {
        if let Some(b) = self.background.take() {
            b.join()
                .map_err(|_| TestCaseError::fail("background collect panicked"))?;
        }
        Ok(())
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let m = &mut self.model;
        match *op {
            Op::Alloc { t, s } => {
                let id = m.edges.len() as u32;
                let out = self.workers[t].run(Cmd::Alloc {
                    s,
                    id,
                    counts: Arc::clone(&self.counts),
                })?;
                let Out::Weak(w) = out else {
                    return Err(TestCaseError::fail("no weak"));
                };
                self.weaks.push(w);
                m.edges.push(Vec::new());
                m.gone.push(false);
                m.slots[t][s] = Some(id);
            }
            Op::Link { t, from, to } => {
                self.workers[t].run(Cmd::Link { from, to })?;
                if let (Some(f), Some(to)) = (m.slots[t][from], m.slots[t][to]) {
                    let e = &mut m.edges[f as usize];
                    if e.len() >= EDGE_CAP {
                        e.remove(0);
                    }
                    e.push(to);
                }
            }
            Op::Unlink { t, s, i } => {
                self.workers[t].run(Cmd::Unlink { s, i })?;
                if let Some(n) = m.slots[t][s] {
                    let e = &mut m.edges[n as usize];
                    if !e.is_empty() {
                        let k = i % e.len();
                        e.remove(k);
                    }
                }
            }
            Op::LoadEdge { t, s, i, dst } => {
                self.workers[t].run(Cmd::LoadEdge { s, i, dst })?;
                if let Some(n) = m.slots[t][s] {
                    let e = &m.edges[n as usize];
                    if !e.is_empty() {
                        m.slots[t][dst] = Some(e[i % e.len()]);
                    }
                }
            }
            Op::Clone { t, src, dst } => {
                self.workers[t].run(Cmd::Clone { src, dst })?;
                if let Some(n) = m.slots[t][src] {
                    m.slots[t][dst] = Some(n);
                }
            }
            Op::Drop { t, s } => {
                self.workers[t].run(Cmd::Drop { s })?;
                m.slots[t][s] = None;
            }
            Op::Move { from, s, to, dst } => {
                let Out::Handle(h) = self.workers[from].run(Cmd::Take { s })? else {
                    return Err(TestCaseError::fail("no handle"));
                };
                check(h.as_ref().map(|h| h.id) == m.slots[from][s], || {
                    "took the wrong handle".into()
                })?;
                self.workers[to].run(Cmd::Put { s: dst, h })?;
                if let Some(n) = m.slots[from][s].take() {
                    m.slots[to][dst] = Some(n);
                }
            }
            Op::StoreGlobal { t, s, g } => {
                self.workers[t].run(Cmd::StoreGlobal { s, g })?;
                if let Some(n) = m.slots[t][s] {
                    m.globals[g] = Some(n);
                }
            }
            Op::LoadGlobal { t, g, s } => {
                self.workers[t].run(Cmd::LoadGlobal { g, s })?;
                if let Some(n) = m.globals[g] {
                    m.slots[t][s] = Some(n);
                }
            }
            Op::ClearGlobal { t, g } => {
                self.workers[t].run(Cmd::ClearGlobal { g })?;
                m.globals[g] = None;
            }
            Op::Upgrade { t, obj, s } => {
                if self.weaks.is_empty() {
                    return Ok(());
                }
                let obj = obj % self.weaks.len();
                let reachable = m.reachable()[obj];
                let out = self.workers[t].run(Cmd::Upgrade {
                    w: self.weaks[obj].clone(),
                    s,
                })?;
                let Out::Upgraded(ok) = out else {
                    return Err(TestCaseError::fail("no upgrade result"));
                };
                // Reachable: must succeed. Found dead by a checked collect: must fail.
                // Unreachable but not yet checked: a cycle may or may not have taken it.
                check(!reachable || ok, || {
                    format!("upgrade of reachable {obj} failed")
                })?;
                check(!m.gone[obj] || !ok, || {
                    format!("upgrade of collected {obj} succeeded")
                })?;
                if ok {
                    m.slots[t][s] = Some(obj as u32);
                }
            }
            Op::BorrowCollect { t, s } => {
                self.workers[t].run(Cmd::BorrowCollect { s })?;
                if let Some(n) = m.slots[t][s] {
                    let e = &mut m.edges[n as usize];
                    if !e.is_empty() {
                        e.rotate_right(1);
                    }
                }
            }
            Op::CollectInBackground => {
                if self.background.is_none() {
                    self.background = Some(thread::spawn(collect));
                }
            }
            Op::Collect => {
                self.join_background()?;
                collect();
                self.verify_heap()?;
            }
        }
        Ok(())
    }

    /// After a `collect()` with every worker idle: exactly the unreachable objects are gone.
    fn verify_heap(&mut self) -> Result<(), TestCaseError> {
        let reachable = self.model.reachable();
        for (id, &live) in reachable.iter().enumerate() {
            let drops = self.counts[id].load(Ordering::SeqCst);
            let got = self.weaks[id].upgrade();
            if live {
                check(drops == 0, || {
                    format!("reachable {id} dropped {drops} times")
                })?;
                let Some(n) = got else {
                    return Err(TestCaseError::fail(format!(
                        "reachable {id}: weak reference cleared"
                    )));
                };
                verify(&n).map_err(TestCaseError::fail)?;
                let edges: Vec<u32> = n.edges.borrow().iter().map(|e| e.id).collect();
                check(edges == self.model.edges[id], || {
                    format!("{id}: edges {edges:?}, model {:?}", self.model.edges[id])
                })?;
            } else {
                check(drops == 1, || {
                    format!("unreachable {id} dropped {drops} times after collect()")
                })?;
                check(got.is_none(), || {
                    format!("unreachable {id}: weak reference not cleared")
                })?;
                self.model.gone[id] = true;
            }
        }
        Ok(())
    }

    /// Clears every root; afterwards every object was dropped exactly once.
    fn teardown(&mut self) -> Result<(), TestCaseError> {
        let joined = self.join_background();
        for w in self.workers {
            w.run(Cmd::ClearAll)?;
        }
        for g in &ROOTS {
            g.store(None);
        }
        joined?;
        self.model.slots = Default::default();
        self.model.globals = Default::default();
        collect();
        self.verify_heap()
    }
}

fn env_or(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_programs_free_exactly_the_unreachable_objects() {
    let cases = env_or("GC_MODEL_CASES", 3000);
    let max_ops = env_or("GC_MODEL_OPS", 48) as usize;
    let (workers, joins): (Vec<Worker>, Vec<JoinHandle<()>>) =
        (0..THREADS).map(|_| Worker::spawn()).unzip();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let ops_run = std::cell::Cell::new(0u64);
    let result = runner.run(
        &prop::collection::vec(op(), 1..=max_ops.max(1)),
        |program| {
            ops_run.set(ops_run.get() + program.len() as u64);
            // One slot per allocation at most.
            let counts: Arc<Vec<AtomicU32>> =
                Arc::new((0..program.len()).map(|_| AtomicU32::new(0)).collect());
            let mut p = Program {
                workers: &workers,
                model: Model::default(),
                weaks: Vec::new(),
                counts,
                background: None,
            };
            let ran = program.iter().try_for_each(|op| p.step(op));
            let torn_down = p.teardown();
            ran.and(torn_down)
        },
    );
    drop(workers);
    for j in joins {
        j.join().expect("worker panicked");
    }
    match result {
        Ok(()) => eprintln!("model: {cases} programs, {} operations", ops_run.get()),
        Err(TestError::Fail(why, program)) => {
            panic!(
                "{why}\nminimal program ({} steps): {program:#?}",
                program.len()
            )
        }
        Err(e) => panic!("{e}"),
    }
}
