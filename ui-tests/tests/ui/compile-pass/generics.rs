// Generic types derive `Trace`: type, lifetime-free and const parameters, bounds on the
// parameters, where-clauses, and recursive generic types.
#![deny(warnings)]

use gc_core::{Gc, GcCell, Trace};
use std::marker::PhantomData;

/// A field that mentions `T` gets a `Gc<T>: Trace` bound, so `T` need not be `Trace` itself
/// to trace a handle to it.
#[derive(Trace)]
pub struct Wrap<T: 'static> {
    pub inner: Gc<T>,
}

#[derive(Trace)]
pub struct Pair<A, B>(pub A, pub B);

#[derive(Trace)]
pub struct Array<T, const N: usize>
where
    T: Send + Sync,
{
    pub items: [T; N],
    pub len: usize,
}

#[derive(Trace)]
pub enum Either<L, R: Clone> {
    Left(L),
    Right { value: R },
    Neither,
}

/// A marker parameter needs no bound beyond what `PhantomData<T>: Trace` asks.
#[derive(Trace)]
pub struct Tagged<T> {
    pub id: u64,
    pub tag: PhantomData<T>,
}

/// The parameter of a skipped field needs no bound at all.
#[derive(Trace)]
pub struct Opaque<T> {
    #[gc(unsafe_no_trace)]
    pub value: T,
}

/// A generic node that refers to itself through the heap and through a `Box`.
#[derive(Trace)]
pub struct Node<T: 'static> {
    pub value: T,
    pub next: GcCell<Option<Gc<Node<T>>>>,
    pub children: Vec<Box<Self>>,
}

/// An associated type of a parameter.
#[derive(Trace)]
pub struct Items<I: Iterator> {
    pub pending: Option<I::Item>,
}

struct NotTrace;

fn main() {
    let _ = Gc::new(Wrap {
        inner: Gc::new(1u8),
    });
    let _ = Gc::new(Pair(Gc::new(1u8), 2u32));
    let _ = Gc::new(Array::<Gc<u8>, 2> {
        items: [Gc::new(1), Gc::new(2)],
        len: 2,
    });
    let _ = Gc::new(Either::<u8, String>::Right {
        value: String::new(),
    });
    let _ = Gc::new(Tagged::<u8> {
        id: 1,
        tag: PhantomData,
    });
    let _ = Gc::new(Opaque { value: NotTrace });
    let node = Gc::new(Node {
        value: 1u8,
        next: GcCell::new(None),
        children: Vec::new(),
    });
    *node.next.borrow_mut() = Some(node.clone());
    let _ = Gc::new(Items::<std::vec::IntoIter<Gc<u8>>> { pending: None });
}
