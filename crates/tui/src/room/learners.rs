//! The room screen's frame (top bar, tabs and filter, footer, help) and its
//! learners table: one row per learner, stuck learners first and marked.

use super::{RoomScreen, Tab, keys, short_duration};
use crate::markdown::str_width;
use crate::theme::Theme;
use crate::ui::{MIN_HEIGHT, MIN_WIDTH, hint_line, too_small, truncate};
use datalab_room::{Row, Stuck};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub(crate) fn render_screen(s: &RoomScreen, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area);
        return;
    }
    let t = &s.theme;
    let problem = s.problem.as_ref().or(s.live.refused.as_ref());
    let [top, tabs, body, problem_area, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(u16::from(problem.is_some())),
        Constraint::Length(1),
    ])
    .areas(area);
    top_bar(s, frame, top);
    tab_line(s, frame, tabs);
    match (s.detail, s.tab) {
        (Some(id), _) => super::detail::render(s, id, frame, body),
        (None, Tab::Learners) => render_table(s, frame, body),
        (None, Tab::Units) => super::units::render(s, frame, body),
        (None, Tab::Live) => super::live::render(s, frame, body),
    }
    if let Some(p) = problem {
        frame.render_widget(Line::styled(format!(" {p}"), t.bad()), problem_area);
    }
    frame.render_widget(hint_line(t, &keys::hints(s)), footer);
    if s.help {
        let screen = if s.detail.is_some() {
            "learner"
        } else {
            "room"
        };
        crate::help::render_keys(t, screen, &keys::keys(s), frame, area);
    }
}

fn top_bar(s: &RoomScreen, frame: &mut Frame, area: Rect) {
    let t = &s.theme;
    let v = &s.view;
    let stuck = if v.stuck > 0 {
        Span::styled(format!("{} stuck", v.stuck), t.bad())
    } else {
        Span::styled("none stuck", t.ok())
    };
    let right = Line::from(vec![
        Span::styled(format!("{} learners · ", v.learners), t.dim()),
        stuck,
        Span::raw(" "),
    ]);
    let [l, r] = Layout::horizontal([Constraint::Min(1), Constraint::Length(right.width() as u16)])
        .areas(area);
    frame.render_widget(
        Line::from(vec![
            Span::styled(" datalab ", t.title()),
            Span::styled("│ ", t.dim()),
            Span::styled("instructor's room", t.strong()),
        ]),
        l,
    );
    frame.render_widget(right, r);
}

/// `Learners  Units` with the current one marked, then the filter.
fn tab_line(s: &RoomScreen, frame: &mut Frame, area: Rect) {
    let t = &s.theme;
    let mut spans = vec![Span::raw(" ")];
    for tab in Tab::ALL {
        let style = if tab == s.tab { t.selected() } else { t.dim() };
        spans.push(Span::styled(format!(" {} ", tab.title()), style));
        spans.push(Span::raw(" "));
    }
    if s.filtering || !s.opts.filter.is_empty() {
        let cursor = if s.filtering { "▏" } else { "" };
        spans.push(Span::styled("  filter: ", t.dim()));
        spans.push(Span::styled(
            format!("{}{cursor}", s.opts.filter),
            t.accent(),
        ));
        spans.push(Span::styled(
            format!("  ({} of {})", s.view.rows.len(), s.view.learners),
            t.dim(),
        ));
    } else {
        let why = format!(
            "  stuck: failing > {} or {}+ hints",
            short_duration(s.opts.stuck_after.as_millis() as i64),
            s.opts.stuck_hints.max(1)
        );
        spans.push(Span::styled(why, t.dim()));
    }
    frame.render_widget(Line::from(spans), area);
}

/// Column widths: the name and unit share what the fixed columns leave.
struct Widths {
    name: usize,
    unit: usize,
}

const STEP_W: usize = 20;
const CHECKS_W: usize = 6;
const ON_STEP_W: usize = 8;
const LAST_W: usize = 5;

impl Widths {
    fn for_width(w: usize) -> Widths {
        let fixed = 3 + STEP_W + CHECKS_W + ON_STEP_W + LAST_W + 5;
        let rest = w.saturating_sub(fixed).max(20);
        let name = (rest / 2).clamp(10, 32);
        Widths {
            name,
            unit: rest - name,
        }
    }
}

