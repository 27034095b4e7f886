//! The frame around every screen: top bar, footer with key hints or a
//! message, the help overlay, and the "terminal too small" notice.

use super::app::{App, MessageKind, Screen};
use super::help;
use super::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

pub(crate) const MIN_WIDTH: u16 = 80;
pub(crate) const MIN_HEIGHT: u16 = 24;

pub(crate) fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        app.too_small.set(true);
        too_small(frame, area);
        return;
    }
    app.too_small.set(false);
    let has_msg = app.ctx.message.is_some();
    let [top, body, msg, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(u16::from(has_msg)),
        Constraint::Length(1),
    ])
    .areas(area);
    top_bar(app, frame, top);
    match &app.screen {
        Screen::Home => super::home::render(app, frame, body),
        Screen::Lesson(s) => super::lesson::render(app, s, frame, body),
        Screen::Quiz(s) => super::quiz::render(app, s, frame, body),
        Screen::Comparison(s) => super::comparison::render(app, s, frame, body),
        Screen::Activity(s) => super::activity::render(app, s, frame, body),
        Screen::Lab(s) => super::lab::render(app, s, frame, body),
        Screen::Live(s) => super::live::render(&app.ctx, s, frame, body),
    }
    if let Some((m, kind)) = &app.ctx.message {
        let style = match kind {
            MessageKind::Info => app.theme().ok(),
            MessageKind::Error => app.theme().bad(),
        };
        let first = m.lines().next().unwrap_or("");
        frame.render_widget(Line::styled(format!(" {first}"), style), msg);
    }
    footer_hints(app, frame, footer);
    if app.help {
        help::render(app, frame, area);
    }
}

fn top_bar(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme();
    let title = match app.screen.unit() {
        Some(i) => {
            let u = &app.ctx.course.units[i];
            format!("{} · {}", u.kind.name(), u.title)
        }
        None => app.ctx.course.title.clone(),
    };
    let (done, total) = app.ctx.done_count();
    let clock = super::live::top_bar_clock(&app.ctx.live).unwrap_or_default();
    let right = format!("{clock}{done}/{total} units done ");
    let left_max = (area.width as usize).saturating_sub(right.len() + 12);
    let title = truncate(&title, left_max);
    let [l, r] = Layout::horizontal([
        Constraint::Min(1),
        Constraint::Length(right.chars().count() as u16),
    ])
    .areas(area);
    frame.render_widget(
        Line::from(vec![
            Span::styled(" datalab ", t.title()),
            Span::styled("│ ", t.dim()),
            Span::styled(title, t.strong()),
        ]),
        l,
    );
    frame.render_widget(Line::styled(right, t.dim()), r);
}

fn footer_hints(app: &App, frame: &mut Frame, area: Rect) {
    frame.render_widget(hint_line(app.theme(), &help::hints(app)), area);
}

/// Key hints as one footer line: `key what  key what`.
pub(crate) fn hint_line(t: &Theme, hints: &help::Keys) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for (i, (k, what)) in hints.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled("  ", t.dim()));
        }
        spans.push(Span::styled(*k, t.accent()));
        spans.push(Span::styled(format!(" {what}"), t.dim()));
    }
    Line::from(spans)
}

pub(crate) fn too_small(frame: &mut Frame, area: Rect) {
    let msg = format!(
        "datalab needs at least {MIN_WIDTH}×{MIN_HEIGHT} (this terminal is {}×{})",
        area.width, area.height
    );
    let hint = "Make the window larger, or press q to quit.";
    let lines = vec![Line::from(msg), Line::from(""), Line::from(hint)];
    // Height of the wrapped text, to centre it vertically.
    let w = area.width.max(1) as usize;
    let height: usize = lines.iter().map(|l| l.width().max(1).div_ceil(w)).sum();
    let top = (area.height as usize).saturating_sub(height) / 2;
    let [_, mid] =
        Layout::vertical([Constraint::Length(top as u16), Constraint::Min(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(ratatui::layout::Alignment::Center)
            .wrap(Wrap { trim: true }),
        mid,
    );
}

/// Cut a string to `max` columns with an ellipsis.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if super::markdown::str_width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = super::markdown::str_width(c.encode_utf8(&mut [0; 4]));
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// A rectangle of at most `w`×`h`, centred in `area`.
/// Draw a bordered block over `area` and return the space inside it, one
/// column of padding each side.
pub(crate) fn boxed(frame: &mut Frame, block: Block<'_>, area: Rect) -> Rect {
    let inner = block.inner(area);
    frame.render_widget(block, area);
    Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    }
}

/// The rows of `lines` a scrolled view shows in `height` rows.
pub(crate) fn page<'a>(lines: Vec<Line<'a>>, offset: usize, height: u16) -> Paragraph<'a> {
    Paragraph::new(
        lines
            .into_iter()
            .skip(offset)
            .take(height as usize)
            .collect::<Vec<_>>(),
    )
}

pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
