//! One learner in detail (Enter on a row): where they are, why they are
//! stuck, their recent check messages, the hints they used, quiz scores,
//! units done and lab steps passed. Scrolls.

use super::{RoomScreen, short_duration};
use crate::markdown::wrap_spans;
use crate::theme::Theme;
use datalab_room::{Detail, Stuck};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

pub(crate) fn render(s: &RoomScreen, learner: u64, frame: &mut Frame, area: Rect) {
    let t = &s.theme;
    let Some(d) = s.detail_of(learner) else {
        frame.render_widget(Line::styled("  this learner is gone", t.dim()), area);
        return;
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.border())
        .title(Line::styled(format!(" {} ", d.row.name), t.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = lines(&d, s.view.now_ms, inner.width as usize, t);
    let offset = s.detail_scroll.layout(lines.len(), inner.height as usize);
    frame.render_widget(Paragraph::new(lines).scroll((offset as u16, 0)), inner);
}

/// The detail laid out to `width` columns.
fn lines(d: &Detail, now_ms: i64, width: usize, t: &Theme) -> Vec<Line<'static>> {
    let mut out = where_they_are(d, now_ms, t);
    out.push(Line::default());
    out.push(Line::styled("Recent checks (newest last)", t.heading(2)));
    if d.recent_checks.is_empty() {
        out.push(Line::styled("  none yet", t.dim()));
    }
    for c in &d.recent_checks {
        let (mark, style) = if c.passed {
            ("✓ ", t.ok())
        } else {
            ("✗ ", t.bad())
        };
        let head = vec![
            Span::styled(mark, style),
            Span::styled(
                format!("{} ago ", short_duration(now_ms - c.at_ms)),
                t.dim(),
            ),
            Span::styled(format!("{}/{} {} ", c.lab, c.step, c.check_id), t.strong()),
        ];
        let mut spans = head;
        spans.push(Span::raw(c.message.clone()));
        out.extend(wrap_spans(
            &spans,
            width,
            vec![Span::raw("  ")],
            vec![Span::raw("    ")],
        ));
    }
    out.push(Line::default());
    out.push(Line::styled(
        format!("Hints used: {}", d.hints_total),
        t.heading(2),
    ));
    for h in &d.hints {
        let spans = vec![
            Span::styled(format!("{}/{} ", h.lab, h.step), t.strong()),
            Span::raw(h.hint.clone()),
        ];
        out.extend(wrap_spans(
            &spans,
            width,
            vec![Span::raw("  ")],
            vec![Span::raw("    ")],
        ));
    }
    out.extend(scores(d, width, t));
    out
}

fn where_they_are(d: &Detail, now_ms: i64, t: &Theme) -> Vec<Line<'static>> {
    let r = &d.row;
    let dash = || "—".to_string();
    let mut out = vec![Line::from(vec![
        Span::styled("unit ", t.dim()),
        Span::raw(r.unit.clone().unwrap_or_else(dash)),
        Span::styled("   last activity ", t.dim()),
        Span::raw(
            r.last_activity_ms
                .map_or_else(dash, |at| format!("{} ago", short_duration(now_ms - at))),
        ),
    ])];
    if let (Some(lab), Some(step)) = (&r.lab, &r.step) {
        out.push(Line::from(vec![
            Span::styled("step ", t.dim()),
            Span::raw(format!("{lab}/{step}")),
            Span::styled("   checks passing ", t.dim()),
            Span::raw(format!("{}/{}", r.checks_passing, r.checks_total)),
            Span::styled("   on it for ", t.dim()),
            Span::raw(r.on_step_ms.map_or_else(dash, short_duration)),
        ]));
    }
    if let Some(stuck) = &r.stuck {
        let why = match stuck {
            Stuck::Failing { for_ms } => {
                format!(
                    "STUCK: this step has failed for {}",
                    short_duration(*for_ms)
                )
            }
            Stuck::Hints { hints } => {
                format!("STUCK: {hints} hints revealed and the step still fails")
            }
        };
        out.push(Line::styled(why, t.bad()));
    }
    out
}

/// Quiz scores, units done, steps passed, notes.
fn scores(d: &Detail, width: usize, t: &Theme) -> Vec<Line<'static>> {
    let mut out = vec![Line::default(), Line::styled("Quiz scores", t.heading(2))];
    if d.quizzes.is_empty() {
        out.push(Line::styled("  none yet", t.dim()));
    }
    for q in &d.quizzes {
        out.push(Line::raw(format!(
            "  {}  {}/{}",
            q.quiz, q.right, q.answered
        )));
    }
    let list = |title: String, items: &[String]| {
        let mut lines = vec![Line::default(), Line::styled(title, t.heading(2))];
        if !items.is_empty() {
            lines.extend(wrap_spans(
                &[Span::raw(items.join(", "))],
                width,
                vec![Span::raw("  ")],
                vec![Span::raw("  ")],
            ));
        }
        lines
    };
    out.extend(list(
        format!("Units done: {}", d.units_done.len()),
        &d.units_done,
    ));
    out.extend(list(
        format!("Lab steps passed: {}", d.steps_passed.len()),
        &d.steps_passed,
    ));
    out.push(Line::default());
    out.push(Line::styled(
        format!("Activity notes saved: {}", d.notes),
        t.heading(2),
    ));
    out
}
