//! The live tab (#13): the room's activity timer, its poll with the counts
//! and the right answers, and the note on the projector, as the
//! instructor's stream shows them; beside them, the course's activities
//! and quizzes and the notes learners saved, to start, open or pick with
//! Enter. Keys become [`Command`]s queued in `pending`; the run loop sends
//! them to the room server (`link`) and the answer updates the view.

use super::{RoomIntent, RoomScreen};
use crate::help::Keys;
use crate::home::kind_label;
use crate::theme::Theme;
use crate::ui::truncate;
use datalab_content::{Course, UnitKind};
use datalab_engine::live::{open_poll, start_activity};
use datalab_room::live::{ActivityView, Command, LiveView, PickedNote, PollView};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Padding, Paragraph, Wrap};
use std::cell::Cell;
use std::collections::HashSet;
use std::time::Instant;

/// One of the course's activities or quizzes, ready to start or open.
struct Startable {
    kind: UnitKind,
    id: String,
    title: String,
    command: Command,
}

/// The live tab's state.
pub(crate) struct LivePane {
    /// The latest instructor's view and when it arrived.
    view: Option<(LiveView, Instant)>,
    /// The clock the tab is drawn at (set by the run loop).
    pub(crate) now: Instant,
    connected: bool,
    /// Why the stream is not followed (shown while there is no view): a
    /// line, then what to do about it.
    pub(crate) offline: Option<String>,
    startables: Vec<Startable>,
    notes: Vec<PickedNote>,
    /// Cursor in the startables, then the notes.
    cursor: usize,
    /// First line of the list drawn, and how many lines it showed.
    offset: Cell<usize>,
    page: Cell<usize>,
    /// Commands for the run loop to send.
    pending: Vec<Command>,
    /// Why the room refused the last command.
    pub(crate) refused: Option<String>,
}

impl LivePane {
    pub(crate) fn new(course: &Course) -> LivePane {
        LivePane {
            view: None,
            now: Instant::now(),
            connected: false,
            offline: None,
            startables: startables(course),
            notes: Vec::new(),
            cursor: 0,
            offset: Cell::new(0),
            page: Cell::new(10),
            pending: Vec::new(),
            refused: None,
        }
    }

    /// Show `view`, which arrived at `at`, drawn at `at`.
    pub(crate) fn show(&mut self, view: LiveView, at: Instant) {
        self.view = Some((view, at));
        self.now = at;
        self.connected = true;
    }

    /// What the stream brought.
    pub(crate) fn follow(&mut self, feed: datalab_room::Feed) {
        self.connected = feed.connected;
        self.offline = (feed.error).map(|e| {
            format!("The room server does not answer, so nothing is live.\n{e} (trying again)")
        });
        if feed.view.is_some() {
            self.view = feed.view;
        }
    }

    /// The room's answer to a command: its view (unless the stream
    /// already brought a newer one), or why it refused.
    pub(crate) fn answered(&mut self, r: Result<LiveView, String>, at: Instant) {
        match r {
            Ok(v)
                if self
                    .view
                    .as_ref()
                    .is_none_or(|(old, _)| v.version >= old.version) =>
            {
                self.view = Some((v, at));
                self.refused = None;
            }
            Ok(_) => self.refused = None,
            Err(e) => self.refused = Some(e),
        }
    }

    pub(crate) fn set_notes(&mut self, notes: Vec<PickedNote>) {
        self.notes = notes;
        self.cursor = self.cursor.min(self.len().saturating_sub(1));
    }

    pub(crate) fn queue(&mut self, cmd: Command) {
        self.refused = None;
        self.pending.push(cmd);
    }

