//! The walk over a function body that builds the escape graph, flow-insensitively, like Go's
//! escape analysis: every value an expression may carry flows into whatever receives it.

use super::graph::{Graph, Loc, LocId, LocKind, Via};
use super::size;
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use std::collections::HashSet;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Block, Expr, FnArg, Local, Pat, Stmt, Token};

/// The locations an expression's value may carry, and how it holds each.
type Carried = Vec<(LocId, Via)>;

/// Functions known to neither keep nor publish their arguments.
const HARMLESS_FNS: &[&str] = &["drop", "keep_alive", "ptr_eq", "as_ptr", "handle_count"];
/// Constructors that wrap their arguments in the value they return.
const WRAPPING_FNS: &[&str] = &["Some", "Ok", "Err", "Box::new", "Rc::new", "Arc::new"];
/// Methods that store their arguments in the receiver.
const STORING_METHODS: &[&str] = &[
    "push",
    "push_back",
    "push_front",
    "insert",
    "extend",
    "append",
    "set",
    "replace",
    "store",
    "swap",
    "send",
    "get_or_insert",
    "entry",
];
/// Methods through which a receiver reaches the inside of a cell or a lock.
const CELL_METHODS: &[&str] = &["borrow_mut", "borrow", "lock", "write", "read", "get_mut"];
/// Macros whose arguments are only borrowed.
const FORMAT_MACROS: &[&str] = &[
    "println",
    "print",
    "eprintln",
    "eprint",
    "format",
    "write",
    "writeln",
    "panic",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "format_args",
    "unreachable",
];

/// Where a store lands.
enum Target {
    /// A local binding (or a field or element of one).
    Local(LocId),
    /// Inside a cell or behind a pointer: a heap object.
    Heap,
    /// A static or a `GcGlobal`.
    Global(String),
    Unknown,
}

/// A scope of bindings, innermost last.
type Scope = Vec<(String, LocId)>;

/// The walk's state.
#[derive(Default)]
pub(crate) struct Walker {
    pub(crate) graph: Graph,
    scopes: Vec<Scope>,
    /// For each closure being walked: the scope depth at its start and what it captured.
    captures: Vec<(usize, Carried)>,
    /// For each closure being walked: the values it returns.
    closure_returns: Vec<Carried>,
    /// For each loop or labelled block being walked: the values its `break`s carry.
    breaks: Vec<Carried>,
    /// `let x = Gc::new(..)` with no type written: the `Gc::new` expression, its site and `x`.
    pub(crate) direct: Vec<(usize, LocId, LocId)>,
    /// Bindings used as the receiver of `.clone()`.
    pub(crate) cloned: HashSet<LocId>,
}

fn text(tokens: impl ToTokens) -> String {
    tokens.to_token_stream().to_string().replace(' ', "")
}

fn mentions_gc(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|t| match t {
        TokenTree::Ident(i) => i == "Gc",
        TokenTree::Group(g) => mentions_gc(g.stream()),
        _ => false,
    })
}

/// The written type of `Gc::<T>::new`, if `func` is such a path.
fn gc_new(func: &Expr) -> Option<Option<&syn::Type>> {
    let Expr::Path(p) = func else { return None };
    let segs: Vec<_> = p.path.segments.iter().collect();
    let [.., gc, new] = segs.as_slice() else {
        return None;
    };
    if gc.ident != "Gc" || new.ident != "new" {
        return None;
    }
    Some(match &gc.arguments {
        syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    })
}

fn site_name(arg: Option<&Expr>) -> String {
    let inner = match arg {
        Some(Expr::Struct(s)) => format!("{} {{ .. }}", text(&s.path)),
        Some(Expr::Lit(l)) => text(l),
        Some(Expr::Path(p)) => text(p),
        Some(Expr::Repeat(r)) => format!("[{}; {}]", text(&r.expr), text(&r.len)),
        Some(Expr::Call(c)) => format!("{}(..)", text(&c.func)),
        _ => "..".to_owned(),
    };
    format!("Gc::new({inner})")
}

/// `c` held as `via` (what is read out of a location stays a read).
fn with_via(c: Carried, via: Via) -> Carried {
    c.into_iter()
        .map(|(l, old)| (l, if old == Via::Content { old } else { via }))
        .collect()
}

/// What is read out of the locations `c` carries.
fn contents(c: Carried) -> Carried {
    c.into_iter().map(|(l, _)| (l, Via::Content)).collect()
}

