// The `Drop` rule holds for tuple structs: a `Drop` could read the target of its handle after
// the collector freed it in the same cycle.
use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Link(Gc<u32>, u32);

impl Drop for Link {
    fn drop(&mut self) {
        println!("{}", *self.0);
    }
}

fn main() {}
