//! The `Trace` impls for standard-library types, tested through the public API.
//!
//! With inferred roots, a handle that a `Trace` impl fails to report counts as a root, so an
//! object that "survives a collection" proves little on its own. The decisive checks are the
//! other direction:
//!
//! - a child reachable only through a container inside a heap object dies together with that
//!   object (an unreported handle would keep it alive as a root), and
//! - a cycle through the container is collected once the outside handles are dropped.
//!
//! Both only pass if the container's `trace` reports every handle it holds. `Arc` is the
//! documented exception: its contents are never reported, so a cycle through an `Arc` leaks.
//!
//! The node types implement `Trace` by hand (no derive), and store their container in a
//! test-local [`Slot`] rather than an `Option`, so that only the impl under test is exercised.

use gc_core::{collect, Gc, GcCell, GcWeak, Trace, Tracer};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::num::{
    NonZeroI128, NonZeroI16, NonZeroI32, NonZeroI64, NonZeroI8, NonZeroIsize, NonZeroU128,
    NonZeroU16, NonZeroU32, NonZeroU64, NonZeroU8, NonZeroUsize,
};
use std::path::PathBuf;
use std::sync::atomic::{
    AtomicBool, AtomicI16, AtomicI32, AtomicI64, AtomicI8, AtomicIsize, AtomicU16, AtomicU32,
    AtomicU64, AtomicU8, AtomicUsize, Ordering as AtomicOrdering,
};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

// ---------------------------------------------------------------------------------------------
// Test scaffolding
// ---------------------------------------------------------------------------------------------

/// An optional value with a hand-written `Trace`, independent of the library's `Option` impl.
enum Slot<C> {
    Empty,
    Full(C),
}

// SAFETY: `Full` owns its `C`, whose impl reports its handles once; `Empty` owns nothing.
unsafe impl<C: Trace> Trace for Slot<C> {
    const HOLDS_HANDLES: bool = C::HOLDS_HANDLES;

    fn trace(&self, tracer: &mut Tracer) {
        if let Slot::Full(contents) = self {
            contents.trace(tracer);
        }
    }
}

/// Names the container type a [`Node`] holds. The container mentions `Gc<Node<Self>>`, which is
/// how a cycle through it is built.
trait Family: Sized + 'static {
    type C: Trace + Send + Sync + 'static;
}

/// Declares a zero-sized [`Family`] whose nodes hold a `$c`.
macro_rules! family {
    ($name:ident => $c:ty) => {
        enum $name {}
        impl Family for $name {
            type C = $c;
        }
    };
}

/// A heap node: an id, and a mutable slot holding a container of handles to other nodes.
struct Node<F: Family> {
    id: u32,
    slot: GcCell<Slot<F::C>>,
}

type Handle<F> = Gc<Node<F>>;

// SAFETY: the node owns its cell and reports it once; the cell reports the container (and the
// container impl under test reports the handles). `id` holds no handle.
unsafe impl<F: Family> Trace for Node<F> {
    fn trace(&self, tracer: &mut Tracer) {
        self.slot.trace(tracer);
    }
}

impl<F: Family> Node<F> {
    fn new(id: u32) -> Handle<F> {
        Gc::new(Node {
            id,
            slot: GcCell::new(Slot::Empty),
        })
    }

    fn set(&self, contents: F::C) {
        *self.slot.borrow_mut() = Slot::Full(contents);
    }

    fn clear(&self) {
        *self.slot.borrow_mut() = Slot::Empty;
    }

    fn with<R>(&self, f: impl FnOnce(&F::C) -> R) -> R {
        match &*self.slot.borrow() {
            Slot::Full(contents) => f(contents),
            Slot::Empty => panic!("node {} is empty", self.id),
        }
    }
}

// Nodes compare and hash by id, so handles to them can be keys of maps and sets (`Gc` forwards
// these traits to the value).
impl<F: Family> PartialEq for Node<F> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl<F: Family> Eq for Node<F> {}
impl<F: Family> PartialOrd for Node<F> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<F: Family> Ord for Node<F> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.id.cmp(&other.id)
    }
}
impl<F: Family> Hash for Node<F> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

fn sorted(mut ids: Vec<u32>) -> Vec<u32> {
    ids.sort_unstable();
    ids
}

/// The decisive checks for a container type `F::C` that can hold `n` handles.
///
/// `build` makes a container holding exactly the given handles (it may dedupe equal ones);
/// `ids` lists the ids of the nodes a container holds.
fn check_container<F: Family>(
    n: u32,
    build: impl Fn(Vec<Handle<F>>) -> F::C,
    ids: impl Fn(&F::C) -> Vec<u32>,
) {
    reachable_only_through_container(n, &build, &ids);
    cycle_through_container(n, &build);
}

