//! MapReduce engine figures (prints them; no asserts).
//!
//! ```text
//! cargo bench --bench mapreduce
//! DATALAB_BENCH_MB=50 cargo bench --bench mapreduce   # a smaller input
//! DATALAB_BENCH_MB=0 cargo bench --bench mapreduce    # only the tiny job
//! DATALAB_BENCH_TEXT_ONLY=1 cargo bench --profile dev --bench mapreduce
//!     # only writes the text and prints its path (for benches/spark-wordcount.sh)
//! ```
//!
//! 1. word count on a generated text (200 MB by default, cached under
//!    `target/bench-data/`) with the lab's Python mapper and reducer:
//!    `datalab mapreduce run` vs `cat input | mapper | sort | reducer`, with
//!    `LC_ALL=C sort` and with `sort` in the inherited locale;
//! 2. the fixed overhead of a tiny job (median of 20);
//! 3. the engine's peak RSS (VmHWM) with `--memory 64M` on the big input.
//!
//! Both sides run Python with its default (block) buffering: see main.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_datalab"))
}

/// xorshift64*: deterministic and fast.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// A text of about `mb` MiB: words drawn from a Zipf-like distribution over
/// a 50 000-word vocabulary, 4 to 16 words a line, some capitals and
/// punctuation.
fn generate(path: &Path, mb: u64) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let vocab: Vec<String> = (0..50_000)
        .map(|_| {
            let len = 2 + (rng.next() % 9) as usize;
            (0..len)
                .map(|_| (b'a' + (rng.next() % 26) as u8) as char)
                .collect()
        })
        .collect();
    // Cumulative 1/rank weights.
    let mut cum = Vec::with_capacity(vocab.len());
    let mut total = 0.0f64;
    for r in 0..vocab.len() {
        total += 1.0 / (r as f64 + 1.0);
        cum.push(total);
    }
    let target = mb << 20;
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut written = 0u64;
    while written < target {
        let words = 4 + rng.next() % 13;
        let mut line = String::with_capacity(128);
        for i in 0..words {
            let x = (rng.next() as f64 / u64::MAX as f64) * total;
            let idx = cum.partition_point(|&c| c < x).min(vocab.len() - 1);
            let word = &vocab[idx];
            if i > 0 {
                line.push(' ');
            }
            if rng.next().is_multiple_of(20) {
                line.push_str(&word[..1].to_uppercase());
                line.push_str(&word[1..]);
            } else {
                line.push_str(word);
            }
            if rng.next().is_multiple_of(30) {
                line.push(',');
            }
        }
        line.push_str(".\n");
        written += line.len() as u64;
        w.write_all(line.as_bytes()).unwrap();
    }
    w.flush().unwrap();
}

