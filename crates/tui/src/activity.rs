//! A timed group activity: phases with their minutes, a timer (start, pause,
//! next phase, reset), a bell and a flash when a phase ends, and notes that
//! are saved to progress as they are typed.

use super::app::{App, Ctx, Nav};
use super::markdown::wrap_spans;
use super::theme::Theme;
use datalab_content::Activity;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, LineGauge, Paragraph};
use std::time::{Duration, Instant};

/// Notes are written this long after the last keystroke (and always when
/// the learner stops writing or leaves).
pub(crate) const NOTES_DEBOUNCE: Duration = Duration::from_millis(400);
const FLASH: Duration = Duration::from_secs(3);

/// A stopwatch that can pause.
#[derive(Debug, Default, Clone)]
pub struct Timer {
    /// Time counted before the current run.
    pub(crate) before: Duration,
    pub(crate) started: Option<Instant>,
}

impl Timer {
    pub fn running(&self) -> bool {
        self.started.is_some()
    }
    pub(crate) fn elapsed(&self, now: Instant) -> Duration {
        self.before
            + self
                .started
                .map(|s| now.saturating_duration_since(s))
                .unwrap_or_default()
    }
    pub(crate) fn start(&mut self, now: Instant) {
        if self.started.is_none() {
            self.started = Some(now);
        }
    }
    pub(crate) fn pause(&mut self, now: Instant) {
        self.before = self.elapsed(now);
        self.started = None;
    }
    pub(crate) fn reset(&mut self) {
        *self = Timer::default();
    }
}

pub struct ActivityState {
    pub(crate) unit: usize,
    pub(crate) id: String,
    pub(crate) phase: usize,
    pub timer: Timer,
    /// The clock at the last tick: what the screen shows.
    pub(crate) now: Instant,
    /// The current phase ran to its end.
    pub(crate) phase_over: bool,
    pub(crate) flash_until: Option<Instant>,
    pub(crate) notes: String,
    pub(crate) notes_focus: bool,
    /// When the notes changed without being saved yet.
    pub(crate) notes_dirty: Option<Instant>,
}

impl ActivityState {
    pub(crate) fn new(unit: usize, id: &str, ctx: &Ctx, now: Instant) -> Option<ActivityState> {
        ctx.course.activities.get(id)?;
        Some(ActivityState {
            unit,
            id: id.to_string(),
            phase: 0,
            timer: Timer::default(),
            now,
            phase_over: false,
            flash_until: None,
            notes: ctx
                .unit_progress(id)
                .and_then(|u| u.notes.clone())
                .unwrap_or_default(),
            notes_focus: false,
            notes_dirty: None,
        })
    }
}

fn phase_len(ctx: &Ctx, s: &ActivityState) -> Duration {
    ctx.course
        .activities
        .get(&s.id)
        .and_then(|a| a.phases.get(s.phase))
        .map(|p| Duration::from_secs(u64::from(p.minutes.value) * 60))
        .unwrap_or_default()
}

pub(crate) fn handle_key(s: &mut ActivityState, ctx: &mut Ctx, key: &KeyEvent) -> Nav {
    let now = Instant::now();
    if s.notes_focus {
        match key.code {
            KeyCode::Tab | KeyCode::Esc => {
                s.notes_focus = false;
                flush_notes(s, ctx);
            }
            KeyCode::Enter => {
                s.notes.push('\n');
                s.notes_dirty = Some(now);
            }
            KeyCode::Backspace if s.notes.pop().is_some() => s.notes_dirty = Some(now),
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                s.notes.push(c);
                s.notes_dirty = Some(now);
            }
            _ => {}
        }
        return Nav::Stay;
    }
    let phases = phase_count(ctx, &s.id);
    match key.code {
        KeyCode::Char(' ') => {
            if s.timer.running() {
                s.timer.pause(now);
            } else if !s.phase_over {
                s.timer.start(now);
            }
            s.now = now;
        }
        KeyCode::Char('n') => {
            if s.phase + 1 < phases {
                s.phase += 1;
                s.timer.reset();
                s.phase_over = false;
                s.flash_until = None;
            } else {
                ctx.info("this was the last phase (d marks the activity done)");
            }
        }
        KeyCode::Char('r') => {
            s.timer.reset();
            s.phase_over = false;
            s.flash_until = None;
        }
        KeyCode::Char('d') => {
            ctx.mark_done(&s.id);
            ctx.info("marked as done");
        }
        KeyCode::Tab | KeyCode::Char('e') => s.notes_focus = true,
        KeyCode::Char('q') | KeyCode::Esc => return Nav::Back,
        _ => {}
    }
    Nav::Stay
}

