//! The attribute's argument: which of the three modes to run.

use syn::parse::{Parse, ParseStream};

/// What `#[escape(...)]` does with its decisions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    /// `#[escape]`: prints the report when `GC_ESCAPE_REPORT=1`, changes nothing.
    Quiet,
    /// `#[escape(report)]`: always prints the report.
    Report,
    /// `#[escape(deny)]`: a compile error at each escaping allocation or binding.
    Deny,
    /// `#[escape(place)]`: allocations that do not escape become frame values.
    Place,
}

impl Parse for Mode {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Ok(Mode::Quiet);
        }
        let word: syn::Ident = input.parse()?;
        let mode = match word.to_string().as_str() {
            "report" => Mode::Report,
            "deny" => Mode::Deny,
            "place" => Mode::Place,
            _ => {
                return Err(syn::Error::new(
                    word.span(),
                    "expected `report`, `deny` or `place`",
                ))
            }
        };
        if !input.is_empty() {
            return Err(input.error("expected one mode: `report`, `deny` or `place`"));
        }
        Ok(mode)
    }
}
