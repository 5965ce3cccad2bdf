//! The escape graph: locations (bindings and allocation sites), the flows between them, and
//! the places where a value leaves the function.

use proc_macro2::Span;

/// Index of a location in [`Graph::locs`].
pub(crate) type LocId = usize;

/// What a location is.
pub(crate) enum LocKind {
    /// A `let` (or pattern) binding.
    Binding,
    /// A parameter of the function.
    Param,
    /// A `Gc::new(...)` call.
    Alloc,
}

/// How a value is held by the place it flows into, for the reason text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// The value itself (moved or copied).
    Value,
    /// A field of a struct or tuple.
    Field,
    /// An element of an array, a `vec!` or a collection.
    Element,
    /// Behind a reference.
    Referenced,
    /// What the location holds (read through a field, an index, a deref or a method), not the
    /// location itself: if it escapes, the values stored in the location escape.
    Content,
}

/// A binding or an allocation site.
pub(crate) struct Loc {
    pub(crate) name: String,
    pub(crate) kind: LocKind,
    pub(crate) span: Span,
    /// Declared with a type that names `Gc`.
    pub(crate) gc_typed: bool,
    /// An allocation that must stay on the heap whatever the flows (size rules).
    pub(crate) heap_only: Option<String>,
}

/// Why a location escapes, and where.
#[derive(Clone)]
pub(crate) struct Escape {
    /// The whole reason, e.g. "field of `s`, which is returned".
    pub(crate) why: String,
    /// The first cause along the flows, e.g. "returned".
    pub(crate) root: String,
    pub(crate) span: Span,
}

/// `from`'s value flows into `to` (held as `via`) at `span`.
pub(crate) struct Flow {
    pub(crate) from: LocId,
    pub(crate) to: LocId,
    pub(crate) via: Via,
    pub(crate) span: Span,
}

/// Everything the walk found in one function.
#[derive(Default)]
pub(crate) struct Graph {
    pub(crate) locs: Vec<Loc>,
    pub(crate) flows: Vec<Flow>,
    pub(crate) escapes: Vec<Option<Escape>>,
    /// Locations whose contents escape (for the reason, at the span).
    pub(crate) content_escapes: Vec<(LocId, String, Span)>,
}

impl Graph {
    pub(crate) fn add(&mut self, loc: Loc) -> LocId {
        self.locs.push(loc);
        self.escapes.push(None);
        self.locs.len() - 1
    }

    /// Records that `id` escapes for `why` at `span` (the first reason found is kept).
    pub(crate) fn escape(&mut self, id: LocId, why: &str, span: Span) {
        if self.escapes[id].is_none() {
            let why = why.to_owned();
            self.escapes[id] = Some(Escape {
                root: why.clone(),
                why,
                span,
            });
        }
    }

    /// Spreads escapes backwards along the flows until nothing changes: whatever flows into an
    /// escaping location escapes with it (a field or element with its whole, a referenced value
    /// with its reference).
    pub(crate) fn propagate(&mut self) {
        for (id, loc) in self.locs.iter().enumerate() {
            if let Some(why) = &loc.heap_only {
                if self.escapes[id].is_none() {
                    let why = why.clone();
                    self.escapes[id] = Some(Escape {
                        root: why.clone(),
                        why,
                        span: loc.span,
                    });
                }
            }
        }
        let mut changed = true;
        while changed {
            changed = false;
            for (id, why, span) in self.content_escapes.clone() {
                changed |= self.escape_contents(id, &why, span);
            }
            for i in 0..self.flows.len() {
                let flow = &self.flows[i];
                if flow.via != Via::Content {
                    continue;
                }
                let Some(target) = &self.escapes[flow.to] else {
                    continue;
                };
                let holder = &self.locs[flow.to].name;
                let why = format!("read into `{holder}`, which escapes ({})", target.root);
                let (from, span) = (flow.from, flow.span);
                changed |= self.escape_contents(from, &why, span);
            }
            for flow in &self.flows {
                if self.escapes[flow.from].is_some() || flow.via == Via::Content {
                    continue;
                }
                let Some(target) = &self.escapes[flow.to] else {
                    continue;
                };
                let holder = &self.locs[flow.to].name;
                let how = match flow.via {
                    Via::Value => format!("assigned to `{holder}`"),
                    Via::Field => format!("field of `{holder}`"),
                    Via::Element => format!("element of `{holder}`"),
                    Via::Referenced | Via::Content => format!("referenced by `{holder}`"),
                };
                let root = target.root.clone();
                self.escapes[flow.from] = Some(Escape {
                    why: format!("{how}, which escapes ({root})"),
                    root,
                    span: flow.span,
                });
                changed = true;
            }
        }
    }

    /// Marks what `id` holds as escaping: values stored in it as fields, elements or behind
    /// references, and, through aliases (values assigned to it), what those hold. Returns
    /// whether anything changed.
    fn escape_contents(&mut self, id: LocId, why: &str, span: Span) -> bool {
        let mut changed = false;
        let mut todo = vec![id];
        let mut seen = vec![false; self.locs.len()];
        while let Some(at) = todo.pop() {
            if std::mem::replace(&mut seen[at], true) {
                continue;
            }
            for flow in self.flows.iter().filter(|f| f.to == at) {
                match flow.via {
                    Via::Value => todo.push(flow.from),
                    Via::Content => {}
                    Via::Field | Via::Element | Via::Referenced => {
                        if self.escapes[flow.from].is_none() {
                            let why = why.to_owned();
                            self.escapes[flow.from] = Some(Escape {
                                root: why.clone(),
                                why,
                                span,
                            });
                            changed = true;
                        }
                    }
                }
            }
        }
        changed
    }

    /// Locations worth reporting: allocation sites, bindings an allocation flows into (or typed
    /// with `Gc`), and parameters typed with `Gc`.
    pub(crate) fn holds_gc(&self) -> Vec<bool> {
        let mut holds: Vec<bool> = self
            .locs
            .iter()
            .map(|l| matches!(l.kind, LocKind::Alloc) || l.gc_typed)
            .collect();
        let mut changed = true;
        while changed {
            changed = false;
            for flow in &self.flows {
                if holds[flow.from] && !holds[flow.to] && flow.via != Via::Content {
                    holds[flow.to] = true;
                    changed = true;
                }
            }
        }
        holds
    }
}
