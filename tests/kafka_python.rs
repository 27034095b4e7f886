//! The Kafka lab's Python route, for real: the steps the Python templates
//! cover (2, 3, 5, 8) graded through `labs/kafka/solution-python/`
//! (confluent-kafka) against the real broker, with the venv that
//! `tests/python-venv.sh` makes outside the clone (`~/.cache/datalab/venv`,
//! or `$DATALAB_VENV`). A missing venv is a failure, not a skip.

mod common;
#[path = "common/kafka_lab.rs"]
mod kl;

use kl::{assert_fails_with, assert_passes, workspace};
use std::path::PathBuf;
use std::process::Command;

/// The venv's `bin/`, checked to import confluent_kafka.
fn venv_bin() -> PathBuf {
    let venv = std::env::var_os("DATALAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::cache_dir().join("venv"));
    let python = venv.join("bin/python3");
    let ok = Command::new(&python)
        .args(["-c", "import confluent_kafka"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "no Python venv with confluent-kafka at {}: run `bash tests/python-venv.sh` first (tests/run-all.sh does)",
        venv.display()
    );
    venv.join("bin")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_route_passes_the_steps_its_templates_cover() {
    let bin = venv_bin();
    // Console solution first (step 1 and the datalab binary on PATH), then
    // the Python scripts over it.
    let w = workspace("solution", "py");
    datalab_content::Content::disk(env!("CARGO_MANIFEST_DIR"))
        .extract_dir("labs/kafka/solution-python", &w.opts.workspace, true)
        .unwrap();
    // The step commands' `python3` is the venv's.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut parts = vec![bin.clone()];
    parts.extend(std::env::split_paths(&path));
    // SAFETY: set once, before this test's step commands start.
    unsafe { std::env::set_var("PATH", std::env::join_paths(parts).unwrap()) };

    assert_passes(&w.step("topics").await);
    for step in ["keys", "groups", "scaling", "exactly-once"] {
        let r = w.step(step).await;
        assert_passes(&r);
        let out = r
            .command
            .as_ref()
            .map(|c| c.stdout.clone())
            .unwrap_or_default();
        if step != "scaling" {
            assert!(
                out.contains("with confluent-kafka"),
                "step {step} did not run the Python route: {}",
                kl::explain(&r)
            );
        }
        if step == "scaling" {
            let left = kl::processes_of(&w.opts.workspace);
            assert!(left.is_empty(), "Python workers left running: {left:#?}");
            let log = std::fs::read_to_string(w.path("out/worker-1.log")).unwrap_or_default();
            assert!(log.contains("assigned partitions"), "{log}");
        }
    }
    // Running a step again gives the same result (topics re-created, group
    // forgotten).
    assert_passes(&w.step("keys").await);
    assert_passes(&w.step("groups").await);

    // The route can fail: a producer without keys breaks step 2's check.
    let orig = w.edit("python/02_produce.py", "key=order[\"customer\"], ", "");
    assert_fails_with(&w.step("keys").await, "has key none, expected \"c");
    w.restore("python/02_produce.py", &orig);
    // And committing the aborted transaction breaks step 8's.
    w.edit(
        "python/08_transactions.py",
        "producer.abort_transaction(10)",
        "producer.commit_transaction(10)",
    );
    assert_fails_with(
        &w.step("exactly-once").await,
        "a read_committed consumer sees 15 records of payments-tx, expected 10",
    );
}
