//! A job's [`Event`]s as JSON lines in a file, so another process (the TUI
//! running a lab step that calls `datalab mapreduce run`) can follow it live.
//!
//! `datalab mapreduce run` appends one [`EventLine`] per event to the file
//! named by [`EVENTS_ENV`] when it is set. Every line carries the job's id,
//! so several jobs (one after the other, or even at once) sharing a file are
//! told apart; a job's first line is [`Event::JobStarted`]. [`EventLog`]
//! folds lines back into one [`JobView`] per job.

use super::{Counters, Event, Phase, TaskKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The environment variable naming the events file.
pub const EVENTS_ENV: &str = "DATALAB_MAPREDUCE_EVENTS";

/// Progress lines are flushed at most this often (others at once).
const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// One line of an events file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventLine {
    /// The job's id (process id and start time of the writer).
    pub job: String,
    /// Milliseconds since the job started.
    pub at_ms: u64,
    #[serde(flatten)]
    pub event: Event,
}

/// Appends a job's events to a file. Shared by the job's threads.
pub struct EventWriter {
    job: String,
    start: Instant,
    inner: Mutex<(BufWriter<File>, Instant)>,
}

impl EventWriter {
    /// Open `path` for appending (created if missing).
    pub fn append(path: &Path) -> io::Result<EventWriter> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let start = Instant::now();
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        Ok(EventWriter {
            job: format!("{}-{since_epoch}", std::process::id()),
            start,
            inner: Mutex::new((BufWriter::new(file), start)),
        })
    }

    /// Write one event. Errors are ignored: a watcher going away must not
    /// fail the job.
    pub fn write(&self, event: &Event) {
        let line = EventLine {
            job: self.job.clone(),
            at_ms: self.start.elapsed().as_millis() as u64,
            event: event.clone(),
        };
        let Ok(mut text) = serde_json::to_vec(&line) else {
            return;
        };
        text.push(b'\n');
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (w, last_flush) = &mut *g;
        // One write per line keeps lines whole for a reader that tails.
        if w.buffer().len() + text.len() > w.capacity() {
            let _ = w.flush();
        }
        let _ = w.write_all(&text);
        let progress = matches!(event, Event::TaskProgress { .. });
        if !progress || last_flush.elapsed() >= FLUSH_EVERY {
            let _ = w.flush();
            *last_flush = Instant::now();
        }
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        let _ = self.inner.lock().map(|mut g| g.0.flush());
    }
}

/// Where a phase is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhaseState {
    Pending,
    /// Started at this `at_ms`.
    Running(u64),
    /// Took this many milliseconds.
    Done(u64),
}

/// How a job ended, if it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Running,
    Succeeded,
    Failed(String),
}

/// Tasks of one kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tasks {
    /// How many the job has (0 until planned).
    pub total: usize,
    pub done: usize,
    pub running: BTreeSet<usize>,
    pub failed_attempts: usize,
    /// Input bytes read so far, and to read (known for map tasks once
    /// planned, for reduce tasks as they start).
    pub bytes_read: u64,
    pub bytes_total: u64,
}

/// What is known of one job from its events.
#[derive(Clone, Debug, PartialEq)]
pub struct JobView {
    pub job: String,
    pub output: String,
    pub combiner: bool,
    pub reducers: usize,
    /// In [`PHASES`] order.
    pub phases: [PhaseState; 5],
    pub maps: Tasks,
    pub reduces: Tasks,
    /// The sum of finished tasks' counters, replaced by the job's own
    /// when it finishes.
    pub counters: Counters,
    pub outcome: Outcome,
    /// The latest `at_ms` seen (a watcher may move it on between lines
    /// while the job runs, see [`JobView::advance`]).
    pub now_ms: u64,
    /// The last task failure message.
    pub last_error: Option<String>,
}

/// The phases in order.
pub const PHASES: [Phase; 5] = [
    Phase::Split,
    Phase::Map,
    Phase::Shuffle,
    Phase::Reduce,
    Phase::Commit,
];

fn phase_index(p: Phase) -> usize {
    PHASES.iter().position(|&q| q == p).unwrap_or(0)
}

impl JobView {
    fn new(job: &str) -> JobView {
        JobView {
            job: job.to_string(),
            output: String::new(),
            combiner: false,
            reducers: 0,
            phases: [PhaseState::Pending; 5],
            maps: Tasks::default(),
            reduces: Tasks::default(),
            counters: Counters::default(),
            outcome: Outcome::Running,
            now_ms: 0,
            last_error: None,
        }
    }

