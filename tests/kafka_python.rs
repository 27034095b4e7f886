//! The Kafka lab's Python route, for real: the steps the Python templates
//! cover (2, 3, 5, 8) graded through `labs/kafka/solution-python/`
//! (confluent-kafka) against the real broker, and step 11 (exactly-once
//! scoring), Python only, with the venv that `tests/python-venv.sh` makes
//! outside the clone (`~/.cache/datalab/venv`, or `$DATALAB_VENV`). A
//! missing venv is a failure, not a skip.

mod common;
#[path = "common/kafka_lab.rs"]
mod kl;

use datalab_tui::panel::{LabPanel, PanelCtx};
use datalab_tui::panels::kafka::KafkaPanel;
use kl::{assert_fails_with, assert_passes, workspace};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_route_passes_the_steps_its_templates_cover() {
    // Console solution first (step 1 and the datalab binary on PATH), then
    // the Python scripts over it, run by the venv's `python3`.
    let w = workspace("solution", "py");
    kl::python_route(&w);

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

/// Step 11 through its Python route: the reference scorer survives the
/// check's kill; a scorer whose offsets are committed apart from its
/// transactions (the fixture) scores orders twice and fails; the starter's
/// template fails; the check leaves nothing running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_survives_a_kill_only_with_the_offsets_in_the_transaction() {
    let mut w = workspace("solution", "pipe");
    kl::python_route(&w);
    assert_passes(&w.step("topics").await);
    assert_passes(&w.step("keys").await);

    // The TUI's Kafka panel follows the check: it names its events file in
    // the run's environment, as the lab screen asks it when a check starts.
    let mut panel = KafkaPanel::new();
    let (step, _) = w.lab.step("pipeline").unwrap();
    let rt = tokio::runtime::Handle::current();
    let tick = |p: &mut KafkaPanel, w: &kl::Workspace| {
        p.tick(&PanelCtx {
            lab: &w.lab,
            services: &w.opts.services,
            namespace: &w.opts.namespace,
            runtime: &rt,
            workspace: &w.opts.workspace,
            step,
            checking: true,
        })
    };
    tick(&mut panel, &w);
    w.opts.env = panel.run_env();
    assert!(!w.opts.env.is_empty(), "the panel names no events file");

    let t = std::time::Instant::now();
    let r = w.step("pipeline").await;
    assert_passes(&r);
    tick(&mut panel, &w);
    let v = panel.pipeline.clone().expect("a pipeline view");
    assert!(v.killed.is_some(), "{v:?}");
    assert_eq!((v.run, v.scored, v.orders), (2, 120, 120), "{v:?}");
    assert!(v.done.as_ref().is_some_and(|(ok, _)| *ok), "{v:?}");
    w.opts.env.clear();
    eprintln!(
        "step 11 (reference) took {:?}: {}",
        t.elapsed(),
        r.checks[0].outcome.message
    );
    assert!(
        r.checks[0]
            .outcome
            .message
            .contains("none duplicated or missing"),
        "{}",
        kl::explain(&r)
    );
    let left = kl::processes_of(&w.opts.workspace);
    assert!(left.is_empty(), "the scorer left running: {left:#?}");
    let log = std::fs::read_to_string(w.path("out/pipeline-run2.log")).unwrap_or_default();
    assert!(log.contains("with confluent-kafka"), "{log}");

    // Offsets committed apart from the transactions: orders scored twice.
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kafka-pipeline/11_score_offsets_outside.py");
    let reference = std::fs::read_to_string(w.path("python/11_score.py")).unwrap();
    std::fs::copy(&fixture, w.path("python/11_score.py")).unwrap();
    let r = w.step("pipeline").await;
    assert_fails_with(&r, "scored twice");
    assert_eq!(
        r.checks[0].outcome.file.as_deref(),
        Some(std::path::Path::new("python/11_score.py"))
    );
    assert!(kl::processes_of(&w.opts.workspace).is_empty());

    // The starter's template never writes an alert.
    datalab_content::Content::disk(env!("CARGO_MANIFEST_DIR"))
        .extract_dir("labs/kafka/starter/python", &w.path("python"), true)
        .unwrap();
    assert_fails_with(&w.step("pipeline").await, "before the check could kill it");
    w.restore("python/11_score.py", &reference);
}
