//! A random graph with cycles mutated by a stream of operations, the shape of `dumpster`'s
//! published benchmark: each operation is, with equal probability, create a node (a new
//! handle), add an edge between two random handled nodes, drop a random handle, or remove a
//! random edge of a random handled node. The sequence comes from a fixed-seed xorshift, so
//! every implementation performs the same operations and returns the same checksum.
//!
//! `Arc` and `Rc` leak the cycles (kept as a speed reference); `Box` cannot express the graph.
//! `bacon_rajan_cc` collects cycles every 10,000 operations; `gc-arena` runs 1,000 operations
//! per `mutate` and pays its debt in between; the other collectors pace themselves.

use crate::{Impl, Rng};

/// The seed of the operation stream.
pub const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// Runs `ops` operations on `imp`; `None` for `Box`, which cannot hold a graph.
pub fn run(imp: Impl, ops: usize) -> Option<u64> {
    Some(match imp {
        Impl::GcCore => gc_core_graph::run(ops),
        Impl::Arc => arc_graph::run(ops),
        Impl::Rc => rc_graph::run(ops),
        Impl::Box => return None,
        Impl::RustGc => rust_gc_graph::run(ops),
        Impl::DumpsterSync => dumpster_sync_graph::run(ops),
        Impl::DumpsterUnsync => dumpster_unsync_graph::run(ops),
        Impl::Bacon => bacon_graph::run(ops),
        Impl::GcArena => arena_graph::run(ops),
    })
}

/// The operation stream over a handle type `P`, given how to make a node, add an edge, remove
/// the edge at an index, and count edges. `tick` runs after every operation.
pub(crate) fn driver<P: Clone>(
    ops: usize,
    new: impl Fn(u64) -> P,
    add_edge: impl Fn(&P, P),
    remove_edge: impl Fn(&P, &mut Rng),
    edges: impl Fn(&P) -> usize,
    mut tick: impl FnMut(usize),
) -> u64 {
    let mut rng = Rng::new(SEED);
    let mut handles: Vec<P> = Vec::new();
    let mut created = 0u64;
    for i in 0..ops {
        match rng.below(4) {
            0 => {
                handles.push(new(created));
                created += 1;
            }
            1 if !handles.is_empty() => {
                let a = rng.below(handles.len());
                let b = rng.below(handles.len());
                let target = handles[b].clone();
                add_edge(&handles[a], target);
            }
            2 if !handles.is_empty() => {
                let a = rng.below(handles.len());
                handles.swap_remove(a);
            }
            3 if !handles.is_empty() => {
                let a = rng.below(handles.len());
                remove_edge(&handles[a], &mut rng);
            }
            _ => {}
        }
        tick(i);
    }
    let edge_total: usize = handles.iter().map(&edges).sum();
    checksum(created, handles.len(), edge_total)
}

/// Combines the final counts into one number.
pub(crate) fn checksum(created: u64, handles: usize, edges: usize) -> u64 {
    created + 7 * handles as u64 + 13 * edges as u64
}

/// Removes a random element of `v` (drawing from `rng` only when `v` is not empty).
pub(crate) fn remove_random<T>(v: &mut Vec<T>, rng: &mut Rng) {
    if !v.is_empty() {
        let i = rng.below(v.len());
        v.swap_remove(i);
    }
}

/// One implementation over a node `Node { id, edges: $cell<Vec<$ptr>> }`.
macro_rules! graph_run {
    ($ptr:ty, $new:expr, $cell:expr, $edit:ident) => {
        pub(crate) fn run(ops: usize) -> u64 {
            crate::graph::driver(
                ops,
                |id| {
                    $new(Node {
                        id,
                        edges: $cell(Vec::new()),
                    })
                },
                |a: &$ptr, b| a.edges.$edit().push(b),
                |a: &$ptr, rng| crate::graph::remove_random(&mut a.edges.$edit(), rng),
                |a: &$ptr| {
                    debug_assert!(a.id < u64::MAX);
                    a.edges.$edit().len()
                },
                |_| {},
            )
        }
    };
}

mod gc_core_graph {
    use gc_core::{Gc, GcCell, Trace};

    #[derive(Trace)]
    struct Node {
        id: u64,
        edges: GcCell<Vec<Gc<Node>>>,
    }

    graph_run!(Gc<Node>, Gc::new, GcCell::new, borrow_mut);
}

mod arc_graph {
    use std::sync::{Arc, Mutex, MutexGuard};

    struct Node {
        id: u64,
        edges: Mutex<Vec<Arc<Node>>>,
    }

    trait Lock<T> {
        fn locked(&self) -> MutexGuard<'_, T>;
    }

    impl<T> Lock<T> for Mutex<T> {
        fn locked(&self) -> MutexGuard<'_, T> {
            self.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    graph_run!(Arc<Node>, Arc::new, Mutex::new, locked);
}

mod rc_graph {
    use std::cell::RefCell;
    use std::rc::Rc;

    struct Node {
        id: u64,
        edges: RefCell<Vec<Rc<Node>>>,
    }