    pub(crate) fn take_pending(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.pending)
    }

    fn len(&self) -> usize {
        self.startables.len() + self.notes.len()
    }

    fn activity(&self) -> Option<&ActivityView> {
        self.view.as_ref()?.0.activity.as_ref()
    }

    fn poll(&self) -> Option<&PollView> {
        self.view.as_ref()?.0.poll.as_ref()
    }

    fn show_names(&self) -> bool {
        self.view.as_ref().is_some_and(|(v, _)| v.show_names)
    }

    /// What Enter does on the entry under the cursor.
    fn under_cursor(&self) -> Option<Command> {
        match self.startables.get(self.cursor) {
            Some(s) => Some(s.command.clone()),
            None => {
                let note = self.notes.get(self.cursor - self.startables.len())?;
                Some(Command::PickNote { id: note.id })
            }
        }
    }

    /// Move the cursor in the list.
    pub(crate) fn move_cursor(&mut self, intent: &RoomIntent) {
        use RoomIntent as I;
        let page = self.page.get().max(2) - 1;
        let to = match intent {
            I::Up => self.cursor.saturating_sub(1),
            I::Down => self.cursor + 1,
            I::PageUp => self.cursor.saturating_sub(page),
            I::PageDown => self.cursor + page,
            I::Top => 0,
            _ => usize::MAX,
        };
        self.cursor = to.min(self.len().saturating_sub(1));
    }
}

/// The course's activities and quizzes, in agenda order, then those the
/// agenda does not list.
fn startables(course: &Course) -> Vec<Startable> {
    let agenda = course.units.iter().map(|u| (u.kind, u.id.as_str()));
    let activities = course.activities.keys().map(|id| (UnitKind::Activity, id));
    let quizzes = course.quizzes.keys().map(|id| (UnitKind::Quiz, id));
    let rest = activities.chain(quizzes).map(|(k, id)| (k, id.as_str()));
    let mut seen = HashSet::new();
    agenda
        .chain(rest)
        .filter(|unit| seen.insert(*unit))
        .filter_map(|(kind, id)| {
            let (title, command) = match kind {
                UnitKind::Activity => {
                    let a = course.activities.get(id)?;
                    (a.title.clone(), start_activity(id, a))
                }
                UnitKind::Quiz => {
                    let q = course.quizzes.get(id)?;
                    (q.title.clone(), open_poll(id, q))
                }
                _ => return None,
            };
            let id = id.to_string();
            Some(Startable {
                kind,
                id,
                title,
                command,
            })
        })
        .collect()
}

/// The intent of `key` on the live tab; None leaves it to the room's keys
/// (moving, Tab, help, quit).
pub(crate) fn intent(p: &LivePane, key: &KeyEvent) -> Option<RoomIntent> {
    let question = |step: fn(usize) -> usize| Command::ShowQuestion {
        index: p.poll().map_or(0, |q| step(q.current)),
    };
    let cmd = match key.code {
        KeyCode::Char(' ') if p.activity().is_some_and(|a| !a.running) => Command::Resume,
        KeyCode::Char(' ') => Command::Pause,
        KeyCode::Char('n') => Command::NextPhase,
        KeyCode::Char('+') => Command::AddMinute,
        KeyCode::Char('e') => Command::EndActivity,
        KeyCode::Char(']') => question(|i| i + 1),
        KeyCode::Char('[') => question(|i| i.saturating_sub(1)),
        KeyCode::Char('v') => Command::Reveal,
        KeyCode::Char('c') => Command::ClosePoll,
        KeyCode::Char('x') => Command::ClearNote,
        KeyCode::Char('N') => Command::ShowNames {
            on: !p.show_names(),
        },
        KeyCode::Enter => p.under_cursor()?,
        _ => return None,
    };
    Some(RoomIntent::Live(cmd))
}

/// Every key of the live tab, for the `?` overlay.
pub(crate) fn keys() -> Keys {
    vec![
        ("↑ ↓  PgUp PgDn", "move in the list"),
        (
            "Enter",
            "start the activity / open the quiz as a poll / show the note",
        ),
        ("space", "pause / resume the timer"),
        ("n", "next phase"),
        ("+", "one more minute"),
        ("e", "end the activity"),
        ("]  [", "next / previous question"),
        ("v", "reveal the answer to everyone"),
        ("c", "close the poll"),
        ("x", "take the note off the projector"),
        ("N", "learners' names with the note: on / off"),
        ("Tab", "learners"),
    ]
}

