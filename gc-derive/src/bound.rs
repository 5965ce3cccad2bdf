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

/// Whether `field`'s type mentions the container itself other than as the target of a `Gc` or
/// `GcWeak` (`Vec<Tree<T>>`, not `Option<Gc<Tree<T>>>`). A handle's `PLAIN_DROP` does not
/// depend on its target's, so only such a field would make that constant depend on itself.
pub(crate) fn owns_itself(cont: &Container<'_>, field: &Field<'_>) -> bool {
    find(field.ty, &HashSet::new(), cont.ident).this_owned
}

/// What a field type mentions.
#[derive(Default)]
struct Found {
    /// One of the type parameters (a macro in type position counts: it might).
    param: bool,
    /// The type being derived, by its name or as `Self`.
    this: bool,
    /// The type being derived, outside the type arguments of any `Gc` or `GcWeak`.
    this_owned: bool,
}

fn find(ty: &Type, params: &HashSet<&Ident>, this: &Ident) -> Found {
    let mut finder = Finder {
        params,
        this,
        in_handle: 0,
        found: Found::default(),
    };
    finder.visit_type(ty);
    finder.found
}

struct Finder<'p, 'i> {
    params: &'p HashSet<&'i Ident>,
    this: &'i Ident,
    /// How many `Gc`/`GcWeak` type arguments the visit is inside.
    in_handle: usize,
    found: Found,
}

impl<'ast> Visit<'ast> for Finder<'_, '_> {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        // `T`, `T::Assoc`; not `::T` or `crate::T`, which name items.
        let mut this = false;
        if let (None, Some(first)) = (path.leading_colon, path.segments.first()) {
            self.found.param |= self.params.contains(&first.ident);
            this |= first.ident == "Self";
        }
        let mut handle = false;
        if let Some(last) = path.segments.last() {
            this |= last.ident == *self.this;
            handle = last.ident == "Gc" || last.ident == "GcWeak";
        }
        self.found.this |= this;
        self.found.this_owned |= this && self.in_handle == 0;
        self.in_handle += usize::from(handle);
        visit::visit_path(self, path);
        self.in_handle -= usize::from(handle);
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

    fn owned(ty: Type) -> bool {
        find(&ty, &HashSet::new(), &parse_quote!(Node)).this_owned
    }

    #[test]
    fn tells_owned_recursion_from_recursion_through_handles() {
        assert!(owned(parse_quote!(Vec<Node<T>>)));
        assert!(owned(parse_quote!(Option<Box<Self>>)));
        assert!(!owned(parse_quote!(Option<Gc<Node<T>>>)));
        assert!(!owned(parse_quote!(GcCell<Vec<gc_core::Gc<Self>>>)));
        assert!(!owned(parse_quote!(GcWeak<Node>)));
        assert!(owned(parse_quote!((Gc<Node>, Box<Node>))));
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
