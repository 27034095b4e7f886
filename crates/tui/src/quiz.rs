//! A quiz, one question at a time: `t`/`f`, option numbers (toggling when
//! several answers are right) or a typed number; immediate feedback with the
//! explanation; the score at the end, with `r` to retry. Grading is the
//! engine's ([`crate::quiz`]); this file only reads keys and draws.

use super::app::{App, Ctx, Nav};
use super::lesson::neighbour;
use super::markdown::{wrap_plain, wrap_spans};
use datalab_content::{QuestionKind, Quiz};
use datalab_engine::quiz::{self, Given, QuizRun, is_multiple};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub struct QuizState {
    pub(crate) unit: usize,
    pub(crate) id: String,
    pub run: QuizRun,
    /// What is typed for a numeric question.
    pub(crate) input: String,
    /// Options picked for a choice question (0-based, sorted).
    pub(crate) selected: Vec<usize>,
    /// Why the last input was not understood.
    pub(crate) error: Option<String>,
    /// The current question is answered and its feedback is showing.
    pub answered: bool,
}

impl QuizState {
    pub(crate) fn new(unit: usize, id: &str, ctx: &Ctx) -> Option<QuizState> {
        let quiz = ctx.course.quizzes.get(id)?;
        Some(QuizState {
            unit,
            id: id.to_string(),
            run: QuizRun::new(id, quiz, quiz::attempt(&ctx.progress, id)),
            input: String::new(),
            selected: Vec::new(),
            error: None,
            answered: false,
        })
    }

    fn reset_input(&mut self) {
        self.input.clear();
        self.selected.clear();
        self.error = None;
    }

    /// Typing a number: letters are part of it once it has started.
    pub(crate) fn captures_text(&self) -> bool {
        !self.answered && !self.input.is_empty()
    }

    pub(crate) fn hints(&self, ctx: &Ctx) -> Vec<(&'static str, &'static str)> {
        let Some(quiz) = ctx.course.quizzes.get(&self.id) else {
            return vec![];
        };
        if self.run.finished(quiz) {
            return vec![("r", "retry"), ("n", "next unit")];
        }
        if self.answered {
            return vec![("Enter", "continue")];
        }
        let q = &quiz.questions[self.run.current];
        match q.kind {
            QuestionKind::TrueFalse => vec![("t", "true"), ("f", "false")],
            QuestionKind::Choice if is_multiple(q) => {
                vec![("1-9", "toggle options"), ("Enter", "submit")]
            }
            QuestionKind::Choice => vec![("1-9", "pick"), ("Enter", "submit")],
            QuestionKind::Numeric => vec![("type a number", ""), ("Enter", "submit")],
        }
    }
}

pub(crate) fn handle_key(s: &mut QuizState, ctx: &mut Ctx, key: &KeyEvent) -> Nav {
    let Some(quiz) = ctx.course.quizzes.get(&s.id).cloned() else {
        return Nav::Back;
    };
    if s.run.finished(&quiz) {
        return match key.code {
            KeyCode::Char('r') => {
                s.run = QuizRun::new(&s.id, &quiz, quiz::attempt(&ctx.progress, &s.id));
                s.reset_input();
                s.answered = false;
                Nav::Stay
            }
            KeyCode::Char('n') => neighbour(ctx, s.unit, 1),
            KeyCode::Char('p') => neighbour(ctx, s.unit, -1),
            KeyCode::Char('q') | KeyCode::Esc | KeyCode::Enter => Nav::Back,
            _ => Nav::Stay,
        };
    }
    if s.answered {
        return match key.code {
            KeyCode::Enter | KeyCode::Char(' ') | KeyCode::Right | KeyCode::Char('n') => {
                s.answered = false;
                s.reset_input();
                if !s.run.next(&quiz) {
                    record_score(s, ctx);
                }
                Nav::Stay
            }
            KeyCode::Char('q') | KeyCode::Esc => Nav::Back,
            _ => Nav::Stay,
        };
    }
    let q = &quiz.questions[s.run.current];
    if key.code == KeyCode::Esc {
        return Nav::Back;
    }
    match q.kind {
        QuestionKind::TrueFalse => match key.code {
            KeyCode::Char(c @ ('t' | 'f' | 'y' | 'n' | 'T' | 'F')) => {
                submit(s, ctx, &quiz, &c.to_string())
            }
            KeyCode::Char('q') => return Nav::Back,
            KeyCode::Char(c) if !c.is_control() => {
                s.error = Some("answer t (true) or f (false)".into());
            }
            _ => {}
        },
        QuestionKind::Choice => match key.code {
            KeyCode::Char(c) if c.is_ascii_digit() => {
                let n = c.to_digit(10).unwrap_or(0) as usize;
                if n == 0 || n > q.options.len() {
                    s.error = Some(format!("pick an option from 1 to {}", q.options.len()));
                } else if is_multiple(q) {
                    let i = n - 1;
                    match s.selected.iter().position(|&x| x == i) {
                        Some(p) => {
                            s.selected.remove(p);
                        }
                        None => {
                            s.selected.push(i);
                            s.selected.sort_unstable();
                        }
                    }
                    s.error = None;
                } else {
                    s.selected = vec![n - 1];
                    s.error = None;
                }
            }
            KeyCode::Backspace => s.selected.clear(),
            KeyCode::Enter => {
                let text: Vec<String> = s.selected.iter().map(|i| (i + 1).to_string()).collect();
                submit(s, ctx, &quiz, &text.join(","));
            }
            KeyCode::Char('q') => return Nav::Back,
            _ => {}
        },
        QuestionKind::Numeric => match key.code {
            KeyCode::Char('q') if s.input.is_empty() => return Nav::Back,
            KeyCode::Char(c)
                if !c.is_control()
                    && !key.modifiers.contains(KeyModifiers::CONTROL)
                    && s.input.chars().count() < 40 =>
            {
                s.input.push(c);
                s.error = None;
            }
            KeyCode::Backspace => {
                s.input.pop();
            }
            KeyCode::Enter => {
                let input = s.input.clone();
                submit(s, ctx, &quiz, &input);
            }
            _ => {}
        },
    }
    Nav::Stay
}

