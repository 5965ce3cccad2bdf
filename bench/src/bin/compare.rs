//! The comparison program: runs every workload on every implementation, each measurement in a
//! child process of its own (so peak memory is per run, and a crash, a stack overflow or a
//! hang is reported instead of ending the comparison), alternating the implementations
//! round after round, and prints markdown tables of median times, ratios to `Arc` and peak
//! resident memory. It then rewrites the generated part of `BENCHMARKS.md` and draws
//! `bench/plots/times.svg` and `bench/plots/pauses.svg`.
//!
//! ```text
//! cargo run --release -p bench --bin compare                     # everything (~10 min)
//! cargo run --release -p bench --bin compare -- --rounds 5 --only bt18,graph
//! cargo run --release -p bench --bin compare -- --quick          # tiny sizes, writes nothing
//! cargo run --release -p bench --bin compare -- --one gc-core bt18
//! ```
//!
//! Options: `--rounds N` (default 3; binary-trees depth 21 and the pause runs get one round
//! unless `--rounds-heavy N`), `--only w1,w2`, `--impls a,b`, `--timeout SECONDS` (per run,
//! default 60), `--quick`, `--no-write`, `--no-go`.
//! Go runs when a `go` toolchain is on `PATH`: the programs in `bench/go` are built once.

use bench::{binary_trees, churn, graph, list, pauses, Impl};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Who runs a measurement: one of the Rust implementations or the Go program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Runner {
    Rust(Impl),
    Go,
}

impl Runner {
    fn name(self) -> &'static str {
        match self {
            Runner::Rust(i) => i.name(),
            Runner::Go => "Go",
        }
    }
}

/// A workload as the comparison program knows it.
#[derive(Clone, Copy)]
struct Workload {
    key: &'static str,
    title: &'static str,
    /// Runs few rounds (binary-trees 21, pauses).
    heavy: bool,
    /// The live-tree depth for a pause workload.
    pause_depth: Option<u32>,
    /// Whether the Go program implements it.
    go: bool,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        key: "bt18",
        title: "binary-trees depth 18",
        heavy: false,
        pause_depth: None,
        go: true,
    },
    Workload {
        key: "bt21",
        title: "binary-trees depth 21",
        heavy: true,
        pause_depth: None,
        go: true,
    },
    Workload {
        key: "graph",
        title: "random graph, 1 M operations",
        heavy: false,
        pause_depth: None,
        go: true,
    },
    Workload {
        key: "list",
        title: "linked list, 1 M nodes x 5",
        heavy: false,
        pause_depth: None,
        go: true,
    },
    Workload {
        key: "churn",
        title: "churn, 2 threads x 40,000 trees of 127 nodes",
        heavy: false,
        pause_depth: None,
        go: true,
    },
    Workload {
        key: "pause18",
        title: "pauses, live tree of 0.5 M nodes",
        heavy: true,
        pause_depth: Some(18),
        go: true,
    },
    Workload {
        key: "pause20",
        title: "pauses, live tree of 2 M nodes",
        heavy: true,
        pause_depth: Some(20),
        go: true,
    },
    Workload {
        key: "pause22",
        title: "pauses, live tree of 8 M nodes",
        heavy: true,
        pause_depth: Some(22),
        go: true,
    },
];

/// Sizes: (binary-trees 18, binary-trees 21, graph ops, list nodes, list rounds, churn trees,
/// pause seconds, pause depth shift).
struct Sizes {
    bt18: u32,
    bt21: u32,
    graph_ops: usize,
    list_nodes: usize,
    list_rounds: u32,
    churn_trees: usize,
    pause_secs: f64,
    pause_shift: u32,
}

const FULL: Sizes = Sizes {
    bt18: 18,
    bt21: 21,
    graph_ops: 1_000_000,
    list_nodes: 1_000_000,
    list_rounds: 5,
    churn_trees: 40_000,
    pause_secs: 1.5,
    pause_shift: 0,
};

