//! The MapReduce engine: correctness on random input (a property), and the
//! messages of the ways a job goes wrong. Mappers and reducers are small
//! shell/awk commands.

use datalab_mapreduce::{Counters, JobConfig, partition_of, run_job};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Words are runs of ASCII letters, lower-cased.
const MAPPER: &str = r#"tr -cs 'A-Za-z' '\n' | tr 'A-Z' 'a-z' | awk 'NF { print $0 "\t" 1 }'"#;
/// A streaming reducer: it relies on its input being sorted by key.
const REDUCER: &str = r#"awk -F'\t' '$1 != k { if (NR > 1) print k "\t" n; k = $1; n = 0 } { n += $2 } END { if (NR > 0) print k "\t" n }'"#;

fn reference(text: &str) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for w in text.split(|c: char| !c.is_ascii_alphabetic()) {
        if !w.is_empty() {
            *m.entry(w.to_ascii_lowercase()).or_default() += 1;
        }
    }
    m
}

/// Read the part files; check each is sorted and holds only its partition's
/// keys, and no key is written twice.
fn read_parts(dir: &Path, reducers: usize) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for p in 0..reducers {
        let text = std::fs::read_to_string(dir.join(format!("part-{p:05}"))).unwrap();
        let mut prev: Option<String> = None;
        for line in text.lines() {
            let (k, v) = line.split_once('\t').expect("key<TAB>value");
            assert_eq!(partition_of(k.as_bytes(), reducers), p, "{k} in part {p}");
            if let Some(pr) = &prev {
                assert!(pr.as_str() < k, "part {p} not sorted: {pr} then {k}");
            }
            prev = Some(k.to_string());
            assert!(out.insert(k.to_string(), v.parse().unwrap()).is_none());
        }
    }
    assert!(dir.join("_SUCCESS").exists());
    assert!(!dir.join(format!("part-{reducers:05}")).exists());
    out
}

fn no_event(_: &datalab_mapreduce::Event) {}

fn counters(dir: &Path) -> Counters {
    serde_json::from_str(&std::fs::read_to_string(dir.join("_COUNTERS.json")).unwrap()).unwrap()
}

