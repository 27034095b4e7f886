//! The Spark lab's live view: while a step's check runs its
//! `datalab spark submit …` command, the command names its event-log folder
//! in a file this panel owns ([`SUBMITS_ENV`]); the panel then follows the
//! newest log Spark writes there (a plain JSON-lines file) and shows the
//! application's stages, their tasks done and their status. The last run
//! stays shown after the check ends.

use super::events_file::{EventsFile, Tail};
use super::spark_log::{SparkEvent, SparkLog, StageView, Status};
use crate::panel::{LabPanel, PanelCtx};
use crate::theme::Theme;
use crate::ui::truncate;
use datalab_content::Lab;
use datalab_services::spark::{SUBMITS_ENV, SubmitLine};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Row, Table};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

/// Spark's name for a log still being written.
const IN_PROGRESS: &str = ".inprogress";

/// Whether a lab is the Spark lab: its id, or a check of the `spark_*` kinds.
pub fn fits(lab: &Lab) -> bool {
    lab.id == "spark"
        || lab
            .def
            .steps
            .iter()
            .any(|s| s.checks.iter().any(|c| c.kind().starts_with("spark")))
}

pub struct SparkPanel {
    /// Where `datalab spark submit` says which event-log folder it uses.
    submits: EventsFile,
    run: Option<Run>,
    log: SparkLog,
}

/// The submit followed: its folder, and Spark's log file once it is there.
struct Run {
    dir: PathBuf,
    /// The folder as shown (relative to the workspace).
    label: String,
    since_ms: u64,
    tail: Option<Tail>,
}

impl Default for SparkPanel {
    fn default() -> Self {
        Self::new()
    }
}

impl SparkPanel {
    pub fn new() -> SparkPanel {
        SparkPanel {
            submits: EventsFile::new("datalab-spark-submits-", SUBMITS_ENV),
            run: None,
            log: SparkLog::default(),
        }
    }

    /// A panel showing an event log given as text, for tests and previews.
    pub fn from_log(text: &str) -> SparkPanel {
        let mut p = SparkPanel::new();
        p.log.feed(text);
        p
    }

    /// The application shown.
    pub fn log(&self) -> &SparkLog {
        &self.log
    }

    /// A new submit replaces what is shown.
    fn follow(&mut self, s: SubmitLine, workspace: &Path) {
        let label = s.event_log.strip_prefix(workspace).unwrap_or(&s.event_log);
        self.run = Some(Run {
            label: label.display().to_string(),
            dir: s.event_log,
            since_ms: s.at_ms,
            tail: None,
        });
        self.log = SparkLog::default();
    }
}

impl Run {
    /// Events Spark appended since the last call.
    fn read_new(&mut self) -> Vec<SparkEvent> {
        if self.tail.is_none() {
            self.tail = newest_log(&self.dir, self.since_ms).map(|p| Tail::new(Some(p)));
        }
        let Some(tail) = &mut self.tail else {
            return Vec::new();
        };
        if let Some(done) = renamed_at_end(tail.path()) {
            tail.renamed(done);
        }
        tail.read_new()
    }
}

/// The newest file in `dir` written since `since_ms` (less a second, for
/// file systems with coarse times): the log Spark started for this submit.
fn newest_log(dir: &Path, since_ms: u64) -> Option<PathBuf> {
    let since = UNIX_EPOCH + Duration::from_millis(since_ms.saturating_sub(1000));
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .filter(|(t, p)| *t >= since && p.is_file())
        .max()
        .map(|(_, p)| p)
}

/// `X` if the log `X.inprogress` was renamed to it (the application ended).
fn renamed_at_end(path: Option<&Path>) -> Option<PathBuf> {
    let path = path?;
    let done = path.to_str()?.strip_suffix(IN_PROGRESS)?;
    (!path.exists()).then(|| PathBuf::from(done))
}

impl LabPanel for SparkPanel {
    fn title(&self) -> String {
        "Spark stages".into()
    }

    fn height(&self) -> u16 {
        10
    }

    fn run_env(&self) -> Vec<(String, String)> {
        self.submits.run_env()
    }

    fn handle_key(&mut self, _key: &KeyEvent, _ctx: &PanelCtx) -> bool {
        false
    }