/// (1) Children reachable only through the container inside `holder` survive a collection
/// intact while `holder` lives, and are freed with it (an unreported handle would be a root).
fn reachable_only_through_container<F: Family>(
    n: u32,
    build: &impl Fn(Vec<Handle<F>>) -> F::C,
    ids: &impl Fn(&F::C) -> Vec<u32>,
) {
    let name = std::any::type_name::<F::C>();
    let holder = Node::<F>::new(1000);
    let children: Vec<Handle<F>> = (0..n).map(Node::new).collect();
    let child_weaks: Vec<GcWeak<Node<F>>> = children.iter().map(Gc::downgrade).collect();
    holder.set(build(children));

    collect();
    for (i, w) in child_weaks.iter().enumerate() {
        let child = w
            .upgrade()
            .unwrap_or_else(|| panic!("{name}: child {i} freed while reachable"));
        assert_eq!(child.id, i as u32, "{name}: child {i} corrupted");
    }
    assert_eq!(
        sorted(holder.with(ids)),
        (0..n).collect::<Vec<_>>(),
        "{name}: container contents changed"
    );

    let holder_weak = Gc::downgrade(&holder);
    drop(holder);
    collect();
    assert!(
        holder_weak.upgrade().is_none(),
        "{name}: unreachable holder not freed"
    );
    for (i, w) in child_weaks.iter().enumerate() {
        assert!(
            w.upgrade().is_none(),
            "{name}: child {i} outlived its only holder: the container did not report its handle"
        );
    }
}

