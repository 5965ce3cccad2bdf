// A `StackRoot` cannot leave its frame: the frame's lifetime is chosen by `frame`, so neither
// returning the root nor storing it in a variable outside the closure type-checks.
use gc_core::{frame, StackRoot};

fn main() {
    let mut outside: Option<StackRoot<'_, u32>> = None;
    frame(|f| {
        outside = Some(f.place(1));
    });
    let _returned = frame(|f| f.place(2));
    drop(outside);
}
