//! Grading: run every check of a lab (or of every lab) against a workspace
//! and report as text, JSON or JUnit. Uses the check definitions built into
//! the binary (or the instructor's `--content`), never the learner's copy.

use crate::check::{CommandOutput, Status};
use crate::lab::{LabRun, RunOptions, StepResult, run_step};
use datalab_content::Lab;
use serde::Serialize;

/// Run all steps of a lab, in order, against one workspace.
pub async fn grade_lab(lab: &Lab, opts: &RunOptions) -> LabRun {
    // Start what the lab needs at most (3 Kafka brokers for a replication
    // step) before the first step: growing the cluster mid-run would start
    // it afresh and lose what earlier steps wrote. Cassandra starts one node:
    // its three-node step uses a keyspace of its own, so the fresh cluster
    // it starts loses nothing a later step needs. Errors surface per step.
    for kind in &lab.def.services {
        let brokers = if *kind == datalab_services::ServiceKind::Kafka {
            lab.max_brokers()
        } else {
            1
        };
        let _ = opts
            .services
            .ensure(
                *kind,
                &datalab_services::UpOptions {
                    nodes: brokers,
                    ..Default::default()
                },
            )
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

/// Lines of a failed command's stderr a report keeps (its end: where the
/// error usually is).
const STDERR_TAIL_LINES: usize = 12;
/// Characters of stderr a report keeps at most.
const STDERR_TAIL_CHARS: usize = 2000;

/// Why a step's command failed, when it did: its checks then fail too, but
/// as symptoms ("orders has 0 records"); this is the cause.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct CommandFailure {
    pub command: String,
    /// The exit status; none when it timed out, was killed by a signal or
    /// could not start.
    pub exit_status: Option<i32>,
    pub timed_out: bool,
    /// What went wrong, in words.
    pub reason: String,
    /// The end of its stderr.
    pub stderr: String,
}

/// The failure of a step's command, if it ran and failed.
pub(crate) fn command_failure(step: &StepResult) -> Option<CommandFailure> {
    let out: &CommandOutput = step.command.as_ref()?;
    if out.status == Some(0) && !out.timed_out {
        return None;
    }
    let reason = match (out.timed_out, out.status) {
        (true, _) => "it did not finish in time and was stopped".to_string(),
        (false, Some(127)) => "exit status 127: a command was not found".to_string(),
        (false, Some(126)) => "exit status 126: a command could not be executed".to_string(),
        (false, Some(n)) => format!("exit status {n}"),
        (false, None) if out.stdout.is_empty() && out.stderr.starts_with("could not start") => {
            "it could not start".to_string()
        }
        (false, None) => "it was killed by a signal".to_string(),
    };
    Some(CommandFailure {
        command: out.command.clone(),
        exit_status: out.status,
        timed_out: out.timed_out,
        reason,
        stderr: stderr_tail(&out.stderr),
    })
}

/// The last lines of a command's stderr, at most [`STDERR_TAIL_CHARS`].
fn stderr_tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.trim_end().lines().collect();
    let from = lines.len().saturating_sub(STDERR_TAIL_LINES);
    let mut tail = lines[from..].join("\n");
    if tail.chars().count() > STDERR_TAIL_CHARS {
        let skip = tail.chars().count() - STDERR_TAIL_CHARS;
        tail = format!("…{}", tail.chars().skip(skip + 1).collect::<String>());
    } else if from > 0 {
        tail = format!("…\n{tail}");
    }
    tail
}

impl CommandFailure {
    /// One line: "the step's command `sh 02_produce.sh` failed (exit status 1)".
    pub(crate) fn headline(&self) -> String {
        format!(
            "the step's command `{}` failed ({})",
            self.command.trim(),
            self.reason
        )
    }

    /// The headline and the stderr tail, for a report.
    pub(crate) fn describe(&self) -> String {
        if self.stderr.is_empty() {
            format!("{}; it wrote nothing to stderr", self.headline())
        } else {
            format!(
                "{}; its stderr ends with:\n{}",
                self.headline(),
                self.stderr
            )
        }
    }
}

/// Totals over some lab runs.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    /// Steps whose command failed.
    pub command_failures: usize,
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
    t.command_failures = runs
        .iter()
        .flat_map(|r| &r.steps)
        .filter(|s| command_failure(s).is_some())
        .count();
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
            if let Some(f) = command_failure(s) {
                out.push_str(&format!("      ! {}\n", f.headline()));
                for l in f.stderr.lines() {
                    out.push_str(&format!("        | {l}\n"));
                }
            }
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
    if t.command_failures > 0 {
        out.push_str(&format!("; {} step command(s) failed", t.command_failures));
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
    let commands: Vec<serde_json::Value> = runs
        .iter()
        .flat_map(|r| {
            r.steps.iter().filter_map(move |s| {
                let f = command_failure(s)?;
                let mut v = serde_json::to_value(&f).ok()?;
                v["lab"] = r.lab.clone().into();
                v["step"] = s.step.clone().into();
                v["message"] = f.headline().into();
                Some(v)
            })
        })
        .collect();
    serde_json::json!({
        "checks": checks,
        "command_failures": commands,
        "totals": totals(runs),
    })
}