    fn tick(&mut self, ctx: &PanelCtx) {
        for s in self.submits.read_new::<SubmitLine>() {
            self.follow(s, ctx.workspace);
        }
        if let Some(run) = &mut self.run {
            let events = run.read_new();
            self.log.apply_all(events);
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let t = theme;
        let mut block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(if focused { t.accent() } else { t.border() })
            .title(Line::styled(format!(" {} ", self.title()), t.title()));
        if let Some(l) = summary(&self.log, t) {
            block = block.title(l.right_aligned());
        }
        let inner = crate::ui::boxed(frame, block, area);
        if self.log.stages.is_empty() {
            let msg = truncate(&self.waiting(), inner.width as usize);
            frame.render_widget(Paragraph::new(Line::styled(msg, t.dim())), inner);
            return;
        }
        frame.render_widget(stages_table(&self.log, inner.height, t), inner);
    }
}

impl SparkPanel {
    /// What the panel says before the first stage.
    fn waiting(&self) -> String {
        match &self.run {
            _ if !self.submits.exists() => {
                "no live view: cannot create a temp folder for the runs.".into()
            }
            None => "c runs the step: its Spark jobs and stages show here live.".into(),
            Some(r) if r.tail.is_none() => {
                format!("waiting for Spark's event log in {}…", r.label)
            }
            Some(r) => format!("Spark is starting (event log in {})…", r.label),
        }
    }
}

/// ` wordcount · job 2 running ` on the border's right.
fn summary(log: &SparkLog, t: &Theme) -> Option<Line<'static>> {
    let job = log.last_job()?;
    let app = log.app.as_deref().unwrap_or("Spark");
    let (word, style) = if log.ended {
        let n = log.jobs.len();
        let failed = log.jobs.iter().any(|j| j.status == Status::Failed);
        let s = format!("{n} job{} · ended", if n == 1 { "" } else { "s" });
        (s, if failed { t.bad() } else { t.ok() })
    } else {
        let (w, s) = status_word(job.status, t);
        (format!("job {} {w}", job.id), s)
    };
    Some(Line::from(vec![
        Span::styled(format!(" {app} · "), t.dim()),
        Span::styled(word, style),
        Span::raw(" "),
    ]))
}

fn status_word(s: Status, t: &Theme) -> (&'static str, Style) {
    match s {
        Status::Pending => ("pending", t.dim()),
        Status::Running => ("running", t.accent()),
        Status::Succeeded => ("succeeded", t.ok()),
        Status::Failed => ("failed", t.bad()),
        Status::Skipped => ("skipped", t.dim()),
    }
}

/// The last stages that fit under the header, one row each.
fn stages_table(log: &SparkLog, height: u16, t: &Theme) -> Table<'static> {
    let fit = height.saturating_sub(1) as usize;
    let skip = log.stages.len().saturating_sub(fit);
    let rows = log.stages[skip..].iter().map(|s| stage_row(s, t));
    let widths = [
        Constraint::Length(3),
        Constraint::Length(5),
        Constraint::Fill(1),
        Constraint::Length(7),
        Constraint::Length(22),
    ];
    let header = Row::new(["job", "stage", "name", "  tasks", "status"]).style(t.dim());
    Table::new(rows, widths).header(header).column_spacing(1)
}

fn stage_row(s: &StageView, t: &Theme) -> Row<'static> {
    let (mark, word, style) = match s.status {
        Status::Running => ("▶", format!("{} running", s.running), t.accent()),
        st => {
            let (w, style) = status_word(st, t);
            let mark = match st {
                Status::Succeeded => "✓",
                Status::Failed => "✗",
                _ => "·",
            };
            (mark, w.to_string(), style)
        }
    };
    let mut status = format!("{mark} {word}");
    if s.failed > 0 {
        status.push_str(&format!(", {} failed", s.failed));
    }
    let attempt = if s.attempt > 0 {
        format!(" (retry {})", s.attempt)
    } else {
        String::new()
    };
    Row::new(vec![
        Line::raw(format!("{:>3}", s.job)),
        Line::raw(format!("{:>5}", s.id)),
        Line::raw(format!("{}{attempt}", s.name)),
        Line::raw(format!("{:>7}", format!("{}/{}", s.done, s.tasks))),
        Line::styled(status, style),
    ])
}
