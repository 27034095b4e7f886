//! The units tab: one line per unit of the agenda, in course order, with
//! how many learners finished it (then units the room saw that this
//! course does not have). Scrolls.

use super::RoomScreen;
use crate::home::kind_label;
use crate::theme::Theme;
use crate::ui::truncate;
use datalab_room::view::UnitCount;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::collections::BTreeMap;

/// Width of the finished-count bar.
const BAR: usize = 20;

pub(crate) fn render(s: &RoomScreen, frame: &mut Frame, area: Rect) {
    let lines = lines(s, area.width as usize, &s.theme);
    let offset = s.units_scroll.layout(lines.len(), area.height as usize);
    frame.render_widget(Paragraph::new(lines).scroll((offset as u16, 0)), area);
}

/// `(id, kind label, title, finished)` in agenda order, then the others.
pub(crate) fn ordered(s: &RoomScreen) -> Vec<(String, &'static str, String, usize)> {
    let mut counts: BTreeMap<&str, usize> = s
        .view
        .units
        .iter()
        .map(|UnitCount { unit, finished }| (unit.as_str(), *finished))
        .collect();
    let mut out: Vec<_> = s
        .agenda
        .iter()
        .map(|u| {
            let n = counts.remove(u.id.as_str()).unwrap_or(0);
            (u.id.clone(), kind_label(u.kind), u.title.clone(), n)
        })
        .collect();
    for (unit, n) in counts {
        out.push((
            unit.to_string(),
            "?       ",
            "(not in this course)".into(),
            n,
        ));
    }
    out
}

fn lines(s: &RoomScreen, width: usize, t: &Theme) -> Vec<Line<'static>> {
    let learners = s.view.learners;
    let count_w = 2 * learners.to_string().len() + 1;
    let title_w = width
        .saturating_sub(2 + 8 + 1 + BAR + 2 + count_w + 1)
        .max(10);
    let mut out = vec![Line::styled(
        format!("  finished by (of {learners} learners)"),
        t.dim(),
    )];
    for (_, kind, title, n) in ordered(s) {
        let filled = (n * BAR).checked_div(learners).unwrap_or(0);
        let title = truncate(&title, title_w);
        let pad = title_w.saturating_sub(crate::markdown::str_width(&title));
        let style = if learners > 0 && n == learners {
            t.ok()
        } else {
            t.plain()
        };
        out.push(Line::from(vec![
            Span::styled(format!("  {kind} "), t.dim()),
            Span::raw(format!("{title}{}", " ".repeat(pad))),
            Span::styled(format!(" {}", "█".repeat(filled)), t.accent()),
            Span::styled("░".repeat(BAR - filled), t.dim()),
            Span::styled(
                format!("  {n:>w$}/{learners}", w = learners.to_string().len()),
                style,
            ),
        ]));
    }
    out
}
