//! Workloads for the side-by-side comparison of `gc-core` with reference counting (`Arc`,
//! `Rc`), `Box`, and other Rust collectors (`gc` 0.5, `dumpster` 2, `gc-arena` 0.7,
//! `bacon_rajan_cc` 0.4).
//!
//! Each workload family lives in its own module and runs one implementation at a time,
//! returning a checksum that is the same for every implementation (the comparison program
//! checks it). The comparison program is `src/bin/compare.rs`; the micro-benchmarks are in
//! `benches/micro.rs`.

pub mod binary_trees;
pub mod churn;
pub mod graph;
pub mod list;
pub mod pauses;
pub mod plot;

/// One of the memory-management implementations a workload can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Impl {
    /// This project: `gc_core::Gc`.
    GcCore,
    /// `std::sync::Arc` (atomic reference counting; leaks cycles).
    Arc,
    /// `std::rc::Rc` (reference counting; leaks cycles).
    Rc,
    /// `Box` (unique ownership; only for tree-shaped data).
    Box,
    /// `gc` 0.5 (rust-gc): thread-local stop-the-world mark and sweep.
    RustGc,
    /// `dumpster` 2, `sync` module.
    DumpsterSync,
    /// `dumpster` 2, `unsync` module.
    DumpsterUnsync,
    /// `gc-arena` 0.7: incremental arena collector.
    GcArena,
    /// `bacon_rajan_cc` 0.4: reference counting with a cycle collector.
    Bacon,
}

impl Impl {
    /// Every implementation, in the order tables list them.
    pub const ALL: [Impl; 9] = [
        Impl::GcCore,
        Impl::Arc,
        Impl::Rc,
        Impl::Box,
        Impl::RustGc,
        Impl::DumpsterSync,
        Impl::DumpsterUnsync,
        Impl::GcArena,
        Impl::Bacon,
    ];

    /// The short name used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Impl::GcCore => "gc-core",
            Impl::Arc => "Arc",
            Impl::Rc => "Rc",
            Impl::Box => "Box",
            Impl::RustGc => "gc",
            Impl::DumpsterSync => "dumpster-sync",
            Impl::DumpsterUnsync => "dumpster-unsync",
            Impl::GcArena => "gc-arena",
            Impl::Bacon => "bacon_rajan_cc",
        }
    }

    /// Parses a name printed by [`Impl::name`].
    pub fn from_name(name: &str) -> Option<Impl> {
        Impl::ALL.into_iter().find(|i| i.name() == name)
    }
}

/// A small deterministic xorshift generator, so every implementation (and the Go programs)
/// sees the same sequence of operations.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed` (not zero).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next value (xorshift64).
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A value in `0..n` (`n > 0`), by modulo: the small bias does not matter here.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}
