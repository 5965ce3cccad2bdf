// A weak reference is as thread-bound as its target type: a `GcWeak<Rc<_>>` cannot be sent to
// another thread.
use gc_core::GcWeak;
use std::rc::Rc;

fn send(weak: GcWeak<Rc<u32>>) {
    std::thread::spawn(move || drop(weak));
}

fn main() {}
