// Deny mode: an allocation captured by a closure given to `thread::spawn` escapes.
use gc_core::{escape, Gc};

#[escape(deny)]
fn share() {
    let x = Gc::new(1);
    std::thread::spawn(move || *x).join().unwrap();
}

fn main() {
    share();
}
