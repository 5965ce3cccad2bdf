//! `#[derive(Trace)]` at run time: the generated impl reports every traced field, on every shape.
//!
//! As in `std_impls.rs`, roots are inferred, so survival alone proves little: a handle the
//! derive failed to report would count as a root and keep its target alive. The decisive
//! checks are that an object reachable only through a derived field dies with its holder, and
//! that a cycle through a derived field is collected. Survival (with the value intact) is
//! checked too, while the holder lives.
//!
//! Each shape under test is the content of a [`Node`]; its fields hold handles to other nodes
//! of the same content type.

use gc_core::{collect, Gc, GcCell, GcWeak, Trace};
use tests::{DropCounter, DropToken};

// ---------------------------------------------------------------------------------------------
// Test scaffolding
// ---------------------------------------------------------------------------------------------

/// A heap node: an id, and a mutable slot holding the shape under test. Derived itself.
#[derive(Trace)]
struct Node<C: 'static> {
    id: u32,
    slot: GcCell<Option<C>>,
}

type Handle<C> = Gc<Node<C>>;

impl<C: Trace + Send + Sync + 'static> Node<C> {
    fn new(id: u32) -> Handle<C> {
        Gc::new(Node {
            id,
            slot: GcCell::new(None),
        })
    }
}

impl<C: Trace + 'static> Node<C> {
    fn set(&self, content: C) {
        *self.slot.borrow_mut() = Some(content);
    }

    fn ids(&self, ids: impl Fn(&C) -> Vec<u32>) -> Vec<u32> {
        self.slot.borrow().as_ref().map(ids).unwrap_or_default()
    }
}

/// `T::HOLDS_HANDLES`, read at run time so that a wrong value fails its test (not the build).
fn holds<T: Trace + ?Sized>() -> bool {
    T::HOLDS_HANDLES
}

/// The decisive checks for a shape `C` whose `build` puts exactly `n` handles in its traced
/// fields, and whose `ids` lists the ids of the nodes it holds (in order).
fn check_shape<C: Trace + Send + Sync + 'static>(
    n: u32,
    build: impl Fn(Vec<Handle<C>>) -> C,
    ids: impl Fn(&C) -> Vec<u32>,
) {
    assert!(
        holds::<C>(),
        "{}: HOLDS_HANDLES should be true",
        std::any::type_name::<C>()
    );
    reachable_only_through_field(n, &build, &ids);
    cycle_through_field(n, &build);
}

/// Children reachable only through `holder`'s derived fields survive a collection intact while
/// `holder` lives, and are freed with it (an unreported handle would be a root).
fn reachable_only_through_field<C: Trace + Send + Sync + 'static>(
    n: u32,
    build: &impl Fn(Vec<Handle<C>>) -> C,
    ids: &impl Fn(&C) -> Vec<u32>,
) {
    let name = std::any::type_name::<C>();
    let holder = Node::<C>::new(1000);
    let children: Vec<Handle<C>> = (0..n).map(Node::new).collect();
    let weaks: Vec<GcWeak<Node<C>>> = children.iter().map(Gc::downgrade).collect();
    holder.set(build(children));

    collect();
    for (i, w) in (0..).zip(&weaks) {
        let child = w
            .upgrade()
            .unwrap_or_else(|| panic!("{name}: child {i} freed while held"));
        assert_eq!(child.id, i, "{name}: child {i} corrupted");
    }
    assert_eq!(
        holder.ids(ids),
        (0..n).collect::<Vec<_>>(),
        "{name}: fields changed"
    );

    let holder_weak = Gc::downgrade(&holder);
    drop(holder);
    collect();
    assert!(
        holder_weak.upgrade().is_none(),
        "{name}: unreachable holder not freed"
    );
    for (i, w) in weaks.iter().enumerate() {
        assert!(
            w.upgrade().is_none(),
            "{name}: child {i} outlived its holder: field not traced"
        );
    }
}

