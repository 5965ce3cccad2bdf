//! `#[derive(Trace)]` for the `gc-core` garbage-collected heap.
//!
//! Use it through `gc_core`, which re-exports it next to the trait of the same name:
//! `use gc_core::Trace;` brings both. The generated code names `::gc_core`, so the crate using
//! the derive must depend on `gc-core` under that name.
//!
//! The crate is split one concept per module: `ctxt` accumulates errors, `attr` parses the `#[gc(...)]`
//! attributes, `ast` reads the input into a model, `bound` computes the where-clause and
//! `trace` generates the code.

mod ast;
mod attr;
mod bound;
mod ctxt;
mod escape;
mod trace;

#[cfg(test)]
mod escape_odd_inputs_tests;
#[cfg(test)]
mod odd_inputs_tests;

use proc_macro::TokenStream;

/// Derives `gc_core::Trace` for a struct or an enum.
///
/// The generated `unsafe impl Trace` traces every field (every field of the active variant, for
/// an enum), and sets `HOLDS_HANDLES` to `false` exactly when no traced field's type can hold a
/// `Gc` handle, so that the collector never scans values of the type. It works on named, tuple
/// and unit structs, on enums of any variant shapes (empty enums included) and on generic types
/// (type, lifetime and const parameters). A field whose type mentions a type parameter gets a
/// `FieldType: Trace` bound on the impl; any other field whose type is not `Trace` is reported
/// at that field.
///
/// It also sets `PLAIN_DROP` (the value's drop runs no code of its own, so an allocating thread
/// that helps the collector sweep may drop a dead one) to `true` exactly when every field's
/// type has it: a field marked `#[gc(unsafe_no_trace)]` counts if it has no drop glue at all,
/// and a field that names the type itself other than inside a `Gc` or `GcWeak` (`Vec<Tree<T>>`,
/// or `Link<Tree>` for an alias `type Link<T> = Gc<T>`: the derive sees names, not what they
/// stand for) does not.
///
/// Recursive types are supported: a field whose type names the type itself (`Vec<Tree<T>>`,
/// `Option<Box<Self>>`) gets no bound and counts as possibly holding handles, since asking
/// its `HOLDS_HANDLES` would make the constant depend on itself. Types that own each other
/// without a `Gc` in between (`A` holds a `Vec<B>`, `B` a `Box<A>`) still form such a cycle,
/// which the compiler reports as E0391; hold one of them through a `Gc` to break it.
///
/// ```ignore
/// use gc_core::{Gc, GcCell, Trace};
///
/// #[derive(Trace)]
/// struct Node<T: 'static> {
///     value: T,
///     next: GcCell<Option<Gc<Node<T>>>>,
///     #[gc(unsafe_no_trace)] // a `File` holds no handle, and closes itself when dropped
///     log: std::fs::File,
/// }
///
/// #[derive(Trace)]
/// enum Shape {
///     Leaf,
///     Pair(Gc<Shape>, Gc<Shape>),
///     Labelled { label: String, inner: Gc<Shape> },
/// }
/// ```
///
/// # `#[gc(unsafe_no_trace)]`
///
/// On a field, skips it: the field is not traced, its type need not implement `Trace`, and it
/// does not count for `HOLDS_HANDLES`. Writing it is a promise, as its name says: the field
/// must never hold a `Gc` handle (directly or inside anything it owns). A handle hidden there
/// is invisible to the collector, which may then free its target while it is still in use.
/// It is meant for fields of foreign types that cannot hold handles, such as a `File` or a
/// `std::time::Instant`.
///
/// # No `Drop` impl
///
/// A type that derives `Trace` must not implement `Drop`: the collector drops dead objects in
/// no particular order, so a `Drop` impl could reach, through its handles, objects that were
/// already freed. A `Drop` impl is rejected with a "conflicting implementations" error naming
/// the trait `TraceTypesMustNotImplementDrop_UseGcAddCleanupOrAFieldWithItsOwnDrop`. Sound
/// alternatives:
///
/// - `gc_core::add_cleanup(&gc, closure)` registers a closure that runs after the object has
///   been collected; it cannot observe the object, so capture (a clone of) what it needs.
/// - Put the resource in a field whose own type implements `Drop`, such as a `File`: fields
///   are still dropped normally, and a type without handles is safe to drop. If that type has
///   no `Trace` impl, mark the field `#[gc(unsafe_no_trace)]`.
///
/// # Errors
///
/// These are rejected, each at the offending token, all of them in one compile:
///
/// - unions (the collector cannot tell which field is live) and `#[repr(packed)]` types (the
///   generated code borrows every field);
/// - unknown `#[gc(...)]` arguments, `unsafe_no_trace` with a value, and a repeated
///   `unsafe_no_trace` on one field;
/// - `#[gc(...)]` on the type itself or on an enum variant, where no argument is accepted;
/// - a traced field whose type does not implement `Trace` (reported by the compiler, at the
///   field).
#[proc_macro_derive(Trace, attributes(gc))]
pub fn derive_trace(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    trace::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Go's escape analysis for the allocations of a function (or of every method of an `impl`
/// block): for each `Gc::new(..)` call and each binding that holds a `Gc`, decides whether the
/// value escapes the function or not, by Go's rules.
///
/// A value escapes when it is returned (also through `?`); stored in a static, a `GcGlobal`
/// or a heap object (through `borrow_mut()` or any other cell or pointer); captured by a
/// closure given to `thread::spawn` or to any other function; passed to a function or method
/// the macro cannot see; a field or element of a value that escapes; or referenced by one.
/// Anything it does not understand (an unknown macro, `async` blocks, ...) escapes. A method
/// called on a binding is taken to borrow it through `Deref` (no handle can be made from a
/// reference), except `.clone()`, whose result is the same object. Go's size rules keep arrays
/// over 64 KiB (10 MiB when the type is written, `Gc::<[u8; N]>::new`) and arrays whose length
/// is not a literal on the heap.
///
/// Modes:
///
/// - `#[escape]`: changes nothing; with `GC_ESCAPE_REPORT=1` in the build's environment,
///   prints the decisions as Go's `-gcflags -m` does, one line per value, to the build's
///   stderr: `src/lib.rs:12:13: moved to heap: x: returned`, `x does not escape`,
///   `Gc::new(Node { .. }) escapes to heap: ...`, `leaking param: p: ...`. (Cargo replays the
///   output of a cached build only when it rebuilds: touch the file to see it again.)
/// - `#[escape(report)]`: prints the report on every build.
/// - `#[escape(deny)]`: a compile error at each escaping allocation or binding, naming the
///   reason.
/// - `#[escape(place)]`: each `let x = Gc::new(v);` that does not escape becomes
///   `let x = frame.place(v);`, a `gc_core::StackRoot` in a frame that the function's body
///   runs in (`gc_core::frame`): no heap object, freed when the function returns. `return`
///   and `?` keep their meaning. `async fn`, `const fn` and functions returning `impl Trait`
///   are left unchanged. A `StackRoot` cannot outlive its frame, so if a decision were wrong
///   the borrow checker would reject the code: never a dangling value.
///
/// ```ignore
/// use gc_core::{escape, Gc};
///
/// #[escape(place)]
/// fn sum(n: u64) -> u64 {
///     let a = Gc::new(n);       // does not escape: placed in the frame
///     let b = Gc::new(n + 1);   // likewise
///     *a + *b
/// }
/// ```
#[proc_macro_attribute]
pub fn escape(args: TokenStream, item: TokenStream) -> TokenStream {
    escape::expand(args.into(), item.into()).into()
}
