//! More fault injection: panics while a cell is borrowed mutably (with other threads and the
//! collector waiting for it, and in a loop while cycles mark), panicking `Drop`s while another
//! thread collects, allocation failure, and the memory limit under pressure from two threads.
//! After each, the heap keeps working, nothing reachable is lost and nothing is dropped twice.
//!
//! The binary's global allocator passes everything to the system allocator, except in the
//! child process of the allocation-failure test, where it fails one chosen size.

use gc_core::{
    collect, set_gc_percent, set_memory_limit, stats, Gc, GcCell, GcGlobal, Trace, Tracer,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Once};
use std::thread;
use std::time::Duration;
use tests::{DropCounter, GraphNode};

const MAGIC: u64 = 0x9e37_79b9_7f4a_7c15;

/// Fails allocations whose size is in `[FAIL_FROM, FAIL_FROM + 256)` once armed (non-zero).
struct FailingAlloc;

static FAIL_FROM: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to `System` with the caller's arguments, except that an armed size
// returns null, which `GlobalAlloc::alloc` allows to signal failure.
unsafe impl GlobalAlloc for FailingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let from = FAIL_FROM.load(Ordering::Relaxed);
        if from != 0 && (from..from + 256).contains(&layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` (through `alloc` above) with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: FailingAlloc = FailingAlloc;

/// Panics injected by these tests say "injected"; keep them off stderr.
fn quiet_injected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str));
            if !msg.is_some_and(|m| m.contains("injected")) {
                previous(info);
            }
        }));
    });
}

/// A node with a checksum and a list of edges.
type Node = GraphNode;

fn node(id: u64, drops: &DropCounter) -> Gc<Node> {
    GraphNode::new(id, drops)
}

fn verify(n: &Node) {
    n.verify();
}

/// Ids of the nodes reachable from `root`, verifying each.
fn reachable(root: &Gc<Node>) -> HashSet<u64> {
    let mut seen = HashSet::new();
    let mut stack = vec![root.clone()];
    while let Some(n) = stack.pop() {
        verify(&n);
        if seen.insert(n.id) {
            stack.extend(n.edges.borrow().iter().cloned());
        }
    }
    seen
}

#[test]
fn a_panic_while_a_cell_is_held_mutably_releases_it_to_waiting_threads_and_the_collector() {
    quiet_injected_panics();
    let drops = DropCounter::new();
    let root = node(0, &drops);
    for id in 1..=8 {
        root.edges.borrow_mut().push(node(id, &drops));
    }
    let (held_tx, held_rx) = mpsc::channel();
    let holder = {
        let (root, drops) = (root.clone(), drops.clone());
        thread::spawn(move || {
            let mut edges = root.edges.borrow_mut();
            edges.push(node(9, &drops));
            let moved = edges.remove(0);
            held_tx.send(()).unwrap();
            // Give the reader and the collector time to block on the cell (not an assertion:
            // the outcome is the same whether they block or not).
            thread::sleep(Duration::from_millis(50));
            if moved.id == 1 {
                panic!("injected: user code panics while holding borrow_mut");
            }
            edges.push(moved);
        })
    };
    held_rx.recv().unwrap();
    let reader = {
        let root = root.clone();
        thread::spawn(move || {
            let edges = root.edges.borrow();
            edges.iter().map(|n| n.id).collect::<Vec<_>>()
        })
    };
    let collector = thread::spawn(collect);
    assert!(holder.join().is_err(), "the holder panicked");
    let seen = reader
        .join()
        .expect("the reader got the cell after the panic");
    collector
        .join()
        .expect("collect() finished after the panic");
    // The holder's changes before the panic stay; the handle it held in a local was dropped.
    assert_eq!(seen, vec![2, 3, 4, 5, 6, 7, 8, 9]);
    collect();
    assert_eq!(
        reachable(&root).len(),
        9,
        "root and its 8 children are intact"
    );
    assert_eq!(drops.dropped(), 1, "only the dropped node 1 is gone");
    *root.edges.borrow_mut() = vec![node(10, &drops)];
    drop(root);
    collect();
    assert_eq!(drops.dropped(), 11, "everything freed exactly once");
}

#[test]
fn panics_inside_borrow_mut_while_cycles_mark_lose_nothing_reachable() {
    quiet_injected_panics();
    let drops = DropCounter::new();
    let made = AtomicU64::new(1);
    let root = node(0, &drops);
    let stop = Arc::new(AtomicBool::new(false));
    let cycles = Arc::new(AtomicU64::new(0));
    let collector = {
        let (stop, cycles) = (Arc::clone(&stop), Arc::clone(&cycles));
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                collect();
                cycles.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let mut panics = 0;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    // At least 2000 steps, and at least 20 cycles overlapping them.
    let mut i = 0u64;
    while i < 2000 || cycles.load(Ordering::Relaxed) < 20 {
        i += 1;
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let r = catch_unwind(AssertUnwindSafe(|| {
            // Move a handle from one node's cell to another's, panicking half-way one time in
            // three (the handle in flight is then dropped by the unwinding).
            let from = root.edges.borrow().get(rng as usize % 8).cloned();
            let to = root.edges.borrow().get((rng >> 8) as usize % 8).cloned();
            match (from, to) {
                (Some(from), Some(to)) if !Gc::ptr_eq(&from, &to) => {
                    let mut f = from.edges.borrow_mut();
                    let moving = if f.is_empty() {
                        None
                    } else {
                        Some(f.remove(0))
                    };
                    if rng.is_multiple_of(3) {
                        panic!("injected: panic with a handle in flight");
                    }
                    drop(f);
                    if let Some(m) = moving {
                        verify(&m);
                        let mut t = to.edges.borrow_mut();
                        if t.len() < 6 {
                            t.push(m);
                        }
                    }
                }
                _ => {
                    let id = made.fetch_add(1, Ordering::Relaxed);
                    let n = node(id, &drops);
                    let mut e = root.edges.borrow_mut();
                    if e.len() < 8 {
                        e.push(n);
                    } else {
                        let k = (rng >> 16) as usize % 8;
                        e[k].edges.borrow_mut().push(n);
                        if rng.is_multiple_of(5) {
                            panic!("injected: panic while holding two cells");
                        }
                    }
                }
            }
            if i.is_multiple_of(7) {
                let id = made.fetch_add(1, Ordering::Relaxed);
                let child = node(id, &drops);
                let e = root.edges.borrow();
                e[rng as usize % e.len()].edges.borrow_mut().push(child);
            }
        }));
        panics += usize::from(r.is_err());
    }
    stop.store(true, Ordering::Relaxed);
    collector.join().unwrap();
    let cycles = cycles.load(Ordering::Relaxed);
    assert!(panics > 100, "panics {panics}");
    collect();
    let live = reachable(&root);
    let made = made.load(Ordering::Relaxed) as usize;
    assert_eq!(
        made - drops.dropped(),
        live.len(),
        "exactly the unreachable nodes were dropped ({panics} panics, {cycles} cycles)"
    );
    drop(root);
    collect();
    assert_eq!(drops.dropped(), made, "every node dropped exactly once");
}

/// A field whose `Drop` panics.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("injected: a field's Drop panics");
    }
}

/// Dropped by the sweeper: the bomb goes off first, then the handle must still be released.
struct Holder {
    _bomb: Bomb,
    link: Gc<Node>,
}

// SAFETY: `link` is the only handle.
unsafe impl Trace for Holder {
    fn trace(&self, t: &mut Tracer) {
        self.link.trace(t)
    }
}

/// Not on the heap: dropped by a mutator, its `Drop` panics, then its handles are dropped.
struct Exploding {
    held: Vec<Gc<Node>>,
}

impl Drop for Exploding {
    fn drop(&mut self) {
        verify(&self.held[0]);
        panic!("injected: a local's Drop panics while holding handles");
    }
}

#[test]
fn panicking_drops_while_another_thread_collects_release_their_handles() {
    quiet_injected_panics();
    let drops = DropCounter::new();
    let stop = Arc::new(AtomicBool::new(false));
    let collector = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                collect();
            }
        })
    };
    let panics_before = stats().drop_panics;
    let live = node(0, &drops);
    const HOLDERS: u64 = 200;
    for i in 0..HOLDERS {
        drop(Gc::new(Holder {
            _bomb: Bomb,
            link: live.clone(),
        }));
        let local = Exploding {
            held: vec![node(1000 + i, &drops), live.clone()],
        };
        local.held[0].edges.borrow_mut().push(live.clone());
        assert!(catch_unwind(AssertUnwindSafe(move || drop(local))).is_err());
    }
    stop.store(true, Ordering::Relaxed);
    collector.join().unwrap();
    collect();
    collect();
    assert_eq!(
        stats().drop_panics - panics_before,
        HOLDERS,
        "each panicking drop ran once and was counted"
    );
    assert_eq!(
        drops.dropped() as u64,
        HOLDERS,
        "the nodes held by the panicking locals were freed"
    );
    assert_eq!(
        Gc::handle_count(&live),
        1,
        "every handle in a panicking value was released"
    );
    verify(&live);
    let w = Gc::downgrade(&live);
    drop(live);
    collect();
    assert!(w.upgrade().is_none(), "the target is collectable again");
    assert_eq!(drops.dropped() as u64, HOLDERS + 1);
}

/// Size of the value whose allocation the child process fails.
const HUGE: usize = 10_000;

#[test]
fn allocation_failure_is_reported_through_handle_alloc_error() {
    if std::env::var_os("GC_FAULTS_CHILD").is_some() {
        // The child: the heap works, then the allocation of a `HUGE`-byte value fails.
        let warm = Gc::new(1u8);
        collect();
        FAIL_FROM.store(HUGE, Ordering::SeqCst);
        let big = Gc::new([7u8; HUGE]);
        // Not reached: the default handler aborts.
        println!("allocated {} bytes after {}", big.len(), *warm);
        std::process::exit(3);
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "allocation_failure_is_reported_through_handle_alloc_error",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("GC_FAULTS_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child must fail: {stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(6), "SIGABRT; stderr: {stderr}");
    }
    let n: usize = stderr
        .split("memory allocation of ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no allocation failure message in: {stderr}"));
    assert!(
        (HUGE..HUGE + 256).contains(&n),
        "failed size {n} is the block (value plus header)"
    );
    assert!(stderr.contains("bytes failed"), "{stderr}");
}

/// A live item of the memory-limit test: a checksum and a link to another live item.
struct Item {
    id: u64,
    check: u64,
    next: GcCell<Option<Gc<Item>>>,
    _pad: [u64; 8],
}

// SAFETY: `next` is the only field holding a handle.
unsafe impl Trace for Item {
    fn trace(&self, t: &mut Tracer) {
        self.next.trace(t)
    }
}

fn item(id: u64) -> Gc<Item> {
    Gc::new(Item {
        id,
        check: id.wrapping_mul(MAGIC),
        next: GcCell::new(None),
        _pad: [id; 8],
    })
}

fn verify_item(i: &Item) {
    assert_eq!(i.check, i.id.wrapping_mul(MAGIC), "item {} corrupted", i.id);
    assert_eq!(i._pad, [i.id; 8], "item {} corrupted", i.id);
}

static PRESSURE: GcGlobal<u64> = GcGlobal::new();

#[test]
fn the_memory_limit_bounds_the_heap_under_pressure_from_two_threads() {
    const LIMIT: u64 = 16 << 20;
    const LIVE: usize = 2000;
    const ALLOCS: u64 = 1_500_000;
    let old_percent = set_gc_percent(-1);
    let old_limit = set_memory_limit(LIMIT);
    PRESSURE.store(Some(Gc::new(0)));
    let done = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..2u64)
        .map(|w| {
            let done = Arc::clone(&done);
            thread::spawn(move || {
                let mut live: Vec<Gc<Item>> = (0..LIVE as u64).map(|i| item(w << 32 | i)).collect();
                let mut rng = 0x9e37_79b9 + w;
                for k in 0..ALLOCS {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let garbage = item(u64::MAX - k);
                    verify_item(&garbage);
                    if k % 16 == 0 {
                        // Replace a live item; link two live items.
                        let i = rng as usize % LIVE;
                        live[i] = item(w << 32 | (LIVE as u64 + k));
                        let j = (rng >> 20) as usize % LIVE;
                        *live[i].next.borrow_mut() = Some(live[j].clone());
                    }
                }
                for i in &live {
                    verify_item(i);
                    if let Some(n) = i.next.borrow().as_ref() {
                        verify_item(n);
                    }
                }
                done.fetch_add(1, Ordering::SeqCst);
                live.len()
            })
        })
        .collect();
    let mut peak = 0;
    while done.load(Ordering::SeqCst) < 2 {
        peak = peak.max(stats().heap_live_bytes);
        thread::sleep(Duration::from_micros(500));
    }
    let kept: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let allocated = 2 * ALLOCS * std::mem::size_of::<Item>() as u64;
    set_gc_percent(old_percent);
    set_memory_limit(old_limit);
    assert_eq!(kept, 2 * LIVE);
    assert_eq!(PRESSURE.load().map(|g| *g), Some(0), "the global survived");
    PRESSURE.store(None);
    eprintln!(
        "memory limit {} MiB: {} MiB allocated, peak heap {:.1} MiB",
        LIMIT >> 20,
        allocated >> 20,
        peak as f64 / f64::from(1u32 << 20)
    );
    assert!(
        peak < 5 * LIMIT,
        "heap grew to {peak} bytes under a {LIMIT}-byte limit"
    );
}
