//! Binary trees, the benchmarks game's algorithm, single-threaded.
//!
//! For a maximum depth `n`: a stretch tree of depth `n + 1` is built and checked, a long-lived
//! tree of depth `n` is built, then for every even depth `d` from 4 to `n`, `2^(n - d + 4)`
//! trees of depth `d` are built, checked and dropped; finally the long-lived tree is checked.
//! The checksum is the number of nodes checked (68,332,206 at depth 18).

use crate::Impl;

/// The number of nodes [`run`] checks for `max_depth`, computed without building anything.
pub fn expected_checksum(max_depth: u32) -> u64 {
    let nodes = |d: u32| (1u64 << (d + 1)) - 1;
    let mut total = nodes(max_depth + 1) + nodes(max_depth);
    let mut d = 4;
    while d <= max_depth {
        total += (1u64 << (max_depth - d + 4)) * nodes(d);
        d += 2;
    }
    total
}

/// The algorithm over any tree type, given how to make and check a tree.
pub(crate) fn driver<T>(max_depth: u32, make: impl Fn(u32) -> T, check: impl Fn(&T) -> u64) -> u64 {
    let stretch = make(max_depth + 1);
    let mut total = check(&stretch);
    drop(stretch);
    let long_lived = make(max_depth);
    let mut d = 4;
    while d <= max_depth {
        for _ in 0..1u64 << (max_depth - d + 4) {
            let t = make(d);
            total += check(&t);
        }
        d += 2;
    }
    total + check(&long_lived)
}

/// Runs binary-trees at `max_depth` on `imp` and returns the number of nodes checked.
pub fn run(imp: Impl, max_depth: u32) -> u64 {
    match imp {
        Impl::GcCore => driver(max_depth, gc_core_tree::make, |t| gc_core_tree::check(t)),
        Impl::Arc => driver(max_depth, arc_tree::make, |t| arc_tree::check(t)),
        Impl::Rc => driver(max_depth, rc_tree::make, |t| rc_tree::check(t)),
        Impl::Box => driver(max_depth, box_tree::make, |t| box_tree::check(t)),
        Impl::RustGc => driver(max_depth, rust_gc_tree::make, |t| rust_gc_tree::check(t)),
        Impl::DumpsterSync => driver(max_depth, dumpster_sync_tree::make, |t| {
            dumpster_sync_tree::check(t)
        }),
        Impl::DumpsterUnsync => driver(max_depth, dumpster_unsync_tree::make, |t| {
            dumpster_unsync_tree::check(t)
        }),
        Impl::Bacon => driver(max_depth, bacon_tree::make, |t| bacon_tree::check(t)),
        Impl::GcArena => arena_tree::run(max_depth),
    }
}

/// The same two functions for every pointer type that owns its node.
macro_rules! tree_fns {
    ($ptr:ty, $new:expr) => {
        /// A tree of depth `d` (`2^(d+1) - 1` nodes).
        pub(crate) fn make(d: u32) -> $ptr {
            if d == 0 {
                $new(Node {
                    left: None,
                    right: None,
                })
            } else {
                $new(Node {
                    left: Some(make(d - 1)),
                    right: Some(make(d - 1)),
                })
            }
        }

        /// The number of nodes in `t`.
        pub(crate) fn check(t: &Node) -> u64 {
            match (&t.left, &t.right) {
                (Some(l), Some(r)) => 1 + check(l) + check(r),
                _ => 1,
            }
        }
    };
}

pub(crate) mod gc_core_tree {
    use gc_core::{Gc, Trace};

    #[derive(Trace)]
    pub(crate) struct Node {
        left: Option<Gc<Node>>,
        right: Option<Gc<Node>>,
    }

    tree_fns!(Gc<Node>, Gc::new);
}

pub(crate) mod arc_tree {
    use std::sync::Arc;

    pub(crate) struct Node {
        left: Option<Arc<Node>>,
        right: Option<Arc<Node>>,
    }

    tree_fns!(Arc<Node>, Arc::new);
}

pub(crate) mod rc_tree {
    use std::rc::Rc;

    pub(crate) struct Node {
        left: Option<Rc<Node>>,
        right: Option<Rc<Node>>,
    }

    tree_fns!(Rc<Node>, Rc::new);
}

