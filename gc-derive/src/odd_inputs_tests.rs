//! The derive never panics: a corpus of odd inputs (macros inside types and expressions,
//! closures and `impl Trait` in types, generics with lifetimes, where-clauses, unions, empty
//! enums, attributes with garbage arguments, items that are not structs or enums, and every
//! truncation of all of them) either expands or gives a compile error; never a panic.

use crate::trace::expand;
use proc_macro2::TokenStream;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What `derive_trace` does with its input, minus the conversion to `proc_macro` types:
/// `Ok` is the generated impl, `Err` the error it turns into `compile_error!`. Panics (failing
/// the test) if the expansion panics.
fn derive(src: &str) -> Result<TokenStream, syn::Error> {
    let tokens: TokenStream = src
        .parse()
        .unwrap_or_else(|e| panic!("corpus entry is not tokens: {src}: {e}"));
    derive_tokens(tokens, src)
}

fn derive_tokens(tokens: TokenStream, what: &str) -> Result<TokenStream, syn::Error> {
    let input = syn::parse2::<syn::DeriveInput>(tokens)?;
    catch_unwind(AssertUnwindSafe(|| expand(&input)))
        .unwrap_or_else(|_| panic!("the derive panicked on: {what}"))
}

/// The error must be a non-empty message that turns into `compile_error!`.
fn assert_compile_error(src: &str, err: syn::Error) {
    let messages: Vec<String> = err.clone().into_iter().map(|e| e.to_string()).collect();
    assert!(
        !messages.is_empty() && messages.iter().all(|m| !m.trim().is_empty()),
        "empty error message for: {src}"
    );
    let out = err.into_compile_error().to_string();
    assert!(
        out.contains("compile_error"),
        "not a compile error for {src}: {out}"
    );
}

/// Odd but valid inputs: each expands to an `unsafe impl` of `Trace`.
const VALID: &[&str] = &[
    // Macros in types and in array lengths (a block with a local macro).
    "struct M { a: my_macro!(u8), b: [u8; { macro_rules! n { () => { 4 } } n!() }] }",
    "struct N([u8; core::mem::size_of::<u64>()], vec_of!(Gc<u8>));",
    // Closures and function pointers in field types.
    "struct C { f: fn(u8) -> u8, g: Box<dyn Fn(&u8) -> u8 + Send + Sync>, \
     h: [u8; { let c = |x: usize| x + 1; c(1) }] }",
    // `impl Trait` where a type is expected (rejected later by rustc, not by the derive).
    "struct I { x: Box<impl Iterator<Item = u8>> }",
    // Generics with lifetimes, bounds, defaults and const parameters; where-clauses.
    "struct A<'a, 'b: 'a, T: 'static + ?Sized, const N: usize> where T: Clone, \
     for<'c> &'c T: Sized { x: core::marker::PhantomData<&'a &'b T>, arr: [u8; N] }",
    "struct D<T = u8, const N: usize = 3> { t: [T; N] }",
    "enum G<'a, T> where T: 'a + Send { A(&'a T), B, C { inner: Option<Box<G<'a, T>>> } }",
    "struct W<T>(T) where T: Iterator, T::Item: Clone, <T as Iterator>::Item: Send;",
    // Empty and degenerate shapes.
    "enum Empty {}",
    "struct Unit;",
    "struct NoFields();",
    "struct NoNamed {}",
    "enum Discriminants { A = 1, B = 2, C = { 1 + 2 } }",
    // Attributes of all kinds on the type and on fields.
    "#[doc = \"x\"] #[repr(C)] #[cfg_attr(test, derive(Debug))] struct R { \
     #[cfg(any())] a: u8, #[allow(dead_code)] #[doc = \"b\"] b: u8 }",
    "struct Skip(pub(crate) u8, #[gc(unsafe_no_trace)] std::fs::File);",
    "enum Skips { V { #[gc(unsafe_no_trace)] f: std::fs::File, g: Gc<u8> } }",
    // Raw identifiers, `Self`, paths.
    "struct r#type { r#fn: u8, r#struct: ::core::option::Option<Box<Self>> }",
    "pub(in crate::a) struct P<T: ::core::fmt::Debug>(pub T, crate::Gc<T>);",
    // Tuples, arrays, references to trait objects, qualified paths, never type.
    "struct T { a: (u8, (Gc<u8>, [Gc<u8>; 2]), ()), b: <Vec<u8> as IntoIterator>::IntoIter }",
];

