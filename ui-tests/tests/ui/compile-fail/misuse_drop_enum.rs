// The `Drop` rule holds for enums too: a derived enum with a `Drop` impl is rejected, naming
// the rule and its alternatives.
use gc_core::{Gc, Trace};

#[derive(Trace)]
enum Tree {
    Leaf,
    Node(Gc<Tree>, Gc<Tree>),
}

impl Drop for Tree {
    fn drop(&mut self) {}
}

fn main() {}