/// A cycle through the derived fields (a -> b and a, b -> a) is collected once the outside
/// handles are gone.
fn cycle_through_field<C: Trace + Send + Sync + 'static>(
    n: u32,
    build: &impl Fn(Vec<Handle<C>>) -> C,
) {
    let name = std::any::type_name::<C>();
    let a = Node::<C>::new(1);
    let b = Node::<C>::new(2);
    a.set(build(
        (0..n)
            .map(|i| if i % 2 == 0 { b.clone() } else { a.clone() })
            .collect(),
    ));
    b.set(build((0..n).map(|_| a.clone()).collect()));
    let (wa, wb) = (Gc::downgrade(&a), Gc::downgrade(&b));
    drop((a, b));

    collect();
    assert!(
        wa.upgrade().is_none(),
        "{name}: cycle not collected (a survived)"
    );
    assert!(
        wb.upgrade().is_none(),
        "{name}: cycle not collected (b survived)"
    );
}

/// Takes exactly `N` handles out of a vector.
fn take<T, const N: usize>(v: Vec<T>) -> [T; N] {
    let len = v.len();
    v.try_into()
        .unwrap_or_else(|_| panic!("expected {N} handles, got {len}"))
}

// ---------------------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------------------

#[derive(Trace)]
struct Named {
    first: Handle<Named>,
    plain: u64,
    second: Handle<Named>,
}

#[test]
fn named_struct_traces_every_field() {
    check_shape(
        2,
        |v| {
            let [first, second] = take(v);
            Named {
                first,
                plain: 7,
                second,
            }
        },
        |c| {
            assert_eq!(c.plain, 7);
            vec![c.first.id, c.second.id]
        },
    );
}

#[derive(Trace)]
struct Tuple(Handle<Tuple>, u8, Handle<Tuple>);

#[test]
fn tuple_struct_traces_every_field() {
    check_shape(
        2,
        |v| {
            let [a, b] = take(v);
            Tuple(a, 9, b)
        },
        |c| {
            assert_eq!(c.1, 9);
            vec![c.0.id, c.2.id]
        },
    );
}

#[derive(Trace)]
struct Unit;

#[derive(Trace)]
enum Never {}

#[test]
fn unit_struct_and_empty_enum_hold_nothing() {
    assert!(!holds::<Unit>());
    assert!(!holds::<Never>());
    let unit = Gc::new(Unit);
    let w = Gc::downgrade(&unit);
    drop(unit);
    collect();
    assert!(w.upgrade().is_none());
}

#[derive(Trace)]
enum Shape {
    Leaf,
    Pair(Handle<Shape>, Handle<Shape>),
    Labelled {
        label: String,
        left: Handle<Shape>,
        right: Handle<Shape>,
    },
}

fn shape_ids(s: &Shape) -> Vec<u32> {
    match s {
        Shape::Leaf => Vec::new(),
        Shape::Pair(a, b) => vec![a.id, b.id],
        Shape::Labelled { label, left, right } => {
            assert_eq!(label, "label");
            vec![left.id, right.id]
        }
    }
}

#[test]
fn enum_tuple_variant_traces_every_field() {
    let pair = |v| {
        let [a, b] = take(v);
        Shape::Pair(a, b)
    };
    check_shape(2, pair, shape_ids);
}

#[test]
fn enum_named_variant_traces_every_field() {
    let labelled = |v| {
        let [left, right] = take(v);
        Shape::Labelled {
            label: "label".into(),
            left,
            right,
        }
    };
    check_shape(2, labelled, shape_ids);
}

#[test]
fn enum_unit_variant_holds_nothing() {
    let holder = Node::<Shape>::new(1);
    holder.set(Shape::Leaf);
    let w = Gc::downgrade(&holder);
    drop(holder);
    collect();
    assert!(w.upgrade().is_none());
}

/// A generic struct: the derive bounds `T: Trace` and `Vec<T>: Trace` and traces both fields.
#[derive(Trace)]
struct Wrap<T> {
    one: T,
    many: Vec<T>,
}

