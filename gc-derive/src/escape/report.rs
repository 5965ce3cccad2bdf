//! The decisions as Go's `-gcflags -m` lines, and as deny-mode errors.

use super::graph::{Graph, LocKind};
use proc_macro2::Span;

/// `file:line:col` of a span (columns from 1, as Go prints them).
pub(crate) fn location(span: Span) -> String {
    let start = span.start();
    format!("{}:{}:{}", span.file(), start.line, start.column + 1)
}

/// One line per allocation site and per binding or parameter that holds a `Gc`, in source
/// order, each with its span.
pub(crate) fn lines(graph: &Graph) -> Vec<(Span, String)> {
    let holds = graph.holds_gc();
    let mut out: Vec<(Span, String)> = graph
        .locs
        .iter()
        .zip(&graph.escapes)
        .zip(holds)
        .filter(|(_, holds)| *holds)
        .map(|((loc, escape), _)| {
            let name = &loc.name;
            let line = match (escape, &loc.kind) {
                (None, _) => format!("{name} does not escape"),
                (Some(e), LocKind::Alloc) => format!("{name} escapes to heap: {}", e.why),
                (Some(e), LocKind::Binding) => format!("moved to heap: {name}: {}", e.why),
                (Some(e), LocKind::Param) => format!("leaking param: {name}: {}", e.why),
            };
            (loc.span, line)
        })
        .collect();
    out.sort_by_key(|(span, _)| {
        let start = span.start();
        (start.line, start.column)
    });
    out
}

/// Deny mode: an error at each escaping use of an allocation or a local binding that holds a
/// `Gc` (parameters are the caller's allocations, so they are only reported).
pub(crate) fn errors(graph: &Graph) -> Vec<syn::Error> {
    let holds = graph.holds_gc();
    graph
        .locs
        .iter()
        .zip(&graph.escapes)
        .zip(holds)
        .filter_map(|((loc, escape), holds)| match (escape, &loc.kind, holds) {
            (Some(e), LocKind::Alloc | LocKind::Binding, true) => Some(syn::Error::new(
                e.span,
                format!(
                    "`{}` escapes to heap: {} (#[escape(deny)])",
                    loc.name, e.why
                ),
            )),
            _ => None,
        })
        .collect()
}