/// JUnit XML: one `<testsuite>` per lab, one `<testcase>` per check. When a
/// step's command failed, its checks that did not pass say so first in
/// their failure text, with the command's stderr tail in `<system-err>`.
pub fn to_junit(runs: &[LabRun]) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("datalab");
    for run in runs {
        let mut suite = TestSuite::new(format!("datalab.{}", run.lab));
        for s in &run.steps {
            let failure = command_failure(s);
            for (i, c) in s.checks.iter().enumerate() {
                let kind = match c.outcome.status {
                    Status::Pass => None,
                    Status::Fail => Some(NonSuccessKind::Failure),
                    Status::Error => Some(NonSuccessKind::Error),
                };
                let status = match kind {
                    None => TestCaseStatus::success(),
                    Some(kind) => {
                        let mut st = TestCaseStatus::non_success(kind);
                        st.set_message(c.outcome.message.clone());
                        if let Some(f) = &failure {
                            st.set_description(format!(
                                "{}\n\n{}",
                                f.describe(),
                                c.outcome.message
                            ));
                        }
                        st
                    }
                };
                let mut tc =
                    TestCase::new(format!("{}.{}: {}", s.step, i + 1, c.description), status);
                if let (Some(f), Some(_)) = (&failure, kind) {
                    tc.set_system_err(format!("{}\n{}", f.headline(), f.stderr));
                }
                tc.set_classname(format!("{}.{}", run.lab, s.step));
                tc.set_time(std::time::Duration::from_millis(c.duration_ms));
                suite.add_test_case(tc);
            }
        }
        report.add_test_suite(suite);
    }
    report.to_string().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Outcome;
    use crate::lab::CheckResult;

    fn run_with(status: Option<i32>, timed_out: bool, stderr: &str) -> LabRun {
        LabRun {
            lab: "kafka".into(),
            steps: vec![StepResult {
                step: "produce".into(),
                title: "Produce".into(),
                checks: vec![CheckResult {
                    kind: "kafka_records".into(),
                    description: "orders holds the orders".into(),
                    outcome: Outcome::fail("orders has 0 records"),
                    duration_ms: 3,
                }],
                command: Some(CommandOutput {
                    command: "sh 02_produce.sh".into(),
                    status,
                    stdout: String::new(),
                    stderr: stderr.into(),
                    timed_out,
                }),
                duration_ms: 10,
            }],
        }
    }

    #[test]
    fn a_failed_command_is_named_with_its_stderr_in_every_format() {
        let runs = [run_with(
            Some(127),
            false,
            "02_produce.sh: 3: pyhton3: not found\n",
        )];
        let text = to_text(&runs);
        assert!(
            text.contains("! the step's command `sh 02_produce.sh` failed (exit status 127: a command was not found)"),
            "{text}"
        );
        assert!(
            text.contains("| 02_produce.sh: 3: pyhton3: not found"),
            "{text}"
        );
        assert!(text.ends_with("1 step command(s) failed\n"), "{text}");
        let json = to_json(&runs);
        let f = &json["command_failures"][0];
        assert_eq!(f["step"], "produce");
        assert_eq!(f["exit_status"], 127);
        assert_eq!(f["stderr"], "02_produce.sh: 3: pyhton3: not found");
        assert_eq!(json["totals"]["command_failures"], 1);
        let xml = to_junit(&runs);
        assert!(
            xml.contains("<system-err>the step&apos;s command `sh 02_produce.sh` failed")
                || xml.contains("<system-err>the step's command `sh 02_produce.sh` failed"),
            "{xml}"
        );
        assert!(xml.contains("pyhton3: not found"), "{xml}");
    }

    #[test]
    fn timeouts_and_long_stderr_are_summed_up() {
        let long: String = (1..=40).map(|i| format!("line {i}\n")).collect();
        let f = command_failure(&run_with(None, true, &long).steps[0]).unwrap();
        assert_eq!(f.reason, "it did not finish in time and was stopped");
        assert!(f.stderr.starts_with("…\nline 29\n"), "{}", f.stderr);
        assert!(f.stderr.ends_with("line 40"));
        let huge = "x".repeat(10_000);
        let f = command_failure(&run_with(Some(1), false, &huge).steps[0]).unwrap();
        assert_eq!(f.stderr.chars().count(), STDERR_TAIL_CHARS);
        assert_eq!(f.reason, "exit status 1");
    }

    #[test]
    fn a_command_that_succeeded_or_never_ran_is_no_failure() {
        assert!(command_failure(&run_with(Some(0), false, "warning: x").steps[0]).is_none());
        let mut none = run_with(Some(1), false, "");
        none.steps[0].command = None;
        assert!(command_failure(&none.steps[0]).is_none());
        assert!(!to_text(&[none]).contains("step command"));
    }
}