/// The few keys shown in the footer.
pub(crate) fn hints(p: &LivePane) -> Keys {
    let paused = p.activity().is_some_and(|a| !a.running);
    vec![
        ("Enter", "start"),
        ("space", if paused { "resume" } else { "pause" }),
        ("n", "next"),
        ("v", "reveal"),
        ("] [", "question"),
        ("Tab", "learners"),
    ]
}

/// Draw the live tab into `area`.
pub(crate) fn render(s: &RoomScreen, frame: &mut Frame, area: Rect) {
    let (p, t) = (&s.live, &s.theme);
    if p.view.is_none() {
        return frame.render_widget(offline(p, t), area);
    }
    let [left, right] =
        Layout::horizontal([Constraint::Min(40), Constraint::Length(36)]).areas(area);
    let [activity, poll, note] = Layout::vertical([
        Constraint::Length(5),
        Constraint::Min(6),
        Constraint::Length(4),
    ])
    .areas(left);
    render_activity(p, t, frame, activity);
    render_poll(p, t, frame, poll);
    render_note(p, t, frame, note);
    render_list(p, t, frame, right);
}

/// Why nothing is live: the server is not running or does not answer.
fn offline(p: &LivePane, t: &Theme) -> Paragraph<'static> {
    let Some(why) = &p.offline else {
        return Paragraph::new(Line::styled("  connecting to the room server…", t.dim()));
    };
    let mut lines = why.lines().map(|l| Line::styled(format!("  {l}"), t.dim()));
    let first = lines.next().map(|l| l.style(t.bad()));
    let lines: Vec<Line> = first.into_iter().chain(lines).collect();
    Paragraph::new(lines).wrap(Wrap { trim: false })
}

fn boxed(title: String, t: &Theme) -> Block<'static> {
    Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.border())
        .padding(Padding::horizontal(1))
        .title(Line::styled(title, t.title()))
}

