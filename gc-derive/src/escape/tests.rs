//! The analysis on sample functions, with the report lines locked down.

use super::report;
use super::walk::Walker;

/// The report lines (`line:col: text`) for one function.
fn analyse(source: &str) -> Vec<String> {
    let f: syn::ItemFn = syn::parse_str(source).expect("a function");
    let mut walker = Walker::default();
    walker.function(f.sig.inputs.iter(), &f.block);
    walker.graph.propagate();
    report::lines(&walker.graph)
        .into_iter()
        .map(|(span, line)| {
            let start = span.start();
            format!("{}:{}: {line}", start.line, start.column + 1)
        })
        .collect()
}

#[test]
fn report_of_a_sample() {
    let lines = analyse(
        r#"fn sample(p: Gc<Node>, q: &Gc<Node>) -> Gc<Node> {
    let local = Gc::new(Node { id: 1 });
    let kept = Gc::new(Node { id: 2 });
    let pair = (kept.clone(), 3);
    GLOBAL.store(Some(p));
    println!("{}", local.id);
    let big = Gc::new([0u8; 100000]);
    let n = 4;
    let sized = Gc::new([0u8; n]);
    let v = vec![Gc::new(5)];
    spawn(move || drop(v));
    drop(sized);
    drop(big);
    let _ = q.id;
    pair.0
}"#,
    );
    let expected = [
        "1:11: leaking param: p: stored in the global `GLOBAL`",
        "1:24: q does not escape",
        "2:9: local does not escape",
        "2:17: Gc::new(Node { .. }) does not escape",
        "3:9: moved to heap: kept: returned",
        "3:16: Gc::new(Node { .. }) escapes to heap: assigned to `kept`, which escapes (returned)",
        "4:9: pair does not escape",
        "7:9: big does not escape",
        "7:15: Gc::new([0u8; 100000]) escapes to heap: too large for stack: 100000 bytes",
        "9:9: sized does not escape",
        "9:17: Gc::new([0u8; n]) escapes to heap: non-constant size",
        "10:9: moved to heap: v: captured by a closure passed to `thread::spawn`",
        "10:18: Gc::new(5) escapes to heap: element of `v`, which escapes (captured by a closure passed to `thread::spawn`)",
    ];
    assert_eq!(lines, expected, "\n{}", lines.join("\n"));
}