/// Grade an answer through the engine. Malformed input shows why and
/// changes nothing; a graded answer is saved at once.
fn submit(s: &mut QuizState, ctx: &mut Ctx, quiz: &Quiz, input: &str) {
    match s.run.answer(quiz, input) {
        Ok(given) => {
            let given = given.clone();
            s.answered = true;
            s.error = None;
            let qid = &quiz.questions[s.run.current].id.value;
            ctx.room
                .quiz_answer(&s.id, qid, input.trim(), given.feedback.correct);
            ctx.save_unit(&s.id, |u| quiz::record_answer(u, qid, &given));
        }
        Err(e) => s.error = Some(e),
    }
}

/// The quiz is over: save the score, the best score, done, and the next
/// attempt's number.
fn record_score(s: &QuizState, ctx: &mut Ctx) {
    let score = s.run.score();
    ctx.save_unit(&s.id, |u| quiz::record_finished(u, score));
}

pub(crate) fn render(app: &App, s: &QuizState, frame: &mut Frame, area: Rect) {
    let t = app.theme();
    let Some(quiz) = app.ctx.course.quizzes.get(&s.id) else {
        return;
    };
    let w = area.width.saturating_sub(4) as usize;
    let pad = || vec![Span::raw("  ")];
    let mut lines: Vec<Line> = Vec::new();
    let total = quiz.questions.len();
    let (right, _) = s.run.score();

    if s.run.finished(quiz) {
        lines.push(Line::default());
        lines.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(format!("Score: {right}/{total}"), t.title()),
            Span::styled(
                match app.ctx.unit_progress(&s.id).and_then(|u| u.best) {
                    Some((b, bt)) => format!("   best {b}/{bt}"),
                    None => String::new(),
                },
                t.dim(),
            ),
        ]));
        lines.push(Line::default());
        for (q, a) in quiz.questions.iter().zip(&s.run.answers) {
            let (mark, style) = match a {
                Some(a) if a.feedback.correct => ("✓", t.ok()),
                Some(_) => ("✗", t.bad()),
                None => ("·", t.dim()),
            };
            let prompt = q.prompt.split_whitespace().collect::<Vec<_>>().join(" ");
            lines.push(Line::from(vec![
                Span::raw("  "),
                Span::styled(mark, style),
                Span::raw(" "),
                Span::raw(super::ui::truncate(&prompt, w.saturating_sub(2))),
            ]));
        }
        lines.push(Line::default());
        lines.push(Line::styled(
            "  r to retry · n for the next unit · q to go back",
            t.dim(),
        ));
        frame.render_widget(Paragraph::new(lines), area);
        return;
    }

    let q = &quiz.questions[s.run.current];
    lines.push(Line::from(vec![
        Span::raw("  "),
        Span::styled(
            format!("Question {} of {total}", s.run.current + 1),
            t.accent(),
        ),
        Span::styled(format!("   score {right}"), t.dim()),
        Span::styled(
            match app.ctx.unit_progress(&s.id).and_then(|u| u.best) {
                Some((b, bt)) => format!(" (best {b}/{bt})"),
                None => String::new(),
            },
            t.dim(),
        ),
        Span::styled(
            match q.kind {
                QuestionKind::TrueFalse => "   true or false",
                QuestionKind::Choice if is_multiple(q) => "   several answers are right",
                QuestionKind::Choice => "   one answer",
                QuestionKind::Numeric => "   a number",
            },
            t.dim(),
        ),
    ]));
    if s.run.current == 0
        && !s.answered
        && let Some(intro) = &quiz.intro
    {
        lines.extend(wrap_spans(
            &[Span::styled(intro.trim().to_string(), t.emphasis())],
            w + 2,
            pad(),
            pad(),
        ));
    }
    lines.push(Line::default());
    let prompt = q.prompt.split_whitespace().collect::<Vec<_>>().join(" ");
    lines.extend(wrap_spans(
        &[Span::styled(prompt, t.strong())],
        w + 2,
        pad(),
        pad(),
    ));
    lines.push(Line::default());

    let answered = s.run.answers.get(s.run.current).and_then(|a| a.as_ref());
    let given = answered.map(|a| &a.given);
    match q.kind {
        QuestionKind::TrueFalse => {
            let pick = |v: bool| match &given {
                Some(Given::Bool(b)) if *b == v => t.selected(),
                _ => t.plain(),
            };
            lines.push(Line::from(vec![
                Span::raw("    "),
                Span::styled("t", t.accent()),
                Span::styled(" True ", pick(true)),
                Span::raw("      "),
                Span::styled("f", t.accent()),
                Span::styled(" False ", pick(false)),
            ]));
        }
        QuestionKind::Choice => {
            let multiple = is_multiple(q);
            let right = s.run.right_shown(quiz, s.run.current);
            let picked: Vec<usize> = match &given {
                Some(Given::Options(o)) => o.clone(),
                _ => s.selected.clone(),
            };
            for (i, opt) in s.run.shown_options(quiz, s.run.current).iter().enumerate() {
                let on = picked.contains(&i);
                let boxed = match (multiple, on) {
                    (true, true) => "[x]",
                    (true, false) => "[ ]",
                    (false, true) => "(•)",
                    (false, false) => "( )",
                };
                let (mark, mstyle) = if s.answered {
                    match (right.contains(&i), on) {
                        (true, _) => ("✓ ", t.ok()),
                        (false, true) => ("✗ ", t.bad()),
                        _ => ("  ", t.plain()),
                    }
                } else {
                    ("  ", t.plain())
                };
                let first = vec![
                    Span::raw("  "),
                    Span::styled(mark, mstyle),
                    Span::styled(format!("{boxed} "), t.accent()),
                    Span::styled(format!("{}) ", i + 1), t.accent()),
                ];
                let rest = vec![Span::raw(" ".repeat(11))];
                let style = if on && !s.answered {
                    t.strong()
                } else {
                    t.plain()
                };
                lines.extend(wrap_spans(
                    &[Span::styled(opt.to_string(), style)],
                    w + 2,
                    first,
                    rest,
                ));
            }
        }
        QuestionKind::Numeric => {
            let shown = match answered {
                Some(a) if s.answered => a.saved.clone(),
                _ => s.input.clone(),
            };
            let mut spans = vec![
                Span::raw("    "),
                Span::styled("Your answer: ", t.accent()),
                Span::styled(shown, t.strong()),
            ];
            if !s.answered {
                spans.push(Span::styled("▏", t.accent()));
            }
            if let Some(u) = &q.unit {
                spans.push(Span::styled(format!(" {u}"), t.dim()));
            }
            lines.push(Line::from(spans));
        }
    }
    lines.push(Line::default());
    if let Some(e) = &s.error {
        lines.extend(wrap_spans(
            &[Span::styled(e.clone(), t.warn())],
            w + 2,
            vec![Span::styled("  ! ", t.warn())],
            vec![Span::raw("    ")],
        ));
    }
    if s.answered
        && let Some(fb) = answered.map(|a| &a.feedback)
    {
        if fb.correct {
            lines.push(Line::styled("  ✓ Correct.", t.ok()));
        } else {
            lines.push(Line::styled("  ✗ Not quite.", t.bad()));
        }
        lines.extend(wrap_spans(
            &[Span::raw(fb.right_answer.clone())],
            w + 2,
            vec![Span::raw("  "), Span::styled("The answer: ", t.strong())],
            vec![Span::raw("    ")],
        ));
        lines.push(Line::default());
        for l in wrap_plain(&fb.explanation, w, t.plain()) {
            let mut spans = pad();
            spans.extend(l.spans);
            lines.push(Line::from(spans));
        }
        lines.push(Line::default());
        let next = if s.run.current + 1 < total {
            "  Enter for the next question"
        } else {
            "  Enter to see your score"
        };
        lines.push(Line::styled(next, t.dim()));
    }
    frame.render_widget(Paragraph::new(lines), area);
}
