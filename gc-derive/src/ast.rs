//! The input model: a `#[derive(Trace)]` input read into a container, its variants and fields,
//! with the attributes already checked.

use crate::attr::{self, FieldAttrs};
use crate::ctxt::Ctxt;
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{DeriveInput, Generics, Ident, Member, Type};

/// A struct or enum that `Trace` can be derived for.
pub(crate) struct Container<'a> {
    /// The type's name.
    pub(crate) ident: &'a Ident,
    /// The type's generics, as the user wrote them.
    pub(crate) generics: &'a Generics,
    /// Its fields, by shape.
    pub(crate) data: Data<'a>,
}

/// The shape of a [`Container`].
pub(crate) enum Data<'a> {
    /// A struct's fields (none for a unit struct).
    Struct(Vec<Field<'a>>),
    /// An enum's variants (none for an empty enum).
    Enum(Vec<Variant<'a>>),
}

/// One variant of an enum.
pub(crate) struct Variant<'a> {
    /// The variant's name.
    pub(crate) ident: &'a Ident,
    /// Its fields (none for a unit variant).
    pub(crate) fields: Vec<Field<'a>>,
}

/// One field of a struct or variant.
pub(crate) struct Field<'a> {
    /// How the field is named: an identifier, or its index in a tuple shape.
    pub(crate) member: Member,
    /// The field's type.
    pub(crate) ty: &'a Type,
    /// `true` if the field carries `#[gc(unsafe_no_trace)]` and is not traced.
    pub(crate) unsafe_no_trace: bool,
}

impl<'a> Container<'a> {
    /// Reads `input`, recording every problem in `cx`. `None` if `Trace` cannot be derived for
    /// it (`cx` then holds at least one error).
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let data = match &input.data {
            syn::Data::Struct(s) => {
                attr::reject_gc_attrs(cx, &input.attrs, "a struct");
                Some(Data::Struct(fields_from_ast(cx, &s.fields)))
            }
            syn::Data::Enum(e) => {
                attr::reject_gc_attrs(cx, &input.attrs, "an enum");
                let variants = e
                    .variants
                    .iter()
                    .map(|v| Variant::from_ast(cx, v))
                    .collect();
                Some(Data::Enum(variants))
            }
            syn::Data::Union(u) => {
                cx.error_spanned_by(
                    u.union_token,
                    "`Trace` cannot be derived for a union: the collector cannot know which \
                     field is active, so it cannot find the `Gc` handles inside; use an enum",
                );
                // Read the rest anyway, so that its mistakes are reported in the same compile.
                attr::reject_gc_attrs(cx, &input.attrs, "a union");
                for field in &u.fields.named {
                    FieldAttrs::from_ast(cx, &field.attrs);
                }
                None
            }
        };
        reject_packed(cx, input);
        Some(Container {
            ident: &input.ident,
            generics: &input.generics,
            data: data?,
        })
    }

    /// Every field of the container, in every variant.
    pub(crate) fn all_fields(&self) -> Box<dyn Iterator<Item = &Field<'a>> + '_> {
        match &self.data {
            Data::Struct(fields) => Box::new(fields.iter()),
            Data::Enum(variants) => Box::new(variants.iter().flat_map(|v| v.fields.iter())),
        }
    }
}

impl<'a> Variant<'a> {
    fn from_ast(cx: &Ctxt, variant: &'a syn::Variant) -> Self {
        attr::reject_gc_attrs(cx, &variant.attrs, "an enum variant");
        Variant {
            ident: &variant.ident,
            fields: fields_from_ast(cx, &variant.fields),
        }
    }
}

impl Field<'_> {
    /// The span that errors about the field's type point at.
    pub(crate) fn span(&self) -> Span {
        self.ty.span()
    }
}

fn fields_from_ast<'a>(cx: &Ctxt, fields: &'a syn::Fields) -> Vec<Field<'a>> {
    fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let attrs = FieldAttrs::from_ast(cx, &field.attrs);
            let member = match &field.ident {
                Some(ident) => Member::Named(ident.clone()),
                None => Member::Unnamed(syn::Index {
                    index: i as u32,
                    span: field.ty.span(),
                }),
            };
            Field {
                member,
                ty: &field.ty,
                unsafe_no_trace: attrs.unsafe_no_trace.is_some(),
            }
        })
        .collect()
}

/// Reports `#[repr(packed)]`: the generated code borrows every field, and a packed field may be
/// unaligned.
fn reject_packed(cx: &Ctxt, input: &DeriveInput) {
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("repr")) {
        // A malformed `repr` is rustc's to report; only a well-formed `packed` concerns us.
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("packed") {
                cx.error_spanned_by(
                    &meta.path,
                    "`Trace` cannot be derived for a `#[repr(packed)]` type: tracing borrows \
                     each field, and a packed field may be unaligned",
                );
            }
            // Skip `packed(N)`, `align(N)` and the like.
            if meta.input.peek(syn::token::Paren) {
                meta.input.parse::<proc_macro2::Group>()?;
            }
            Ok(())
        });
    }
}
