//! The environment variables read at start-up: `GC_TRACE=1` prints one Go-format line per
//! cycle on stderr; `GC_PERCENT` and `GC_MEMORY_LIMIT` set the knobs. Each test runs itself as
//! a child process with the variables set.

use std::process::Command;

const CHILD: &str = "GC_TRACE_TEST_CHILD";

#[test]
fn gc_trace_prints_go_format_lines() {
    if std::env::var_os(CHILD).is_some() {
        let _kept = gc_core::Gc::new(vec![0u8; 1 << 20]);
        gc_core::collect();
        gc_core::collect();
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "gc_trace_prints_go_format_lines",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD, "1")
        .env("GC_TRACE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "child failed: {out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("gc ")).collect();
    assert!(lines.len() >= 2, "expected a line per cycle, got: {stderr}");
    for line in &lines {
        // gc 1 @0.003s 2%: 0.045+5.7+0.032 ms clock, 0.13+0/0.68/5.2+0.098 ms cpu,
        // 4->4->0 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)
        let (head, rest) = line.split_once(": ").expect("a ': ' after the head");
        let head: Vec<&str> = head.split(' ').collect();
        assert_eq!(head.len(), 4, "{line}");
        assert!(head[1].parse::<u64>().is_ok(), "{line}");
        assert!(head[2].starts_with('@') && head[2].ends_with('s'), "{line}");
        assert!(head[3].ends_with('%'), "{line}");
        let fields: Vec<&str> = rest.split(", ").collect();
        assert_eq!(fields.len(), 7, "{line}");
        assert!(
            fields[0].ends_with(" ms clock") && fields[0].matches('+').count() == 2,
            "{line}"
        );
        assert!(
            fields[1].ends_with(" ms cpu") && fields[1].matches('/').count() == 2,
            "{line}"
        );
        assert!(
            fields[2].ends_with(" MB") && fields[2].matches("->").count() == 2,
            "{line}"
        );
        assert!(fields[3].ends_with(" MB goal"), "{line}");
        assert!(fields[4].ends_with(" MB stacks"), "{line}");
        assert!(fields[5].ends_with(" MB globals"), "{line}");
        assert!(
            fields[6].ends_with(" P (forced)"),
            "forced cycles say so: {line}"
        );
    }
    let first: u64 = lines[0].split(' ').nth(1).unwrap().parse().unwrap();
    let second: u64 = lines[1].split(' ').nth(1).unwrap().parse().unwrap();
    assert_eq!(second, first + 1, "cycles are numbered in order");
}

#[test]
fn gc_percent_and_memory_limit_are_read_from_the_environment() {
    if std::env::var_os(CHILD).is_some() {
        assert_eq!(gc_core::set_gc_percent(100), -1, "GC_PERCENT=off");
        assert_eq!(
            gc_core::set_memory_limit(u64::MAX),
            256 << 20,
            "GC_MEMORY_LIMIT=256MiB"
        );
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "gc_percent_and_memory_limit_are_read_from_the_environment",
        ])
        .env(CHILD, "1")
        .env("GC_PERCENT", "off")
        .env("GC_MEMORY_LIMIT", "256MiB")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}
