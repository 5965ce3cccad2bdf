//! Place mode: allocations that do not escape become frame values.
//!
//! The body is wrapped in `::gc_core::frame(|frame| body)`, with the function's return type
//! written on the result so that `return` and `?` keep their meaning (they leave the closure,
//! which is all of the body). Each placed `let x = Gc::new(v)` becomes
//! `let x = frame.place(v)`: `x` is then a `StackRoot<'frame, T>`, which derefs like the
//! `Gc<T>` did and which the borrow checker confines to the frame, so a wrong decision is a
//! compile error, never a dangling value.

use super::walk::Walker;
use proc_macro2::Span;
use quote::quote;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, ReturnType, Signature};

/// Why the function's shape cannot be wrapped in a frame, if it cannot.
pub(crate) fn unwrappable(sig: &Signature) -> Option<&'static str> {
    if sig.asyncness.is_some() {
        return Some("async fn");
    }
    if sig.constness.is_some() {
        return Some("const fn");
    }
    match &sig.output {
        ReturnType::Type(_, ty) if quote!(#ty).to_string().contains("impl") => {
            Some("a return type with `impl Trait`")
        }
        _ => None,
    }
}

/// The `Gc::new` expressions (by address in the analysed tree) that can be placed.
pub(crate) fn placeable(walker: &Walker) -> Vec<usize> {
    walker
        .direct
        .iter()
        .filter(|(_, site, binding)| {
            walker.graph.escapes[*site].is_none()
                && walker.graph.escapes[*binding].is_none()
                && !walker.cloned.contains(binding)
        })
        .map(|(expr, _, _)| *expr)
        .collect()
}

struct Placer {
    sites: Vec<usize>,
    frame: syn::Ident,
}

impl VisitMut for Placer {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        let address = e as *const Expr as usize;
        visit_mut::visit_expr_mut(self, e);
        if !self.sites.contains(&address) {
            return;
        }
        if let Expr::Call(call) = e {
            if let Some(arg) = call.args.first() {
                let frame = &self.frame;
                let span = call.span();
                *e = syn::parse_quote_spanned!(span=> #frame.place(#arg));
            }
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {
        // Nested items are not part of this function's frame.
    }
}

/// Rewrites the placeable sites (addresses from the analysis of this very `block`) and wraps
/// the body in a frame. Does nothing if no site is placeable.
pub(crate) fn rewrite(sig: &Signature, block: &mut Block, sites: Vec<usize>) {
    if sites.is_empty() {
        return;
    }
    let frame = syn::Ident::new("__gc_frame", Span::mixed_site());
    let mut placer = Placer {
        sites,
        frame: frame.clone(),
    };
    placer.visit_block_mut(block);
    let ret = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let value = syn::Ident::new("__gc_value", Span::mixed_site());
    let span = block.span();
    *block = syn::parse_quote_spanned! {span=> {
        let #value: #ret = ::gc_core::frame(|#frame| #block);
        #value
    }};
}

#[cfg(test)]
mod tests {
    use super::unwrappable;

    #[test]
    fn async_const_and_impl_trait_are_not_wrapped() {
        let sig = |s: &str| syn::parse_str::<syn::Signature>(s).expect("a signature");
        assert_eq!(unwrappable(&sig("async fn f()")), Some("async fn"));
        assert_eq!(unwrappable(&sig("const fn f() -> u8")), Some("const fn"));
        assert!(unwrappable(&sig("fn f() -> impl Iterator<Item = u8>")).is_some());
        assert_eq!(unwrappable(&sig("fn f(x: u8) -> Result<u8, ()>")), None);
    }
}
