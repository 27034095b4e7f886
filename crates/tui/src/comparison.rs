//! A comparison: options × criteria as a table whose cells wrap to fit the
//! terminal, then each scenario with its verdict and why. Scrolls.

use super::app::{App, Ctx, Nav, ScrollView};
use super::lesson::{done_at_end, read_key, render_reading};
use super::markdown::{self, Align, table_lines, wrap_spans};
use super::theme::Theme;
use datalab_content::Comparison;
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub struct ComparisonState {
    pub(crate) unit: usize,
    pub(crate) id: String,
    pub(crate) scroll: ScrollView,
}

impl ComparisonState {
    pub(crate) fn new(unit: usize, id: &str) -> ComparisonState {
        ComparisonState {
            unit,
            id: id.to_string(),
            scroll: ScrollView::default(),
        }
    }
}

pub(crate) fn handle_key(s: &mut ComparisonState, ctx: &mut Ctx, key: &KeyEvent) -> Nav {
    read_key(&mut s.scroll, s.unit, &s.id, ctx, key)
}

pub(crate) fn tick(s: &mut ComparisonState, ctx: &mut Ctx) {
    done_at_end(&s.scroll, &s.id, ctx);
}

/// The whole comparison laid out to `width` columns.
pub(crate) fn lines(c: &Comparison, width: usize, t: &Theme) -> Vec<Line<'static>> {
    let mut out: Vec<Line<'static>> = Vec::new();
    out.push(Line::styled(c.title.clone(), t.heading(1)));
    out.push(Line::default());
    if let Some(intro) = &c.intro {
        out.extend(markdown::render(intro, width as u16, t));
        out.push(Line::default());
    }
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(c.criteria.len() + 1);
    let mut header = vec![String::new()];
    header.extend(c.options.iter().map(|o| o.name.clone()));
    rows.push(header);
    for crit in &c.criteria {
        let mut row = vec![crit.name.value.clone()];
        row.extend(
            c.options
                .iter()
                .map(|o| crit.values.get(&o.id.value).cloned().unwrap_or_default()),
        );
        rows.push(row);
    }
    let aligns = vec![Align::Left; c.options.len() + 1];
    out.extend(table_lines(&rows, &aligns, true, true, width, t, &[]));
    if !c.scenarios.is_empty() {
        out.push(Line::default());
        out.push(Line::styled("Scenarios", t.heading(2)));
        out.push(Line::default());
        for sc in &c.scenarios {
            let verdict = c
                .options
                .iter()
                .find(|o| o.id.value == sc.verdict.value)
                .map(|o| o.name.clone())
                .unwrap_or_else(|| sc.verdict.value.clone());
            out.extend(wrap_spans(
                &[
                    Span::styled(sc.name.clone(), t.strong()),
                    Span::styled(" → ", t.dim()),
                    Span::styled(verdict, t.ok()),
                ],
                width,
                vec![Span::styled("▸ ", t.accent())],
                vec![Span::raw("  ")],
            ));
            out.extend(wrap_spans(
                &[Span::raw(sc.why.trim().to_string())],
                width,
                vec![Span::raw("  ")],
                vec![Span::raw("  ")],
            ));
            out.push(Line::default());
        }
    }
    while out.last().is_some_and(|l| l.width() == 0) {
        out.pop();
    }
    out
}

pub(crate) fn render(app: &App, s: &ComparisonState, frame: &mut Frame, area: Rect) {
    let Some(c) = app.ctx.course.comparisons.get(&s.id) else {
        return;
    };
    render_reading(app, &s.scroll, &s.id, 1, frame, area, |width| {
        lines(c, width as usize, app.theme())
    });
}
