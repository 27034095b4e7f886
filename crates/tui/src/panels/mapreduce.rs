//! The MapReduce lab's live job view: while a step's check runs its
//! `datalab mapreduce run …` command, the job writes its events to a file
//! this panel owns (named in the command's environment, see
//! [`datalab_mapreduce::events`]); every tick reads what is new and the
//! panel shows the phases, map and reduce task progress and the counters.
//! The last job stays shown after the check ends.

use crate::panel::{LabPanel, PanelCtx};
use crate::theme::Theme;
use crate::ui::truncate;
use datalab_content::Lab;
use datalab_mapreduce::Counters;
use datalab_mapreduce::events::{EVENTS_ENV, EventLog, JobView, Outcome, PHASES, PhaseState};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, LineGauge, Paragraph};
use std::cell::Cell;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Instant;

/// At most this much of the events file is read per tick.
const READ_MAX: u64 = 4 << 20;

/// Whether a lab is the MapReduce lab: its id, or a check of the
/// `mapreduce_*` kinds.
pub fn fits(lab: &Lab) -> bool {
    lab.id == "mapreduce"
        || lab
            .def
            .steps
            .iter()
            .any(|s| s.checks.iter().any(|c| c.kind().starts_with("mapreduce")))
}

pub struct MapReducePanel {
    /// Owns the events file's folder (removed with the panel).
    _dir: Option<tempfile::TempDir>,
    path: Option<PathBuf>,
    log: EventLog,
    /// Bytes of the file already folded into `log`.
    offset: u64,
    /// Set by [`LabPanel::run_env`] (a check starts, the file was
    /// truncated): the next tick starts over.
    restart: Cell<bool>,
    /// When the last new line arrived, to move the shown clock on while the
    /// job runs.
    last_read: Instant,
    last_at: u64,
}

impl Default for MapReducePanel {
    fn default() -> Self {
        Self::new()
    }
}

impl MapReducePanel {
    /// A panel with its own events file in a temp folder.
    pub fn new() -> MapReducePanel {
        let dir = tempfile::Builder::new()
            .prefix("datalab-mapreduce-events-")
            .tempdir()
            .ok();
        let path = dir.as_ref().map(|d| d.path().join("events.jsonl"));
        MapReducePanel {
            _dir: dir,
            path,
            log: EventLog::default(),
            offset: 0,
            restart: Cell::new(false),
            last_read: Instant::now(),
            last_at: 0,
        }
    }

    /// A panel showing events given as text (the lines of an events file),
    /// for tests and previews.
    pub fn from_events(text: &str) -> MapReducePanel {
        let mut p = MapReducePanel::new();
        p.log.feed(text);
        p
    }