/// (2) A cycle through the container (a -> b -> a, and a -> a when `n > 1`) is collected once
/// the outside handles are gone.
fn cycle_through_container<F: Family>(n: u32, build: &impl Fn(Vec<Handle<F>>) -> F::C) {
    let name = std::any::type_name::<F::C>();
    let a = Node::<F>::new(1);
    let b = Node::<F>::new(2);
    // a's container: b first, then a itself; b's container: a, repeated.
    let to_a_and_b: Vec<Handle<F>> = (0..n)
        .map(|i| if i % 2 == 0 { b.clone() } else { a.clone() })
        .collect();
    let to_a: Vec<Handle<F>> = (0..n).map(|_| a.clone()).collect();
    a.set(build(to_a_and_b));
    b.set(build(to_a));
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
fn array<T, const N: usize>(v: Vec<T>) -> [T; N] {
    let len = v.len();
    v.try_into()
        .unwrap_or_else(|_| panic!("expected {N} handles, got {len}"))
}

/// `T::HOLDS_HANDLES`, read at run time so that a wrong value fails its test (not the build).
fn holds<T: Trace + ?Sized>() -> bool {
    T::HOLDS_HANDLES
}

/// A type name, and a check that the value of that type was freed.
type FreedCheck = (&'static str, Box<dyn Fn() -> bool>);

/// Leaf values allocated by a test, to be checked freed after one collection.
#[derive(Default)]
struct Leaves {
    freed: Vec<FreedCheck>,
}

impl Leaves {
    /// Asserts `T` holds no handles, allocates `value`, checks it reads back intact with
    /// `intact`, and drops the only handle.
    fn check<T: Trace + Send + Sync + 'static>(
        &mut self,
        value: T,
        intact: impl FnOnce(&T) -> bool,
    ) {
        let name = std::any::type_name::<T>();
        assert!(!T::HOLDS_HANDLES, "{name}: HOLDS_HANDLES should be false");
        let g = Gc::new(value);
        assert!(intact(&*g), "{name}: read back wrong");
        let w = Gc::downgrade(&g);
        drop(g);
        self.freed
            .push((name, Box::new(move || w.upgrade().is_none())));
    }

    /// [`Leaves::check`] for a comparable value.
    fn eq<T: Trace + PartialEq + Clone + Send + Sync + 'static>(&mut self, value: T) {
        let expected = value.clone();
        self.check(value, |v| *v == expected);
    }

    /// Collects and asserts every checked value was freed.
    fn assert_freed_after_collect(self) {
        collect();
        for (name, freed) in self.freed {
            assert!(freed(), "{name}: unreachable leaf value not freed");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// primitives.rs: leaf types
// ---------------------------------------------------------------------------------------------

#[test]
fn scalars_are_leaves() {
    let mut leaves = Leaves::default();
    leaves.eq(-8i8);
    leaves.eq(-16i16);
    leaves.eq(-32i32);
    leaves.eq(-64i64);
    leaves.eq(i128::MIN);
    leaves.eq(isize::MIN);
    leaves.eq(8u8);
    leaves.eq(16u16);
    leaves.eq(32u32);
    leaves.eq(64u64);
    leaves.eq(u128::MAX);
    leaves.eq(usize::MAX);
    leaves.eq(1.5f32);
    leaves.eq(-2.25f64);
    leaves.eq(true);
    leaves.eq('λ');
    leaves.eq(());
    leaves.eq(NonZeroI8::new(-1).unwrap());
    leaves.eq(NonZeroI16::new(-2).unwrap());
    leaves.eq(NonZeroI32::new(-3).unwrap());
    leaves.eq(NonZeroI64::new(-4).unwrap());
    leaves.eq(NonZeroI128::new(-5).unwrap());
    leaves.eq(NonZeroIsize::new(-6).unwrap());
    leaves.eq(NonZeroU8::new(1).unwrap());
    leaves.eq(NonZeroU16::new(2).unwrap());
    leaves.eq(NonZeroU32::new(3).unwrap());
    leaves.eq(NonZeroU64::new(4).unwrap());
    leaves.eq(NonZeroU128::new(5).unwrap());
    leaves.eq(NonZeroUsize::new(6).unwrap());
    // Even a phantom of a handle type owns no handle.
    assert!(!holds::<PhantomData<Gc<u8>>>());
    leaves.eq(PhantomData::<Gc<u8>>);
    leaves.assert_freed_after_collect();
}

#[test]
fn text_paths_and_time_are_leaves() {
    assert!(!holds::<str>());
    let mut leaves = Leaves::default();
    leaves.eq(String::from("a string on the heap"));
    leaves.eq(Box::<str>::from("a boxed str"));
    leaves.eq(Cow::<'static, str>::Borrowed("borrowed"));
    leaves.eq(Cow::<'static, str>::Owned(String::from("owned")));
    leaves.eq(PathBuf::from("/some/path"));
    leaves.eq(Duration::from_millis(1234));
    leaves.eq(Instant::now());
    leaves.eq(SystemTime::now());
    leaves.assert_freed_after_collect();
}

#[test]
fn atomics_are_leaves() {
    let mut leaves = Leaves::default();
    macro_rules! atomic {
        ($($t:ident = $v:expr),* $(,)?) => {
            $(leaves.check($t::new($v), |a| a.load(AtomicOrdering::SeqCst) == $v);)*
        };
    }
    atomic!(
        AtomicBool = true,
        AtomicI8 = -8,
        AtomicI16 = -16,
        AtomicI32 = -32,
        AtomicI64 = -64,
        AtomicIsize = -1,
        AtomicU8 = 8,
        AtomicU16 = 16,
        AtomicU32 = 32,
        AtomicU64 = 64,
        AtomicUsize = 1,
    );
    // They stay usable (mutable through a shared handle) on the heap.
    let counter = Gc::new(AtomicUsize::new(0));
    counter.fetch_add(2, AtomicOrdering::SeqCst);
    assert_eq!(counter.load(AtomicOrdering::SeqCst), 2);
    drop(counter);
    leaves.assert_freed_after_collect();
}

// ---------------------------------------------------------------------------------------------
// HOLDS_HANDLES composes as the OR of the element types
// ---------------------------------------------------------------------------------------------

#[test]
fn holds_handles_is_the_or_of_the_elements() {
    type G = Gc<u8>;
    // Leaf containers.
    assert!(!holds::<Vec<u8>>());
    assert!(!holds::<[String; 4]>());
    assert!(!holds::<[u8]>());
    assert!(!holds::<Box<[u32]>>());
    assert!(!holds::<Option<String>>());
    assert!(!holds::<Result<u8, String>>());
    assert!(!holds::<HashMap<String, Vec<u8>>>());
    assert!(!holds::<BTreeMap<u8, VecDeque<char>>>());
    assert!(!holds::<(u8, String, f64)>());
    assert!(!holds::<(u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8)>());
    // One handle anywhere makes the whole type hold handles.
    assert!(holds::<Gc<u8>>());
    assert!(holds::<Vec<G>>());
    assert!(holds::<[G; 0]>());
    assert!(holds::<[G]>());
    assert!(holds::<Box<G>>());
    assert!(holds::<Option<G>>());
    assert!(holds::<Result<u8, G>>());
    assert!(holds::<Result<G, u8>>());
    assert!(holds::<HashMap<G, u8>>());
    assert!(holds::<HashMap<u8, G>>());
    assert!(holds::<BTreeMap<G, u8>>());
    assert!(holds::<BTreeMap<u8, G>>());
    assert!(holds::<HashSet<G>>());
    assert!(holds::<BTreeSet<G>>());
    assert!(holds::<BinaryHeap<G>>());
    assert!(holds::<LinkedList<G>>());
    assert!(holds::<VecDeque<G>>());
    assert!(holds::<(G,)>());
    assert!(holds::<(u8, G)>());
    assert!(holds::<(u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, G)>());
    // Except through an `Arc` (see `arc_contents_are_roots`).
    assert!(!holds::<Arc<G>>());
}

#[test]
fn leaf_containers_round_trip_and_are_freed() {
    let mut leaves = Leaves::default();
    leaves.eq(vec![String::from("a"), String::from("b")]);
    leaves.eq(Box::new([1u8, 2, 3]));
    leaves.eq(Some(vec![1u64]));
    leaves.eq(HashMap::from([(1u8, String::from("one"))]));
    leaves.eq(BTreeSet::from([3u16, 1, 2]));
    leaves.eq((1u8, String::from("two"), 3.0f32));
    leaves.assert_freed_after_collect();
}

// ---------------------------------------------------------------------------------------------
// boxes.rs: Box, slices, arrays
// ---------------------------------------------------------------------------------------------

family!(BoxFam => Box<Handle<BoxFam>>);
family!(SliceFam => Box<[Handle<SliceFam>]>);
family!(ArrayFam => [Handle<ArrayFam>; 3]);

#[test]
fn box_reports_its_pointee() {
    check_container::<BoxFam>(
        1,
        |v| Box::new(array::<_, 1>(v).into_iter().next().unwrap()),
        |b| vec![b.id],
    );
}

#[test]
fn boxed_slice_reports_every_element() {
    check_container::<SliceFam>(3, Vec::into_boxed_slice, |s| {
        s.iter().map(|g| g.id).collect()
    });
}

#[test]
fn array_reports_every_element() {
    check_container::<ArrayFam>(3, array, |a| a.iter().map(|g| g.id).collect());
}

// ---------------------------------------------------------------------------------------------
// collections.rs
// ---------------------------------------------------------------------------------------------

family!(VecFam => Vec<Handle<VecFam>>);
family!(VecDequeFam => VecDeque<Handle<VecDequeFam>>);
family!(LinkedListFam => LinkedList<Handle<LinkedListFam>>);
family!(BinaryHeapFam => BinaryHeap<Handle<BinaryHeapFam>>);
family!(HashSetFam => HashSet<Handle<HashSetFam>>);
family!(BTreeSetFam => BTreeSet<Handle<BTreeSetFam>>);
family!(HashMapKeyFam => HashMap<Handle<HashMapKeyFam>, u8>);
family!(HashMapValueFam => HashMap<u8, Handle<HashMapValueFam>>);
family!(BTreeMapKeyFam => BTreeMap<Handle<BTreeMapKeyFam>, u8>);
family!(BTreeMapValueFam => BTreeMap<u8, Handle<BTreeMapValueFam>>);

#[test]
fn vec_reports_every_element() {
    check_container::<VecFam>(3, |v| v, |v| v.iter().map(|g| g.id).collect());
}

/// Builds a deque whose ring buffer wraps, so both of `as_slices` halves are non-empty.
fn wrapped_deque<T>(v: Vec<T>) -> VecDeque<T> {
    let mut d = VecDeque::with_capacity(v.len());
    for (i, x) in v.into_iter().enumerate() {
        if i % 2 == 0 {
            d.push_back(x);
        } else {
            d.push_front(x);
        }
    }
    d
}

#[test]
fn vec_deque_reports_both_halves() {
    let probe = wrapped_deque(vec![1, 2, 3]);
    let (front, back) = probe.as_slices();
    assert!(
        !front.is_empty() && !back.is_empty(),
        "the test deque should wrap"
    );
    check_container::<VecDequeFam>(3, wrapped_deque, |d| d.iter().map(|g| g.id).collect());
}

#[test]
fn linked_list_reports_every_element() {
    check_container::<LinkedListFam>(
        3,
        |v| v.into_iter().collect(),
        |l| l.iter().map(|g| g.id).collect(),
    );
}

#[test]
fn binary_heap_reports_every_element() {
    check_container::<BinaryHeapFam>(
        3,
        |v| v.into_iter().collect(),
        |h| h.iter().map(|g| g.id).collect(),
    );
}

#[test]
fn hash_set_reports_every_element() {
    check_container::<HashSetFam>(
        3,
        |v| v.into_iter().collect(),
        |s| s.iter().map(|g| g.id).collect(),
    );
}

#[test]
fn btree_set_reports_every_element() {
    check_container::<BTreeSetFam>(
        3,
        |v| v.into_iter().collect(),
        |s| s.iter().map(|g| g.id).collect(),
    );
}

#[test]
fn hash_map_reports_keys() {
    check_container::<HashMapKeyFam>(
        3,
        |v| v.into_iter().zip(0u8..).collect(),
        |m| m.keys().map(|g| g.id).collect(),
    );
}

#[test]
fn hash_map_reports_values() {
    check_container::<HashMapValueFam>(
        3,
        |v| (0u8..).zip(v).collect(),
        |m| m.values().map(|g| g.id).collect(),
    );
}

#[test]
fn btree_map_reports_keys() {
    check_container::<BTreeMapKeyFam>(
        3,
        |v| v.into_iter().zip(0u8..).collect(),
        |m| m.keys().map(|g| g.id).collect(),
    );
}

#[test]
fn btree_map_reports_values() {
    check_container::<BTreeMapValueFam>(
        3,
        |v| (0u8..).zip(v).collect(),
        |m| m.values().map(|g| g.id).collect(),
    );
}

// A handle in both the key and the value of one entry: each is reported once.
family!(HashMapBothFam => HashMap<Handle<HashMapBothFam>, Handle<HashMapBothFam>>);
family!(BTreeMapBothFam => BTreeMap<Handle<BTreeMapBothFam>, Handle<BTreeMapBothFam>>);

/// Pairs up handles as key and value (an odd last one maps to itself).
fn pairs<F: Family>(v: Vec<Handle<F>>) -> Vec<(Handle<F>, Handle<F>)> {
    v.chunks(2)
        .map(|c| (c[0].clone(), c.last().unwrap().clone()))
        .collect()
}

fn keys_and_values<'a, F: Family>(
    entries: impl Iterator<Item = (&'a Handle<F>, &'a Handle<F>)>,
) -> Vec<u32> {
    let mut ids: Vec<u32> = entries.flat_map(|(k, v)| [k.id, v.id]).collect();
    ids.dedup();
    ids
}

#[test]
fn maps_report_keys_and_values_together() {
    check_container::<HashMapBothFam>(
        4,
        |v| pairs(v).into_iter().collect(),
        |m| keys_and_values(m.iter()),
    );
    check_container::<BTreeMapBothFam>(
        4,
        |v| pairs(v).into_iter().collect(),
        |m| keys_and_values(m.iter()),
    );
}

// ---------------------------------------------------------------------------------------------
// options.rs: Option, Result
// ---------------------------------------------------------------------------------------------

family!(OptionFam => Option<Handle<OptionFam>>);
family!(ResultFam => Result<Handle<ResultFam>, Handle<ResultFam>>);

#[test]
fn option_reports_some() {
    check_container::<OptionFam>(
        1,
        |v| v.into_iter().next(),
        |o| o.iter().map(|g| g.id).collect(),
    );
    // `None` holds nothing, and a node holding it is collected normally.
    let n = Node::<OptionFam>::new(7);
    n.set(None);
    let w = Gc::downgrade(&n);
    drop(n);
    collect();
    assert!(w.upgrade().is_none());
}

#[test]
fn result_reports_ok_and_err() {
    fn id(r: &Result<Handle<ResultFam>, Handle<ResultFam>>) -> Vec<u32> {
        match r {
            Ok(g) | Err(g) => vec![g.id],
        }
    }
    check_container::<ResultFam>(1, |v| Ok(array::<_, 1>(v).into_iter().next().unwrap()), id);
    check_container::<ResultFam>(1, |v| Err(array::<_, 1>(v).into_iter().next().unwrap()), id);
}

// ---------------------------------------------------------------------------------------------
// tuples.rs
// ---------------------------------------------------------------------------------------------

family!(Tuple1Fam => (Handle<Tuple1Fam>,));
family!(Tuple2Fam => (Handle<Tuple2Fam>, Handle<Tuple2Fam>));
family!(Tuple2MixedFam => (u8, Handle<Tuple2MixedFam>));
family!(
    Tuple12Fam => (
        Handle<Tuple12Fam>, Handle<Tuple12Fam>, Handle<Tuple12Fam>, Handle<Tuple12Fam>,
        Handle<Tuple12Fam>, Handle<Tuple12Fam>, Handle<Tuple12Fam>, Handle<Tuple12Fam>,
        Handle<Tuple12Fam>, Handle<Tuple12Fam>, Handle<Tuple12Fam>, Handle<Tuple12Fam>,
    )
);

#[test]
fn tuple_of_1_reports_its_element() {
    check_container::<Tuple1Fam>(
        1,
        |v| (array::<_, 1>(v).into_iter().next().unwrap(),),
        |t| vec![t.0.id],
    );
}

#[test]
fn tuple_of_2_reports_both_elements() {
    check_container::<Tuple2Fam>(
        2,
        |v| {
            let [a, b] = array(v);
            (a, b)
        },
        |t| vec![t.0.id, t.1.id],
    );
    // A leaf element next to a handle is skipped, the handle still reported.
    check_container::<Tuple2MixedFam>(
        1,
        |v| (9, array::<_, 1>(v).into_iter().next().unwrap()),
        |t| {
            assert_eq!(t.0, 9);
            vec![t.1.id]
        },
    );
}

#[test]
fn tuple_of_12_reports_every_element() {
    check_container::<Tuple12Fam>(
        12,
        |v| {
            let [a, b, c, d, e, f, g, h, i, j, k, l] = array(v);
            (a, b, c, d, e, f, g, h, i, j, k, l)
        },
        |t| {
            vec![
                t.0.id, t.1.id, t.2.id, t.3.id, t.4.id, t.5.id, t.6.id, t.7.id, t.8.id, t.9.id,
                t.10.id, t.11.id,
            ]
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Composition: the impls nest
// ---------------------------------------------------------------------------------------------

family!(NestedFam => HashMap<u8, Vec<(Option<Box<Handle<NestedFam>>>, [Handle<NestedFam>; 1])>>);

#[test]
fn nested_containers_report_every_handle() {
    check_container::<NestedFam>(
        4,
        |v| {
            let [a, b, c, d] = array(v);
            HashMap::from([
                (0, vec![(Some(Box::new(a)), [b])]),
                (1, vec![(None, [c]), (Some(Box::new(d.clone())), [d])]),
            ])
        },
        |m| {
            let mut ids = Vec::new();
            for entries in m.values() {
                for (opt, [x]) in entries {
                    ids.extend(opt.iter().map(|g| g.id));
                    ids.push(x.id);
                }
            }
            let mut ids = sorted(ids);
            ids.dedup();
            ids
        },
    );
}

// ---------------------------------------------------------------------------------------------
// shared.rs: Arc is opaque, its contents are roots
// ---------------------------------------------------------------------------------------------

family!(ArcFam => Arc<Handle<ArcFam>>);

#[test]
fn arc_contents_are_roots() {
    assert!(!holds::<Arc<Gc<u8>>>());
    assert!(!holds::<Arc<Vec<Gc<u8>>>>());

    // An Arc shared between a heap object and code outside the heap: the object dies, and the
    // handle inside the Arc must stay valid for the outside holder.
    let holder = Node::<ArcFam>::new(1);
    let child = Node::<ArcFam>::new(7);
    let child_weak = Gc::downgrade(&child);
    let outside = Arc::new(child);
    holder.set(Arc::clone(&outside));
    let holder_weak = Gc::downgrade(&holder);
    drop(holder);
    collect();
    assert!(holder_weak.upgrade().is_none(), "holder should be freed");
    assert!(
        child_weak.upgrade().is_some(),
        "the Arc's handle is held outside the heap"
    );
    assert_eq!(outside.id, 7);
    drop(outside);

    // Documented leak: a cycle through an Arc is never collected, because the handle inside
    // the Arc is never reported and so counts as a root.
    let a = Node::<ArcFam>::new(2);
    a.set(Arc::new(a.clone()));
    let a_weak = Gc::downgrade(&a);
    drop(a);
    collect();
    let a = a_weak
        .upgrade()
        .expect("a cycle through an Arc is kept alive (a leak, by design)");
    assert_eq!(a.id, 2);

    // Breaking the cycle by hand frees it.
    a.clear();
    drop(a);
    collect();
    assert!(
        a_weak.upgrade().is_none(),
        "once the cycle is broken the node is freed"
    );
    assert!(
        child_weak.upgrade().is_none(),
        "the child was freed with its last Arc"
    );
}