const QUICK: Sizes = Sizes {
    bt18: 10,
    bt21: 12,
    graph_ops: 10_000,
    list_nodes: 10_000,
    list_rounds: 2,
    churn_trees: 200,
    pause_secs: 0.05,
    pause_shift: 10,
};

/// What a child measured.
#[derive(Clone, Debug)]
struct Sample {
    nanos: u64,
    checksum: u64,
    /// Pause figures (live objects, max gap, p99.9, p99, steps) for a pause workload.
    pause: Option<[u64; 5]>,
    max_rss_kib: u64,
}

/// The result of one child run.
#[derive(Clone, Debug)]
enum Outcome {
    Ok(Sample),
    Unsupported,
    Failed(String),
}

fn workload(key: &str) -> Workload {
    *WORKLOADS
        .iter()
        .find(|w| w.key == key)
        .unwrap_or_else(|| usage_exit(Some(&format!("unknown workload {key:?}"))))
}

/// The checksum every implementation must return, when known in advance.
fn expected(w: &Workload, s: &Sizes) -> Option<u64> {
    match w.key {
        "bt18" => Some(binary_trees::expected_checksum(s.bt18)),
        "bt21" => Some(binary_trees::expected_checksum(s.bt21)),
        "list" => Some(list::expected_checksum(s.list_nodes, s.list_rounds)),
        "churn" => Some(churn::expected_checksum(s.churn_trees)),
        _ => None,
    }
}

/// Child mode: run one workload on one implementation and print `RESULT ...`.
fn child(imp: Impl, w: Workload, s: &Sizes) {
    let start = Instant::now();
    let (checksum, pause) = match w.key {
        "bt18" => (Some(binary_trees::run(imp, s.bt18)), None),
        "bt21" => (Some(binary_trees::run(imp, s.bt21)), None),
        "graph" => (graph::run(imp, s.graph_ops), None),
        "list" => (Some(list::run(imp, s.list_nodes, s.list_rounds)), None),
        "churn" => (Some(churn::run(imp, s.churn_trees)), None),
        _ => {
            let depth = w.pause_depth.expect("a pause workload") - s.pause_shift;
            match pauses::run(imp, depth, Duration::from_secs_f64(s.pause_secs)) {
                Some(r) => (
                    Some(r.checksum),
                    Some([r.live_objects, r.max_gap_ns, r.p999_ns, r.p99_ns, r.steps]),
                ),
                None => (None, None),
            }
        }
    };
    let nanos = start.elapsed().as_nanos();
    match checksum {
        None => println!("UNSUPPORTED"),
        Some(c) => {
            let extra = pause.map_or(String::new(), |p| {
                p.iter().map(|x| format!(" {x}")).collect::<String>()
            });
            println!("RESULT {nanos} {c}{extra}");
        }
    }
}

