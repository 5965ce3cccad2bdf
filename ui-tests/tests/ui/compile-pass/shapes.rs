// Every shape derives `Trace` without a warning: named, tuple and unit structs, enums with
// every variant shape, an empty enum, and fields skipped with `#[gc(unsafe_no_trace)]`.
#![deny(warnings)]

use gc_core::{Gc, GcCell, Trace};

#[derive(Trace)]
pub struct Named {
    pub handle: Gc<u32>,
    pub plain: u64,
    #[gc(unsafe_no_trace)]
    pub started: std::time::Instant,
}

#[derive(Trace)]
pub struct Tuple(
    pub Gc<u32>,
    #[gc(unsafe_no_trace)] pub std::time::Instant,
    pub String,
);

#[derive(Trace)]
pub struct Unit;

#[derive(Trace)]
pub struct EmptyBraces {}

#[derive(Trace)]
pub enum Shape {
    Leaf,
    Empty {},
    EmptyTuple(),
    Pair(Gc<Shape>, Gc<Shape>),
    Labelled {
        label: String,
        inner: GcCell<Option<Gc<Shape>>>,
        #[gc(unsafe_no_trace)]
        created: std::time::Instant,
    },
}

#[derive(Trace)]
pub enum Never {}

/// A field named like the generated code's locals must not clash with them.
#[derive(Trace)]
pub enum Clash {
    V {
        tracer: Gc<u8>,
        __gc_field_0: Gc<u8>,
        r#type: u8,
    },
}

#[derive(Trace)]
pub struct Raw {
    pub r#type: Gc<u8>,
}

/// A list whose nodes own the next one: the derive must not recurse on its own bound.
#[derive(Trace)]
pub struct List {
    pub head: Gc<u8>,
    pub tail: Option<Box<List>>,
}

fn main() {
    let shape = Gc::new(Shape::Labelled {
        label: "root".into(),
        inner: GcCell::new(None),
        created: std::time::Instant::now(),
    });
    let _ = Gc::new(Shape::Pair(shape.clone(), shape));
    let _ = Gc::new(Named {
        handle: Gc::new(1),
        plain: 2,
        started: std::time::Instant::now(),
    });
    let _ = Gc::new(Tuple(Gc::new(1), std::time::Instant::now(), String::new()));
    let _ = Gc::new(Unit);
    let _ = Gc::new(EmptyBraces {});
    let _ = Gc::new(Clash::V {
        tracer: Gc::new(1),
        __gc_field_0: Gc::new(2),
        r#type: 3,
    });
    let _ = Gc::new(Raw { r#type: Gc::new(1) });
    let _ = Gc::new(List {
        head: Gc::new(1),
        tail: Some(Box::new(List {
            head: Gc::new(2),
            tail: None,
        })),
    });
    fn _never(n: Gc<Never>) -> Gc<Never> {
        n
    }
}
