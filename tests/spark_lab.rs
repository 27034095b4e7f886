//! The Spark lab on real Spark (PySpark 4.2.0 in the venv that
//! `tests/python-venv.sh` makes, `~/.cache/datalab/venv` or
//! `$DATALAB_VENV`): the reference solution passes every step and the
//! starter fails every step, each for its own reason, through the real
//! runner, `datalab spark submit` and Spark's event log. One Spark run per
//! step and workspace. Steps 4 and 5 stream from and to the shared native
//! Kafka (tests/common), in a namespace of their own. A missing PySpark is
//! a failure, not a skip.

mod common;

use datalab_content::{Lab, LabDef};
use datalab_engine::lab::{RunOptions, StepResult, run_step};
use datalab_services::Namespace;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn load() -> Lab {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(Path::new(root).join("labs/spark/lab.yaml")).unwrap();
    let def: LabDef = match serde_saphyr::from_str(&text) {
        Ok(d) => d,
        Err(e) => panic!("labs/spark/lab.yaml: {e}"),
    };
    Lab {
        id: "spark".into(),
        def,
        content: datalab_content::Content::disk(root),
    }
}

fn venv() -> PathBuf {
    std::env::var_os("DATALAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::cache_dir().join("venv"))
}

/// PySpark must be there: run tests/python-venv.sh (tests/run-all.sh does).
fn require_pyspark() {
    let spark_submit = venv().join("bin/spark-submit");
    assert!(
        spark_submit.is_file(),
        "{} is missing: run `bash tests/python-venv.sh` (it installs labs/spark/starter/requirements.txt) or `datalab spark install`",
        spark_submit.display()
    );
}

/// Every step of the lab with `files` (solution/ or starter/) as the
/// learner's workspace.
fn run_all(files: &str) -> Vec<StepResult> {
    run_steps(files, |_| {}, 0..usize::MAX, Vec::new())
}

/// A namespace of this test's own on the shared broker.
fn unique_ns(tag: &str) -> Namespace {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    Namespace::for_learner(&format!("t{}_{tag}_{t}", std::process::id()))
}

/// The steps in `steps` with `files` as the workspace, changed by `change`,
/// with extra environment for the step commands.
fn run_steps(
    files: &str,
    change: impl FnOnce(&Path),
    steps: std::ops::Range<usize>,
    env: Vec<(String, String)>,
) -> Vec<StepResult> {
    require_pyspark();
    common::put_datalab_on_path();

    let lab = load();
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    datalab_engine::lab::prepare_workspace(&lab, &ws).unwrap();
    lab.content
        .extract_dir(&format!("labs/spark/{files}"), &ws, true)
        .unwrap();
    change(&ws);
    let data = datalab_engine::lab::materialize_data(&lab, &tmp.path().join("data")).unwrap();
    let opts = RunOptions {
        workspace: ws,
        lab_data: data,
        namespace: unique_ns(files),
        services: common::services(),
        check_timeout: Duration::from_secs(10),
        env,
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let end = steps.end.min(lab.def.steps.len());
    (steps.start..end)
        .map(|i| rt.block_on(run_step(&lab, i, &opts)))
        .collect()
}

fn describe(r: &StepResult) -> String {
    let mut s = format!("step {}:", r.step);
    for c in &r.checks {
        s.push_str(&format!(
            "\n  [{:?}] {}: {}",
            c.outcome.status, c.description, c.outcome.message
        ));
    }
    if let Some(cmd) = &r.command {
        let tail: String = cmd.stdout.chars().rev().take(2000).collect();
        let tail: String = tail.chars().rev().collect();
        s.push_str(&format!(
            "\n  command exit {:?}, stdout tail: {tail}",
            cmd.status
        ));
    }
    s
}

fn message<'a>(r: &'a StepResult, kind: &str) -> &'a str {
    let c = r.checks.iter().find(|c| c.kind == kind);
    &c.unwrap_or_else(|| panic!("no {kind} check: {}", describe(r)))
        .outcome
        .message
}

#[test]
fn the_solution_passes_every_step() {
    let results = run_all("solution");
    assert_eq!(results.len(), 5);
    for r in &results {
        assert!(r.passed(), "{}", describe(r));
    }
    // The cache step shows every action with the time Spark logged.
    let cache = message(&results[1], "spark_cache");
    assert!(cache.contains("read from the cache"), "{cache}");
    assert!(cache.contains(" s"), "{cache}");
    let shuffle = message(&results[2], "spark_shuffle");
    assert!(shuffle.contains("hashpartitioning(country"), "{shuffle}");
    // The restart read the new orders only, from the checkpoint.
    let restart = message(&results[4], "spark_stream_windows");
    assert!(
        restart.contains("2 batch(es) with new records"),
        "{restart}"
    );
}

