// The `Drop` rule also holds for generic types, whatever the parameters of the `Drop` impl.
use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Wrap<T: 'static, const N: usize> {
    items: [Gc<T>; N],
}

impl<T: 'static, const N: usize> Drop for Wrap<T, N> {
    fn drop(&mut self) {}
}

fn main() {}
