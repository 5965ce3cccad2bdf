//! The escape attribute never panics: odd arguments and odd items (async, const and unsafe
//! functions, generics with lifetimes and where-clauses, `impl Trait`, closures and macros in
//! bodies, labelled loops, `let else`, impl blocks, items that are not functions, garbage),
//! and every truncation of them, either expand or give a compile error.

use crate::escape::expand;
use proc_macro2::{TokenStream, TokenTree};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Expands, failing the test if the expansion panics.
fn escape(args: TokenStream, item: TokenStream, what: &str) -> String {
    catch_unwind(AssertUnwindSafe(|| expand(args, item)))
        .unwrap_or_else(|_| panic!("#[escape] panicked on: {what}"))
        .to_string()
}

fn tokens(src: &str) -> TokenStream {
    src.parse()
        .unwrap_or_else(|e| panic!("corpus entry is not tokens: {src}: {e}"))
}

const ARGS: &[&str] = &[
    "",
    "deny",
    "place",
    "report",
    "deny, place",
    "report, report",
    "whatever",
    "= 1",
    "deny(",
    "place = true",
    "\"deny\"",
    "1 + 2",
];

const ITEMS: &[&str] = &[
    "fn f() -> u32 { let x = Gc::new(1); *x }",
    "fn f() -> Gc<u32> { let x = Gc::new(1); x }",
    "async fn f() -> u32 { let x = Gc::new(1); *x }",
    "const fn f() -> u32 { 1 }",
    "unsafe fn f(p: *const u8) -> u8 { *p }",
    "fn f<'a, 'b: 'a, T: Clone + 'a, const N: usize>(x: &'a T, _y: [u8; N]) -> T \
     where T: Send, for<'c> &'c T: Sized { let g = Gc::new(N); let _ = *g; x.clone() }",
    "fn f(it: impl Iterator<Item = u8>) -> impl Iterator<Item = u8> { it.map(|x| x + 1) }",
    "fn f() { let c = |v: u32| Gc::new(v); let g = c(1); my_macro!(g); println!(\"{}\", *g); }",
    "fn f() -> Result<u32, ()> { let g = Gc::new(1); let v = Some(*g).ok_or(())?; \
     'outer: loop { if v > 0 { break 'outer; } } return Ok(v); }",
    "fn f(o: Option<u32>) { let Some(v) = o else { return }; let g = Gc::new([0u8; 1 << 20]); \
     let _ = (v, g.len()); }",
    "fn f() { fn inner() -> Gc<u8> { Gc::new(1) } let _ = inner(); }",
    "fn f() { let v: Vec<Gc<u8>> = (0..3).map(|i| Gc::new(i)).collect(); \
     std::thread::spawn(move || drop(v)); }",
    "impl S { fn a(&self) -> u8 { let g = Gc::new(1u8); *g } fn b(self) -> Self { self } \
     const C: u8 = 1; type T = u8; }",
    "impl<T: Clone> Tr for S<T> where T: Send { fn m(&self) {} }",
    "trait T { fn f(&self); }",
    "struct S { g: Gc<u8> }",
    "mod m {}",
    "",
    "fn",
    "fn f(",
    "{ let x = 1; }",
    "#[inline] fn f() {}",
];

#[test]
fn odd_arguments_and_items_do_not_panic() {
    for args in ARGS {
        for item in ITEMS {
            let (Ok(a), Ok(i)) = (args.parse::<TokenStream>(), item.parse::<TokenStream>()) else {
                continue;
            };
            let out = escape(a, i, &format!("#[escape({args})] {item}"));
            let item_is_fn_or_impl =
                item.contains("fn ") && item.ends_with('}') || item.starts_with("impl");
            if !item_is_fn_or_impl {
                assert!(
                    out.contains("compile_error"),
                    "no error for #[escape({args})] {item}"
                );
            }
        }
    }
}

#[test]
fn unknown_arguments_are_compile_errors() {
    for args in ["whatever", "= 1", "place = true", "1 + 2", "\"deny\""] {
        let out = escape(tokens(args), tokens(ITEMS[0]), args);
        assert!(
            out.contains("compile_error"),
            "no error for #[escape({args})]: {out}"
        );
    }
}

#[test]
fn every_truncation_of_every_item_does_not_panic() {
    for item in ITEMS {
        let Ok(whole) = item.parse::<TokenStream>() else {
            continue;
        };
        let tts: Vec<TokenTree> = whole.into_iter().collect();
        for cut in 0..=tts.len() {
            let prefix: TokenStream = tts[..cut].iter().cloned().collect();
            escape(tokens("deny"), prefix.clone(), item);
            escape(tokens("place"), prefix, item);
        }
        // Inside each top-level group (a body, a parameter list): every prefix.
        for (at, tt) in tts.iter().enumerate() {
            let TokenTree::Group(g) = tt else { continue };
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            for cut in 0..=inner.len() {
                let mut group =
                    proc_macro2::Group::new(g.delimiter(), inner[..cut].iter().cloned().collect());
                group.set_span(g.span());
                let mut all = tts.clone();
                all[at] = TokenTree::Group(group);
                escape(tokens("place"), all.into_iter().collect(), item);
            }
        }
    }
}
