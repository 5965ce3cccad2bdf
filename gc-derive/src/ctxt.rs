//! The error accumulator: every problem found in the input is recorded here, so that one
//! compile reports all of them instead of stopping at the first.

use quote::ToTokens;
use std::cell::RefCell;
use std::fmt::Display;

/// Collects the errors found while reading a `#[derive(Trace)]` input.
///
/// Shared by reference through the parsing code (hence the `RefCell`); [`Ctxt::check`] consumes
/// it and combines the errors into one [`syn::Error`], which expands to one `compile_error!`
/// per problem, each at its own span.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: RefCell<Vec<syn::Error>>,
}

impl Ctxt {
    /// An accumulator with no errors yet.
    pub(crate) fn new() -> Self {
        Ctxt::default()
    }

    /// Records an error spanning the tokens of `obj` (all of them where the compiler can join
    /// spans, its first token otherwise).
    pub(crate) fn error_spanned_by<T: ToTokens, M: Display>(&self, obj: T, msg: M) {
        self.syn_error(syn::Error::new_spanned(obj.into_token_stream(), msg));
    }

    /// Records an error produced by `syn` (for example a malformed attribute).
    pub(crate) fn syn_error(&self, err: syn::Error) {
        self.errors.borrow_mut().push(err);
    }

    /// `Ok` if nothing was recorded, otherwise every recorded error combined into one.
    pub(crate) fn check(self) -> syn::Result<()> {
        let mut errors = self.errors.into_inner().into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for err in errors {
            combined.combine(err);
        }
        Err(combined)
    }
}

#[cfg(test)]
mod tests {
    use super::Ctxt;
    use proc_macro2::Span;

    #[test]
    fn empty_is_ok() {
        assert!(Ctxt::new().check().is_ok());
    }

    #[test]
    fn combines_every_error() {
        let cx = Ctxt::new();
        cx.syn_error(syn::Error::new(Span::call_site(), "first"));
        cx.error_spanned_by(quote::quote!(x), "second");
        let err = cx.check().expect_err("two errors were recorded");
        let messages: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages, ["first", "second"]);
    }
}