/// Runs `cmd` as a child with a time limit; returns its exit description, stdout, stderr and
/// peak resident memory.
fn run_child(
    mut cmd: Command,
    timeout: Duration,
    tag: &str,
) -> (Result<(), String>, String, String, u64) {
    let dir = std::env::temp_dir();
    let out_path = dir.join(format!("compare-{}-{tag}.out", std::process::id()));
    let err_path = dir.join(format!("compare-{}-{tag}.err", std::process::id()));
    let out = std::fs::File::create(&out_path).expect("temp file");
    let err = std::fs::File::create(&err_path).expect("temp file");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("spawn a child");
    let pid = child.id() as libc::pid_t;
    let deadline = Instant::now() + timeout;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut timed_out = false;
    loop {
        // SAFETY: `pid` is our child, not yet reaped; `status` and `usage` are valid for
        // writes.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert!(r == 0, "wait4 failed");
        if Instant::now() >= deadline && !timed_out {
            timed_out = true;
            // SAFETY: signalling our own unreaped child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(child);
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    let rss = usage.ru_maxrss as u64;
    let exit = if timed_out {
        Err(format!("timeout (>{} s)", timeout.as_secs()))
    } else if stderr.contains("has overflowed its stack")
        || stderr.contains("stack overflow")
        || stderr.contains("goroutine stack exceeds")
    {
        Err("stack overflow".into())
    } else if libc::WIFSIGNALED(status) {
        Err(format!("killed by signal {}", libc::WTERMSIG(status)))
    } else if libc::WEXITSTATUS(status) != 0 {
        let last = stderr
            .lines()
            .find(|l| l.contains("panicked") || l.contains("panic:") || l.contains("error"))
            .unwrap_or("exit status non-zero");
        Err(format!(
            "failed: {}",
            last.chars().take(80).collect::<String>()
        ))
    } else {
        Ok(())
    };
    (exit, stdout, stderr, rss)
}

fn parse_result(stdout: &str) -> Option<(u64, u64, Option<[u64; 5]>)> {
    let line = stdout.lines().find(|l| l.starts_with("RESULT "))?;
    let nums: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let pause = (nums.len() >= 7).then(|| [nums[2], nums[3], nums[4], nums[5], nums[6]]);
    Some((*nums.first()?, *nums.get(1)?, pause))
}

struct Options {
    rounds: usize,
    rounds_heavy: usize,
    only: Option<Vec<String>>,
    impls: Option<Vec<String>>,
    timeout: Duration,
    quick: bool,
    write: bool,
    go: bool,
}

/// What `--help` and a bad option print: the options, and the workloads and implementations
/// there are.
fn usage() -> String {
    let workloads: Vec<&str> = WORKLOADS.iter().map(|w| w.key).collect();
    let impls: Vec<&str> = Impl::ALL.iter().map(|i| i.name()).collect();
    format!(
        "usage: compare [--rounds N] [--rounds-heavy N] [--only w1,w2] [--impls a,b] \
         [--timeout SECONDS]\n               [--quick] [--write | --no-write] [--no-go]\n       \
         compare --one IMPL WORKLOAD\nworkloads: {}\nimplementations: {}\n(and Go, when a go \
         toolchain is on PATH)",
        workloads.join(" "),
        impls.join(" ")
    )
}

/// Ends the program with `problem` and the usage (exit status 2), or the usage alone for help.
fn usage_exit(problem: Option<&str>) -> ! {
    match problem {
        Some(p) => {
            eprintln!("compare: {p}\n{}", usage());
            std::process::exit(2)
        }
        None => {
            println!("{}", usage());
            std::process::exit(0)
        }
    }
}

fn parse_options(args: &[String]) -> Options {
    let mut o = Options {
        rounds: 3,
        rounds_heavy: 1,
        only: None,
        impls: None,
        timeout: Duration::from_secs(60),
        quick: false,
        write: true,
        go: true,
    };
    let mut it = args.iter();
    let list = |s: Option<&String>, what: &str| -> Vec<String> {
        let Some(s) = s else {
            usage_exit(Some(&format!("{what} needs a comma-separated list")))
        };
        s.split(',').map(str::to_owned).collect()
    };
    let number = |s: Option<&String>, what: &str| -> u64 {
        s.and_then(|x| x.parse().ok())
            .unwrap_or_else(|| usage_exit(Some(&format!("{what} needs a whole number"))))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--rounds" => o.rounds = number(it.next(), "--rounds") as usize,
            "--rounds-heavy" => o.rounds_heavy = number(it.next(), "--rounds-heavy") as usize,
            "--only" => o.only = Some(list(it.next(), "--only")),
            "--impls" => o.impls = Some(list(it.next(), "--impls")),
            "--timeout" => o.timeout = Duration::from_secs(number(it.next(), "--timeout")),
            "--quick" => {
                o.quick = true;
                o.write = false;
                o.rounds = 1;
            }
            "--write" => o.write = true,
            "--no-write" => o.write = false,
            "--no-go" => o.go = false,
            "--help" | "-h" => usage_exit(None),
            other => usage_exit(Some(&format!("unknown option {other:?}"))),
        }
    }
    for w in o.only.iter().flatten() {
        if !WORKLOADS.iter().any(|k| k.key == w) {
            usage_exit(Some(&format!("unknown workload {w:?}")));
        }
    }
    for i in o.impls.iter().flatten() {
        if Impl::from_name(i).is_none() && i != "Go" {
            usage_exit(Some(&format!("unknown implementation {i:?}")));
        }
    }
    o
}

/// Builds the Go program when a toolchain is on `PATH`; `None` otherwise.
fn build_go(bench_dir: &Path) -> Option<(PathBuf, String)> {
    let version = Command::new("go").arg("version").output().ok()?;
    if !version.status.success() {
        return None;
    }
    let out = std::env::temp_dir().join(format!("compare-go-{}", std::process::id()));
    let status = Command::new("go")
        .args(["build", "-o"])
        .arg(&out)
        .arg("bench.go")
        .current_dir(bench_dir.join("go"))
        .env("GO111MODULE", "off")
        .status()
        .ok()?;
    status.success().then(|| {
        (
            out,
            String::from_utf8_lossy(&version.stdout).trim().to_owned(),
        )
    })
}

fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

fn secs(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e9)
}

