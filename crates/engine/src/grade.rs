//! Grading: run every check of a lab (or of every lab) against a workspace
//! and report as text, JSON or JUnit. Uses the check definitions built into
//! the binary (or the instructor's `--content`), never the learner's copy.

use crate::check::Status;
use crate::lab::{LabRun, RunOptions, run_step};
use datalab_content::Lab;
use serde::Serialize;

/// Run all steps of a lab, in order, against one workspace.
pub async fn grade_lab(lab: &Lab, opts: &RunOptions) -> LabRun {
    // Start what the lab needs at most (3 Kafka brokers for a replication
    // step) before the first step: growing the cluster mid-run would start
    // it afresh and lose what earlier steps wrote. Errors surface per step.
    for kind in &lab.def.services {
        let brokers = if *kind == datalab_services::ServiceKind::Kafka {
            lab.max_brokers()
        } else {
            1
        };
        let _ = opts
            .services
            .ensure(*kind, &datalab_services::UpOptions { brokers })
            .await;
    }
    let mut steps = Vec::with_capacity(lab.def.steps.len());
    for i in 0..lab.def.steps.len() {
        steps.push(run_step(lab, i, opts).await);
    }
    LabRun {
        lab: lab.id.clone(),
        steps,
    }
}

/// Totals over some lab runs.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
}

pub fn totals(runs: &[LabRun]) -> Totals {
    let mut t = Totals::default();
    for c in runs.iter().flat_map(|r| &r.steps).flat_map(|s| &s.checks) {
        match c.outcome.status {
            Status::Pass => t.passed += 1,
            Status::Fail => t.failed += 1,
            Status::Error => t.errors += 1,
        }
    }
    t
}

/// Human-readable report.
pub fn to_text(runs: &[LabRun]) -> String {
    let mut out = String::new();
    for run in runs {
        out.push_str(&format!("lab {}\n", run.lab));
        for (i, s) in run.steps.iter().enumerate() {
            let mark = if s.passed() {
                "✓"
            } else if s.errored() {
                "!"
            } else {
                "✗"
            };
            out.push_str(&format!("  {mark} {}. {} ({})\n", i + 1, s.title, s.step));
            for c in &s.checks {
                let m = match c.outcome.status {
                    Status::Pass => "✓",
                    Status::Fail => "✗",
                    Status::Error => "!",
                };
                out.push_str(&format!("      {m} {}", c.description));
                if !c.outcome.passed() {
                    out.push_str(&format!(
                        ": {}",
                        c.outcome.message.replace('\n', "\n        ")
                    ));
                    if let Some(f) = &c.outcome.file {
                        out.push_str(&format!(" [{}]", f.display()));
                    }
                }
                out.push('\n');
            }
        }
    }
    let t = totals(runs);
    out.push_str(&format!(
        "{} checks passed, {} failed",
        t.passed,
        t.failed + t.errors
    ));
    if t.errors > 0 {
        out.push_str(&format!(" ({} could not run)", t.errors));
    }
    out.push('\n');
    out
}

/// One JSON object per check.
pub fn to_json(runs: &[LabRun]) -> serde_json::Value {
    let checks: Vec<serde_json::Value> = runs
        .iter()
        .flat_map(|r| {
            r.steps.iter().flat_map(move |s| {
                s.checks.iter().map(move |c| {
                    serde_json::json!({
                        "lab": r.lab,
                        "step": s.step,
                        "check": c.description,
                        "kind": c.kind,
                        "status": c.outcome.status,
                        "passed": c.outcome.passed(),
                        "message": c.outcome.message,
                        "file": c.outcome.file,
                        "duration_ms": c.duration_ms,
                    })
                })
            })
        })
        .collect();
    serde_json::json!({ "checks": checks, "totals": totals(runs) })
}

/// JUnit XML: one `<testsuite>` per lab, one `<testcase>` per check.
pub fn to_junit(runs: &[LabRun]) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("datalab");
    for run in runs {
        let mut suite = TestSuite::new(format!("datalab.{}", run.lab));
        for s in &run.steps {
            for (i, c) in s.checks.iter().enumerate() {
                let status = match c.outcome.status {
                    Status::Pass => TestCaseStatus::success(),
                    Status::Fail => {
                        let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        st.set_message(c.outcome.message.clone());
                        st
                    }
                    Status::Error => {
                        let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
                        st.set_message(c.outcome.message.clone());
                        st
                    }
                };
                let mut tc =
                    TestCase::new(format!("{}.{}: {}", s.step, i + 1, c.description), status);
                tc.set_classname(format!("{}.{}", run.lab, s.step));
                tc.set_time(std::time::Duration::from_millis(c.duration_ms));
                suite.add_test_case(tc);
            }
        }
        report.add_test_suite(suite);
    }
    report.to_string().unwrap_or_default()
}