/// Closes the recursion: a `Wrap` of handles to nodes holding a `Wrap`.
#[derive(Trace)]
struct Wrapped(Wrap<Handle<Wrapped>>);

#[test]
fn generic_struct_traces_its_parameter() {
    assert!(!holds::<Wrap<u8>>());
    assert!(holds::<Wrap<Gc<u8>>>());
    check_shape(
        3,
        |mut v| {
            let one = v.remove(0);
            Wrapped(Wrap { one, many: v })
        },
        |c| {
            std::iter::once(&c.0.one)
                .chain(&c.0.many)
                .map(|h| h.id)
                .collect()
        },
    );
}

/// A where-clause and a const parameter, kept on the generated impl.
#[derive(Trace)]
struct Bounded<T, const N: usize>
where
    T: Clone + Send,
{
    items: [T; N],
}

#[derive(Trace)]
struct BoundedNodes(Bounded<Handle<BoundedNodes>, 2>);

#[test]
fn where_clause_struct_traces_every_element() {
    check_shape(
        2,
        |v| BoundedNodes(Bounded { items: take(v) }),
        |c| c.0.items.iter().map(|h| h.id).collect(),
    );
}

/// A resource with its own `Drop` and no `Trace` impl, like a `File`.
struct Resource(DropToken);

/// A traced handle next to a skipped resource: the sound way to own something that needs
/// closing.
#[derive(Trace)]
struct WithResource {
    next: Handle<WithResource>,
    #[gc(unsafe_no_trace)]
    resource: Resource,
}

#[test]
fn unsafe_no_trace_field_is_skipped_and_still_dropped() {
    let drops = DropCounter::new();
    check_shape(
        1,
        |v| {
            let [next] = take(v);
            WithResource {
                next,
                resource: Resource(drops.token()),
            }
        },
        |c| {
            let Resource(_token) = &c.resource;
            vec![c.next.id]
        },
    );
    // One resource per built value: one in the reachability check, two in the cycle check.
    assert_eq!(
        drops.dropped(),
        3,
        "a skipped field must still be dropped with its object"
    );
}

// ---------------------------------------------------------------------------------------------
// HOLDS_HANDLES
// ---------------------------------------------------------------------------------------------

#[derive(Trace)]
struct Ints {
    a: u8,
    b: u32,
    c: (i64, usize),
}

#[derive(Trace)]
enum IntsOrNothing {
    Nothing,
    Ints(Ints),
}

#[derive(Trace)]
struct WithGc {
    plain: u8,
    handle: Gc<u8>,
}

#[derive(Trace)]
struct OnlySkipped {
    #[gc(unsafe_no_trace)]
    resource: Resource,
}

#[test]
fn holds_handles_is_the_or_of_the_traced_fields() {
    assert!(!holds::<Ints>());
    assert!(!holds::<IntsOrNothing>());
    for value in [
        IntsOrNothing::Nothing,
        IntsOrNothing::Ints(Ints {
            a: 0,
            b: 0,
            c: (0, 0),
        }),
    ] {
        let _ = Gc::new(value);
    }
    assert!(!holds::<OnlySkipped>());
    assert!(holds::<WithGc>());
    assert!(!holds::<Node<u8>>(), "a cell of integers holds no handle");
    assert!(holds::<Node<Named>>());
    let ints = Gc::new(Ints {
        a: 1,
        b: 2,
        c: (3, 4),
    });
    assert_eq!((ints.a, ints.b, ints.c), (1, 2, (3, 4)));
    let with = Gc::new(WithGc {
        plain: 5,
        handle: Gc::new(6),
    });
    assert_eq!((with.plain, *with.handle), (5, 6));
    let skipped = Gc::new(OnlySkipped {
        resource: Resource(DropCounter::new().token()),
    });
    let _ = &skipped.resource.0;
}

// ---------------------------------------------------------------------------------------------
// PLAIN_DROP
// ---------------------------------------------------------------------------------------------

