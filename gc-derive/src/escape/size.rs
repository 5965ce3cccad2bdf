//! Go's size rules: values too large for a frame, or of a size the macro cannot compute, stay
//! on the heap.

use syn::{Expr, Lit, Type};

/// Largest value placed when its type is written at the allocation (`Gc::<[u8; N]>::new`), as
/// Go's limit for explicitly declared variables.
pub(crate) const MAX_EXPLICIT: u64 = 10 * 1024 * 1024;
/// Largest value placed when its type is inferred, as Go's limit for implicit allocations.
pub(crate) const MAX_IMPLICIT: u64 = 64 * 1024;

/// Why the value of `Gc::new(arg)` (with `ty` written at the call, if any) must stay on the
/// heap, or `None` if its size allows a frame. Only arrays are measured; other values are
/// assumed small, as their size is the type's and fixed.
pub(crate) fn heap_only(ty: Option<&Type>, arg: &Expr) -> Option<String> {
    let (size, max) = match ty {
        Some(ty @ Type::Array(_)) => (type_size(ty), MAX_EXPLICIT),
        _ => match arg {
            Expr::Repeat(_) | Expr::Array(_) => (expr_size(arg), MAX_IMPLICIT),
            _ => return None,
        },
    };
    match size {
        Size::Known(n) if n > max => Some(format!("too large for stack: {n} bytes")),
        Size::Known(_) => None,
        Size::NonConstant => Some("non-constant size".to_owned()),
        Size::Unknown => Some("size not known at expansion".to_owned()),
    }
}

enum Size {
    Known(u64),
    NonConstant,
    Unknown,
}

fn times(n: u64, elem: Size) -> Size {
    match elem {
        Size::Known(e) => n.checked_mul(e).map_or(Size::Unknown, Size::Known),
        other => other,
    }
}

fn length(len: &Expr) -> Option<u64> {
    match len {
        Expr::Lit(l) => match &l.lit {
            Lit::Int(i) => i.base10_parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

fn expr_size(e: &Expr) -> Size {
    match e {
        Expr::Repeat(r) => match length(&r.len) {
            Some(n) => times(n, expr_size(&r.expr)),
            None => Size::NonConstant,
        },
        Expr::Array(a) => match a.elems.first() {
            Some(first) => times(a.elems.len() as u64, expr_size(first)),
            None => Size::Known(0),
        },
        Expr::Lit(l) => match &l.lit {
            Lit::Int(i) => Size::Known(primitive_size(i.suffix()).unwrap_or(4)),
            Lit::Float(f) => Size::Known(primitive_size(f.suffix()).unwrap_or(8)),
            Lit::Bool(_) | Lit::Byte(_) => Size::Known(1),
            Lit::Char(_) => Size::Known(4),
            _ => Size::Unknown,
        },
        Expr::Cast(c) => type_size(&c.ty),
        Expr::Paren(p) => expr_size(&p.expr),
        _ => Size::Unknown,
    }
}

fn type_size(ty: &Type) -> Size {
    match ty {
        Type::Array(a) => match length(&a.len) {
            Some(n) => times(n, type_size(&a.elem)),
            None => Size::NonConstant,
        },
        Type::Path(p) => match p.path.get_ident() {
            Some(id) => primitive_size(&id.to_string()).map_or(Size::Unknown, Size::Known),
            None => Size::Unknown,
        },
        Type::Paren(p) => type_size(&p.elem),
        _ => Size::Unknown,
    }
}

fn primitive_size(name: &str) -> Option<u64> {
    Some(match name {
        "u8" | "i8" | "bool" => 1,
        "u16" | "i16" => 2,
        "u32" | "i32" | "f32" | "char" => 4,
        "u64" | "i64" | "f64" | "usize" | "isize" => 8,
        "u128" | "i128" => 16,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::{heap_only, MAX_IMPLICIT};

    fn check(ty: Option<&str>, arg: &str) -> Option<String> {
        let ty = ty.map(|t| syn::parse_str(t).expect("a type"));
        heap_only(ty.as_ref(), &syn::parse_str(arg).expect("an expression"))
    }

    #[test]
    fn implicit_arrays_up_to_64_kib_fit() {
        assert_eq!(check(None, "[0u8; 65536]"), None);
        assert_eq!(
            check(None, "[0u8; 65537]"),
            Some("too large for stack: 65537 bytes".into())
        );
        assert_eq!(check(None, "[0u64; 8192]"), None);
        assert!(check(None, "[0u64; 8193]").is_some());
        assert_eq!(MAX_IMPLICIT, 65536);
    }

    #[test]
    fn explicit_types_up_to_10_mib_fit() {
        assert_eq!(check(Some("[u8; 10485760]"), "[0; 10485760]"), None);
        assert!(check(Some("[u8; 10485761]"), "[0; 10485761]").is_some());
    }

    #[test]
    fn non_constant_sizes_stay_on_the_heap() {
        assert_eq!(check(None, "[0u8; N]"), Some("non-constant size".into()));
        assert_eq!(
            check(Some("[u8; N]"), "x"),
            Some("non-constant size".into())
        );
        assert_eq!(check(None, "Node { id: 1 }"), None);
    }
}