pub(crate) mod box_tree {
    pub(crate) struct Node {
        left: Option<Box<Node>>,
        right: Option<Box<Node>>,
    }

    tree_fns!(Box<Node>, Box::new);
}

#[expect(
    non_local_definitions,
    reason = "the gc 0.5 derive wraps its impls in a const block"
)]
pub(crate) mod rust_gc_tree {
    use gc::{Finalize, Gc, Trace};

    #[derive(Trace, Finalize)]
    pub(crate) struct Node {
        left: Option<Gc<Node>>,
        right: Option<Gc<Node>>,
    }

    tree_fns!(Gc<Node>, Gc::new);
}

pub(crate) mod dumpster_sync_tree {
    use dumpster::sync::Gc;
    use dumpster::Trace;

    #[derive(Trace)]
    pub(crate) struct Node {
        left: Option<Gc<Node>>,
        right: Option<Gc<Node>>,
    }

    tree_fns!(Gc<Node>, Gc::new);
}

pub(crate) mod dumpster_unsync_tree {
    use dumpster::unsync::Gc;
    use dumpster::Trace;

    #[derive(Trace)]
    pub(crate) struct Node {
        left: Option<Gc<Node>>,
        right: Option<Gc<Node>>,
    }

    tree_fns!(Gc<Node>, Gc::new);
}

pub(crate) mod bacon_tree {
    use bacon_rajan_cc::{Cc, Trace, Tracer};

    pub(crate) struct Node {
        left: Option<Cc<Node>>,
        right: Option<Cc<Node>>,
    }

    impl Trace for Node {
        fn trace(&self, tracer: &mut Tracer<'_>) {
            self.left.trace(tracer);
            self.right.trace(tracer);
        }
    }

    tree_fns!(Cc<Node>, Cc::new);
}

pub(crate) mod arena_tree {
    use gc_arena::{Arena, Collect, Gc, Mutation, Rootable};

    #[derive(Collect)]
    #[collect(no_drop)]
    pub(crate) struct Node<'gc> {
        left: Option<Gc<'gc, Node<'gc>>>,
        right: Option<Gc<'gc, Node<'gc>>>,
    }

    /// A tree of depth `d`.
    pub(crate) fn make<'gc>(mc: &Mutation<'gc>, d: u32) -> Gc<'gc, Node<'gc>> {
        let node = if d == 0 {
            Node {
                left: None,
                right: None,
            }
        } else {
            Node {
                left: Some(make(mc, d - 1)),
                right: Some(make(mc, d - 1)),
            }
        };
        Gc::new(mc, node)
    }

    /// The number of nodes in `t`.
    pub(crate) fn check(t: &Node<'_>) -> u64 {
        match (t.left, t.right) {
            (Some(l), Some(r)) => 1 + check(&l) + check(&r),
            _ => 1,
        }
    }

    /// Collects whatever debt the arena has accumulated (the arena's recommended pacing).
    pub(crate) fn pay<R>(arena: &mut Arena<R>)
    where
        R: for<'a> gc_arena::Rootable<'a>,
        for<'a> gc_arena::arena::Root<'a, R>: Collect<'a>,
    {
        if arena.metrics().allocation_debt() > 0.0 {
            arena.collect_debt();
        }
    }

    /// Binary trees with one `mutate` per tree and `collect_debt` when in debt.
    pub(crate) fn run(max_depth: u32) -> u64 {
        let mut arena = Arena::<Rootable![Gc<'_, Node<'_>>]>::new(|mc| make(mc, 0));
        let mut total = arena.mutate(|mc, _| check(&make(mc, max_depth + 1)));
        pay(&mut arena);
        arena.mutate_root(|mc, root| *root = make(mc, max_depth));
        pay(&mut arena);
        let mut d = 4;
        while d <= max_depth {
            for _ in 0..1u64 << (max_depth - d + 4) {
                total += arena.mutate(|mc, _| check(&make(mc, d)));
                pay(&mut arena);
            }
            d += 2;
        }
        total + arena.mutate(|_, root| check(root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_implementation_checks_every_node() {
        assert_eq!(expected_checksum(18), 68_332_206);
        for imp in Impl::ALL {
            assert_eq!(run(imp, 6), expected_checksum(6), "{}", imp.name());
        }
    }
}
