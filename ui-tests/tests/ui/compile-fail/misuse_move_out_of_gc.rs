// A `Gc` only lends its value: moving it out (`*gc`) is rejected, since other handles may
// still point to it. Clone the value, or keep it in a `GcCell` and `replace` it.
use gc_core::Gc;

fn main() {
    let gc = Gc::new(String::from("shared"));
    let _s: String = *gc;
}