/// Truncate to `w` columns and pad with spaces to exactly `w`.
fn cell(s: &str, w: usize) -> String {
    let cut = truncate(s, w);
    let pad = w.saturating_sub(str_width(&cut));
    format!("{cut}{}", " ".repeat(pad))
}

fn header(w: &Widths, t: &Theme) -> Line<'static> {
    let text = format!(
        "   {} {} {} {} {} {}",
        cell("name", w.name),
        cell("unit", w.unit),
        cell("lab/step", STEP_W),
        cell("checks", CHECKS_W),
        cell("on step", ON_STEP_W),
        cell("last", LAST_W),
    );
    Line::styled(text, t.dim())
}

fn row_line(r: &Row, w: &Widths, now_ms: i64, selected: bool, t: &Theme) -> Line<'static> {
    let cursor = if selected { "▸" } else { " " };
    let (stuck, stuck_style) = match &r.stuck {
        Some(_) => ("!", t.bad()),
        None => (" ", t.plain()),
    };
    let step = match (&r.lab, &r.step) {
        (Some(l), Some(s)) => format!("{l}/{s}"),
        _ => "—".into(),
    };
    let checks = if r.checks_total > 0 {
        format!("{}/{}", r.checks_passing, r.checks_total)
    } else {
        "—".into()
    };
    let on_step = match (&r.stuck, r.on_step_ms) {
        (Some(Stuck::Hints { hints }), _) => format!("{hints} hints"),
        (_, Some(ms)) => short_duration(ms),
        (_, None) => "—".into(),
    };
    let last = r
        .last_activity_ms
        .map_or("—".into(), |at| short_duration(now_ms - at));
    let text = format!(
        "{} {} {} {} {} {}",
        cell(&r.name, w.name),
        cell(r.unit.as_deref().unwrap_or("—"), w.unit),
        cell(&step, STEP_W),
        cell(&checks, CHECKS_W),
        cell(&on_step, ON_STEP_W),
        cell(&last, LAST_W),
    );
    let style = match (selected, &r.stuck) {
        (true, _) => t.selected(),
        (false, Some(_)) => t.bad(),
        (false, None) => t.plain(),
    };
    Line::from(vec![
        Span::styled(cursor, t.accent()),
        Span::styled(stuck, stuck_style),
        Span::raw(" "),
        Span::styled(text, style),
    ])
}

fn render_table(s: &RoomScreen, frame: &mut Frame, area: Rect) {
    let t = &s.theme;
    let w = Widths::for_width(area.width as usize);
    let [head, rows_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    frame.render_widget(header(&w, t), head);
    let rows = &s.view.rows;
    if rows.is_empty() {
        let msg = if s.view.learners == 0 {
            "  nobody has joined yet: learners run the `datalab join` line the room printed"
        } else {
            "  no learner's name matches the filter"
        };
        frame.render_widget(Paragraph::new(Line::styled(msg, t.dim())), rows_area);
        return;
    }
    let page = rows_area.height as usize;
    s.page.set(page);
    let offset = visible_offset(s.offset.get(), s.cursor, page, rows.len());
    s.offset.set(offset);
    let lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(page)
        .map(|(i, r)| row_line(r, &w, s.view.now_ms, i == s.cursor, t))
        .collect();
    frame.render_widget(Paragraph::new(lines), rows_area);
}

/// The first row to draw so the cursor is on screen, moving as little as
/// possible from the last offset.
pub(super) fn visible_offset(last: usize, cursor: usize, page: usize, rows: usize) -> usize {
    let page = page.max(1);
    let max = rows.saturating_sub(page);
    let offset = if cursor < last {
        cursor
    } else if cursor >= last + page {
        cursor + 1 - page
    } else {
        last
    };
    offset.min(max)
}

#[cfg(test)]
mod tests {
    use super::visible_offset;

    #[test]
    fn the_cursor_stays_visible() {
        assert_eq!(visible_offset(0, 0, 10, 200), 0);
        assert_eq!(visible_offset(0, 10, 10, 200), 1);
        assert_eq!(visible_offset(5, 3, 10, 200), 3);
        assert_eq!(visible_offset(5, 8, 10, 200), 5);
        assert_eq!(visible_offset(190, 199, 10, 12), 2);
    }
}