/// Invalid derive inputs: each is rejected with an error.
const INVALID: &[&str] = &[
    "union U { a: u32, b: f32 }",
    "#[repr(packed)] struct P { a: u8 }",
    "#[repr(C, packed(2))] struct P2(u8, u16);",
    "#[gc(unsafe_no_trace)] struct Whole { a: u8 }",
    "enum V { #[gc(unsafe_no_trace)] A(u8) }",
    "struct S { #[gc] a: u8 }",
    "struct S { #[gc = \"x\"] a: u8 }",
    "struct S { #[gc(=)] a: u8 }",
    "struct S { #[gc(unsafe_no_trace = )] a: u8 }",
    "struct S { #[gc(unsafe_no_trace,,)] a: u8 }",
    "struct S { #[gc(unsafe_no_trace = \"yes\")] a: u8 }",
    "struct S { #[gc(unsafe_no_trace = 1)] a: u8 }",
    "struct S { #[gc(unsafe_no_trace(unsafe_no_trace))] a: u8 }",
    "struct S { #[gc(a::b)] a: u8 }",
    "struct S { #[gc(1 + 2)] a: u8 }",
    "struct S { #[gc(\"unsafe_no_trace\")] a: u8 }",
    "struct S { #[gc(skip, unsafe_no_trace)] a: u8 }",
    "struct S { #[gc(unsafe_no_trace)] #[gc(unsafe_no_trace)] a: u8 }",
    "struct S(#[gc(unsafe_no_trace::<u8>)] u8);",
    "struct S { #[gc(+)] a: u8 }",
    "struct S { #[gc(unsafe_no_trace)(extra)] a: u8 }",
    // Not structs or enums (rustc rejects these before the derive runs; the derive still
    // answers with an error).
    "fn f() { let c = |x: u8| x + 1; c(1); }",
    "async fn g() -> u8 { async { 1 }.await }",
    "impl Trace for Foo { fn trace(&self) {} }",
    "trait T { fn f(&self) -> impl Sized; }",
    "mod m { struct Inside; }",
    "macro_rules! m { () => {} }",
    "static S: u8 = 0;",
    "type A = impl Sized;",
    "|| 1",
    "",
    "struct",
    "struct S { a: }",
    "enum E { A(, ) }",
    "struct S<T: > { a: T, }, extra",
];

/// Inputs with no required outcome: each must only not panic.
const EITHER: &[&str] = &[
    "struct S { #[gc()] a: u8 }",
    "struct S { #[gc[unsafe_no_trace]] a: u8 }",
    "struct S { #[gc{unsafe_no_trace}] a: u8 }",
    "struct S { #[gc(unsafe_no_trace, )] a: u8 }",
    "struct S { #[gc::nested(x)] a: u8 }",
    "#[gc] enum E { A }",
    "#[gc()] struct S;",
    "enum E { #[gc] A, #[gc(unsafe_no_trace)] B { #[gc(unsafe_no_trace)] x: u8 } }",
];

#[test]
fn valid_odd_inputs_expand_to_an_unsafe_impl() {
    for src in VALID {
        let out = derive(src).unwrap_or_else(|e| panic!("rejected: {src}: {e}"));
        let text = out.to_string();
        assert!(
            text.contains("unsafe impl") && text.contains("Trace"),
            "no impl for {src}: {text}"
        );
    }
}

#[test]
fn invalid_inputs_give_a_compile_error() {
    for src in INVALID {
        match derive(src) {
            Ok(out) => panic!("accepted: {src}\n{out}"),
            Err(e) => assert_compile_error(src, e),
        }
    }
}

#[test]
fn other_odd_inputs_do_not_panic() {
    for src in EITHER {
        if let Err(e) = derive(src) {
            assert_compile_error(src, e);
        }
    }
}

/// Every prefix of every corpus entry's top-level tokens, every entry with one top-level token
/// dropped, and every prefix of each top-level group's contents (a field list cut anywhere):
/// the derive answers each without panicking.
#[test]
fn truncated_and_mangled_inputs_do_not_panic() {
    let mut tried = 0;
    for src in VALID.iter().chain(INVALID).chain(EITHER) {
        let tokens: Vec<_> = src.parse::<TokenStream>().unwrap().into_iter().collect();
        for cut in 0..=tokens.len() {
            let prefix: TokenStream = tokens[..cut].iter().cloned().collect();
            if let Err(e) = derive_tokens(prefix, src) {
                assert_compile_error(src, e);
            }
            if cut < tokens.len() {
                let dropped: TokenStream = tokens
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| i != cut)
                    .map(|(_, t)| t.clone())
                    .collect();
                if let Err(e) = derive_tokens(dropped, src) {
                    assert_compile_error(src, e);
                }
            }
            tried += 2;
        }
        // Inside each top-level group (a body, a generics list is not one): every prefix.
        for (g, tree) in tokens.iter().enumerate() {
            let proc_macro2::TokenTree::Group(group) = tree else {
                continue;
            };
            let inner: Vec<_> = group.stream().into_iter().collect();
            for cut in 0..inner.len() {
                let mut cut_group = proc_macro2::Group::new(
                    group.delimiter(),
                    inner[..cut].iter().cloned().collect(),
                );
                cut_group.set_span(group.span());
                let mangled: TokenStream = tokens
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        if i == g {
                            proc_macro2::TokenTree::Group(cut_group.clone())
                        } else {
                            t.clone()
                        }
                    })
                    .collect();
                if let Err(e) = derive_tokens(mangled, src) {
                    assert_compile_error(src, e);
                }
                tried += 1;
            }
        }
    }
    assert!(tried > 500, "{tried} inputs");
}
