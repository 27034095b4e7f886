//! The learner's link to an instructor's room (`datalab join`): one piece of
//! code the TUI and the CLI share to report what the learner does.
//!
//! [`RoomLink::start`] is inert when the learner has not joined a room:
//! every call then does nothing and says nothing. When joined, each report
//! is handed to a worker thread that appends it to the room's outbox (one
//! small atomic file write) while the room client's sender delivers it in
//! the background: the caller never waits on the disk or the network.
//! Short commands call [`RoomLink::flush`] before they exit.

use crate::lab::StepResult;
use crate::progress::Progress;
use datalab_room::{Event, Flushed, Reporter};
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

/// Longest check message sent: its first line, cut at this many bytes.
const MESSAGE_BYTES: usize = 300;

enum Msg {
    Report(Event),
    Flush(Duration, Sender<Flushed>),
}

/// Reports a learner's events to their room, if they joined one.
pub struct RoomLink {
    worker: Option<(Sender<Msg>, JoinHandle<()>)>,
}

impl RoomLink {
    /// A link that reports nothing.
    pub fn none() -> RoomLink {
        RoomLink { worker: None }
    }

    /// Start reporting for the learner whose data dir is `home`. Not
    /// joined: an inert link and no error. A room file that cannot be read
    /// is an error (the caller shows it once and goes on without a room).
    pub fn start(home: &Path) -> Result<RoomLink, String> {
        let reporter = match Reporter::start(home) {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(RoomLink::none()),
            Err(e) => return Err(format!("room: {e}")),
        };
        let (tx, rx) = channel();
        let handle = std::thread::Builder::new()
            .name("room-outbox".into())
            .spawn(move || work(reporter, rx))
            .map_err(|e| format!("room: cannot start reporting: {e}"))?;
        Ok(RoomLink {
            worker: Some((tx, handle)),
        })
    }

    /// Is the learner in a room?
    pub fn joined(&self) -> bool {
        self.worker.is_some()
    }

    /// Queue an event (returns at once).
    pub fn report(&self, event: Event) {
        if let Some((tx, _)) = &self.worker {
            let _ = tx.send(Msg::Report(event));
        }
    }

    pub fn unit_opened(&self, unit: &str) {
        self.report(Event::UnitOpened { unit: unit.into() });
    }

    /// Report the units `after` has done that `before` had not.
    pub fn units_done(&self, before: &Progress, after: &Progress) {
        if !self.joined() {
            return;
        }
        for (id, u) in &after.units {
            if u.done && !before.is_done(id) {
                self.report(Event::UnitDone { unit: id.clone() });
            }
        }
    }

    pub fn quiz_answer(&self, quiz: &str, question: &str, answer: &str, correct: bool) {
        self.report(Event::QuizAnswer {
            quiz: quiz.into(),
            question: question.into(),
            answer: cut(answer.trim(), datalab_room::protocol::MAX_TEXT_BYTES),
            correct,
        });
    }

    /// One event per check of the step: its id (`<n>.<kind>`, unique in
    /// the step), pass or fail, and the first line of its message.
    pub fn step_checked(&self, lab: &str, result: &StepResult) {
        for (i, c) in result.checks.iter().enumerate() {
            let first = c.outcome.message.lines().next().unwrap_or("");
            self.report(Event::CheckResult {
                lab: lab.into(),
                step: result.step.clone(),
                check_id: format!("{}.{}", i + 1, c.kind),
                passed: c.outcome.passed(),
                message: cut(first, MESSAGE_BYTES),
            });
        }
    }

    pub fn hint_revealed(&self, lab: &str, step: &str, hint: &str) {
        self.report(Event::HintRevealed {
            lab: lab.into(),
            step: step.into(),
            hint: cut(hint, datalab_room::protocol::MAX_TEXT_BYTES),
        });
    }

    /// `phase` counts from 0; it is sent counting from 1.
    pub fn note_saved(&self, activity: &str, phase: usize, text: &str) {
        self.report(Event::NoteSaved {
            activity: activity.into(),
            phase: (phase + 1).to_string(),
            text: cut(text, datalab_room::protocol::MAX_TEXT_BYTES),
        });
    }

    /// Wait (at most `timeout`, plus the queued file writes) until what was
    /// reported so far is delivered. None when not in a room.
    pub fn flush(&self, timeout: Duration) -> Option<Flushed> {
        let (tx, _) = self.worker.as_ref()?;
        let (reply, answer) = channel();
        tx.send(Msg::Flush(timeout, reply)).ok()?;
        answer.recv().ok()
    }
}

impl Drop for RoomLink {
    /// Write what is still queued to the outbox (local disk only), then stop.
    fn drop(&mut self) {
        if let Some((tx, handle)) = self.worker.take() {
            drop(tx);
            let _ = handle.join();
        }
    }
}

/// The worker: append each event to the outbox, in order; answer flushes.
fn work(reporter: Reporter, rx: Receiver<Msg>) {
    for msg in rx {
        match msg {
            Msg::Report(e) => {
                // A full disk or an event the room would refuse: nothing the
                // learner can act on now; `datalab room status` shows the
                // delivery state.
                let _ = reporter.report(e);
            }
            Msg::Flush(timeout, reply) => {
                let _ = reply.send(reporter.flush(timeout));
            }
        }
    }
}

/// `s` cut to at most `max` bytes, on a character boundary.
fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_whole_characters() {
        assert_eq!(cut("héllo", 2), "h");
        assert_eq!(cut("héllo", 3), "hé");
        assert_eq!(cut("abc", 10), "abc");
    }

    #[test]
    fn not_joined_is_inert_and_silent() {
        let home = tempfile::tempdir().unwrap();
        let link = RoomLink::start(home.path()).unwrap();
        assert!(!link.joined());
        link.unit_opened("u");
        assert!(link.flush(Duration::from_millis(10)).is_none());
        assert!(!home.path().join("room.json").exists());
    }
}