/// `T::PLAIN_DROP`, read at run time so that a wrong value fails its test (not the build).
fn plain<T: Trace + ?Sized>() -> bool {
    T::PLAIN_DROP
}

/// Text, numbers and a handle to itself: plain.
#[derive(Trace)]
struct Named2 {
    name: String,
    tags: Vec<(u32, Box<str>)>,
    next: GcCell<Option<Gc<Named2>>>,
    back: GcWeak<Named2>,
}

/// A value with a `Drop` of its own, not declared plain.
struct Logged;

impl Drop for Logged {
    fn drop(&mut self) {
        println!("logged");
    }
}

// SAFETY: holds no handle.
unsafe impl Trace for Logged {
    const HOLDS_HANDLES: bool = false;
    fn trace(&self, _: &mut gc_core::Tracer) {}
}

/// A field with a `Drop` of its own: not plain.
#[derive(Trace)]
enum MaybeToken {
    Nothing,
    Token(Logged, DropToken),
}

/// Skipped fields: plain only without drop glue.
#[derive(Trace)]
struct SkippedInstant {
    #[gc(unsafe_no_trace)]
    _at: std::time::Instant,
}

/// A tree owning its children directly: not asked (the constant would depend on itself), so
/// not plain.
#[derive(Trace)]
struct OwningTree {
    children: Vec<OwningTree>,
}

/// Generic: plain when its parameter is.
#[derive(Trace)]
struct Boxed<T: Trace> {
    inner: Option<Box<T>>,
}

#[test]
fn plain_drop_is_the_and_of_the_fields() {
    assert!(plain::<Named2>());
    assert!(plain::<Ints>());
    assert!(
        plain::<Node<Option<Gc<u8>>>>(),
        "a cell of handles drops plainly"
    );
    assert!(!plain::<MaybeToken>());
    assert!(!plain::<WithResource>(), "a skipped field with drop glue");
    assert!(plain::<DropToken>(), "declared plain by hand");
    assert!(plain::<SkippedInstant>());
    assert!(!plain::<OwningTree>());
    assert!(plain::<Boxed<String>>());
    assert!(!plain::<Boxed<Logged>>());
    assert!(!plain::<std::sync::Arc<Logged>>());
    assert!(plain::<std::collections::HashMap<u32, Vec<String>>>());
    let drops = DropCounter::new();
    drop(Gc::new([
        MaybeToken::Nothing,
        MaybeToken::Token(Logged, drops.token()),
    ]));
    // Dropped at once, or (if another test's cycle was marking at the drop) by the next
    // cycle at the latest.
    collect();
    assert_eq!(drops.dropped(), 1);
    let t = Gc::new(OwningTree {
        children: vec![OwningTree { children: vec![] }],
    });
    assert_eq!(t.children.len(), 1);
}

/// Declares a struct from inside a `macro_rules!` expansion, with the attributes its caller
/// gives (the usual shape of macros that declare types): the derive comes from the caller, the
/// fields from the macro.
macro_rules! linked {
    ($(#[$attr:meta])* $name:ident) => {
        $(#[$attr])*
        struct $name {
            next: GcCell<Option<Gc<$name>>>,
            value: u32,
        }
    };
}

linked!(
    #[derive(Trace)]
    MacroNode
);

#[test]
fn a_struct_declared_by_a_macro_is_traced_through_its_fields() {
    let a = Gc::new(MacroNode {
        next: GcCell::new(None),
        value: 1,
    });
    *a.next.borrow_mut() = Some(a.clone());
    collect();
    assert_eq!(a.next.borrow().as_ref().map(|n| n.value), Some(1));
    let w = Gc::downgrade(&a);
    drop(a);
    // Only a cycle frees a self-loop, and only if the derived `trace` reports the edge (an
    // unreported handle would count as a root).
    collect();
    assert!(w.upgrade().is_none());
    assert!(holds::<MacroNode>());
}
