//! Code generation: the `unsafe impl Trace` and the check that forbids a `Drop` impl.

use crate::ast::{Container, Data, Field};
use crate::bound;
use crate::ctxt::Ctxt;
use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::{DeriveInput, Ident};

/// Expands `#[derive(Trace)]` on `input`, or returns every error found in it.
pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let cont = Container::from_ast(&cx, input);
    cx.check()?;
    // `from_ast` only returns `None` after recording an error, so `check` has returned it.
    let Some(cont) = cont else {
        return Ok(TokenStream::new());
    };

    let trace_impl = trace_impl(&cont);
    let no_drop = forbid_drop(&cont);
    Ok(quote! {
        #trace_impl
        #no_drop
    })
}

/// The `unsafe impl Trace`.
fn trace_impl(cont: &Container<'_>) -> TokenStream {
    let ident = cont.ident;
    let generics = bound::with_trace_bounds(cont);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    let traced: Vec<&Field<'_>> = cont.all_fields().filter(|f| !f.unsafe_no_trace).collect();
    let holds_handles = traced.iter().map(|field| {
        let ty = field.ty;
        if bound::is_recursive(cont, field) {
            // Asking would make the constant depend on itself (E0391); `true` is always sound.
            quote!(|| true)
        } else {
            quote_spanned!(field.span()=> || <#ty as ::gc_core::Trace>::HOLDS_HANDLES)
        }
    });
    let plain_drop = cont.all_fields().map(|field| {
        let ty = field.ty;
        if field.unsafe_no_trace {
            // Not `Trace`: plain only if it has no drop glue at all.
            quote_spanned!(field.span()=> && !::core::mem::needs_drop::<#ty>())
        } else if bound::owns_itself(cont, field) {
            // Asking would make the constant depend on itself; `false` is always sound.
            quote!(&&false)
        } else if bound::is_recursive(cont, field) {
            // (Through handles only.) `HOLDS_HANDLES` does not ask this type: spanned wholly
            // at the field's type, as its `trace` call is, a type that is not `Trace` gets the
            // same error there once, not a second one for this constant.
            let ty = respan(quote!(#ty), field.span());
            quote_spanned!(field.span()=> && <#ty as ::gc_core::Trace>::PLAIN_DROP)
        } else {
            // Spanned as `HOLDS_HANDLES`'s question, so that an error is reported once.
            quote_spanned!(field.span()=> && <#ty as ::gc_core::Trace>::PLAIN_DROP)
        }
    });

    // The tracer is named only if some field uses it, so an empty body warns about nothing.
    let tracer = Ident::new("tracer", Span::mixed_site());
    let tracer_param = if traced.is_empty() {
        quote!(_)
    } else {
        quote!(#tracer)
    };
    let body = trace_body(cont, &tracer);

    quote! {
        #[automatically_derived]
        // SAFETY: `trace` visits every field except those the user marked
        // `#[gc(unsafe_no_trace)]`, promising they hold no handle; `HOLDS_HANDLES` is `false`
        // only if no traced field's type can hold one; the type has no `Drop` impl (checked
        // below), so its drop is its fields' drops, and `PLAIN_DROP` is theirs.
        unsafe impl #impl_generics ::gc_core::Trace for #ident #ty_generics #where_clause {
            const HOLDS_HANDLES: bool = false #(#holds_handles)*;
            const PLAIN_DROP: bool = true #(#plain_drop)*;

            #[inline]
            fn trace(&self, #tracer_param: &mut ::gc_core::Tracer) {
                #body
            }
        }
    }
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(g) = &tt {
                let mut group = Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tt = TokenTree::Group(group);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

/// The body of `trace`: one spanned call per traced field, so that a field whose type is not
/// `Trace` is reported at the field.
fn trace_body(cont: &Container<'_>, tracer: &Ident) -> TokenStream {
    match &cont.data {
        Data::Struct(fields) => {
            // Bound by a pattern rather than read as `self.field`: a `self` spanned at the
            // field would not resolve when the fields come from a `macro_rules!` expansion and
            // the derive from its caller, and one spanned at the call site would move errors
            // about the field's type off the field.
            let (pattern, calls) = bind_and_trace(fields, tracer);
            if calls.is_empty() {
                return calls;
            }
            quote! {
                let Self { #pattern .. } = self;
                #calls
            }
        }
        // `*self`: a match on a reference to an empty enum would need an arm.
        Data::Enum(variants) if variants.is_empty() => quote!(match *self {}),
        Data::Enum(variants) => {
            let arms = variants.iter().map(|variant| {
                let name = variant.ident;
                let (pattern, calls) = bind_and_trace(&variant.fields, tracer);
                // Brace patterns fit every variant shape: `V { 0: a, .. }` matches `V(a, b)`.
                quote! {
                    Self::#name { #pattern .. } => { #calls }
                }
            });
            quote! {
                match self {
                    #(#arms)*
                }
            }
        }
    }
}

/// For the traced ones among `fields`: the `member: binding,` list of a brace pattern that
/// binds them, and a trace call per binding. Each binding is spanned at its field's type, like
/// its call, so that errors about the type point there.
fn bind_and_trace(fields: &[Field<'_>], tracer: &Ident) -> (TokenStream, TokenStream) {
    let traced: Vec<&Field<'_>> = fields.iter().filter(|f| !f.unsafe_no_trace).collect();
    let bindings: Vec<Ident> = traced
        .iter()
        .enumerate()
        .map(|(i, f)| format_ident!("__gc_field_{}", i, span = f.span()))
        .collect();
    let members = traced.iter().map(|f| &f.member);
    let calls = traced
        .iter()
        .zip(&bindings)
        .map(|(field, b)| trace_call(field, quote!(#b), tracer));
    (quote!(#(#members: #bindings,)*), quote!(#(#calls)*))
}

/// `Trace::trace(place, tracer)`, spanned at the field's type.
fn trace_call(field: &Field<'_>, place: TokenStream, tracer: &Ident) -> TokenStream {
    quote_spanned!(field.span()=> ::gc_core::Trace::trace(#place, #tracer);)
}

/// gc-arena's trick against `Drop` impls: a helper trait implemented for every `Drop` type and
/// for the derived type, so that a `Drop` impl on it makes the two impls conflict, and the
/// error names the rule. A `Drop` impl could observe handles whose targets the sweeper has
/// already freed.
fn forbid_drop(cont: &Container<'_>) -> TokenStream {
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.generics.split_for_impl();
    let rule = Ident::new(
        "TraceTypesMustNotImplementDrop_UseGcAddCleanupOrAFieldWithItsOwnDrop",
        Span::call_site(),
    );
    // Spanned at the type's name, so that the conflict points at the type that has `Drop`.
    let this_impl = quote_spanned! {ident.span()=>
        impl #impl_generics #rule for #ident #ty_generics #where_clause {}
    };
    quote! {
        const _: () = {
            trait #rule {}
            impl<T: ::core::ops::Drop + ?::core::marker::Sized> #rule for T {}
            #this_impl
        };
    }
}

#[cfg(test)]
mod tests {
    use super::expand;
    use syn::{parse_quote, DeriveInput};

    fn messages(input: DeriveInput) -> Vec<String> {
        match expand(&input) {
            Ok(_) => Vec::new(),
            Err(err) => err.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn expands_every_shape() {
        let inputs: Vec<DeriveInput> = vec![
            parse_quote!(
                struct A;
            ),
            parse_quote!(
                struct A {}
            ),
            parse_quote!(
                struct A();
            ),
            parse_quote!(
                struct A<'a, T: 'a, const N: usize>(&'a [T; N], #[gc(unsafe_no_trace)] T)
                where
                    T: Clone;
            ),
            parse_quote!(
                enum A {}
            ),
            parse_quote!(
                enum A<T> {
                    B,
                    C(T),
                    D { r#type: Vec<A<T>> },
                    E = 3,
                }
            ),
            parse_quote!(
                #[repr(align(8))]
                struct A {
                    x: fn(u8) -> dyn Send,
                    y: m!(T),
                }
            ),
            parse_quote!(
                struct A<T> {
                    x: <T as Iterator>::Item,
                    y: T::Item,
                    z: dyn Fn(T) + Send,
                }
            ),
        ];
        for input in inputs {
            let name = quote::quote!(#input).to_string();
            assert_eq!(messages(input), Vec::<String>::new(), "{name}");
        }
    }

    #[test]
    fn reports_every_error_without_panicking() {
        let msgs = messages(parse_quote! {
            #[gc(x)]
            #[repr(C, packed(2))]
            union U {
                #[gc]
                a: u8,
                #[gc = 1]
                b: u8,
                #[gc(unsafe_no_trace(1), a::b = 2, unsafe_no_trace)]
                c: u8,
            }
        });
        assert_eq!(msgs.len(), 7, "{msgs:#?}");
        assert!(msgs[0].contains("union"));
        assert!(msgs[1].contains("not accepted on a union"));
        assert!(msgs[4].contains("takes no value"));
        assert!(msgs[5].contains("unknown gc attribute `a::b`"));
        assert!(msgs[6].contains("repr(packed)"));
    }
}