/// How many phases the activity has (0 when it is gone from the course).
fn phase_count(ctx: &Ctx, id: &str) -> usize {
    ctx.course.activities.get(id).map_or(0, |a| a.phases.len())
}

pub(crate) fn tick(s: &mut ActivityState, ctx: &mut Ctx, now: Instant) {
    s.now = now;
    let len = phase_len(ctx, s);
    if s.timer.running() && s.timer.elapsed(now) >= len {
        s.timer.before = len;
        s.timer.started = None;
        s.phase_over = true;
        s.flash_until = Some(now + FLASH);
        ctx.bell = true;
        let phases = phase_count(ctx, &s.id);
        if s.phase + 1 >= phases {
            ctx.mark_done(&s.id);
            ctx.info("time is up: the activity is over");
        } else {
            ctx.info("time is up: n for the next phase");
        }
    }
    if s.flash_until.is_some_and(|f| now >= f) {
        s.flash_until = None;
    }
    if s.notes_dirty
        .is_some_and(|d| now.saturating_duration_since(d) >= NOTES_DEBOUNCE)
    {
        flush_notes(s, ctx);
    }
}

/// Save the notes now if they changed.
pub(crate) fn flush_notes(s: &mut ActivityState, ctx: &mut Ctx) {
    if s.notes_dirty.take().is_some() {
        let notes = s.notes.clone();
        ctx.room.note_saved(&s.id, s.phase, &notes);
        ctx.save_unit(&s.id, |u| u.notes = Some(notes));
    }
}

fn mmss(d: Duration) -> String {
    let secs = d.as_secs();
    format!("{:02}:{:02}", secs / 60, secs % 60)
}

pub(crate) fn render(app: &App, s: &ActivityState, frame: &mut Frame, area: Rect) {
    let t = app.theme();
    let Some(a) = app.ctx.course.activities.get(&s.id) else {
        return;
    };
    let w = area.width as usize;
    let summary = wrap_spans(
        &[Span::styled(a.summary.trim().to_string(), t.emphasis())],
        w.saturating_sub(2),
        vec![Span::raw(" ")],
        vec![Span::raw(" ")],
    );
    let [top, mid, notes_area] = Layout::vertical([
        Constraint::Length(summary.len().min(3) as u16 + 1),
        Constraint::Min(8),
        Constraint::Length(7),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(summary), top);
    let [left, right] =
        Layout::horizontal([Constraint::Min(30), Constraint::Length(28)]).areas(mid);
    let [right, _] = Layout::vertical([Constraint::Length(7), Constraint::Min(0)]).areas(right);
    frame.render_widget(Paragraph::new(phase_lines(t, a, s, left.width)), left);
    render_timer(app, s, frame, right);
    render_notes(t, a, s, frame, notes_area);
}

/// The phases, the current one marked, and its instructions.
fn phase_lines<'a>(t: &Theme, a: &'a Activity, s: &ActivityState, width: u16) -> Vec<Line<'a>> {
    let mut lines: Vec<Line> = Vec::new();
    let total: u32 = a.phases.iter().map(|p| p.minutes.value).sum();
    lines.push(Line::styled(format!(" Phases ({total} min)"), t.heading(2)));
    for (i, p) in a.phases.iter().enumerate() {
        let (mark, style) = if i < s.phase || (i == s.phase && s.phase_over) {
            ("✓", t.ok())
        } else if i == s.phase {
            ("▶", t.accent())
        } else {
            (" ", t.plain())
        };
        let title_style = if i == s.phase { t.strong() } else { t.plain() };
        lines.push(Line::from(vec![
            Span::raw(" "),
            Span::styled(mark, style),
            Span::raw(format!(" {}. ", i + 1)),
            Span::styled(p.title.clone(), title_style),
            Span::styled(format!("  {}'", p.minutes.value), t.dim()),
        ]));
    }
    lines.push(Line::default());
    if let Some(p) = a.phases.get(s.phase) {
        lines.extend(wrap_spans(
            &[Span::raw(p.instructions.trim().to_string())],
            width.saturating_sub(1) as usize,
            vec![Span::raw(" ")],
            vec![Span::raw(" ")],
        ));
    }
    lines
}