fn text_strategy() -> impl Strategy<Value = String> {
    // Letters (some capitals), spaces, punctuation and newlines, so words,
    // empty lines and lines of separators all happen.
    proptest::collection::vec(
        prop_oneof![
            8 => proptest::sample::select(vec!["a", "b", "ab", "ba", "abc", "data", "map", "Map", "x"]),
            3 => Just(" "),
            1 => Just("\n"),
            1 => proptest::sample::select(vec![",", ".", "  ", "\n\n", "-", "Z"]),
        ],
        0..600,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn word_count_equals_the_reference(
        texts in proptest::collection::vec(text_strategy(), 1..4),
        reducers in 1usize..=5,
        split_size in prop_oneof![Just(1u64), 2u64..64, 64u64..4096, Just(1u64 << 30)],
        combiner in any::<bool>(),
        tiny_memory in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in");
        std::fs::create_dir(&input).unwrap();
        let mut all = String::new();
        for (i, t) in texts.iter().enumerate() {
            std::fs::write(input.join(format!("t{i}.txt")), t).unwrap();
            all.push_str(t);
            all.push('\n');
        }
        let out = dir.path().join("out");
        let mut cfg = JobConfig::new(vec![input], MAPPER, REDUCER, &out);
        cfg.reducers = reducers;
        cfg.split_size = Some(split_size);
        cfg.parallelism = 2;
        if combiner {
            cfg.combiner = Some(REDUCER.to_string());
        }
        if tiny_memory {
            cfg.memory = 1024;
        }
        // Events go through their JSON form, as the TUI reads them.
        let log = std::sync::Mutex::new(datalab_mapreduce::events::EventLog::default());
        let report = run_job(&cfg, &|e| {
            let line = datalab_mapreduce::events::EventLine { job: "j".into(), at_ms: 0, event: e.clone() };
            log.lock().unwrap().feed(&(serde_json::to_string(&line).unwrap() + "\n"));
        })
        .unwrap();
        let log = log.into_inner().unwrap();
        prop_assert_eq!(&log.last().unwrap().counters, &report.counters);
        prop_assert_eq!(log.last().unwrap().reduces.done, reducers);
        let want = reference(&all);
        prop_assert_eq!(read_parts(&out, reducers), want.clone());
        let c = &report.counters;
        let words: u64 = want.values().sum();
        prop_assert_eq!(c.map_output_records, words);
        prop_assert_eq!(c.reduce_output_records, want.len() as u64);
        prop_assert_eq!(c.reduce_input_groups, want.len() as u64);
        if combiner {
            prop_assert_eq!(c.combine_input_records, words);
            prop_assert_eq!(c.reduce_input_records, c.combine_output_records);
        } else {
            prop_assert_eq!(c.reduce_input_records, words);
        }
        prop_assert_eq!(&counters(&out), c);
        // Nothing is left beside the output.
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        prop_assert_eq!(left.len(), 2, "{:?}", left);
    }
}

/// Enough spills to need merge passes (more than 64 segments per partition).
#[test]
fn many_spills_are_merged_in_passes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.txt");
    let mut text = String::new();
    let word = |i: usize| -> String {
        [
            (b'a' + (i % 26) as u8) as char,
            (b'a' + (i / 26 % 26) as u8) as char,
        ]
        .iter()
        .collect()
    };
    for i in 0..6000 {
        text.push_str(&format!("{} and {} words\n", word(i % 97), word(i % 13)));
    }
    std::fs::write(&input, &text).unwrap();
    let out = dir.path().join("out");
    let mut cfg = JobConfig::new(vec![input], MAPPER, REDUCER, &out);
    cfg.memory = 1024;
    cfg.reducers = 1;
    cfg.parallelism = 1;
    let r = run_job(&cfg, &no_event).unwrap();
    assert_eq!(read_parts(&out, 1), reference(&text));
    // Map-side runs plus at least one merge pass.
    assert!(
        r.counters.spilled_records > r.counters.map_output_records,
        "{:?}",
        r.counters
    );
}

fn datalab(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_datalab"))
        .arg("mapreduce")
        .arg("run")
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

/// `datalab mapreduce run --input in.txt --mapper M --reducer R EXTRA…` in `w`.
fn job(w: &Path, mapper: &str, reducer: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "--input",
        "in.txt",
        "--mapper",
        mapper,
        "--reducer",
        reducer,
    ];
    args.extend_from_slice(extra);
    datalab(&args, w)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "the cat\nthe hat\n").unwrap();
    let p = dir.path().to_path_buf();
    (dir, p)
}

#[test]
fn a_failing_mapper_is_retried_then_the_job_names_task_split_and_stderr() {
    let (_d, w) = setup();
    let o = job(
        &w,
        "echo reading line 1 >&2; echo 'ValueError: bad record' >&2; exit 3",
        "cat",
        &["--output", "out"],
    );
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("map task 0 on split in.txt bytes 0-16 failed"),
        "{e}"
    );
    assert!(e.contains("3 attempts"), "{e}");
    assert!(e.contains("exited with status 3"), "{e}");
    assert!(e.contains("ValueError: bad record"), "{e}");
    assert_eq!(e.matches("retrying").count(), 2, "{e}");
    assert!(!w.join("out").exists());
    // No working folder is left behind.
    let left: Vec<_> = std::fs::read_dir(&w)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