fn mib(kib: u64) -> String {
    format!("{:.0}", kib as f64 / 1024.0)
}

fn ms(ns: u64) -> String {
    format!("{:.2}", ns as f64 / 1e6)
}

/// One cell of results: samples or the failure that stopped the runs.
#[derive(Default)]
struct Cell {
    samples: Vec<Sample>,
    failure: Option<String>,
    unsupported: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let sizes = if quick { &QUICK } else { &FULL };
    if args.first().map(String::as_str) == Some("--one") {
        let (Some(imp), Some(w)) = (args.get(1), args.get(2)) else {
            usage_exit(Some("--one needs an implementation and a workload"))
        };
        let imp = Impl::from_name(imp)
            .unwrap_or_else(|| usage_exit(Some(&format!("unknown implementation {imp:?}"))));
        child(imp, workload(w), sizes);
        return;
    }
    let opts = parse_options(&args);
    let bench_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = bench_dir.parent().expect("workspace root").to_path_buf();
    let go = if opts.go { build_go(&bench_dir) } else { None };
    let mut runners: Vec<Runner> = Impl::ALL
        .into_iter()
        .filter(|i| {
            opts.impls
                .as_ref()
                .is_none_or(|l| l.iter().any(|n| n == i.name()))
        })
        .map(Runner::Rust)
        .collect();
    if go.is_some()
        && opts
            .impls
            .as_ref()
            .is_none_or(|l| l.iter().any(|n| n == "Go"))
    {
        runners.push(Runner::Go);
    }
    if go.is_none() {
        eprintln!("no go toolchain on PATH (or --no-go): skipping Go");
    }
    let workloads: Vec<Workload> = WORKLOADS
        .iter()
        .copied()
        .filter(|w| {
            opts.only
                .as_ref()
                .is_none_or(|l| l.iter().any(|k| k == w.key))
        })
        .collect();
    let exe = std::env::current_exe().expect("own path");
    let mut cells: HashMap<(&'static str, Runner), Cell> = HashMap::new();
    let total_rounds = opts.rounds.max(opts.rounds_heavy);
    let started = Instant::now();
    for round in 0..total_rounds {
        for w in &workloads {
            let rounds = if w.heavy {
                opts.rounds_heavy
            } else {
                opts.rounds
            };
            if round >= rounds {
                continue;
            }
            for &r in &runners {
                let cell = cells.entry((w.key, r)).or_default();
                if cell.failure.is_some() || cell.unsupported {
                    continue;
                }
                let cmd = match r {
                    Runner::Rust(imp) => {
                        let mut c = Command::new(&exe);
                        c.args(["--one", imp.name(), w.key]);
                        if quick {
                            c.arg("--quick");
                        }
                        c
                    }
                    Runner::Go => {
                        if !w.go {
                            cell.unsupported = true;
                            continue;
                        }
                        let mut c = Command::new(&go.as_ref().expect("built").0);
                        c.arg(w.key);
                        if quick {
                            c.arg("--quick");
                        }
                        c
                    }
                };
                let tag = format!("{}-{}", w.key, r.name());
                let (exit, stdout, _stderr, rss) = run_child(cmd, opts.timeout, &tag);
                let outcome = match exit {
                    Err(e) => Outcome::Failed(e),
                    Ok(()) if stdout.contains("UNSUPPORTED") => Outcome::Unsupported,
                    Ok(()) => match parse_result(&stdout) {
                        None => Outcome::Failed("no result printed".into()),
                        Some((nanos, checksum, pause)) => Outcome::Ok(Sample {
                            nanos,
                            checksum,
                            pause,
                            max_rss_kib: rss,
                        }),
                    },
                };
                let shown = match &outcome {
                    Outcome::Ok(s) => format!("{} s, {} MiB", secs(s.nanos), mib(s.max_rss_kib)),
                    Outcome::Unsupported => "n/a".into(),
                    Outcome::Failed(e) => e.clone(),
                };
                eprintln!(
                    "[{:>5.0} s] round {} {:<8} {:<16} {}",
                    started.elapsed().as_secs_f64(),
                    round + 1,
                    w.key,
                    r.name(),
                    shown
                );
                match outcome {
                    Outcome::Ok(s) => cell.samples.push(s),
                    Outcome::Unsupported => cell.unsupported = true,
                    Outcome::Failed(e) => cell.failure = Some(e),
                }
            }
        }
    }
    // Checksums: every sample of a workload must agree (with the expected value if known).
    for w in &workloads {
        let want = expected(w, sizes).or_else(|| {
            cells
                .get(&(w.key, Runner::Rust(Impl::Rc)))
                .or_else(|| cells.get(&(w.key, Runner::Rust(Impl::GcCore))))
                .and_then(|c| c.samples.first())
                .map(|s| s.checksum)
        });
        if w.pause_depth.is_some() {
            continue; // the checksum depends on the steps done; checked in the child
        }
        for r in &runners {
            if let Some(c) = cells.get_mut(&(w.key, *r)) {
                if let Some(bad) = c.samples.iter().find(|s| Some(s.checksum) != want) {
                    c.failure = Some(format!("wrong checksum {} (want {want:?})", bad.checksum));
                    c.samples.clear();
                }
            }
        }
    }
    let report = render(
        &workloads,
        &runners,
        &mut cells,
        &opts,
        go.as_ref().map(|g| g.1.as_str()),
        started.elapsed(),
    );
    println!("{report}");
    if opts.write {
        write_benchmarks(&root.join("BENCHMARKS.md"), &report);
        let plots = bench_dir.join("plots");
        std::fs::create_dir_all(&plots).expect("plots dir");
        bench::plot::times(
            &plots.join("times.svg"),
            &time_series(&workloads, &runners, &mut cells),
        )
        .expect("times plot");
        bench::plot::pauses(
            &plots.join("pauses.svg"),
            &pause_series(&workloads, &runners, &cells),
        )
        .expect("pauses plot");
        eprintln!("wrote BENCHMARKS.md, bench/plots/times.svg, bench/plots/pauses.svg");
    }
}

/// Median time of a cell, if it has samples.
fn median_nanos(c: &Cell) -> Option<u64> {
    (!c.samples.is_empty())
        .then(|| median(&mut c.samples.iter().map(|s| s.nanos).collect::<Vec<_>>()))
}

fn status(c: Option<&Cell>) -> String {
    match c {
        None => "-".into(),
        Some(c) if c.unsupported => "n/a".into(),
        Some(c) => c.failure.clone().unwrap_or_else(|| "-".into()),
    }
}

fn render(
    workloads: &[Workload],
    runners: &[Runner],
    cells: &mut HashMap<(&'static str, Runner), Cell>,
    opts: &Options,
    go_version: Option<&str>,
    elapsed: Duration,
) -> String {
    let mut s = String::new();
    let arc = Runner::Rust(Impl::Arc);
    let timed: Vec<&Workload> = workloads
        .iter()
        .filter(|w| w.pause_depth.is_none())
        .collect();
    if !timed.is_empty() {
        let _ = writeln!(
            s,
            "### Summary: median time as a ratio to `Arc` (lower is better)\n"
        );
        let _ = write!(s, "| implementation |");
        for w in &timed {
            let _ = write!(s, " {} |", w.key);
        }
        let _ = write!(s, "\n|---|");
        for _ in &timed {
            let _ = write!(s, "---:|");
        }
        s.push('\n');
        for r in runners {
            let _ = write!(s, "| {} |", r.name());
            for w in &timed {
                let base = cells.get(&(w.key, arc)).and_then(median_nanos);
                let cell = cells.get(&(w.key, *r));
                let txt = match (cell.and_then(median_nanos), base) {
                    (Some(t), Some(b)) => format!("{:.2}", t as f64 / b as f64),
                    (Some(t), None) => format!("{} s", secs(t)),
                    _ => status(cell),
                };
                let _ = write!(s, " {txt} |");
            }
            s.push('\n');
        }
        s.push('\n');
    }
    for w in &timed {
        let _ = writeln!(s, "### {} (`{}`)\n", w.title, w.key);
        let _ = writeln!(s, "| implementation | median s | ratio to Arc | min s | max s | runs | peak RSS MiB | RSS ratio to Arc |");
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|");
        let base = cells.get(&(w.key, arc)).and_then(median_nanos);
        let base_rss = cells
            .get(&(w.key, arc))
            .and_then(|c| c.samples.iter().map(|x| x.max_rss_kib).max());
        for r in runners {
            let cell = cells.get(&(w.key, *r));
            match cell.filter(|c| !c.samples.is_empty()) {
                Some(c) => {
                    let t = median_nanos(c).expect("samples");
                    let min = c.samples.iter().map(|x| x.nanos).min().expect("samples");
                    let max = c.samples.iter().map(|x| x.nanos).max().expect("samples");
                    let rss = c
                        .samples
                        .iter()
                        .map(|x| x.max_rss_kib)
                        .max()
                        .expect("samples");
                    let ratio = base.map_or("-".into(), |b| format!("{:.2}", t as f64 / b as f64));
                    let rss_ratio =
                        base_rss.map_or("-".into(), |b| format!("{:.2}", rss as f64 / b as f64));
                    let _ = writeln!(
                        s,
                        "| {} | {} | {} | {} | {} | {} | {} | {} |",
                        r.name(),
                        secs(t),
                        ratio,
                        secs(min),
                        secs(max),
                        c.samples.len(),
                        mib(rss),
                        rss_ratio
                    );
                }
                None => {
                    let _ = writeln!(s, "| {} | {} | | | | | | |", r.name(), status(cell));
                }
            }
        }
        s.push('\n');
    }
    let paused: Vec<&Workload> = workloads
        .iter()
        .filter(|w| w.pause_depth.is_some())
        .collect();
    if !paused.is_empty() {
        let _ = writeln!(s, "### Pauses over a growing live heap\n");
        let _ = writeln!(s, "The mutator replaces one of 1,024 small trees (7 nodes) per step for a fixed time while a live tree is held; a gap is the time between two steps.\n");
        let _ = writeln!(s, "| implementation | live nodes | steps/s (M) | p99 us | p99.9 us | max gap ms | peak RSS MiB |");
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|");
        for r in runners {
            for w in &paused {
                let cell = cells.get(&(w.key, *r));
                if cell.is_some_and(|c| c.unsupported) {
                    continue;
                }
                match cell.and_then(|c| c.samples.first().cloned()) {
                    Some(x) => {
                        let p = x.pause.unwrap_or_default();
                        let _ = writeln!(
                            s,
                            "| {} | {} | {:.1} | {:.1} | {:.1} | {} | {} |",
                            r.name(),
                            p[0],
                            p[4] as f64 / (x.nanos as f64 / 1e9) / 1e6,
                            p[3] as f64 / 1e3,
                            p[2] as f64 / 1e3,
                            ms(p[1]),
                            mib(x.max_rss_kib)
                        );
                    }
                    None => {
                        let _ =
                            writeln!(s, "| {} | {} | {} | | | | |", r.name(), w.key, status(cell));
                    }
                }
            }
        }
        let _ = writeln!(
            s,
            "\n(steps/s counts the whole child run, live-tree build included.)\n"
        );
    }
    let _ = writeln!(s, "### Machine and run\n");
    let _ = writeln!(s, "- {}", machine());
    let _ = writeln!(
        s,
        "- Go: {}",
        go_version.unwrap_or("not installed (skipped)")
    );
    let _ = writeln!(
        s,
        "- rounds: {} ({} for bt21 and the pause runs), implementations alternated within each round; per-run time limit {} s; whole comparison took {:.0} s",
        opts.rounds,
        opts.rounds_heavy,
        opts.timeout.as_secs(),
        elapsed.as_secs_f64()
    );
    s
}

fn command_output(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| format!("({cmd} unavailable)"))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = command_output("free", &["-h"])
        .lines()
        .find(|l| l.starts_with("Mem:"))
        .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    format!(
        "CPU: {cpu}; nproc: {nproc}; memory (free -h, total): {mem}; {}",
        command_output("rustc", &["--version"])
    )
}

const BEGIN: &str =
    "<!-- compare:begin (generated by `cargo run --release -p bench --bin compare`) -->";
const END: &str = "<!-- compare:end -->";

/// Replaces the generated part of `BENCHMARKS.md` (between the markers), keeping the rest.
fn write_benchmarks(path: &Path, report: &str) {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let generated = format!("{BEGIN}\n\n{report}\n{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => format!("{}{generated}{}", &old[..b], &old[e + END.len()..]),
        _ => format!("# Benchmarks\n\n{generated}\n"),
    };
    std::fs::write(path, new).expect("write BENCHMARKS.md");
}

fn time_series(
    workloads: &[Workload],
    runners: &[Runner],
    cells: &mut HashMap<(&'static str, Runner), Cell>,
) -> bench::plot::Bars {
    let arc = Runner::Rust(Impl::Arc);
    let groups: Vec<String> = workloads
        .iter()
        .filter(|w| w.pause_depth.is_none())
        .map(|w| w.key.to_owned())
        .collect();
    let series = runners
        .iter()
        .map(|r| {
            let values = workloads
                .iter()
                .filter(|w| w.pause_depth.is_none())
                .map(|w| {
                    let base = cells.get(&(w.key, arc)).and_then(median_nanos)?;
                    let t = cells.get(&(w.key, *r)).and_then(median_nanos)?;
                    Some(t as f64 / base as f64)
                })
                .collect();
            (r.name().to_owned(), values)
        })
        .collect();
    bench::plot::Bars { groups, series }
}

fn pause_series(
    workloads: &[Workload],
    runners: &[Runner],
    cells: &HashMap<(&'static str, Runner), Cell>,
) -> Vec<bench::plot::Line> {
    runners
        .iter()
        .filter_map(|r| {
            let points: Vec<(f64, f64, f64)> = workloads
                .iter()
                .filter(|w| w.pause_depth.is_some())
                .filter_map(|w| {
                    let s = cells.get(&(w.key, *r))?.samples.first()?;
                    let p = s.pause?;
                    Some((p[0] as f64, p[1] as f64 / 1e6, p[2] as f64 / 1e6))
                })
                .collect();
            (!points.is_empty()).then(|| bench::plot::Line {
                name: r.name().to_owned(),
                points,
            })
        })
        .collect()
}