    graph_run!(Rc<Node>, Rc::new, RefCell::new, borrow_mut);
}

#[expect(
    non_local_definitions,
    reason = "the gc 0.5 derive wraps its impls in a const block"
)]
mod rust_gc_graph {
    use gc::{Finalize, Gc, GcCell, Trace};

    #[derive(Trace, Finalize)]
    struct Node {
        id: u64,
        edges: GcCell<Vec<Gc<Node>>>,
    }

    graph_run!(Gc<Node>, Gc::new, GcCell::new, borrow_mut);
}

mod dumpster_sync_graph {
    use dumpster::sync::Gc;
    use dumpster::Trace;
    use std::sync::{Mutex, MutexGuard};

    #[derive(Trace)]
    struct Node {
        id: u64,
        edges: Mutex<Vec<Gc<Node>>>,
    }

    trait Lock<T> {
        fn locked(&self) -> MutexGuard<'_, T>;
    }

    impl<T> Lock<T> for Mutex<T> {
        fn locked(&self) -> MutexGuard<'_, T> {
            self.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    graph_run!(Gc<Node>, Gc::new, Mutex::new, locked);
}

mod dumpster_unsync_graph {
    use dumpster::unsync::Gc;
    use dumpster::Trace;
    use std::cell::RefCell;

    #[derive(Trace)]
    struct Node {
        id: u64,
        edges: RefCell<Vec<Gc<Node>>>,
    }

    graph_run!(Gc<Node>, Gc::new, RefCell::new, borrow_mut);
}

mod bacon_graph {
    use bacon_rajan_cc::{collect_cycles, Cc, Trace, Tracer};
    use std::cell::RefCell;

    struct Node {
        id: u64,
        edges: RefCell<Vec<Cc<Node>>>,
    }

    impl Trace for Node {
        fn trace(&self, tracer: &mut Tracer<'_>) {
            self.edges.trace(tracer);
        }
    }

    pub(crate) fn run(ops: usize) -> u64 {
        crate::graph::driver(
            ops,
            |id| {
                Cc::new(Node {
                    id,
                    edges: RefCell::new(Vec::new()),
                })
            },
            |a: &Cc<Node>, b| a.edges.borrow_mut().push(b),
            |a: &Cc<Node>, rng| crate::graph::remove_random(&mut a.edges.borrow_mut(), rng),
            |a: &Cc<Node>| {
                debug_assert!(a.id < u64::MAX);
                a.edges.borrow().len()
            },
            |i| {
                if i % 10_000 == 9_999 {
                    collect_cycles();
                }
            },
        )
    }
}

mod arena_graph {
    use crate::binary_trees::arena_tree::pay;
    use crate::Rng;
    use gc_arena::{Arena, Collect, Gc, GcRefLock, RefLock, Rootable};

    #[derive(Collect)]
    #[collect(no_drop)]
    struct Node<'gc> {
        id: u64,
        edges: Vec<GcRefLock<'gc, Node<'gc>>>,
    }

    #[derive(Collect)]
    #[collect(no_drop)]
    struct Root<'gc> {
        handles: Vec<GcRefLock<'gc, Node<'gc>>>,
    }

    /// Operations per `mutate`.
    const BATCH: usize = 1000;

    pub(crate) fn run(ops: usize) -> u64 {
        let mut arena = Arena::<Rootable![Root<'_>]>::new(|_| Root {
            handles: Vec::new(),
        });
        let mut rng = Rng::new(crate::graph::SEED);
        let mut created = 0u64;
        let mut done = 0;
        while done < ops {
            let batch = BATCH.min(ops - done);
            arena.mutate_root(|mc, root| {
                let handles = &mut root.handles;
                for _ in 0..batch {
                    match rng.below(4) {
                        0 => {
                            handles.push(Gc::new(
                                mc,
                                RefLock::new(Node {
                                    id: created,
                                    edges: Vec::new(),
                                }),
                            ));
                            created += 1;
                        }
                        1 if !handles.is_empty() => {
                            let a = rng.below(handles.len());
                            let b = rng.below(handles.len());
                            let target = handles[b];
                            handles[a].borrow_mut(mc).edges.push(target);
                        }
                        2 if !handles.is_empty() => {
                            let a = rng.below(handles.len());
                            handles.swap_remove(a);
                        }
                        3 if !handles.is_empty() => {
                            let a = rng.below(handles.len());
                            crate::graph::remove_random(
                                &mut handles[a].borrow_mut(mc).edges,
                                &mut rng,
                            );
                        }
                        _ => {}
                    }
                }
            });
            pay(&mut arena);
            done += batch;
        }
        arena.mutate(|_, root| {
            let edges: usize = root
                .handles
                .iter()
                .map(|h| {
                    let n = h.borrow();
                    debug_assert!(n.id < u64::MAX);
                    n.edges.len()
                })
                .sum();
            crate::graph::checksum(created, root.handles.len(), edges)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_implementation_performs_the_same_operations() {
        for imp in Impl::ALL {
            if imp != Impl::Box {
                assert_eq!(run(imp, 10_000), Some(3664), "{}", imp.name());
            }
        }
        assert_eq!(run(Impl::Box, 10), None);
    }
}