#[test]
fn a_mapper_failing_once_succeeds_on_retry() {
    let (_d, w) = setup();
    let o = job(
        &w,
        "if [ ! -e tried ]; then touch tried; exit 1; fi; awk '{print $1 \"\\t\" $2}'",
        "cat",
        &["--output", "out", "--reducers", "1", "--json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["counters"]["failed_attempts"], 1);
    assert_eq!(
        std::fs::read_to_string(w.join("out/part-00000")).unwrap(),
        "the\tcat\nthe\that\n"
    );
}

#[test]
fn a_failing_reducer_names_its_partition() {
    let (_d, w) = setup();
    let o = job(
        &w,
        "awk '{print $1 \"\\t\" $2}'",
        "cat >/dev/null; echo 'reducer exploded' >&2; exit 2",
        &["--reducers", "1", "--max-attempts", "1", "--output", "out"],
    );
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("reduce task 0 (partition 0: 2 records"), "{e}");
    assert!(e.contains("reducer exploded"), "{e}");
    assert!(!e.contains("attempts"), "{e}");
}

#[test]
fn malformed_mapper_lines_are_counted_or_fail_with_strict() {
    let (_d, w) = setup();
    let mapper = "sed 's/ /=/'";
    let o = job(&w, mapper, "cat", &["--output", "out", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let e = stderr(&o);
    assert!(
        e.contains("2 line(s) of mapper or combiner output had no tab"),
        "{e}"
    );
    assert!(e.contains("\"the=cat\""), "{e}");
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["counters"]["malformed_records"], 2);
    assert_eq!(report["counters"]["map_output_records"], 0);

    let o = job(&w, mapper, "cat", &["--output", "out2", "--strict"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("map task 0 on split in.txt bytes 0-16 failed"),
        "{e}"
    );
    assert!(e.contains("without a tab: \"the=cat\""), "{e}");
    assert!(
        !e.contains("retrying"),
        "strict failures are not retried: {e}"
    );
    assert!(!w.join("out2").exists());
}

#[test]
fn an_unreadable_input_is_a_usage_error() {
    let (_d, w) = setup();
    let o = datalab(
        &[
            "--input",
            "in.txt",
            "missing.txt",
            "--mapper",
            "cat",
            "--reducer",
            "cat",
            "--output",
            "out",
        ],
        &w,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot read the input missing.txt: it does not exist"),
        "{}",
        stderr(&o)
    );
    assert!(!w.join("out").exists());

    // Permissions do not stop root, so this half only runs as another user.
    if unsafe { libc::geteuid() } != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(w.join("secret.txt"), "x\n").unwrap();
        std::fs::set_permissions(w.join("secret.txt"), std::fs::Permissions::from_mode(0o000))
            .unwrap();
        let o = datalab(
            &[
                "--input",
                "secret.txt",
                "--mapper",
                "cat",
                "--reducer",
                "cat",
                "--output",
                "out",
            ],
            &w,
        );
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("cannot read the input secret.txt: permission denied"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn an_existing_output_is_refused_unless_overwrite_and_kept_when_a_job_fails() {
    let (_d, w) = setup();
    std::fs::create_dir(w.join("out")).unwrap();
    std::fs::write(w.join("out/keep.txt"), "mine").unwrap();
    let o = job(&w, "cat", "cat", &["--output", "out"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("the output folder out already exists; pass --overwrite"),
        "{}",
        stderr(&o)
    );
    // A failing job with --overwrite leaves the old folder as it was.
    let o = job(
        &w,
        "exit 1",
        "cat",
        &["--output", "out", "--overwrite", "--max-attempts", "1"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(w.join("out/keep.txt")).unwrap(),
        "mine"
    );
    // A good one replaces it.
    let o = job(
        &w,
        "awk '{print $1 \"\\t\" $2}'",
        "cat",
        &["--output", "out", "--overwrite", "--reducers", "3"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!w.join("out/keep.txt").exists());
    assert!(w.join("out/_SUCCESS").exists());
    assert!(w.join("out/part-00002").exists());
    let left: Vec<_> = std::fs::read_dir(&w)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[test]
fn bad_sizes_are_usage_errors() {
    let (_d, w) = setup();
    let o = job(&w, "cat", "cat", &["--memory", "lots"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not a size"), "{}", stderr(&o));
    let o = job(&w, "cat", "cat", &["--reducers", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--reducers must be at least 1"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn mappers_know_their_input_file() {
    let (_d, w) = setup();
    std::fs::create_dir(w.join("docs")).unwrap();
    std::fs::write(w.join("docs/a.txt"), "x\n").unwrap();
    std::fs::write(w.join("docs/b.txt"), "y\n").unwrap();
    std::fs::write(w.join("docs/_ignored.txt"), "z\n").unwrap();
    let o = datalab(
        &[
            "--input",
            "docs",
            "--mapper",
            "while read l; do printf '%s\\t%s\\n' \"$l\" \"$(basename $mapreduce_map_input_file)\"; done",
            "--reducer",
            "cat",
            "--reducers",
            "1",
            "--output",
            "out",
        ],
        &w,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(w.join("out/part-00000")).unwrap(),
        "x\ta.txt\ny\tb.txt\n"
    );
}

/// `datalab mapreduce run` with `DATALAB_MAPREDUCE_EVENTS` set appends its
/// events as JSON lines; folded back they describe a finished job whose
/// counters are the job's own. A second job in the same file is told apart.
#[test]
fn the_events_file_follows_jobs_and_ends_with_their_counters() {
    use datalab_mapreduce::events::{EVENTS_ENV, EventLog, Outcome, PhaseState};
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("labs/mapreduce/data/corpus");
    let events = w.join("events.jsonl");
    let run = |out: &str, combiner: bool| {
        let mut args = vec![
            "--input".to_string(),
            corpus.display().to_string(),
            "--mapper".into(),
            MAPPER.into(),
            "--reducer".into(),
            REDUCER.into(),
            "--reducers".into(),
            "3".into(),
            "--split-size".into(),
            "16K".into(),
            "--output".into(),
            out.into(),
            "--json".into(),
        ];
        if combiner {
            args.extend(["--combiner".to_string(), REDUCER.to_string()]);
        }
        let o = Command::new(env!("CARGO_BIN_EXE_datalab"))
            .args(["mapreduce", "run"])
            .args(&args)
            .env(EVENTS_ENV, &events)
            .current_dir(w)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        serde_json::from_value::<Counters>(report["counters"].clone()).unwrap()
    };
    let first = run("out1", true);
    let second = run("out2", false);

    let mut log = EventLog::default();
    log.feed(&std::fs::read_to_string(&events).unwrap());
    assert_eq!(log.bad_lines, 0);
    assert_eq!(log.jobs.len(), 2, "{:#?}", log.jobs);
    for (job, want, combiner, out) in [
        (&log.jobs[0], &first, true, "out1"),
        (&log.jobs[1], &second, false, "out2"),
    ] {
        assert_eq!(job.outcome, Outcome::Succeeded);
        assert_eq!(&job.counters, want);
        assert_eq!(job.output, out);
        assert_eq!(job.combiner, combiner);
        assert!(
            job.phases.iter().all(|p| matches!(p, PhaseState::Done(_))),
            "{:?}",
            job.phases
        );
        assert!(want.map_tasks > 1, "several splits: {want:?}");
        assert_eq!(job.maps.total as u64, want.map_tasks);
        assert_eq!(job.maps.done as u64, want.map_tasks);
        assert_eq!(job.reduces.done, 3);
        assert!(job.maps.running.is_empty() && job.reduces.running.is_empty());
        assert_eq!(job.maps.bytes_read, want.map_input_bytes);
        assert_eq!(job.reduces.bytes_read, want.shuffle_bytes);
        // The sum of the tasks' counters (what is shown while the job runs)
        // agrees with the job's counters on every task count.
        assert!(want.combine_input_records > 0 || !combiner);
    }
    assert_ne!(log.jobs[0].job, log.jobs[1].job);
}

/// The event stream of an in-process job folds into the same counters the
/// job reports, whatever the reducers, split size and combiner.
#[test]
fn folded_events_match_the_report() {
    use datalab_mapreduce::events::{EventLine, EventLog, Outcome};
    for (reducers, split, combiner) in [(1, 7, false), (4, 64, true), (2, 1 << 20, true)] {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.txt");
        std::fs::write(&input, "a b c a\nb a\n\nmap reduce map\n".repeat(20)).unwrap();
        let mut cfg = JobConfig::new(vec![input], MAPPER, REDUCER, dir.path().join("out"));
        cfg.reducers = reducers;
        cfg.split_size = Some(split);
        cfg.parallelism = 2;
        if combiner {
            cfg.combiner = Some(REDUCER.into());
        }
        let log = std::sync::Mutex::new(EventLog::default());
        let report = run_job(&cfg, &|e| {
            let line = EventLine {
                job: "j".into(),
                at_ms: 0,
                event: e.clone(),
            };
            let text = serde_json::to_string(&line).unwrap();
            log.lock().unwrap().feed(&format!("{text}\n"));
        })
        .unwrap();
        let log = log.into_inner().unwrap();
        assert_eq!(log.bad_lines, 0);
        let job = log.last().unwrap();
        assert_eq!(job.outcome, Outcome::Succeeded);
        assert_eq!(job.counters, report.counters);
        assert_eq!(job.maps.done as u64, report.counters.map_tasks);
        assert_eq!(job.reduces.done, reducers);
    }
}

fn pids_in(file: &Path) -> Vec<i32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Alive and not a zombie waiting for a parent to reap it.
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Ctrl-C (SIGINT) on a running job: exit 130 with one line, every task
/// process (and what it started) killed, no working folder left.
#[test]
fn sigint_stops_the_job_kills_its_tasks_and_leaves_nothing_behind() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    let input = w.join("in");
    std::fs::create_dir(&input).unwrap();
    for i in 0..4 {
        std::fs::write(
            input.join(format!("f{i}.txt")),
            "some words here\n".repeat(500),
        )
        .unwrap();
    }
    // Each mapper records its shell and a grandchild, then takes minutes.
    let mapper = "sleep 300 & echo $$ $! >> pids; cat >/dev/null; wait";
    let reducer = "echo $$ >> rpids; cat >/dev/null";
    let mut child = Command::new(env!("CARGO_BIN_EXE_datalab"))
        .args(["mapreduce", "run", "--input", "in", "--mapper", mapper])
        .args(["--reducer", reducer, "--reducers", "2", "--parallel", "2"])
        .args(["--output", "out"])
        .current_dir(w)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while pids_in(&w.join("pids")).len() < 4 || pids_in(&w.join("rpids")).len() < 2 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the mappers did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let tasks: Vec<i32> = pids_in(&w.join("pids"))
        .into_iter()
        .chain(pids_in(&w.join("rpids")))
        .collect();
    assert!(tasks.iter().all(|&p| alive(p)));
    let work: Vec<_> = std::fs::read_dir(w)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".out.datalab-"))
        .collect();
    assert_eq!(
        work.len(),
        1,
        "the job's working folder exists while it runs"
    );

    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let t = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the job did not stop within 20s of SIGINT");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(130), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("interrupted"), "{err}");
    let left: Vec<String> = std::fs::read_dir(w)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !left.iter().any(|n| n.contains("datalab-") || n == "out"),
        "{left:?}"
    );
    // Killing is immediate, but the reparented processes may take a moment
    // to be reaped.
    let t = std::time::Instant::now();
    while tasks.iter().any(|&p| alive(p)) && t.elapsed() < std::time::Duration::from_secs(5) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let alive_now: Vec<i32> = tasks.iter().copied().filter(|&p| alive(p)).collect();
    assert!(alive_now.is_empty(), "task processes left: {alive_now:?}");
}
