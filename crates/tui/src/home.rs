//! Home: the agenda as a tree (day → session → unit) with a completion mark
//! per unit, overall progress, and the cursor on where the learner left off.

use super::app::{App, Ctx};
use super::ui::truncate;
use datalab_content::UnitKind;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// A short, fixed-width label per unit kind.
pub(crate) fn kind_label(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Lesson => "lesson  ",
        UnitKind::Quiz => "quiz    ",
        UnitKind::Comparison => "compare ",
        UnitKind::Activity => "activity",
        UnitKind::Lab => "lab     ",
    }
}

/// A one-line status of a unit: score, steps, notes.
pub(crate) fn unit_status(ctx: &Ctx, index: usize) -> String {
    let u = &ctx.course.units[index];
    let p = ctx.unit_progress(&u.id);
    let done = p.is_some_and(|p| p.done);
    let mut parts = vec![if done { "done" } else { "not done" }.to_string()];
    match u.kind {
        UnitKind::Quiz => {
            if let Some((r, t)) = p.and_then(|p| p.best) {
                parts.push(format!("best {r}/{t}"));
            }
        }
        UnitKind::Lab => {
            if let Some(lab) = ctx.course.labs.get(&u.id) {
                let n = p.map(|p| p.steps_done.len()).unwrap_or(0);
                parts.push(format!("{n}/{} steps", lab.def.steps.len()));
            }
        }
        UnitKind::Activity => {
            if p.and_then(|p| p.notes.as_ref())
                .is_some_and(|n| !n.is_empty())
            {
                parts.push("notes saved".into());
            }
        }
        UnitKind::Lesson => {
            if let Some(pos) = p.and_then(|p| p.position).filter(|p| *p > 0) {
                parts.push(format!("read to line {pos}"));
            }
        }
        UnitKind::Comparison => {}
    }
    parts.join(" · ")
}

pub(crate) fn render(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme();
    let ctx = &app.ctx;
    let [head, _, tree, detail] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(header(app, area.width as usize)), head);
    let (rows, cursor_row) = agenda_rows(app, area.width as usize);
    let h = tree.height as usize;
    let offset = scroll_to(app, cursor_row, rows.len(), h);
    let visible: Vec<Line> = rows.into_iter().skip(offset).take(h).collect();
    frame.render_widget(Paragraph::new(visible), tree);
    if !ctx.course.units.is_empty() {
        let status = unit_status(ctx, app.cursor);
        frame.render_widget(
            Line::from(vec![
                Span::styled(" ▸ ", t.accent()),
                Span::styled(status, t.dim()),
                Span::styled("   Enter to open", t.dim()),
            ]),
            detail,
        );
    } else {
        frame.render_widget(Line::styled(" The course has no units.", t.warn()), detail);
    }
}

/// The subtitle, the overall progress bar and where to resume.
fn header(app: &App, width: usize) -> Vec<Line<'static>> {
    let t = app.theme();
    let course = &app.ctx.course;
    let (done, total) = app.ctx.done_count();
    let bar_w = 24usize;
    let filled = (done * bar_w).checked_div(total).unwrap_or(0);
    let resume = app
        .ctx
        .progress
        .last_unit
        .as_deref()
        .and_then(|id| course.unit(id))
        .map(|u| format!("   resume: {} (r)", u.title))
        .unwrap_or_default();
    vec![
        Line::styled(
            format!(" {}", course.subtitle.as_deref().unwrap_or(&course.title)),
            t.emphasis(),
        ),
        Line::from(vec![
            Span::raw(" "),
            Span::styled("━".repeat(filled), t.ok()),
            Span::styled("─".repeat(bar_w - filled), t.dim()),
            Span::raw(format!(" {done}/{total} units")),
            Span::styled(truncate(&resume, width.saturating_sub(bar_w + 16)), t.dim()),
        ]),
    ]
}

/// The agenda tree, one row per day, session and unit, and the row of the
/// unit under the cursor.
fn agenda_rows(app: &App, width: usize) -> (Vec<Line<'static>>, usize) {
    let t = app.theme();
    let ctx = &app.ctx;
    let course = &ctx.course;
    let mut rows: Vec<Line> = Vec::new();
    let mut cursor_row = 0;
    for (di, day) in course.days.iter().enumerate() {
        if di > 0 {
            rows.push(Line::default());
        }
        rows.push(Line::styled(format!(" {}", day.title), t.heading(2)));
        for s in &day.sessions {
            let sdone = s
                .units
                .iter()
                .filter(|&&i| ctx.is_done(&course.units[i].id))
                .count();
            rows.push(Line::from(vec![
                Span::styled(format!("   {}", s.title), t.strong()),
                Span::styled(
                    format!("  {} min · {sdone}/{}", s.minutes, s.units.len()),
                    t.dim(),
                ),
            ]));
            for &ui in &s.units {
                if ui == app.cursor {
                    cursor_row = rows.len();
                }
                rows.push(unit_row(app, ui, width));
            }
        }
    }
    (rows, cursor_row)
}

fn unit_row(app: &App, ui: usize, width: usize) -> Line<'static> {
    let t = app.theme();
    let u = &app.ctx.course.units[ui];
    let mark = if app.ctx.is_done(&u.id) {
        Span::styled("✓", t.ok())
    } else {
        Span::styled("•", t.dim())
    };
    let here = ui == app.cursor;
    let mut line = Line::from(vec![
        Span::styled(if here { "   ▸ " } else { "     " }, t.accent()),
        mark,
        Span::raw(" "),
        Span::styled(kind_label(u.kind), t.accent()),
        Span::raw("  "),
        Span::raw(truncate(&u.title, width.saturating_sub(18))),
    ]);
    if here {
        line = line.style(t.selected());
        // Fill the row so the highlight spans the width.
        let pad = width.saturating_sub(line.width());
        line.spans.push(Span::raw(" ".repeat(pad)));
    }
    line
}

/// The first visible row: the cursor stays in view, with the row above it
/// (its session) when it moves up.
fn scroll_to(app: &App, cursor_row: usize, rows: usize, h: usize) -> usize {
    let mut offset = app.home_offset.get();
    if cursor_row < offset + 1 {
        offset = cursor_row.saturating_sub(2);
    } else if cursor_row >= offset + h {
        offset = cursor_row + 1 - h;
    }
    offset = offset.min(rows.saturating_sub(h));
    app.home_offset.set(offset);
    offset
}