fn render_activity(p: &LivePane, t: &Theme, frame: &mut Frame, area: Rect) {
    let status = if p.connected {
        ""
    } else {
        " · reconnecting…"
    };
    let block = boxed(format!(" Activity{status} "), t);
    let left = p.view.as_ref().and_then(|(v, at)| {
        let a = v.activity.as_ref()?;
        Some((a, crate::live::remaining_ms(a, *at, p.now)?))
    });
    let Some((a, ms)) = left else {
        let line = Line::styled("None running: Enter on one in the list starts it.", t.dim());
        let para = Paragraph::new(line).wrap(Wrap { trim: false });
        return frame.render_widget(para.block(block), area);
    };
    let width = block.inner(area).width as usize;
    let secs = (ms + 999) / 1000;
    let clock = format!("{:02}:{:02}", secs / 60, secs % 60);
    let (clock, state) = match (a.running, ms) {
        (false, _) => (format!("{clock} left"), "  paused"),
        (true, 0) => (clock, "  time's up"),
        _ => (format!("{clock} left"), ""),
    };
    let phase = format!("Phase {} of {}: ", a.phase + 1, a.phases.len());
    let phase_title = truncate(&a.phases[a.phase].title, width.saturating_sub(phase.len()));
    let lines = vec![
        Line::styled(truncate(&a.title, width), t.strong()),
        Line::from(vec![Span::styled(phase, t.dim()), Span::raw(phase_title)]),
        Line::from(vec![
            Span::styled(clock, t.accent()),
            Span::styled(state, t.warn()),
        ]),
    ];
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn render_poll(p: &LivePane, t: &Theme, frame: &mut Frame, area: Rect) {
    let Some(poll) = p.poll() else {
        let line = Line::styled(
            "No poll open: Enter on a quiz in the list opens it.",
            t.dim(),
        );
        let para = Paragraph::new(line).wrap(Wrap { trim: false });
        return frame.render_widget(para.block(boxed(" Poll ".into(), t)), area);
    };
    let q = &poll.question;
    let title = format!(" Poll · question {} of {} ", poll.current + 1, poll.total);
    let block = boxed(title, t);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = vec![
        Line::styled(poll.title.clone(), t.dim()),
        Line::styled(q.prompt.clone(), t.strong()),
    ];
    lines.extend(crate::live::option_lines(q, t, inner.width as usize));
    let revealed = if q.revealed {
        Span::styled(" · revealed", t.ok())
    } else {
        Span::styled(" · not revealed (v reveals)", t.dim())
    };
    lines.push(Line::from(vec![
        Span::raw(format!("{} answered", q.answered)),
        revealed,
    ]));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn render_note(p: &LivePane, t: &Theme, frame: &mut Frame, area: Rect) {
    let names = if p.show_names() {
        "names shown"
    } else {
        "names hidden"
    };
    let block = boxed(format!(" On the projector · {names} "), t);
    let note = p.view.as_ref().and_then(|(v, _)| v.note.as_ref());
    let lines = match note {
        Some(n) => vec![Line::from(vec![
            Span::styled(
                format!("{}: ", n.author.as_deref().unwrap_or("?")),
                t.strong(),
            ),
            Span::raw(n.text.replace('\n', " ")),
        ])],
        None => vec![Line::styled(
            "No note: Enter on a learner's note shows it.",
            t.dim(),
        )],
    };
    let para = Paragraph::new(lines).wrap(Wrap { trim: false });
    frame.render_widget(para.block(block), area);
}

fn render_list(p: &LivePane, t: &Theme, frame: &mut Frame, area: Rect) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.border())
        .title(Line::styled(" Start · open · show ", t.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (lines, cursor_line) = list_lines(p, inner.width as usize, t);
    let page = inner.height as usize;
    p.page.set(page);
    let offset = super::learners::visible_offset(p.offset.get(), cursor_line, page, lines.len());
    p.offset.set(offset);
    frame.render_widget(Paragraph::new(lines).scroll((offset as u16, 0)), inner);
}

/// The list's lines, and the line the cursor is on.
fn list_lines(p: &LivePane, width: usize, t: &Theme) -> (Vec<Line<'static>>, usize) {
    let (live_activity, live_poll) = (p.activity().map(|a| &a.id), p.poll().map(|q| &q.quiz));
    let mut lines = vec![Line::styled("Activities and quizzes", t.heading(2))];
    for (i, s) in p.startables.iter().enumerate() {
        let live = match s.kind {
            UnitKind::Activity => live_activity == Some(&s.id),
            _ => live_poll == Some(&s.id),
        };
        let text = format!("{} {}", kind_label(s.kind), s.title);
        lines.push(entry(i == p.cursor, live, &text, width, t));
    }
    lines.push(Line::styled(
        format!("Notes learners saved ({})", p.notes.len()),
        t.heading(2),
    ));
    let shown = p.view.as_ref().and_then(|(v, _)| v.note.as_ref());
    for (i, n) in p.notes.iter().enumerate() {
        let live = shown.is_some_and(|s| s.text == n.text && s.activity == n.activity);
        let text = format!("{}: {}", n.author, n.text.replace('\n', " "));
        let at = p.startables.len() + i;
        lines.push(entry(at == p.cursor, live, &text, width, t));
    }
    if p.notes.is_empty() {
        lines.push(Line::styled("  none yet", t.dim()));
    }
    let headings_before = if p.cursor < p.startables.len() { 1 } else { 2 };
    (lines, p.cursor + headings_before)
}

/// `▸● text`: the cursor, and a dot on what is live now.
fn entry(selected: bool, live: bool, text: &str, width: usize, t: &Theme) -> Line<'static> {
    let cursor = if selected { "▸" } else { " " };
    let dot = if live { "●" } else { " " };
    let style = match (selected, live) {
        (true, _) => t.selected(),
        (false, true) => t.ok(),
        (false, false) => t.plain(),
    };
    Line::from(vec![
        Span::styled(cursor, t.accent()),
        Span::styled(dot, t.ok()),
        Span::raw(" "),
        Span::styled(truncate(text, width.saturating_sub(3)), style),
    ])
}