    /// The jobs seen so far.
    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// Fold what was appended to the events file since the last read.
    fn read_new(&mut self) {
        let Some(path) = &self.path else { return };
        let Ok(mut f) = std::fs::File::open(path) else {
            return;
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len < self.offset {
            // Truncated behind our back: start over.
            self.offset = 0;
            self.log = EventLog::default();
        }
        if len == self.offset || f.seek(SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut buf = Vec::new();
        if f.take(READ_MAX).read_to_end(&mut buf).is_err() {
            return;
        }
        // Whole lines only; the rest is read again next time.
        let Some(end) = buf.iter().rposition(|&b| b == b'\n') else {
            return;
        };
        self.offset += end as u64 + 1;
        self.log.feed(&String::from_utf8_lossy(&buf[..=end]));
        self.last_read = Instant::now();
        self.last_at = self.log.last().map(|j| j.now_ms).unwrap_or(0);
    }
}

impl LabPanel for MapReducePanel {
    fn title(&self) -> String {
        "MapReduce job".into()
    }

    fn height(&self) -> u16 {
        8
    }

    fn run_env(&self) -> Vec<(String, String)> {
        let Some(path) = &self.path else {
            return Vec::new();
        };
        // A new check: its jobs replace what is shown.
        if std::fs::File::create(path).is_err() {
            return Vec::new();
        }
        self.restart.set(true);
        vec![(EVENTS_ENV.to_string(), path.display().to_string())]
    }

    fn handle_key(&mut self, _key: &KeyEvent, _ctx: &PanelCtx) -> bool {
        false
    }

    fn tick(&mut self, ctx: &PanelCtx) {
        if self.restart.take() {
            self.offset = 0;
            self.log = EventLog::default();
        }
        self.read_new();
        if ctx.checking {
            let now = self.last_at + self.last_read.elapsed().as_millis() as u64;
            if let Some(j) = self.log.last_mut() {
                j.advance(now);
            }
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let t = theme;
        let n = self.log.jobs.len();
        let job = self.log.last();
        let mut block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(if focused { t.accent() } else { t.border() })
            .title(Line::styled(format!(" {} ", self.title()), t.title()));
        if let Some(j) = job {
            let which = if n > 1 {
                format!("job {n}/{n} · ")
            } else {
                String::new()
            };
            let (status, style) = match &j.outcome {
                Outcome::Running => (format!("running {}", elapsed(j.now_ms)), t.accent()),
                Outcome::Succeeded => (
                    format!("succeeded in {}", elapsed(j.counters.time.total_ms)),
                    t.ok(),
                ),
                Outcome::Failed(_) => ("failed".to_string(), t.bad()),
            };
            block = block.title(
                Line::from(vec![
                    Span::styled(format!(" {which}{} · ", j.output), t.dim()),
                    Span::styled(status, style),
                    Span::raw(" "),
                ])
                .right_aligned(),
            );
        }
        let inner = crate::ui::boxed(frame, block, area);
        let Some(j) = job else {
            let msg = if self.path.is_some() {
                "c runs the step's job: its phases, tasks and counters show here live."
            } else {
                "no live view: cannot create a temp folder for the job's events."
            };
            frame.render_widget(
                Paragraph::new(Line::styled(truncate(msg, inner.width as usize), t.dim())),
                inner,
            );
            return;
        };
        let rows = Layout::vertical([Constraint::Length(1); 6]).split(inner);
        let w = inner.width as usize;
        frame.render_widget(Paragraph::new(phase_line(j, t)), rows[0]);
        let maps = &j.maps;
        let reduces = &j.reduces;
        task_row(frame, rows[1], t, "map", maps, j.maps.total);
        task_row(
            frame,
            rows[2],
            t,
            "reduce",
            reduces,
            j.reducers.max(reduces.total),
        );
        let c = &j.counters;
        let combine = if j.combiner {
            format!(
                "combine in {} out {}",
                c.combine_input_records, c.combine_output_records
            )
        } else {
            "no combiner".to_string()
        };
        let l1 = format!(
            "map in {} rec  out {} rec  ·  {combine}  ·  spilled {}",
            c.map_input_records, c.map_output_records, c.spilled_records
        );
        let l2 = format!(
            "reduce in {} rec ({} keys)  out {} rec  ·  shuffled {}",
            c.reduce_input_records,
            c.reduce_input_groups,
            c.reduce_output_records,
            bytes(c.shuffle_bytes)
        );
        frame.render_widget(Paragraph::new(truncate(&l1, w)), rows[3]);
        frame.render_widget(Paragraph::new(truncate(&l2, w)), rows[4]);
        frame.render_widget(Paragraph::new(status_line(j, c, t, w)), rows[5]);
    }
}

fn phase_line(j: &JobView, t: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, p) in PHASES.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        // The combiner runs inside the map tasks: its counters say so.
        let name = p.name();
        match j.phases[i] {
            PhaseState::Done(ms) => {
                spans.push(Span::styled("✓ ", t.ok()));
                spans.push(Span::raw(format!("{name} {}", elapsed(ms))));
            }
            PhaseState::Running(since) => {
                spans.push(Span::styled("▶ ", t.accent()));
                spans.push(Span::styled(
                    format!("{name} {}", elapsed(j.now_ms.saturating_sub(since))),
                    t.strong(),
                ));
            }
            PhaseState::Pending => spans.push(Span::styled(format!("· {name}"), t.dim())),
        }
    }
    Line::from(spans)
}

fn task_row(
    frame: &mut Frame,
    area: Rect,
    t: &Theme,
    name: &str,
    tasks: &datalab_mapreduce::events::Tasks,
    total: usize,
) {
    let gauge_w = (area.width / 3).clamp(10, 22);
    let [g, text] =
        Layout::horizontal([Constraint::Length(gauge_w), Constraint::Min(10)]).areas(area);
    let ratio = if tasks.bytes_total > 0 {
        tasks.bytes_read as f64 / tasks.bytes_total as f64
    } else if total > 0 {
        tasks.done as f64 / total as f64
    } else {
        0.0
    };
    // Finished tasks count fully even when their input was empty.
    let ratio = if total > 0 && tasks.done >= total {
        1.0
    } else {
        ratio.clamp(0.0, 1.0)
    };
    frame.render_widget(
        LineGauge::default()
            .ratio(ratio)
            .label(Line::raw(format!(
                "{name:<6} {:>3}%",
                (ratio * 100.0) as u32
            )))
            .filled_symbol(symbols::line::THICK.horizontal)
            .unfilled_symbol(symbols::line::NORMAL.horizontal)
            .filled_style(t.accent())
            .unfilled_style(t.dim()),
        g,
    );
    let mut s = format!(" {}/{} tasks", tasks.done, total);
    if !tasks.running.is_empty() {
        s.push_str(&format!(", {} running", tasks.running.len()));
    }
    if tasks.failed_attempts > 0 {
        s.push_str(&format!(", {} failed", tasks.failed_attempts));
    }
    if tasks.bytes_total > 0 {
        s.push_str(&format!(
            " · {}",
            bytes_of(tasks.bytes_read.min(tasks.bytes_total), tasks.bytes_total)
        ));
    }
    frame.render_widget(Paragraph::new(truncate(&s, text.width as usize)), text);
}

fn status_line(j: &JobView, c: &Counters, t: &Theme, w: usize) -> Line<'static> {
    match &j.outcome {
        Outcome::Failed(m) => Line::from(vec![
            Span::styled("✗ ", t.bad()),
            Span::raw(truncate(
                m.lines().next().unwrap_or(""),
                w.saturating_sub(2),
            )),
        ]),
        _ if j.last_error.is_some() && j.outcome == Outcome::Running => Line::from(vec![
            Span::styled("! ", t.warn()),
            Span::raw(truncate(
                &format!(
                    "a task failed, retrying: {}",
                    j.last_error.as_deref().unwrap_or("")
                ),
                w.saturating_sub(2),
            )),
        ]),
        Outcome::Succeeded => {
            let mut s = format!(
                "wrote {}: {} part file(s), {}",
                j.output,
                c.reduce_tasks,
                bytes(c.reduce_output_bytes)
            );
            if c.failed_attempts > 0 {
                s.push_str(&format!(
                    " · {} failed attempt(s) retried",
                    c.failed_attempts
                ));
            }
            Line::styled(truncate(&s, w), t.dim())
        }
        _ => Line::styled(truncate(&format!("output → {}", j.output), w), t.dim()),
    }
}

/// `850ms`, `1.25s`, `2m05s`.
fn elapsed(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.2}s", ms as f64 / 1000.0)
    } else {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    }
}

/// `1.5/2.0 KiB`: both in the unit of the total.
fn bytes_of(n: u64, total: u64) -> String {
    let (div, unit) = unit(total);
    if div == 1 {
        format!("{n}/{total} B")
    } else {
        format!(
            "{:.1}/{:.1} {unit}",
            n as f64 / div as f64,
            total as f64 / div as f64
        )
    }
}

fn unit(n: u64) -> (u64, &'static str) {
    match n {
        0..1024 => (1, "B"),
        1024..0x10_0000 => (1024, "KiB"),
        0x10_0000..0x4000_0000 => (0x10_0000, "MiB"),
        _ => (0x4000_0000, "GiB"),
    }
}

/// `512 B`, `12.0 KiB`, `3.4 MiB`, `1.2 GiB`.
fn bytes(n: u64) -> String {
    match unit(n) {
        (1, _) => format!("{n} B"),
        (div, unit) => format!("{:.1} {unit}", n as f64 / div as f64),
    }
}
