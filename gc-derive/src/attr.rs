//! Parsing of the `#[gc(...)]` helper attributes.
//!
//! The only argument is `#[gc(unsafe_no_trace)]`, on a field. Every other use is reported
//! (through the [`Ctxt`]) at the offending token, and parsing goes on so that all the mistakes
//! in an input are reported together.

use crate::ctxt::Ctxt;
use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{Attribute, Token};

/// The name of the helper attribute.
const GC: &str = "gc";

/// The field argument that skips tracing.
const UNSAFE_NO_TRACE: &str = "unsafe_no_trace";

/// What the `#[gc(...)]` attributes of one field ask for.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    /// Where `unsafe_no_trace` was written, if it was: the field is not traced.
    pub(crate) unsafe_no_trace: Option<Span>,
}

impl FieldAttrs {
    /// Reads the `#[gc(...)]` attributes among `attrs`, recording any mistake in `cx`.
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut out = FieldAttrs::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident(GC)) {
            if let syn::Meta::List(list) = &attr.meta {
                if list.tokens.is_empty() {
                    cx.error_spanned_by(
                        attr,
                        format!("empty `#[gc()]`: write `#[gc({UNSAFE_NO_TRACE})]` or remove it"),
                    );
                    continue;
                }
            }
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident(UNSAFE_NO_TRACE) {
                    if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                        cx.error_spanned_by(
                            &meta.path,
                            format!("`{UNSAFE_NO_TRACE}` takes no value: write `#[gc({UNSAFE_NO_TRACE})]`"),
                        );
                        return skip_value(meta.input);
                    }
                    if out.unsafe_no_trace.is_some() {
                        cx.error_spanned_by(
                            &meta.path,
                            format!("duplicate `#[gc({UNSAFE_NO_TRACE})]` on this field"),
                        );
                    } else {
                        out.unsafe_no_trace = Some(meta.path.span());
                    }
                    Ok(())
                } else {
                    unknown_argument(cx, &meta)
                }
            });
            if let Err(err) = parsed {
                cx.syn_error(err);
            }
        }
        out
    }
}

/// Reports every `#[gc(...)]` attribute among `attrs`: `place` (for example "a struct") accepts
/// none.
pub(crate) fn reject_gc_attrs(cx: &Ctxt, attrs: &[Attribute], place: &str) {
    for attr in attrs.iter().filter(|a| a.path().is_ident(GC)) {
        cx.error_spanned_by(
            attr,
            format!(
                "`#[gc(...)]` is not accepted on {place}; the only gc attribute is \
                 `#[gc({UNSAFE_NO_TRACE})]`, written on a field"
            ),
        );
    }
}

/// Records an unknown argument at its path and skips its value, if any.
fn unknown_argument(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    let name = meta
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>();
    cx.error_spanned_by(
        &meta.path,
        format!(
            "unknown gc attribute `{}`; the only valid argument is `{UNSAFE_NO_TRACE}` \
             (on a field: `#[gc({UNSAFE_NO_TRACE})]`)",
            name.join("::"),
        ),
    );
    skip_value(meta.input)
}

/// Skips the tokens up to the next top-level comma (the value of an argument we reject), so
/// that the arguments after it are still read.
fn skip_value(input: ParseStream<'_>) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<proc_macro2::TokenTree>()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::FieldAttrs;
    use crate::ctxt::Ctxt;
    use syn::parse_quote;

    fn errors(field: syn::Field) -> (bool, Vec<String>) {
        let cx = Ctxt::new();
        let attrs = FieldAttrs::from_ast(&cx, &field.attrs);
        let msgs = match cx.check() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        };
        (attrs.unsafe_no_trace.is_some(), msgs)
    }

    #[test]
    fn accepts_unsafe_no_trace() {
        let (skip, msgs) = errors(parse_quote!(#[gc(unsafe_no_trace)] #[doc = "x"] x: u8));
        assert!(skip);
        assert!(msgs.is_empty());
    }

    #[test]
    fn reports_every_mistake() {
        let (skip, msgs) = errors(parse_quote!(
            #[gc(foo = 1 + 2, unsafe_no_trace, bar(x, y), unsafe_no_trace)]
            #[gc(unsafe_no_trace = true)]
            #[gc]
            x: u8
        ));
        assert!(skip);
        assert_eq!(msgs.len(), 5, "{msgs:?}");
        assert!(msgs[0].contains("unknown gc attribute `foo`"));
        assert!(msgs[1].contains("unknown gc attribute `bar`"));
        assert!(msgs[2].contains("duplicate"));
        assert!(msgs[3].contains("takes no value"));
    }
}