impl Walker {
    /// Walks a function: its parameters, then its body, whose value is returned.
    pub(crate) fn function<'a>(&mut self, inputs: impl Iterator<Item = &'a FnArg>, body: &Block) {
        self.scopes.push(Vec::new());
        for input in inputs {
            match input {
                FnArg::Receiver(r) => {
                    let gc_typed = mentions_gc(r.ty.to_token_stream());
                    self.bind("self".into(), LocKind::Param, r.self_token.span, gc_typed);
                }
                FnArg::Typed(t) => {
                    let gc_typed = mentions_gc(t.ty.to_token_stream());
                    for (name, span) in bindings(&t.pat) {
                        self.bind(name, LocKind::Param, span, gc_typed);
                    }
                }
            }
        }
        let value = self.block(body);
        let span = body.stmts.last().map_or(body.span(), |s| s.span());
        self.escape_all(&value, "returned", span);
        self.scopes.pop();
    }

    fn bind(&mut self, name: String, kind: LocKind, span: Span, gc_typed: bool) -> LocId {
        let id = self.graph.add(Loc {
            name: name.clone(),
            kind,
            span,
            gc_typed,
            heap_only: None,
        });
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name, id));
        }
        id
    }

    fn lookup(&mut self, name: &str) -> Option<LocId> {
        let (depth, id) = self.scopes.iter().enumerate().rev().find_map(|(d, s)| {
            s.iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, id)| (d, *id))
        })?;
        for (floor, captured) in &mut self.captures {
            if depth < *floor {
                captured.push((id, Via::Referenced));
            }
        }
        Some(id)
    }

    fn escape_all(&mut self, c: &Carried, why: &str, span: Span) {
        for &(id, via) in c {
            if via == Via::Content {
                self.graph.content_escapes.push((id, why.to_owned(), span));
            } else {
                self.graph.escape(id, why, span);
            }
        }
    }

    fn flow_into(&mut self, c: &Carried, to: LocId, span: Span) {
        for &(from, via) in c {
            self.graph.flows.push(super::graph::Flow {
                from,
                to,
                via,
                span,
            });
            if via == Via::Referenced {
                // What is stored through the reference reaches the referenced value.
                self.graph.flows.push(super::graph::Flow {
                    from: to,
                    to: from,
                    via,
                    span,
                });
            }
        }
    }

    /// Every binding named in `tokens` escapes: the macro cannot read them.
    fn escape_tokens(&mut self, tokens: TokenStream, why: &str) {
        for t in tokens {
            match t {
                TokenTree::Ident(i) => {
                    if let Some(id) = self.lookup(&i.to_string()) {
                        self.graph.escape(id, why, i.span());
                    }
                }
                TokenTree::Group(g) => self.escape_tokens(g.stream(), why),
                _ => {}
            }
        }
    }

    fn block(&mut self, b: &Block) -> Carried {
        self.scopes.push(Vec::new());
        let mut value = Vec::new();
        for (i, stmt) in b.stmts.iter().enumerate() {
            let last = i + 1 == b.stmts.len();
            match stmt {
                Stmt::Local(l) => self.local(l),
                Stmt::Item(_) => {}
                Stmt::Expr(e, semi) => {
                    let c = self.expr(e);
                    if last && semi.is_none() {
                        value = c;
                    }
                }
                Stmt::Macro(m) => {
                    self.mac(&m.mac);
                }
            }
        }
        self.scopes.pop();
        value
    }

    fn local(&mut self, l: &Local) {
        let value = match &l.init {
            Some(init) => {
                let c = self.expr(&init.expr);
                if let Some((_, diverge)) = &init.diverge {
                    self.expr(diverge);
                }
                c
            }
            None => Vec::new(),
        };
        let span = l.init.as_ref().map_or(l.span(), |i| i.expr.span());
        let gc_typed = matches!(&l.pat, Pat::Type(t) if mentions_gc(t.ty.to_token_stream()));
        for (name, name_span) in bindings(&l.pat) {
            let id = self.bind(name, LocKind::Binding, name_span, gc_typed);
            self.flow_into(&value, id, span);
            if let (Pat::Ident(_), Some(init)) = (&l.pat, &l.init) {
                let mut e = &*init.expr;
                while let Expr::Paren(p) = e {
                    e = &p.expr;
                }
                if let (Expr::Call(c), [(site, Via::Value)]) = (e, value.as_slice()) {
                    if gc_new(&c.func).is_some() && self.captures.is_empty() {
                        self.direct.push((e as *const Expr as usize, *site, id));
                    }
                }
            }
        }
    }

    fn bind_pattern(&mut self, pat: &Pat, value: &Carried, via: Via, span: Span) {
        let gc_typed = matches!(pat, Pat::Type(t) if mentions_gc(t.ty.to_token_stream()));
        for (name, name_span) in bindings(pat) {
            let id = self.bind(name, LocKind::Binding, name_span, gc_typed);
            self.flow_into(&with_via(value.clone(), via), id, span);
        }
    }

    /// Where a store into `place` lands.
    fn target(&mut self, place: &Expr) -> Target {
        match place {
            Expr::Path(p) => match p.path.get_ident() {
                Some(id) => match self.lookup(&id.to_string()) {
                    Some(local) => Target::Local(local),
                    None => Target::Global(id.to_string()),
                },
                None => Target::Global(text(p)),
            },
            Expr::Field(f) => self.target(&f.base),
            Expr::Index(i) => {
                self.expr(&i.index);
                self.target(&i.expr)
            }
            Expr::Paren(p) => self.target(&p.expr),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => match self.target(&u.expr) {
                Target::Local(_) => Target::Heap,
                other => other,
            },
            Expr::MethodCall(m) if CELL_METHODS.contains(&m.method.to_string().as_str()) => {
                match self.target(&m.receiver) {
                    Target::Global(g) => Target::Global(g),
                    _ => Target::Heap,
                }
            }
            _ => Target::Unknown,
        }
    }

    fn store(&mut self, target: Target, value: &Carried, via: Via, span: Span) {
        match target {
            Target::Local(id) => self.flow_into(&with_via(value.clone(), via), id, span),
            Target::Heap => self.escape_all(value, "stored in a heap object", span),
            Target::Global(g) => {
                self.escape_all(value, &format!("stored in the global `{g}`"), span)
            }
            Target::Unknown => self.escape_all(value, "stored in a place not understood", span),
        }
    }

    fn mac(&mut self, mac: &syn::Macro) -> Carried {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
        if FORMAT_MACROS.contains(&name.as_str()) || name == "dbg" || name == "vec" {
            if let Ok(args) = mac.parse_body_with(parser) {
                let mut all = Vec::new();
                for arg in &args {
                    all.extend(self.expr(arg));
                }
                return match name.as_str() {
                    "dbg" => all,
                    "vec" => with_via(all, Via::Element),
                    _ => Vec::new(),
                };
            }
            if name == "vec" {
                if let Ok(r) = syn::parse2::<Expr>(quote::quote!([#mac.tokens])) {
                    return with_via(self.expr(&r), Via::Element);
                }
            }
        }
        self.escape_tokens(mac.tokens.clone(), &format!("used in macro `{name}!`"));
        Vec::new()
    }

    fn call(&mut self, c: &syn::ExprCall, whole: &Expr) -> Carried {
        let args: Vec<Carried> = c.args.iter().map(|a| self.expr(a)).collect();
        if let Some(ty) = gc_new(&c.func) {
            let arg = c.args.first();
            let heap_only = arg.and_then(|a| size::heap_only(ty, a));
            let site = self.graph.add(Loc {
                name: site_name(arg),
                kind: LocKind::Alloc,
                span: whole.span(),
                gc_typed: true,
                heap_only,
            });
            for a in &args {
                self.flow_into(a, site, whole.span());
            }
            return vec![(site, Via::Value)];
        }
        let callee = self.expr(&c.func);
        let name = text(&c.func);
        let last = name.rsplit("::").next().unwrap_or_default().to_owned();
        if HARMLESS_FNS.contains(&last.as_str()) {
            return Vec::new();
        }
        let wraps = WRAPPING_FNS
            .iter()
            .any(|w| name == *w || name.ends_with(&format!("::{w}")))
            || last.starts_with(|ch: char| ch.is_ascii_uppercase());
        if wraps {
            return with_via(args.into_iter().flatten().collect(), Via::Field);
        }
        for (arg, expr) in args.iter().zip(&c.args) {
            let why = match (expr, last.as_str()) {
                (Expr::Closure(_), "spawn") => {
                    "captured by a closure passed to `thread::spawn`".into()
                }
                (Expr::Closure(_), _) => format!("captured by a closure passed to `{name}`"),
                _ => format!("passed to `{name}`"),
            };
            self.escape_all(arg, &why, expr.span());
        }
        callee
    }

    fn method_call(&mut self, m: &syn::ExprMethodCall) -> Carried {
        let method = m.method.to_string();
        if STORING_METHODS.contains(&method.as_str()) {
            let target = self.target(&m.receiver);
            for arg in &m.args {
                let value = self.expr(arg);
                self.store(
                    match &target {
                        Target::Local(id) => Target::Local(*id),
                        Target::Heap => Target::Heap,
                        Target::Global(g) => Target::Global(g.clone()),
                        Target::Unknown => Target::Unknown,
                    },
                    &value,
                    Via::Element,
                    arg.span(),
                );
            }
            return self.expr(&m.receiver);
        }
        let receiver = self.expr(&m.receiver);
        if method == "clone" {
            if let Expr::Path(p) = &*m.receiver {
                if let Some(id) = p.path.get_ident().and_then(|i| self.lookup(&i.to_string())) {
                    self.cloned.insert(id);
                }
            }
            return with_via(receiver, Via::Referenced);
        }
        for arg in &m.args {
            let value = self.expr(arg);
            let why = match arg {
                Expr::Closure(_) => format!("captured by a closure passed to `.{method}()`"),
                _ => format!("passed to `.{method}()`"),
            };
            self.escape_all(&value, &why, arg.span());
        }
        // The result may be read from the receiver.
        contents(receiver)
    }

    fn closure(&mut self, c: &syn::ExprClosure) -> Carried {
        self.captures.push((self.scopes.len(), Vec::new()));
        self.closure_returns.push(Vec::new());
        self.scopes.push(Vec::new());
        for input in &c.inputs {
            for (name, span) in bindings(input) {
                self.bind(name, LocKind::Binding, span, false);
            }
        }
        let value = self.expr(&c.body);
        self.scopes.pop();
        let mut returned = self.closure_returns.pop().unwrap_or_default();
        returned.extend(value);
        let (_, mut captured) = self.captures.pop().unwrap_or_default();
        // What the closure returns comes from what it captured or made: it holds both.
        captured.extend(with_via(returned, Via::Referenced));
        captured
    }

    fn returned(&mut self, value: Carried, why: &str, span: Span) {
        match self.closure_returns.last_mut() {
            Some(r) => r.extend(value),
            None => self.escape_all(&value, why, span),
        }
    }

    /// What `e`'s value may carry; records the flows and escapes inside it.
    pub(crate) fn expr(&mut self, e: &Expr) -> Carried {
        match e {
            Expr::Path(p) => match p.path.get_ident() {
                Some(id) => self
                    .lookup(&id.to_string())
                    .map(|l| vec![(l, Via::Value)])
                    .unwrap_or_default(),
                None => Vec::new(),
            },
            Expr::Lit(_) | Expr::Continue(_) => Vec::new(),
            Expr::Call(c) => self.call(c, e),
            Expr::MethodCall(m) => self.method_call(m),
            Expr::Reference(r) => with_via(self.expr(&r.expr), Via::Referenced),
            Expr::Paren(p) => self.expr(&p.expr),
            Expr::Group(g) => self.expr(&g.expr),
            Expr::Field(f) => contents(self.expr(&f.base)),
            Expr::Cast(c) => self.expr(&c.expr),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => contents(self.expr(&u.expr)),
            Expr::Unary(u) => self.expr(&u.expr),
            Expr::Index(i) => {
                self.expr(&i.index);
                contents(self.expr(&i.expr))
            }
            Expr::Binary(b) => {
                let right = self.expr(&b.right);
                use syn::BinOp::*;
                match b.op {
                    AddAssign(_) | SubAssign(_) | MulAssign(_) | DivAssign(_) | RemAssign(_)
                    | BitXorAssign(_) | BitAndAssign(_) | BitOrAssign(_) | ShlAssign(_)
                    | ShrAssign(_) => {
                        let target = self.target(&b.left);
                        self.store(target, &right, Via::Value, b.span());
                        Vec::new()
                    }
                    Eq(_) | Lt(_) | Le(_) | Ne(_) | Ge(_) | Gt(_) | And(_) | Or(_) => {
                        self.expr(&b.left);
                        Vec::new()
                    }
                    _ => {
                        let mut left = self.expr(&b.left);
                        left.extend(right);
                        left
                    }
                }
            }
            Expr::Assign(a) => {
                let value = self.expr(&a.right);
                let target = self.target(&a.left);
                self.store(target, &value, Via::Value, a.span());
                Vec::new()
            }
            Expr::Struct(s) => {
                let mut all = Vec::new();
                for f in &s.fields {
                    all.extend(self.expr(&f.expr));
                }
                if let Some(rest) = &s.rest {
                    all.extend(self.expr(rest));
                }
                with_via(all, Via::Field)
            }
            Expr::Tuple(t) => {
                let all = t.elems.iter().flat_map(|x| self.expr(x)).collect();
                with_via(all, Via::Field)
            }
            Expr::Array(a) => {
                let all = a.elems.iter().flat_map(|x| self.expr(x)).collect();
                with_via(all, Via::Element)
            }
            Expr::Repeat(r) => with_via(self.expr(&r.expr), Via::Element),
            Expr::Range(r) => {
                let mut all = Vec::new();
                for end in [&r.start, &r.end].into_iter().flatten() {
                    all.extend(self.expr(end));
                }
                all
            }
            Expr::Block(b) if b.label.is_some() => {
                self.breaks.push(Vec::new());
                let mut value = self.block(&b.block);
                value.extend(self.breaks.pop().unwrap_or_default());
                value
            }
            Expr::Block(b) => self.block(&b.block),
            Expr::Unsafe(u) => self.block(&u.block),
            Expr::If(i) => {
                self.scopes.push(Vec::new());
                self.expr(&i.cond);
                let mut value = self.block(&i.then_branch);
                self.scopes.pop();
                if let Some((_, other)) = &i.else_branch {
                    value.extend(self.expr(other));
                }
                value
            }
            Expr::Let(l) => {
                let value = self.expr(&l.expr);
                self.bind_pattern(&l.pat, &value, Via::Value, l.expr.span());
                Vec::new()
            }
            Expr::Match(m) => {
                let scrutinee = self.expr(&m.expr);
                let mut value = Vec::new();
                for arm in &m.arms {
                    self.scopes.push(Vec::new());
                    self.bind_pattern(&arm.pat, &scrutinee, Via::Value, m.expr.span());
                    if let Some((_, guard)) = &arm.guard {
                        self.expr(guard);
                    }
                    value.extend(self.expr(&arm.body));
                    self.scopes.pop();
                }
                value
            }
            Expr::While(w) => {
                self.breaks.push(Vec::new());
                self.scopes.push(Vec::new());
                self.expr(&w.cond);
                self.block(&w.body);
                self.scopes.pop();
                self.breaks.pop().unwrap_or_default()
            }
            Expr::Loop(l) => {
                self.breaks.push(Vec::new());
                self.block(&l.body);
                self.breaks.pop().unwrap_or_default()
            }
            Expr::ForLoop(f) => {
                let items = self.expr(&f.expr);
                self.breaks.push(Vec::new());
                self.scopes.push(Vec::new());
                self.bind_pattern(&f.pat, &items, Via::Element, f.expr.span());
                self.block(&f.body);
                self.scopes.pop();
                self.breaks.pop().unwrap_or_default()
            }
            Expr::Break(b) => {
                if let Some(value) = &b.expr {
                    let value = self.expr(value);
                    match self.breaks.last_mut() {
                        Some(acc) => acc.extend(value),
                        None => self.escape_all(
                            &value,
                            "not understood by the escape analysis",
                            b.span(),
                        ),
                    }
                }
                Vec::new()
            }
            Expr::Return(r) => {
                if let Some(value) = &r.expr {
                    let value = self.expr(value);
                    self.returned(value, "returned", r.span());
                }
                Vec::new()
            }
            Expr::Try(t) => {
                let value = self.expr(&t.expr);
                self.returned(value.clone(), "returned through `?`", t.span());
                value
            }
            Expr::Closure(c) => self.closure(c),
            Expr::Macro(m) => self.mac(&m.mac),
            other => {
                self.escape_tokens(
                    other.to_token_stream(),
                    "not understood by the escape analysis",
                );
                Vec::new()
            }
        }
    }
}

/// The names a pattern binds, with their spans.
fn bindings(pat: &Pat) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    collect_bindings(pat, &mut out);
    out
}

fn collect_bindings(pat: &Pat, out: &mut Vec<(String, Span)>) {
    match pat {
        Pat::Ident(i) => {
            out.push((i.ident.to_string(), i.ident.span()));
            if let Some((_, sub)) = &i.subpat {
                collect_bindings(sub, out);
            }
        }
        Pat::Type(t) => collect_bindings(&t.pat, out),
        Pat::Tuple(t) => t.elems.iter().for_each(|p| collect_bindings(p, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|p| collect_bindings(p, out)),
        Pat::Struct(s) => s.fields.iter().for_each(|f| collect_bindings(&f.pat, out)),
        Pat::Slice(s) => s.elems.iter().for_each(|p| collect_bindings(p, out)),
        Pat::Reference(r) => collect_bindings(&r.pat, out),
        Pat::Paren(p) => collect_bindings(&p.pat, out),
        Pat::Or(o) => {
            if let Some(first) = o.cases.first() {
                collect_bindings(first, out);
            }
        }
        _ => {}
    }
}