/// Each starter step fails for the reason the step is about.
#[test]
fn the_starter_fails_every_step_with_its_reason() {
    let results = run_all("starter");
    for r in &results {
        assert!(!r.passed(), "the starter passes {}", describe(r));
        assert!(!r.errored(), "a check errored: {}", describe(r));
        let failed = r.checks.iter().find(|c| !c.outcome.passed()).unwrap();
        assert!(failed.outcome.file.is_some(), "{}", describe(r));
    }
    // Step 1's script raises: the failed job's own traceback is quoted.
    let wc = message(&results[0], "spark_output");
    assert!(wc.contains("the Spark job failed"), "{wc}");
    assert!(wc.contains("NotImplementedError: step 1"), "{wc}");
    // Step 2 runs, but nothing is cached.
    let cache = message(&results[1], "spark_cache");
    assert!(cache.contains("nothing was cached"), "{cache}");
    // Step 3 writes the orders unjoined: wrong result, and no shuffle.
    assert!(message(&results[2], "spark_output").contains("missing"));
    let shuffle = message(&results[2], "spark_shuffle");
    assert!(shuffle.contains("has no Exchange"), "{shuffle}");
    // Step 4's script raises; step 5 runs it again.
    let stream = message(&results[3], "spark_stream_windows");
    assert!(stream.contains("NotImplementedError: step 4"), "{stream}");
}

/// A broker that does not answer: the step's script stops at its first
/// `datalab kafka` command, before Spark starts, and the check quotes it.
#[test]
fn a_missing_broker_is_named() {
    let env = vec![(
        "DATALAB_KAFKA_BOOTSTRAP".to_string(),
        "127.0.0.1:9".to_string(),
    )];
    let r = &run_steps("solution", |_| {}, 3..4, env)[0];
    assert!(!r.passed(), "{}", describe(r));
    let msg = message(r, "spark_stream_windows");
    assert!(msg.contains("the Spark job failed"), "{msg}");
    assert!(msg.contains("127.0.0.1:9"), "{msg}");
}

/// A checkpoint folder that is a file: Spark's own error is quoted.
#[test]
fn a_bad_checkpoint_folder_is_named() {
    let change = |ws: &Path| {
        std::fs::create_dir_all(ws.join("checkpoints")).unwrap();
        std::fs::write(ws.join("checkpoints/order-counts"), "not a folder\n").unwrap();
        let script = ws.join("05_restart.sh");
        let text = std::fs::read_to_string(&script).unwrap();
        std::fs::write(&script, text.replace("sh produce_orders.sh 30\n", "")).unwrap();
    };
    let r = &run_steps("solution", change, 4..5, Vec::new())[0];
    assert!(!r.passed(), "{}", describe(r));
    let msg = message(r, "spark_stream_windows");
    assert!(msg.contains("the Spark job failed"), "{msg}");
    assert!(msg.contains("checkpoints/order-counts"), "{msg}");
    assert!(msg.contains("not a directory"), "{msg}");
}

/// Without PySpark, `datalab spark submit` says how to get it (no JVM).
#[test]
fn submit_without_pyspark_says_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("job.py"), "print('hi')\n").unwrap();
    let out = common::output_within(
        Command::new(common::datalab_bin())
            .current_dir(dir.path())
            .env("DATALAB_VENV", dir.path().join("no-venv"))
            .args(["spark", "submit", "job.py"]),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("PySpark is not installed") && err.contains("datalab spark install"),
        "{err}"
    );
}

/// The lab's data is the MapReduce lab's, byte for byte: the word count
/// is judged against the MapReduce lab's answer.
#[test]
fn the_data_is_the_mapreduce_labs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("labs");
    let kafka = std::fs::read(root.join("kafka/data/orders.jsonl")).unwrap();
    assert_eq!(
        std::fs::read(root.join("spark/data/orders.jsonl")).unwrap(),
        kafka
    );
    for dir in ["corpus", "shop"] {
        for e in std::fs::read_dir(root.join("spark/data").join(dir)).unwrap() {
            let e = e.unwrap();
            let theirs = root.join("mapreduce/data").join(dir).join(e.file_name());
            assert_eq!(
                std::fs::read(e.path()).unwrap(),
                std::fs::read(&theirs).unwrap(),
                "{}",
                e.path().display()
            );
        }
    }
}
