//! The where-clause of the generated impl: the user's generics, plus `FieldTy: Trace` for each
//! traced field whose type mentions a type parameter.
//!
//! Two kinds of field types get no bound; the spanned calls in `trace` check them instead:
//! - those that mention no type parameter: a bound would move their error to the whole item;
//! - those that mention the type itself (`Vec<Tree<T>>`, `Option<Box<Self>>`): the bound would
//!   require the impl being defined, and proving it from outside would recurse forever (E0275).
//!   Inside the impl, the impl itself proves it.

use crate::ast::{Container, Field};
use proc_macro2::Span;
use std::collections::HashSet;
use syn::visit::{self, Visit};
use syn::{parse_quote, Generics, Ident, PredicateType, Token, Type, WherePredicate};

/// The container's generics with the `Trace` bounds its traced fields need.
pub(crate) fn with_trace_bounds(cont: &Container<'_>) -> Generics {
    let params: HashSet<&Ident> = cont.generics.type_params().map(|p| &p.ident).collect();
    let this = cont.ident;
    let mut generics = cont.generics.clone();
    if params.is_empty() {
        return generics;
    }
    let mut seen: Vec<&Type> = Vec::new();
    for field in cont.all_fields().filter(|f| !f.unsafe_no_trace) {
        let found = find(field.ty, &params, this);
        if found.param && !found.this && !seen.contains(&field.ty) {
            seen.push(field.ty);
        }
    }
    let trace: syn::TypeParamBound = parse_quote!(::gc_core::Trace);
    let predicates = &mut generics.make_where_clause().predicates;
    for ty in seen {
        // Built rather than parsed from tokens, so that no field type can make it fail.
        predicates.push(WherePredicate::Type(PredicateType {
            lifetimes: None,
            bounded_ty: ty.clone(),
            colon_token: Token![:](Span::call_site()),
            bounds: std::iter::once(trace.clone()).collect(),
        }));
    }
    generics
}

/// Whether `field`'s type mentions the container itself (`Vec<Tree<T>>`, `Option<Box<Self>>`).
/// Its `HOLDS_HANDLES` would then depend on the constant being defined: the generated code
/// assumes `true` for it instead.
pub(crate) fn is_recursive(cont: &Container<'_>, field: &Field<'_>) -> bool {
    find(field.ty, &HashSet::new(), cont.ident).this
}

/// What a field type mentions.
#[derive(Default)]
struct Found {
    /// One of the type parameters (a macro in type position counts: it might).
    param: bool,
    /// The type being derived, by its name or as `Self`.
    this: bool,
}

fn find(ty: &Type, params: &HashSet<&Ident>, this: &Ident) -> Found {
    let mut finder = Finder {
        params,
        this,
        found: Found::default(),
    };
    finder.visit_type(ty);
    finder.found
}

struct Finder<'p, 'i> {
    params: &'p HashSet<&'i Ident>,
    this: &'i Ident,
    found: Found,
}

impl<'ast> Visit<'ast> for Finder<'_, '_> {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        // `T`, `T::Assoc`; not `::T` or `crate::T`, which name items.
        if let (None, Some(first)) = (path.leading_colon, path.segments.first()) {
            self.found.param |= self.params.contains(&first.ident);
            self.found.this |= first.ident == "Self";
        }
        if let Some(last) = path.segments.last() {
            self.found.this |= last.ident == *self.this;
        }
        visit::visit_path(self, path);
    }

    fn visit_type_macro(&mut self, _: &'ast syn::TypeMacro) {
        self.found.param = true;
    }
}

#[cfg(test)]
mod tests {
    use super::find;
    use std::collections::HashSet;
    use syn::{parse_quote, Ident, Type};

    fn mentions(ty: Type) -> bool {
        let t: Ident = parse_quote!(T);
        find(&ty, &HashSet::from([&t]), &parse_quote!(Node)).param
    }

    fn recursive(ty: Type) -> bool {
        let t: Ident = parse_quote!(T);
        find(&ty, &HashSet::from([&t]), &parse_quote!(Node)).this
    }

    #[test]
    fn finds_the_type_itself() {
        assert!(recursive(parse_quote!(Vec<Node<T>>)));
        assert!(recursive(parse_quote!(Option<Box<Self>>)));
        assert!(recursive(parse_quote!(crate::list::Node<u8>)));
        assert!(!recursive(parse_quote!(Vec<T>)));
        assert!(!recursive(parse_quote!(Nodes<T>)));
    }

    #[test]
    fn finds_params_anywhere() {
        assert!(mentions(parse_quote!(T)));
        assert!(mentions(parse_quote!(Vec<Option<T>>)));
        assert!(mentions(parse_quote!(T::Assoc)));
        assert!(mentions(parse_quote!(<T as Iterator>::Item)));
        assert!(mentions(parse_quote!([T; 3])));
        assert!(mentions(parse_quote!(fn(T) -> u8)));
        assert!(mentions(parse_quote!(m!(T))));
    }

    #[test]
    fn ignores_concrete_types() {
        assert!(!mentions(parse_quote!(u8)));
        assert!(!mentions(parse_quote!(Vec<String>)));
        assert!(!mentions(parse_quote!(::T)));
        assert!(!mentions(parse_quote!(crate::T)));
        assert!(!mentions(parse_quote!(Tx)));
    }
}
