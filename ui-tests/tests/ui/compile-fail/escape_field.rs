// Deny mode: a field of an escaping struct escapes with it.
use gc_core::{escape, Gc};

struct Pair {
    left: Gc<u32>,
    right: u32,
}

#[escape(deny)]
fn pair() -> Pair {
    let x = Gc::new(1);
    let p = Pair { left: x, right: 2 };
    p
}

fn main() {
    let p = pair();
    let _ = (p.left, p.right);
}