fn secs(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

fn sh(cmd: &str, dir: &Path) -> Duration {
    let t = Instant::now();
    let st = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(dir)
        .status()
        .expect("sh");
    let d = t.elapsed();
    if !st.success() {
        println!("  (command failed: {cmd})");
    }
    d
}

/// Run a command, sampling its VmHWM (peak RSS) from /proc until it ends.
fn run_sampling_rss(mut cmd: Command) -> (Duration, u64, bool) {
    let t = Instant::now();
    let mut child = cmd.spawn().expect("spawn");
    let status_path = format!("/proc/{}/status", child.id());
    let mut hwm_kb = 0u64;
    let ok = loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            for l in s.lines() {
                if let Some(v) = l.strip_prefix("VmHWM:") {
                    let kb: u64 = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
                    hwm_kb = hwm_kb.max(kb);
                }
            }
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st.success();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (t.elapsed(), hwm_kb, ok)
}

fn sorted_output(dir: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    if dir.is_dir() {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.file_name().to_string_lossy().starts_with("part-") {
                let t = std::fs::read_to_string(e.path()).unwrap();
                lines.extend(t.lines().map(str::to_string));
            }
        }
    } else if let Ok(t) = std::fs::read_to_string(dir) {
        lines.extend(t.lines().map(str::to_string));
    }
    lines.sort();
    lines
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn tiny_job(w: &Path, mapper: &str, reducer: &str) {
    let tiny = w.join("tiny.txt");
    std::fs::write(&tiny, "the quick brown fox\njumps over the lazy dog\n").unwrap();
    for (label, m, r) in [
        ("tr/cat", "tr ' ' '\\t'".to_string(), "cat".to_string()),
        ("python", mapper.to_string(), reducer.to_string()),
    ] {
        let mut runs = Vec::new();
        let mut base = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let st = Command::new(bin())
                .args([
                    "mapreduce",
                    "run",
                    "--quiet",
                    "--overwrite",
                    "--reducers",
                    "1",
                ])
                .arg("--input")
                .arg(&tiny)
                .args(["--mapper", &m, "--reducer", &r, "--output"])
                .arg(w.join("tiny-out"))
                .stdout(Stdio::null())
                .status()
                .unwrap();
            runs.push(t.elapsed());
            assert!(st.success());
            base.push(sh(
                &format!(
                    "cat {} | {m} | LC_ALL=C sort | {r} > /dev/null",
                    tiny.display()
                ),
                w,
            ));
        }
        let (e, b) = (median(runs), median(base));
        println!(
            "tiny job ({label}, 1 reducer), median of 20: engine {:.1} ms, shell pipeline {:.1} ms, engine overhead {:.1} ms",
            e.as_secs_f64() * 1e3,
            b.as_secs_f64() * 1e3,
            (e.as_secs_f64() - b.as_secs_f64()) * 1e3
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    // Python's default on a pipe is block buffering. A PYTHONUNBUFFERED in
    // the environment (this project's build machines set it) makes every
    // `print` of the mapper and reducer a write syscall of its own, on both
    // sides of the comparison (measured: engine 43.5 s, pipeline 52.9 s with
    // it; 15.4 s and 29.7 s without). Both sides run with Python's default
    // unless DATALAB_BENCH_KEEP_ENV=1.
    if std::env::var_os("PYTHONUNBUFFERED").is_some()
        && std::env::var_os("DATALAB_BENCH_KEEP_ENV").is_none()
    {
        println!(
            "PYTHONUNBUFFERED is set here: removed for both sides (Python's default buffering; DATALAB_BENCH_KEEP_ENV=1 keeps it)"
        );
        // SAFETY: first thing in main, before any thread starts.
        unsafe { std::env::remove_var("PYTHONUNBUFFERED") };
    }
    let mb: u64 = std::env::var("DATALAB_BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let data_dir = root().join("target/bench-data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let sol = root().join("labs/mapreduce/solution/wordcount");
    let mapper = format!("python3 {}", sol.join("mapper.py").display());
    let reducer = format!("python3 {}", sol.join("reducer.py").display());
    if mb == 0 {
        let work = tempfile::tempdir_in(&data_dir).unwrap();
        tiny_job(work.path(), &mapper, &reducer);
        return;
    }
    let input = data_dir.join(format!("mapreduce-{mb}M.txt"));
    if !input.exists() {
        let t = Instant::now();
        generate(&input, mb);
        println!("generated {} in {}", input.display(), secs(t.elapsed()));
    }
    if std::env::var_os("DATALAB_BENCH_TEXT_ONLY").is_some() {
        println!("text: {}", input.display());
        return;
    }
    let size = std::fs::metadata(&input).unwrap().len();
    let work = tempfile::tempdir_in(&data_dir).unwrap();
    let w = work.path();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let locale = std::env::var("LC_ALL")
        .or_else(|_| std::env::var("LANG"))
        .unwrap_or_else(|_| "unset".into());
    println!(
        "mapreduce bench: input {:.0} MB, {cores} cores, inherited locale {locale}",
        size as f64 / 1048576.0
    );
    println!("  mapper:  {mapper}\n  reducer: {reducer}");

    // 1. Word count: engine vs pipeline.
    let engine_cmd = format!(
        "{} mapreduce run --quiet --input {} --mapper '{mapper}' --reducer '{reducer}' --output {} --overwrite",
        bin().display(),
        input.display(),
        w.join("engine").display()
    );
    let t_engine = sh(&engine_cmd, w);
    println!(
        "engine (defaults: --reducers 2, --memory 256M, automatic split size): {}",
        secs(t_engine)
    );
    let pipe = |sort: &str, out: &str| {
        format!(
            "cat {} | {mapper} | {sort} | {reducer} > {out}",
            input.display()
        )
    };
    let t_c = sh(&pipe("LC_ALL=C sort", "pipe-c.txt"), w);
    println!(
        "cat | mapper | LC_ALL=C sort | reducer:        {}  (engine is {:.2}x faster)",
        secs(t_c),
        t_c.as_secs_f64() / t_engine.as_secs_f64()
    );
    let t_d = sh(&pipe("sort", "pipe-default.txt"), w);
    println!(
        "cat | mapper | sort | reducer ({locale}):  {}  (engine is {:.2}x faster)",
        secs(t_d),
        t_d.as_secs_f64() / t_engine.as_secs_f64()
    );
    let same = sorted_output(&w.join("engine")) == sorted_output(&w.join("pipe-c.txt"));
    println!("outputs identical: {same}");
    if let Ok(c) = std::fs::read_to_string(w.join("engine/_COUNTERS.json")) {
        let v: serde_json::Value = serde_json::from_str(&c).unwrap();
        println!("engine phase times (ms): {}", v["time"]);
    }

    // 2. Fixed overhead of a tiny job.
    tiny_job(w, &mapper, &reducer);

    // 3. Peak RSS with --memory 64M.
    let mut cmd = Command::new(bin());
    cmd.args([
        "mapreduce",
        "run",
        "--quiet",
        "--overwrite",
        "--memory",
        "64M",
    ])
    .arg("--input")
    .arg(&input)
    .args(["--mapper", &mapper, "--reducer", &reducer, "--output"])
    .arg(w.join("rss"))
    .stdout(Stdio::null());
    let (d, kb, ok) = run_sampling_rss(cmd);
    let spilled = std::fs::read_to_string(w.join("rss/_COUNTERS.json"))
        .ok()
        .and_then(|c| serde_json::from_str::<serde_json::Value>(&c).ok())
        .map(|v| v["spilled_records"].to_string())
        .unwrap_or_default();
    println!(
        "engine with --memory 64M: peak RSS (VmHWM of datalab) {:.1} MB, {} , ok={ok}, spilled records {spilled}",
        kb as f64 / 1024.0,
        secs(d)
    );
}
