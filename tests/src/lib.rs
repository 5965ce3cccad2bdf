//! Helpers shared by the integration tests of the `gc-core` heap.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Counts drops of the values it is embedded in.
///
/// ```
/// let c = tests::DropCounter::new();
/// drop(c.token());
/// assert_eq!(c.dropped(), 1);
/// ```
#[derive(Clone, Default, Debug)]
pub struct DropCounter(Arc<AtomicUsize>);

/// One drop to count; put it in a field of a heap value.
#[derive(Debug)]
pub struct DropToken(Arc<AtomicUsize>);

impl DropCounter {
    /// A counter at zero.
    pub fn new() -> DropCounter {
        DropCounter::default()
    }
    /// A token that increments the counter when dropped.
    pub fn token(&self) -> DropToken {
        DropToken(Arc::clone(&self.0))
    }
    /// Tokens dropped so far.
    pub fn dropped(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: a token holds no handle. Its drop is one atomic increment, which never blocks: any
// thread that sweeps may run it.
unsafe impl gc_core::Trace for DropToken {
    const HOLDS_HANDLES: bool = false;
    const PLAIN_DROP: bool = true;
    fn trace(&self, _: &mut gc_core::Tracer) {}
}

/// A small deterministic random generator (xorshift64) for the stress workloads.
///
/// ```
/// let mut r = tests::Rng::new(7);
/// assert!(r.below(10) < 10);
/// ```
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a nonzero seed (0 is replaced by 1).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Multiplier of the checksum a [`GraphNode`] carries.
const MAGIC: u64 = 0x9e37_79b9_7f4a_7c15;

/// A node of the stress graphs: an id, a checksum derived from it (so a node read after its
/// memory was reused is detected), edges, and a drop token.
pub struct GraphNode {
    /// The node's id.
    pub id: u64,
    check: u64,
    /// Outgoing edges.
    pub edges: gc_core::GcCell<Vec<gc_core::Gc<GraphNode>>>,
    _token: DropToken,
}

// SAFETY: `edges` is the only field holding handles, traced through its cell. Its drop gives
// handles back and counts the token's drop.
unsafe impl gc_core::Trace for GraphNode {
    const PLAIN_DROP: bool = true;
    fn trace(&self, t: &mut gc_core::Tracer) {
        self.edges.trace(t)
    }
}

impl GraphNode {
    /// A new node with no edges whose drop is counted by `drops`.
    ///
    /// ```
    /// let drops = tests::DropCounter::new();
    /// let n = tests::GraphNode::new(3, &drops);
    /// n.verify();
    /// ```
    pub fn new(id: u64, drops: &DropCounter) -> gc_core::Gc<GraphNode> {
        gc_core::Gc::new(GraphNode {
            id,
            check: id.wrapping_mul(MAGIC),
            edges: gc_core::GcCell::new(Vec::new()),
            _token: drops.token(),
        })
    }

    /// Panics if the node's checksum does not match its id.
    pub fn verify(&self) {
        assert_eq!(
            self.check,
            self.id.wrapping_mul(MAGIC),
            "node {} corrupted",
            self.id
        );
    }
}

/// An object that holds a handle to itself: once its last outside handle is dropped it is
/// garbage that only a collection cycle can free (a drop of the last handle frees acyclic
/// garbage at once).
pub struct SelfCycle {
    _payload: [u64; 8],
    me: gc_core::GcCell<Option<gc_core::Gc<SelfCycle>>>,
}

// SAFETY: `me` is the only field holding handles, traced through its cell. Its drop only gives
// its handle back.
unsafe impl gc_core::Trace for SelfCycle {
    const PLAIN_DROP: bool = true;
    fn trace(&self, t: &mut gc_core::Tracer) {
        self.me.trace(t)
    }
}

/// Allocates one [`SelfCycle`] and drops the outside handle; returns the block's payload size
/// in bytes (headers excluded).
///
/// ```
/// let before = gc_core::stats().total_alloc_objects;
/// tests::cyclic_garbage();
/// assert!(gc_core::stats().total_alloc_objects > before);
/// ```
pub fn cyclic_garbage() -> usize {
    let g = gc_core::Gc::new(SelfCycle {
        _payload: [0; 8],
        me: gc_core::GcCell::new(None),
    });
    *g.me.borrow_mut() = Some(g.clone());
    std::mem::size_of::<SelfCycle>()
}

/// A leaf of a [`wide_graph`]: its id.
#[derive(gc_core::Trace)]
pub struct Leaf {
    /// `bucket * leaves per bucket + index`.
    pub id: u64,
}

/// A bucket of a [`wide_graph`].
#[derive(gc_core::Trace)]
pub struct Bucket {
    /// Its leaves, in id order.
    pub leaves: Vec<gc_core::Gc<Leaf>>,
}

/// A wide live graph of `buckets x leaves` leaves: marking it keeps thousands of grey objects
/// to share, and sweeping it visits every one.
///
/// ```
/// let g = tests::wide_graph(3, 4);
/// tests::check_wide_graph(&g, 4);
/// ```
pub fn wide_graph(buckets: u64, leaves: u64) -> Vec<gc_core::Gc<Bucket>> {
    (0..buckets)
        .map(|b| {
            gc_core::Gc::new(Bucket {
                leaves: (0..leaves)
                    .map(|l| gc_core::Gc::new(Leaf { id: b * leaves + l }))
                    .collect(),
            })
        })
        .collect()
}

/// Panics unless every leaf of a [`wide_graph`] with `leaves` per bucket holds its id.
pub fn check_wide_graph(graph: &[gc_core::Gc<Bucket>], leaves: u64) {
    for (b, bucket) in graph.iter().enumerate() {
        for (l, leaf) in bucket.leaves.iter().enumerate() {
            assert_eq!(
                leaf.id,
                b as u64 * leaves + l as u64,
                "a live object is intact"
            );
        }
    }
}
