//! A quiz, one question at a time: `t`/`f`, option numbers (toggling when
//! several answers are right) or a typed number; immediate feedback with the
//! explanation; the score at the end, with `r` to retry. Grading is the
//! engine's ([`crate::quiz`]); this file only reads keys and draws.

use super::app::{App, Ctx, Nav};
use super::lesson::neighbour;
use super::markdown::{wrap_plain, wrap_spans};
use super::theme::Theme;
use datalab_content::{Question, QuestionKind, Quiz};
use datalab_engine::quiz::{self, Answered, Feedback, Given, QuizRun, is_multiple};
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
    let Some(quiz) = app.ctx.course.quizzes.get(&s.id) else {
        return;
    };
    let w = area.width.saturating_sub(4) as usize;
    let lines = if s.run.finished(quiz) {
        score_lines(app, s, quiz, w)
    } else {
        question_lines(app, s, quiz, w)
    };
    frame.render_widget(Paragraph::new(lines), area);
}

/// The learner's best score so far, formatted by `f`, or nothing.
fn best(app: &App, s: &QuizState, f: impl Fn(u32, u32) -> String) -> String {
    match app.ctx.unit_progress(&s.id).and_then(|u| u.best) {
        Some((b, bt)) => f(b, bt),
        None => String::new(),
    }
}

/// The end of a quiz: the score and a mark per question.
fn score_lines(app: &App, s: &QuizState, quiz: &Quiz, w: usize) -> Vec<Line<'static>> {
    let t = app.theme();
    let (right, _) = s.run.score();
    let mut lines = vec![Line::default()];
    lines.push(Line::from(vec![
        Span::raw("  "),
        Span::styled(
            format!("Score: {right}/{}", quiz.questions.len()),
            t.title(),
        ),
        Span::styled(best(app, s, |b, bt| format!("   best {b}/{bt}")), t.dim()),
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
    lines
}

/// The current question: header, intro, prompt, the answer area, the
/// error or the feedback.
fn question_lines(app: &App, s: &QuizState, quiz: &Quiz, w: usize) -> Vec<Line<'static>> {
    let t = app.theme();
    let q = &quiz.questions[s.run.current];
    let mut lines = vec![header_line(app, s, quiz)];
    let pad = || vec![Span::raw("  ")];
    if s.run.current == 0
        && !s.answered
        && let Some(intro) = &quiz.intro
    {
        let intro = [Span::styled(intro.trim().to_string(), t.emphasis())];
        lines.extend(wrap_spans(&intro, w + 2, pad(), pad()));
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
    match q.kind {
        QuestionKind::TrueFalse => lines.push(true_false_line(t, answered)),
        QuestionKind::Choice => lines.extend(choice_lines(t, s, quiz, answered, w)),
        QuestionKind::Numeric => lines.push(numeric_line(t, s, q, answered)),
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
        && let Some(a) = answered
    {
        lines.extend(feedback_lines(
            t,
            &a.feedback,
            s.run.current + 1 < quiz.questions.len(),
            w,
        ));
    }
    lines
}

fn header_line(app: &App, s: &QuizState, quiz: &Quiz) -> Line<'static> {
    let t = app.theme();
    let q = &quiz.questions[s.run.current];
    let (right, _) = s.run.score();
    let kind = match q.kind {
        QuestionKind::TrueFalse => "   true or false",
        QuestionKind::Choice if is_multiple(q) => "   several answers are right",
        QuestionKind::Choice => "   one answer",
        QuestionKind::Numeric => "   a number",
    };
    Line::from(vec![
        Span::raw("  "),
        Span::styled(
            format!("Question {} of {}", s.run.current + 1, quiz.questions.len()),
            t.accent(),
        ),
        Span::styled(format!("   score {right}"), t.dim()),
        Span::styled(best(app, s, |b, bt| format!(" (best {b}/{bt})")), t.dim()),
        Span::styled(kind, t.dim()),
    ])
}

fn true_false_line(t: &Theme, answered: Option<&Answered>) -> Line<'static> {
    let pick = |v: bool| match answered.map(|a| &a.given) {
        Some(Given::Bool(b)) if *b == v => t.selected(),
        _ => t.plain(),
    };
    Line::from(vec![
        Span::raw("    "),
        Span::styled("t", t.accent()),
        Span::styled(" True ", pick(true)),
        Span::raw("      "),
        Span::styled("f", t.accent()),
        Span::styled(" False ", pick(false)),
    ])
}

fn choice_lines(
    t: &Theme,
    s: &QuizState,
    quiz: &Quiz,
    answered: Option<&Answered>,
    w: usize,
) -> Vec<Line<'static>> {
    let multiple = is_multiple(&quiz.questions[s.run.current]);
    let right = s.run.right_shown(quiz, s.run.current);
    let picked: Vec<usize> = match answered.map(|a| &a.given) {
        Some(Given::Options(o)) => o.clone(),
        _ => s.selected.clone(),
    };
    let mut lines = Vec::new();
    for (i, opt) in s.run.shown_options(quiz, s.run.current).iter().enumerate() {
        let on = picked.contains(&i);
        let boxed = match (multiple, on) {
            (true, true) => "[x]",
            (true, false) => "[ ]",
            (false, true) => "(•)",
            (false, false) => "( )",
        };
        let (mark, mstyle) = match (s.answered, right.contains(&i), on) {
            (true, true, _) => ("✓ ", t.ok()),
            (true, false, true) => ("✗ ", t.bad()),
            _ => ("  ", t.plain()),
        };
        let first = vec![
            Span::raw("  "),
            Span::styled(mark, mstyle),
            Span::styled(format!("{boxed} "), t.accent()),
            Span::styled(format!("{}) ", i + 1), t.accent()),
        ];
        let style = if on && !s.answered {
            t.strong()
        } else {
            t.plain()
        };
        let text = [Span::styled(opt.to_string(), style)];
        lines.extend(wrap_spans(
            &text,
            w + 2,
            first,
            vec![Span::raw(" ".repeat(11))],
        ));
    }
    lines
}

fn numeric_line(
    t: &Theme,
    s: &QuizState,
    q: &Question,
    answered: Option<&Answered>,
) -> Line<'static> {
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
    Line::from(spans)
}

fn feedback_lines(t: &Theme, fb: &Feedback, more: bool, w: usize) -> Vec<Line<'static>> {
    let mut lines = vec![if fb.correct {
        Line::styled("  ✓ Correct.", t.ok())
    } else {
        Line::styled("  ✗ Not quite.", t.bad())
    }];
    lines.extend(wrap_spans(
        &[Span::raw(fb.right_answer.clone())],
        w + 2,
        vec![Span::raw("  "), Span::styled("The answer: ", t.strong())],
        vec![Span::raw("    ")],
    ));
    lines.push(Line::default());
    for l in wrap_plain(&fb.explanation, w, t.plain()) {
        let mut spans = vec![Span::raw("  ")];
        spans.extend(l.spans);
        lines.push(Line::from(spans));
    }
    lines.push(Line::default());
    let next = if more {
        "  Enter for the next question"
    } else {
        "  Enter to see your score"
    };
    lines.push(Line::styled(next, t.dim()));
    lines
}
