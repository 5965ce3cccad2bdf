//! Escape analysis and frames: the same function plain and with `#[escape(place)]`, timed,
//! with the heap objects each creates.
//!
//! `GC_ESCAPE_REPORT=1 cargo run --release --example escape` also prints the decisions during
//! the build (touch this file first if it is already built).

use gc_core::{escape, stats, Gc, GcCell, Trace};
use std::hint::black_box;
use std::time::Instant;

#[derive(Trace)]
struct Vec3 {
    x: f64,
    y: f64,
    z: f64,
    tag: GcCell<Option<Gc<Vec3>>>,
}

fn vec3(x: f64, y: f64, z: f64) -> Vec3 {
    Vec3 {
        x,
        y,
        z,
        tag: GcCell::new(None),
    }
}

/// Short-lived temporaries on the heap.
#[escape]
fn plain(i: f64) -> f64 {
    let a = Gc::new(vec3(i, i + 1.0, i + 2.0));
    let b = Gc::new(vec3(i * 2.0, i * 3.0, i * 4.0));
    let c = Gc::new(vec3(a.x + b.x, a.y + b.y, a.z + b.z));
    c.x * c.y - c.z
}

/// The same temporaries, placed in the call's frame.
#[escape(place)]
fn placed(i: f64) -> f64 {
    let a = Gc::new(vec3(i, i + 1.0, i + 2.0));
    let b = Gc::new(vec3(i * 2.0, i * 3.0, i * 4.0));
    let c = Gc::new(vec3(a.x + b.x, a.y + b.y, a.z + b.z));
    c.x * c.y - c.z
}

fn run(name: &str, calls: u32, f: fn(f64) -> f64) -> f64 {
    let objects = stats().total_alloc_objects;
    let start = Instant::now();
    let mut sum = 0.0;
    for i in 0..calls {
        sum += f(black_box(f64::from(i)));
    }
    let elapsed = start.elapsed();
    let per_call = elapsed.as_nanos() as f64 / f64::from(calls);
    let created = stats().total_alloc_objects - objects;
    println!("{name:>6}: {per_call:7.1} ns/call, {created} heap objects ({sum:e})");
    per_call
}

fn main() {
    let calls = 1_000_000;
    run("warmup", calls / 10, plain);
    let heap = run("plain", calls, plain);
    let frame = run("placed", calls, placed);
    println!("placed is {:.1}x faster", heap / frame);
}
