// A placed value must be `'static`, as a heap object must: the frame drops its values without
// knowing their types, so one that borrowed could be dropped after what it borrows.
use gc_core::frame;

fn main() {
    frame(|f| {
        let local = String::from("local");
        let _root = f.place(&local);
    });
}
