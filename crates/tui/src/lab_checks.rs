//! A lab step's check results: the rows of the Checks box, each message
//! wrapped in full (a failed check's message is the most important text on
//! the lab screen, so it is never cut), and the full-results view (`f`)
//! when they do not fit the box.

use super::markdown::wrap_spans;
use super::theme::Theme;
use datalab_content::Step;
use datalab_engine::check::Status;
use datalab_engine::lab::StepResult;
use ratatui::text::{Line, Span};

fn status_mark(t: &Theme, status: Status) -> Span<'static> {
    match status {
        Status::Pass => Span::styled("✓", t.ok()),
        Status::Fail => Span::styled("✗", t.bad()),
        Status::Error => Span::styled("!", t.warn()),
    }
}

/// The Checks box's rows, `width` columns wide: each check's description,
/// then its result's message in full, wrapped. Before a result (or while
/// the step is being checked) only the descriptions.
pub(crate) fn rows(
    t: &Theme,
    step: &Step,
    result: Option<&StepResult>,
    width: usize,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for (i, spec) in step.checks.iter().enumerate() {
        let desc = datalab_engine::check::check_of(spec).describe();
        let Some(c) = result.and_then(|r| r.checks.get(i)) else {
            out.extend(wrap_spans(
                &[Span::raw(desc)],
                width,
                vec![Span::styled(" · ", t.dim())],
                vec![Span::raw("   ")],
            ));
            continue;
        };
        let msg = c.outcome.message.trim();
        let mut text = vec![Span::raw(desc.clone())];
        if !msg.is_empty() && msg != desc {
            text.push(Span::raw(":"));
            for l in msg.lines() {
                text.push(Span::raw(format!(" {}", l.trim_end())));
            }
        }
        out.extend(wrap_spans(
            &text,
            width,
            vec![
                Span::raw(" "),
                status_mark(t, c.outcome.status),
                Span::raw(" "),
            ],
            vec![Span::raw("   ")],
        ));
    }
    out
}

/// Every check's result in full, its message's own lines kept, for the
/// full-results view.
pub(crate) fn full(t: &Theme, result: &StepResult, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for c in &result.checks {
        out.extend(wrap_spans(
            &[Span::styled(c.description.clone(), t.strong())],
            width,
            vec![status_mark(t, c.outcome.status), Span::raw(" ")],
            vec![Span::raw("  ")],
        ));
        for l in c.outcome.message.trim().lines() {
            out.extend(wrap_spans(
                &[Span::raw(l.trim_end().to_string())],
                width,
                vec![Span::raw("  ")],
                vec![Span::raw("  ")],
            ));
        }
        if let Some(f) = &c.outcome.file {
            out.push(Line::from(vec![
                Span::styled("  in ", t.dim()),
                Span::styled(f.display().to_string(), t.code()),
            ]));
        }
        out.push(Line::default());
    }
    out
}
