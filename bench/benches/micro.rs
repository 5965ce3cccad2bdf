//! Micro-benchmarks of `gc-core`'s hot paths next to their `std` counterparts.
//!
//! `cargo bench -p bench` (a few minutes; short measurement times, so expect a few percent
//! of noise on a shared machine). Groups:
//! - `alloc`: `Gc::new` vs `Box::new` vs `Arc::new` of 16 B, 64 B and 1 KiB values, each
//!   value dropped at once (for `Gc` the collector reclaims it in the background);
//! - `handle`: clone then drop of a `Gc` vs an `Arc` (the object stays alive);
//! - `cell`: `GcCell::borrow_mut` (acquire and release) on a cell holding 1 M handles, with
//!   no cycle running (`idle`) and with another thread calling `collect()` in a loop over a
//!   heap of 1 M live objects (`marking`), so most borrows see a cycle in progress and run
//!   the write barrier. The same pair for a cell holding 16 handles, and for dropping a
//!   handle clone (the deletion barrier);
//! - `collect`: a full `collect()` on an (almost) empty heap and with 1 M live objects;
//! - `escape`: a function making three short-lived `Gc` temporaries, plain (heap) vs with
//!   `#[escape(place)]` (frame values; no heap object).

use criterion::{black_box, BenchmarkId, Criterion};
use gc_core::{collect, escape, Gc, GcCell, Trace};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Trace)]
struct Holder {
    cell: GcCell<Vec<Gc<u64>>>,
}

fn holder(n: usize) -> Gc<Holder> {
    Gc::new(Holder {
        cell: GcCell::new((0..n as u64).map(Gc::new).collect()),
    })
}

/// Runs `collect()` in a loop on another thread until dropped.
struct Collector {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl Collector {
    fn start() -> Collector {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut cycles = 0;
            while !flag.load(Ordering::Relaxed) {
                collect();
                cycles += 1;
            }
            cycles
        });
        Collector {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn alloc(c: &mut Criterion) {
    let mut g = c.benchmark_group("alloc");
    macro_rules! sized {
        ($n:expr) => {
            g.bench_function(BenchmarkId::new("Gc::new", $n), |b| {
                b.iter(|| Gc::new(black_box([0u8; $n])))
            });
            g.bench_function(BenchmarkId::new("Box::new", $n), |b| {
                b.iter(|| Box::new(black_box([0u8; $n])))
            });
            g.bench_function(BenchmarkId::new("Arc::new", $n), |b| {
                b.iter(|| Arc::new(black_box([0u8; $n])))
            });
        };
    }
    sized!(16);
    sized!(64);
    sized!(1024);
    g.finish();
}

fn handle(c: &mut Criterion) {
    let mut g = c.benchmark_group("handle");
    let gc = Gc::new(7u64);
    g.bench_function("Gc clone+drop", |b| b.iter(|| drop(black_box(gc.clone()))));
    let arc = Arc::new(7u64);
    g.bench_function("Arc clone+drop", |b| {
        b.iter(|| drop(black_box(arc.clone())))
    });
    g.finish();
}

fn cell(c: &mut Criterion) {
    let mut g = c.benchmark_group("cell");
    let big = holder(1_000_000);
    let small = holder(16);
    collect();
    g.bench_function("borrow_mut 1M handles, idle", |b| {
        b.iter(|| black_box(big.cell.borrow_mut().len()))
    });
    g.bench_function("borrow_mut 16 handles, idle", |b| {
        b.iter(|| black_box(small.cell.borrow_mut().len()))
    });
    let target = Gc::new(1u64);
    g.bench_function("handle drop, idle", |b| {
        b.iter(|| drop(black_box(target.clone())))
    });
    {
        // 1 M live objects (those in `big`) keep every cycle's marking long.
        let _collector = Collector::start();
        g.bench_function("borrow_mut 1M handles, marking", |b| {
            b.iter(|| black_box(big.cell.borrow_mut().len()))
        });
        g.bench_function("borrow_mut 16 handles, marking", |b| {
            b.iter(|| black_box(small.cell.borrow_mut().len()))
        });
        g.bench_function("handle drop, marking", |b| {
            b.iter(|| drop(black_box(target.clone())))
        });
    }
    g.finish();
    drop(big);
    collect();
}

fn collection(c: &mut Criterion) {
    let mut g = c.benchmark_group("collect");
    collect();
    g.bench_function("empty heap", |b| b.iter(collect));
    let live = holder(1_000_000);
    g.bench_function("1M live objects", |b| b.iter(collect));
    black_box(&live);
    g.finish();
}

#[derive(Trace)]
struct Vec3 {
    x: f64,
    y: f64,
    z: f64,
}

fn vec3(x: f64, y: f64, z: f64) -> Vec3 {
    Vec3 { x, y, z }
}

/// Short-lived temporaries on the heap.
fn temporaries_on_heap(i: f64) -> f64 {
    let a = Gc::new(vec3(i, i + 1.0, i + 2.0));
    let b = Gc::new(vec3(i * 2.0, i * 3.0, i * 4.0));
    let c = Gc::new(vec3(a.x + b.x, a.y + b.y, a.z + b.z));
    c.x * c.y - c.z
}

/// The same temporaries, placed in the call's frame.
#[escape(place)]
fn temporaries_placed(i: f64) -> f64 {
    let a = Gc::new(vec3(i, i + 1.0, i + 2.0));
    let b = Gc::new(vec3(i * 2.0, i * 3.0, i * 4.0));
    let c = Gc::new(vec3(a.x + b.x, a.y + b.y, a.z + b.z));
    c.x * c.y - c.z
}

fn escape_analysis(c: &mut Criterion) {
    let mut g = c.benchmark_group("escape");
    g.bench_function("plain", |b| b.iter(|| temporaries_on_heap(black_box(1.5))));
    let before = gc_core::stats().total_alloc_objects;
    g.bench_function("place", |b| b.iter(|| temporaries_placed(black_box(1.5))));
    let created = gc_core::stats().total_alloc_objects - before;
    assert_eq!(created, 0, "placed temporaries create no heap objects");
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

fn main() {
    let mut c = config().configure_from_args();
    alloc(&mut c);
    handle(&mut c);
    cell(&mut c);
    collection(&mut c);
    escape_analysis(&mut c);
    c.final_summary();
}
