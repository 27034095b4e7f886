//! The lesson reader: Markdown rendered to the terminal's width, scrolled,
//! its position remembered, done when the end is reached (or on `d`). Code
//! blocks keep their lines (diagrams stay whole): one wider than the view is
//! clipped with a marker and scrolled sideways with ←/→ or h/l.

use super::app::{App, Ctx, Nav, ScrollView};
use super::markdown;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::cell::Cell;

pub struct LessonState {
    pub(crate) unit: usize,
    pub(crate) id: String,
    pub scroll: ScrollView,
    /// Columns the code blocks are scrolled to the left.
    pub shift: usize,
    /// The widest code block's columns beyond the view at the last render.
    overflow: Cell<usize>,
    /// The position last saved, to write only when it moved.
    saved: Option<u32>,
}

/// Columns a sideways step moves code blocks.
const SIDE_STEP: usize = 8;

impl LessonState {
    pub(crate) fn new(unit: usize, id: &str, ctx: &Ctx) -> LessonState {
        let saved = ctx.unit_progress(id).and_then(|p| p.position);
        LessonState {
            unit,
            id: id.to_string(),
            scroll: ScrollView::at(saved.unwrap_or(0) as usize),
            shift: 0,
            overflow: Cell::new(0),
            saved,
        }
    }

    /// Some code block is wider than the view: ←/→ scroll sideways.
    pub(crate) fn wide_code(&self) -> bool {
        self.overflow.get() > 0
    }
}

/// Move to the next (`+1`) or previous (`-1`) unit of the agenda.
pub(crate) fn neighbour(ctx: &Ctx, unit: usize, step: isize) -> Nav {
    let target = unit as isize + step;
    if target >= 0 && (target as usize) < ctx.course.units.len() {
        Nav::Open(target as usize)
    } else {
        Nav::Stay
    }
}

pub(crate) fn handle_key(s: &mut LessonState, ctx: &mut Ctx, key: &KeyEvent) -> Nav {
    if s.wide_code() {
        let most = s.overflow.get();
        match key.code {
            KeyCode::Right | KeyCode::Char('l') => {
                s.shift = (s.shift + SIDE_STEP).min(most);
                return Nav::Stay;
            }
            KeyCode::Left | KeyCode::Char('h') => {
                s.shift = s.shift.saturating_sub(SIDE_STEP);
                return Nav::Stay;
            }
            _ => {}
        }
    }
    read_key(&mut s.scroll, s.unit, &s.id, ctx, key)
}

pub(crate) fn tick(s: &mut LessonState, ctx: &mut Ctx) {
    done_at_end(&s.scroll, &s.id, ctx);
}

/// Keys of every scrolled reading screen (lessons, comparisons): scroll,
/// `d` done, `n`/`p` neighbours, `q` back.
pub(crate) fn read_key(
    scroll: &mut ScrollView,
    unit: usize,
    id: &str,
    ctx: &mut Ctx,
    key: &KeyEvent,
) -> Nav {
    if scroll.handle_key(key) {
        done_at_end(scroll, id, ctx);
        return Nav::Stay;
    }
    match key.code {
        KeyCode::Char('d') => {
            ctx.mark_done(id);
            ctx.info("marked as done");
            Nav::Stay
        }
        KeyCode::Char('n') => neighbour(ctx, unit, 1),
        KeyCode::Char('p') => neighbour(ctx, unit, -1),
        KeyCode::Char('q') | KeyCode::Esc | KeyCode::Left => Nav::Back,
        _ => Nav::Stay,
    }
}

/// A reading unit is done once the reader has seen its last line.
pub(crate) fn done_at_end(scroll: &ScrollView, id: &str, ctx: &mut Ctx) {
    if scroll.at_end() && !ctx.is_done(id) {
        ctx.mark_done(id);
    }
}

/// Remember where the reader was.
pub(crate) fn leave(s: &mut LessonState, ctx: &mut Ctx) {
    let pos = s.scroll.offset as u32;
    if s.saved != Some(pos) {
        ctx.save_unit(&s.id, |u| u.position = Some(pos));
        s.saved = Some(pos);
    }
}

pub(crate) fn render(app: &App, s: &LessonState, frame: &mut Frame, area: Rect) {
    let Some(lesson) = app.ctx.course.lessons.get(&s.id) else {
        return;
    };
    render_reading(app, &s.scroll, &s.id, 2, frame, area, |width| {
        let laid = markdown::render_clipped(&lesson.markdown, width, app.theme(), s.shift);
        s.overflow.set(laid.overflow);
        laid.lines
    });
}

/// A scrolled reading screen (lessons, comparisons): the text laid out by
/// `lines` to the width left by `margin` columns each side, the visible
/// page of it, and the status line under it.
pub(crate) fn render_reading(
    app: &App,
    scroll: &ScrollView,
    id: &str,
    margin: u16,
    frame: &mut Frame,
    area: Rect,
    lines: impl FnOnce(u16) -> Vec<Line<'static>>,
) {
    let [text, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let [_, text, _] = Layout::horizontal([
        Constraint::Length(margin),
        Constraint::Min(10),
        Constraint::Length(margin),
    ])
    .areas(text);
    let all = lines(text.width);
    let total = all.len();
    let page = text.height as usize;
    let offset = scroll.layout(total, page);
    let shown: Vec<Line> = all.into_iter().skip(offset).take(page).collect();
    frame.render_widget(Paragraph::new(shown), text);
    frame.render_widget(scroll_status(app, id, offset, total, page), status);
}

/// `lines 1-21 of 48 · 43%   ✓ done`.
pub(crate) fn scroll_status<'a>(
    app: &App,
    id: &str,
    offset: usize,
    total: usize,
    page: usize,
) -> Line<'a> {
    let t = app.theme();
    let last = (offset + page).min(total);
    let pct = (last * 100).checked_div(total).unwrap_or(100);
    let mut spans = vec![Span::styled(
        format!(
            "  lines {}-{last} of {total} · {pct}%",
            (offset + 1).min(total)
        ),
        t.dim(),
    )];
    if app.ctx.is_done(id) {
        spans.push(Span::styled("   ✓ done", t.ok()));
    } else if last < total {
        spans.push(Span::styled("   ↓ more below", t.dim()));
    }
    Line::from(spans)
}