    /// Move the clock on (while the job runs), for the elapsed time of the
    /// running phase.
    pub fn advance(&mut self, now_ms: u64) {
        if self.outcome == Outcome::Running {
            self.now_ms = self.now_ms.max(now_ms);
        }
    }

    fn tasks(&mut self, kind: TaskKind) -> &mut Tasks {
        match kind {
            TaskKind::Map => &mut self.maps,
            TaskKind::Reduce => &mut self.reduces,
        }
    }

    fn apply(&mut self, at_ms: u64, e: &Event) {
        self.now_ms = self.now_ms.max(at_ms);
        match e {
            Event::JobStarted {
                output,
                combiner,
                reducers,
                ..
            } => {
                self.output = output.display().to_string();
                self.combiner = combiner.is_some();
                self.reducers = *reducers;
            }
            Event::Planned {
                map_tasks,
                reduce_tasks,
                input_bytes,
            } => {
                self.maps.total = *map_tasks;
                self.maps.bytes_total = *input_bytes;
                self.reduces.total = *reduce_tasks;
            }
            Event::PhaseStarted { phase } => {
                self.phases[phase_index(*phase)] = PhaseState::Running(at_ms);
            }
            Event::PhaseFinished { phase, elapsed } => {
                self.phases[phase_index(*phase)] = PhaseState::Done(elapsed.as_millis() as u64);
            }
            Event::TaskStarted {
                kind,
                task,
                attempt,
                bytes,
            } => {
                let t = self.tasks(*kind);
                t.running.insert(*task);
                if *kind == TaskKind::Reduce && *attempt == 1 {
                    t.bytes_total += bytes;
                }
            }
            Event::TaskProgress { kind, bytes, .. } => self.tasks(*kind).bytes_read += bytes,
            Event::TaskFinished {
                kind,
                task,
                counters,
                ..
            } => {
                let t = self.tasks(*kind);
                t.running.remove(task);
                t.done += 1;
                let mut c = (**counters).clone();
                c.time = Default::default();
                self.counters.add(&c);
            }
            Event::TaskFailed {
                kind,
                task,
                message,
                ..
            } => {
                let t = self.tasks(*kind);
                t.running.remove(task);
                t.failed_attempts += 1;
                self.counters.failed_attempts += 1;
                self.last_error = Some(message.lines().next().unwrap_or("").to_string());
            }
            Event::Finished { counters } => {
                self.counters = (**counters).clone();
                self.outcome = Outcome::Succeeded;
            }
            Event::JobFailed { message } => {
                self.outcome = Outcome::Failed(message.clone());
                for p in &mut self.phases {
                    if let PhaseState::Running(since) = *p {
                        *p = PhaseState::Done(at_ms.saturating_sub(since));
                    }
                }
            }
        }
    }
}

/// Jobs folded from an events file, in the order they started.
#[derive(Clone, Debug, Default)]
pub struct EventLog {
    pub jobs: Vec<JobView>,
    /// Lines that did not parse.
    pub bad_lines: usize,
    /// A line cut short at the end of what was read, kept for the next
    /// [`EventLog::feed`].
    partial: String,
}

impl EventLog {
    /// Fold more text of the file (whole lines; a trailing partial line is
    /// kept until the rest arrives).
    pub fn feed(&mut self, text: &str) {
        self.partial.push_str(text);
        let Some(end) = self.partial.rfind('\n') else {
            return;
        };
        let whole: String = self.partial.drain(..=end).collect();
        for line in whole.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<EventLine>(line) {
                Ok(l) => self.apply(&l),
                Err(_) => self.bad_lines += 1,
            }
        }
    }

    pub(crate) fn apply(&mut self, line: &EventLine) {
        let i = match self.jobs.iter().position(|j| j.job == line.job) {
            Some(i) => i,
            None => {
                self.jobs.push(JobView::new(&line.job));
                self.jobs.len() - 1
            }
        };
        self.jobs[i].apply(line.at_ms, &line.event);
    }

    /// The job to show: the latest one started.
    pub fn last(&self) -> Option<&JobView> {
        self.jobs.last()
    }

    pub fn last_mut(&mut self) -> Option<&mut JobView> {
        self.jobs.last_mut()
    }
}