/// The timer box: phase number, time left, a gauge and the timer's state.
fn render_timer(app: &App, s: &ActivityState, frame: &mut Frame, area: Rect) {
    let t = app.theme();
    let phases = app
        .ctx
        .course
        .activities
        .get(&s.id)
        .map_or(0, |a| a.phases.len());
    let len = phase_len(&app.ctx, s);
    let elapsed = s.timer.elapsed(s.now).min(len);
    let remaining = len.saturating_sub(elapsed);
    let flashing = s.flash_until.is_some();
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(if flashing { t.flash() } else { t.border() })
        .title(Line::styled(" Timer ", t.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let state = if s.phase_over {
        "time is up"
    } else if s.timer.running() {
        "running"
    } else if elapsed.is_zero() {
        "space to start"
    } else {
        "paused"
    };
    let clock_style = if flashing { t.flash() } else { t.title() };
    let [l1, _, l3, l4, l5] = Layout::vertical([Constraint::Length(1); 5]).areas(inner);
    let phase = format!(" Phase {} of {phases}", s.phase + 1);
    frame.render_widget(Line::styled(phase, t.dim()), l1);
    frame.render_widget(
        Line::styled(format!("  {}  ", mmss(remaining)), clock_style).centered(),
        l3,
    );
    let ratio = if len.is_zero() {
        0.0
    } else {
        elapsed.as_secs_f64() / len.as_secs_f64()
    };
    frame.render_widget(
        LineGauge::default()
            .ratio(ratio.clamp(0.0, 1.0))
            .filled_style(t.ok())
            .unfilled_style(t.dim())
            .label(""),
        Rect {
            x: l4.x + 1,
            width: l4.width.saturating_sub(2),
            ..l4
        },
    );
    let state_style = if flashing { t.flash() } else { t.dim() };
    frame.render_widget(Line::styled(state, state_style).centered(), l5);
}

/// The notes box: the group's notes (their end when long), or the prompt.
fn render_notes(t: &Theme, a: &Activity, s: &ActivityState, frame: &mut Frame, area: Rect) {
    let focus = s.notes_focus;
    let hint = if focus {
        " saved as you type · Tab or Esc to stop "
    } else {
        " Tab to write "
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(if focus { t.accent() } else { t.border() })
        .title(Line::styled(" Notes ", t.title()))
        .title_bottom(Line::styled(hint, t.dim()).right_aligned());
    let text_area = block.inner(area);
    frame.render_widget(block, area);
    let tw = text_area.width.saturating_sub(2) as usize;
    let wrap = |text: String, style| {
        wrap_spans(
            &[Span::styled(text, style)],
            tw,
            vec![Span::raw(" ")],
            vec![Span::raw(" ")],
        )
    };
    let mut note_lines: Vec<Line> = Vec::new();
    if s.notes.is_empty() && !focus {
        let prompt = a
            .notes_prompt
            .clone()
            .unwrap_or_else(|| "Your group's notes.".into());
        note_lines.extend(wrap(prompt, t.dim()));
    } else {
        for para in s.notes.split('\n') {
            note_lines.extend(wrap(para.to_string(), Style::default()));
        }
        if focus && let Some(last) = note_lines.last_mut() {
            last.spans.push(Span::styled("▏", t.accent()));
        }
    }
    let skip = note_lines.len().saturating_sub(text_area.height as usize);
    frame.render_widget(
        Paragraph::new(note_lines.into_iter().skip(skip).collect::<Vec<_>>()),
        text_area,
    );
}
