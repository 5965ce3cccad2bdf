//! `#[escape]`: Go's escape analysis as an attribute on functions and `impl` blocks.
//!
//! One concept per module: `mode` reads the argument, `walk` builds the escape graph of a
//! function body, `graph` holds it and spreads escapes along its flows, `size` applies Go's
//! size rules, `report` renders the decisions (lines and deny-mode errors), and `place`
//! rewrites non-escaping allocations into frame values.

mod graph;
mod mode;
mod place;
mod report;
mod size;
mod walk;

use crate::ctxt::Ctxt;
use mode::Mode;
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{Block, ImplItem, Item, Signature};
use walk::Walker;

/// The environment variable that turns the report on for every `#[escape]` item in a build.
const REPORT_VAR: &str = "GC_ESCAPE_REPORT";

fn report_requested(mode: Mode) -> bool {
    mode == Mode::Report || std::env::var(REPORT_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Expands `#[escape(args)] item`: the item, rewritten in place mode, followed by any errors.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let mode = syn::parse2::<Mode>(args).unwrap_or_else(|err| {
        cx.syn_error(err);
        Mode::Quiet
    });
    let mut item = match syn::parse2::<Item>(item.clone()) {
        Ok(item) => item,
        Err(err) => {
            cx.syn_error(err);
            return with_errors(item, cx);
        }
    };
    match &mut item {
        Item::Fn(f) => function(&f.sig, &mut f.block, mode, &cx),
        Item::Impl(i) => {
            for member in &mut i.items {
                if let ImplItem::Fn(f) = member {
                    function(&f.sig, &mut f.block, mode, &cx);
                }
            }
        }
        other => cx.error_spanned_by(other, "#[escape] applies to a function or an impl block"),
    }
    with_errors(item.into_token_stream(), cx)
}

fn with_errors(mut tokens: TokenStream, cx: Ctxt) -> TokenStream {
    if let Err(err) = cx.check() {
        tokens.extend(err.into_compile_error());
    }
    tokens
}

/// Analyses one function and applies the mode.
fn function(sig: &Signature, block: &mut Block, mode: Mode, cx: &Ctxt) {
    let mut walker = Walker::default();
    walker.function(sig.inputs.iter(), block);
    walker.graph.propagate();
    let unwrappable = place::unwrappable(sig).filter(|_| mode == Mode::Place);
    if report_requested(mode) {
        for (span, line) in report::lines(&walker.graph) {
            eprintln!("{}: {line}", report::location(span));
        }
        if let Some(shape) = unwrappable {
            eprintln!(
                "{}: {}: not placed: {shape}",
                report::location(sig.ident.span()),
                sig.ident
            );
        }
    }
    match mode {
        Mode::Deny => report::errors(&walker.graph)
            .into_iter()
            .for_each(|e| cx.syn_error(e)),
        Mode::Place if unwrappable.is_none() => {
            let sites = place::placeable(&walker);
            place::rewrite(sig, block, sites);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
