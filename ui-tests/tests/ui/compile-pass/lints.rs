//! The generated code is warning-free under strict lints: documented public types, types in
//! private modules, generic and recursive types.
#![deny(
    warnings,
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms,
    unused_qualifications,
    unused_results,
    trivial_casts,
    trivial_numeric_casts,
    unsafe_op_in_unsafe_fn
)]

use gc_core::{Gc, Trace};

/// A documented public type.
#[derive(Debug, Trace)]
pub struct Documented<'a, T: 'static> {
    /// A handle.
    pub handle: Gc<T>,
    /// A skipped borrow.
    #[gc(unsafe_no_trace)]
    pub borrowed: &'a str,
}

/// A documented public enum.
#[derive(Debug, Trace)]
pub enum Tree {
    /// Nothing.
    Leaf,
    /// Two subtrees.
    Branch(Box<Tree>, Box<Tree>),
}

mod private {
    use gc_core::Trace;

    #[derive(Debug, Trace)]
    pub(crate) struct Inner {
        pub(crate) value: u8,
    }

    #[derive(Debug, Trace)]
    pub(crate) enum Empty {}
}

fn main() {
    let _documented = Gc::new(Documented {
        handle: Gc::new(1u8),
        borrowed: "static",
    });
    let _tree = Gc::new(Tree::Branch(Box::new(Tree::Leaf), Box::new(Tree::Leaf)));
    let _inner = Gc::new(private::Inner { value: 1 });
    let _ = <private::Empty as Trace>::HOLDS_HANDLES;
}
