//! A long singly linked list: build `n` nodes, walk it summing the values, drop it; repeated
//! `rounds` times. The checksum is `rounds * n * (n - 1) / 2`.
//!
//! Owners (`Box`, `Rc`, `Arc`, `bacon_rajan_cc`) drop the list iteratively (taking each
//! node's `next` before the node goes), as a program with long lists must: their default
//! recursive drop overflows the stack. The tracing collectors are handed the head and left to
//! reclaim the list their own way; a collector that recurses on a long list overflows the
//! stack, and the comparison program reports it.

use crate::Impl;

/// The checksum [`run`] returns.
pub fn expected_checksum(n: usize, rounds: u32) -> u64 {
    let n = n as u64;
    u64::from(rounds) * n * n.saturating_sub(1) / 2
}

/// Runs the list workload on `imp`.
pub fn run(imp: Impl, n: usize, rounds: u32) -> u64 {
    let mut total = 0;
    for _ in 0..rounds {
        total += match imp {
            Impl::GcCore => gc_core_list::round(n),
            Impl::Arc => arc_list::round(n),
            Impl::Rc => rc_list::round(n),
            Impl::Box => box_list::round(n),
            Impl::RustGc => rust_gc_list::round(n),
            Impl::DumpsterSync => dumpster_sync_list::round(n),
            Impl::DumpsterUnsync => dumpster_unsync_list::round(n),
            Impl::Bacon => bacon_list::round(n),
            Impl::GcArena => arena_list::round(n),
        };
    }
    total
}

/// Build, sum and walk for pointer types whose nodes are `Node { value, next }`.
macro_rules! list_fns {
    ($ptr:ty, $new:expr) => {
        fn build(n: usize) -> Option<$ptr> {
            let mut head: Option<$ptr> = None;
            for i in (0..n as u64).rev() {
                head = Some($new(Node {
                    value: i,
                    next: head,
                }));
            }
            head
        }

        fn sum(head: &Option<$ptr>) -> u64 {
            let mut total = 0;
            let mut cur = head.as_deref();
            while let Some(node) = cur {
                total += node.value;
                cur = node.next.as_deref();
            }
            total
        }
    };
}

/// A round for a tracing collector: the head is simply dropped.
macro_rules! traced_round {
    () => {
        pub(crate) fn round(n: usize) -> u64 {
            let head = build(n);
            let total = sum(&head);
            drop(head);
            total
        }
    };
}

/// A round for an owner: the list is dropped node by node.
macro_rules! owned_round {
    ($unwrap:expr) => {
        pub(crate) fn round(n: usize) -> u64 {
            let head = build(n);
            let total = sum(&head);
            let mut cur = head;
            while let Some(node) = cur {
                cur = match $unwrap(node) {
                    Ok(mut node) => node.next.take(),
                    Err(_) => None,
                };
            }
            total
        }
    };
}

mod gc_core_list {
    use gc_core::{Gc, Trace};

    #[derive(Trace)]
    struct Node {
        value: u64,
        next: Option<Gc<Node>>,
    }

    list_fns!(Gc<Node>, Gc::new);
    traced_round!();
}

mod arc_list {
    use std::sync::Arc;

    struct Node {
        value: u64,
        next: Option<Arc<Node>>,
    }

    list_fns!(Arc<Node>, Arc::new);
    owned_round!(Arc::try_unwrap);
}

mod rc_list {
    use std::rc::Rc;

    struct Node {
        value: u64,
        next: Option<Rc<Node>>,
    }

    list_fns!(Rc<Node>, Rc::new);
    owned_round!(Rc::try_unwrap);
}

mod box_list {
    struct Node {
        value: u64,
        next: Option<Box<Node>>,
    }

    list_fns!(Box<Node>, Box::new);
    owned_round!(|b: Box<Node>| Ok::<Node, ()>(*b));
}

#[expect(
    non_local_definitions,
    reason = "the gc 0.5 derive wraps its impls in a const block"
)]
mod rust_gc_list {
    use gc::{Finalize, Gc, Trace};

    #[derive(Trace, Finalize)]
    struct Node {
        value: u64,
        next: Option<Gc<Node>>,
    }

    list_fns!(Gc<Node>, Gc::new);
    traced_round!();
}

mod dumpster_sync_list {
    use dumpster::sync::Gc;
    use dumpster::Trace;

    #[derive(Trace)]
    struct Node {
        value: u64,
        next: Option<Gc<Node>>,
    }

    list_fns!(Gc<Node>, Gc::new);
    traced_round!();
}

mod dumpster_unsync_list {
    use dumpster::unsync::Gc;
    use dumpster::Trace;

    #[derive(Trace)]
    struct Node {
        value: u64,
        next: Option<Gc<Node>>,
    }

    list_fns!(Gc<Node>, Gc::new);
    traced_round!();
}

mod bacon_list {
    use bacon_rajan_cc::{Cc, Trace, Tracer};

    struct Node {
        value: u64,
        next: Option<Cc<Node>>,
    }

    impl Trace for Node {
        fn trace(&self, tracer: &mut Tracer<'_>) {
            self.next.trace(tracer);
        }
    }

    list_fns!(Cc<Node>, Cc::new);
    owned_round!(Cc::try_unwrap);
}

mod arena_list {
    use crate::binary_trees::arena_tree::pay;
    use gc_arena::{Arena, Collect, Gc, Rootable};

    #[derive(Collect)]
    #[collect(no_drop)]
    struct Node<'gc> {
        value: u64,
        next: Option<Gc<'gc, Node<'gc>>>,
    }

    /// Nodes added per `mutate`, so the arena can collect between batches.
    const BATCH: u64 = 10_000;

    pub(crate) fn round(n: usize) -> u64 {
        let mut arena = Arena::<Rootable![Option<Gc<'_, Node<'_>>>]>::new(|_| None);
        let mut i = n as u64;
        while i > 0 {
            let lo = i.saturating_sub(BATCH);
            arena.mutate_root(|mc, head| {
                for v in (lo..i).rev() {
                    *head = Some(Gc::new(
                        mc,
                        Node {
                            value: v,
                            next: head.take(),
                        },
                    ));
                }
            });
            pay(&mut arena);
            i = lo;
        }
        let total = arena.mutate(|_, head| {
            let mut total = 0;
            let mut cur = *head;
            while let Some(node) = cur {
                total += node.value;
                cur = node.next;
            }
            total
        });
        arena.mutate_root(|_, head| *head = None);
        pay(&mut arena);
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_implementation_sums_the_list() {
        for imp in Impl::ALL {
            assert_eq!(
                run(imp, 1000, 2),
                expected_checksum(1000, 2),
                "{}",
                imp.name()
            );
        }
    }
}
