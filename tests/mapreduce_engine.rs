//! The MapReduce engine: correctness on random input (a property), and the
//! messages of the ways a job goes wrong. Mappers and reducers are small
//! shell/awk commands.

use datalab::mapreduce::{Counters, JobConfig, partition_of, run_job};
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

fn no_event(_: &datalab::mapreduce::Event) {}

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
        let report = run_job(&cfg, &no_event).unwrap();
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
    let o = datalab(
        &[
            "--input",
            "in.txt",
            "--mapper",
            "echo reading line 1 >&2; echo 'ValueError: bad record' >&2; exit 3",
            "--reducer",
            "cat",
            "--output",
            "out",
        ],
        &w,
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
    let o = datalab(
        &[
            "--input",
            "in.txt",
            "--mapper",
            "if [ ! -e tried ]; then touch tried; exit 1; fi; awk '{print $1 \"\\t\" $2}'",
            "--reducer",
            "cat",
            "--output",
            "out",
            "--reducers",
            "1",
            "--json",
        ],
        &w,
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
    let o = datalab(
        &[
            "--input",
            "in.txt",
            "--mapper",
            "awk '{print $1 \"\\t\" $2}'",
            "--reducer",
            "cat >/dev/null; echo 'reducer exploded' >&2; exit 2",
            "--reducers",
            "1",
            "--max-attempts",
            "1",
            "--output",
            "out",
        ],
        &w,
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
    let o = datalab(
        &[
            "--input",
            "in.txt",
            "--mapper",
            mapper,
            "--reducer",
            "cat",
            "--output",
            "out",
            "--json",
        ],
        &w,
    );
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

    let o = datalab(
        &[
            "--input",
            "in.txt",
            "--mapper",
            mapper,
            "--reducer",
            "cat",
            "--output",
            "out2",
            "--strict",
        ],
        &w,
    );
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
    let o = datalab(
        &[
            "--input",
            "in.txt",
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
        stderr(&o).contains("the output folder out already exists; pass --overwrite"),
        "{}",
        stderr(&o)
    );
    // A failing job with --overwrite leaves the old folder as it was.
    let o = datalab(
        &[
            "--input",
            "in.txt",
            "--mapper",
            "exit 1",
            "--reducer",
            "cat",
            "--output",
            "out",
            "--overwrite",
            "--max-attempts",
            "1",
        ],
        &w,
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(w.join("out/keep.txt")).unwrap(),
        "mine"
    );
    // A good one replaces it.
    let o = datalab(
        &[
            "--input",
            "in.txt",
            "--mapper",
            "awk '{print $1 \"\\t\" $2}'",
            "--reducer",
            "cat",
            "--output",
            "out",
            "--overwrite",
            "--reducers",
            "3",
        ],
        &w,
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
    let o = datalab(
        &[
            "--input",
            "in.txt",
            "--mapper",
            "cat",
            "--reducer",
            "cat",
            "--memory",
            "lots",
        ],
        &w,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not a size"), "{}", stderr(&o));
    let o = datalab(
        &[
            "--input",
            "in.txt",
            "--mapper",
            "cat",
            "--reducer",
            "cat",
            "--reducers",
            "0",
        ],
        &w,
    );
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
