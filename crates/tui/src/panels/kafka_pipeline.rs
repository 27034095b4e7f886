//! The Kafka panel's live view of the exactly-once pipeline step: the check
//! reports to an events file this feed owns (named in the run's environment,
//! see [`datalab_engine::check::kafka_pipeline::events`]); each tick folds
//! what is new into a [`PipelineView`]: orders scored, alerts written, the
//! kill and the restart, the verdict.

use super::events_file::EventsFile;
use datalab_content::Step;
use datalab_content::checks::CheckSpec;
use datalab_engine::check::kafka_pipeline::events::{EVENTS_ENV, Event};

/// Whether a step runs the pipeline check (and the view follows it).
pub(crate) fn fits(step: &Step) -> bool {
    step.checks
        .iter()
        .any(|c| matches!(c, CheckSpec::KafkaExactlyOncePipeline(_)))
}

/// What the check has reported so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PipelineView {
    pub orders: i64,
    pub expected_alerts: usize,
    /// 0 before the check starts the program, 1 the first run, 2 the restart.
    pub run: u32,
    /// Orders the group committed; records in the output's log.
    pub scored: i64,
    pub alerts: i64,
    /// (scored, alerts) when the program was killed.
    pub killed: Option<(i64, i64)>,
    /// (passed, message) once the check is done.
    pub done: Option<(bool, String)>,
}

impl PipelineView {
    pub fn apply(&mut self, e: &Event) {
        match e {
            Event::Started {
                run,
                orders,
                expected_alerts,
            } => {
                if *run == 1 {
                    *self = PipelineView::default();
                }
                self.run = *run;
                self.orders = *orders;
                self.expected_alerts = *expected_alerts;
            }
            Event::Progress {
                run,
                scored,
                alerts,
            } => {
                self.run = *run;
                self.scored = *scored;
                self.alerts = *alerts;
            }
            Event::Killed { scored, alerts } => {
                self.killed = Some((*scored, *alerts));
                self.scored = *scored;
                self.alerts = *alerts;
            }
            Event::Done { passed, message } => self.done = Some((*passed, message.clone())),
        }
    }

    /// The view as text lines (the right side of the panel).
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![match self.run {
            0 => "scorer: waiting for the check".to_string(),
            1 => "scorer: run 1 (to be killed)".to_string(),
            _ => "scorer: run 2 (restarted)".to_string(),
        }];
        out.push(format!(
            "orders scored  {:>4} / {}",
            self.scored, self.orders
        ));
        out.push(format!(
            "alerts in log  {:>4} (expected {})",
            self.alerts, self.expected_alerts
        ));
        if let Some((s, a)) = self.killed {
            out.push(format!("KILLED at {s} scored, {a} in log"));
        }
        if self.run >= 2 {
            out.push("restarted: resumes from the committed offsets".into());
        }
        if let Some((passed, msg)) = &self.done {
            let head = if *passed { "✓ exactly once:" } else { "✗" };
            out.push(format!("{head} {msg}"));
        }
        out
    }
}

/// The step's events file (the check names it `EVENTS_ENV`).
pub(crate) fn events_file() -> EventsFile {
    EventsFile::new("datalab-kafka-pipeline-", EVENTS_ENV)
}
