//! [`Trace`](crate::trace::Trace) implementations for standard-library types.
//!
//! One concept per file:
//!
//! - [`primitives`]: leaf types that can never hold a handle (numbers, `bool`, `char`, `()`,
//!   strings, paths, time types, std atomics, `NonZero*`, `PhantomData`, `Cow<str>`). Their
//!   [`HOLDS_HANDLES`](crate::trace::Trace::HOLDS_HANDLES) is `false`, so the collector never
//!   visits them and containers of them skip their elements.
//! - [`boxes`]: `Box<T>`, slices `[T]` and arrays `[T; N]`.
//! - [`collections`]: `Vec`, `VecDeque`, `LinkedList`, `HashMap`, `HashSet`, `BTreeMap`,
//!   `BTreeSet`, `BinaryHeap`; map keys and values are both traced.
//! - [`options`]: `Option` and `Result`.
//! - [`tuples`]: tuples of 1 to 12 elements.
//! - [`shared`]: `Arc`, which is deliberately *opaque* to the collector (see below).
//!
//! Every implementation reports exactly the handles its value owns, each once, and its
//! `HOLDS_HANDLES` is the OR of its element types' constants. Containers skip their loop
//! entirely when the element type holds no handles.
//!
//! # Types deliberately without an implementation
//!
//! The collector marks concurrently with the mutators. It can only do so soundly if every
//! change to the set of handles an object owns goes through [`GcCell`](crate::GcCell), whose
//! write barrier shades a handle's target before the handle is overwritten or moved out
//! (snapshot-at-the-beginning). Therefore there is no `Trace` for:
//!
//! - `Mutex`, `RwLock`, `RefCell`, `Cell`, `OnceCell`/`OnceLock` and atomics holding handles
//!   (e.g. `AtomicPtr`): interior mutability without the `GcCell` barrier would let a mutator
//!   move a handle out of an object the marker has already scanned into one it has not (or onto
//!   its stack after the roots were taken), hiding it from the concurrent marker, which would
//!   then free a live object. Tracing them would also mean locking or borrowing inside
//!   `trace`, which the trait forbids (it may deadlock against, or race with, a mutator). Put
//!   the data in a `GcCell` instead. (The std atomics over integers and `bool` *are*
//!   implemented: they can never hold a handle.)
//! - `Rc`: it is not `Send`, and heap objects must be `Send + Sync` because the collector
//!   thread traces and drops them. Its non-atomic count would also race with that thread.
//! - `&T` and `&mut T`: a shared reference may point outside the heap (to a stack value, a
//!   global, another heap object's interior), so the handles behind it are not owned by the
//!   referencing value; reporting them would count them as internal to the heap although
//!   they are also held elsewhere, letting the collector free a live object.
//! - raw pointers (`*const T`, `*mut T`, `NonNull<T>`): the collector cannot know what they
//!   point to, whether it is alive, or who owns it.
//!
//! `Arc<T>` *is* implemented, but reports nothing: see [`shared`].
//!
//! Types not covered here can implement `Trace` by hand (see the trait's `# Safety` section)
//! or, for user structs and enums, with `#[derive(Trace)]`.

mod boxes;
mod collections;
mod options;
mod primitives;
mod shared;
mod tuples;
