// A frame belongs to its thread: a `StackRoot` cannot be moved to another thread.
use gc_core::frame;

fn main() {
    frame(|f| {
        let root = f.place(5u32);
        std::thread::scope(|s| {
            s.spawn(move || *root);
        });
    });
}
