//! `datalab poll`: answer the room's live poll in plain text, for learners
//! without the TUI (or a screen reader): each question as the instructor
//! shows it, one answer line each, then the reveal with its explanation;
//! it ends when the instructor closes the poll or stdin ends.

use super::{Ctx, USAGE};
use datalab_room::live::{LiveView, PollView};
use datalab_room::{Feed, LiveFeed};
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

/// How long to wait for the instructor between steps (a workshop pause).
const PATIENCE: Duration = Duration::from_secs(4 * 3600);

pub fn run(ctx: &Ctx) -> ExitCode {
    let mut feed = match LiveFeed::follow_joined(&ctx.home) {
        Ok(Some(f)) => f,
        Ok(None) => {
            return fail(
                "not in a room (join one with `datalab join URL CODE --name NAME`)",
                USAGE,
            );
        }
        Err(e) => return fail(&e.to_string(), 1),
    };
    let course = match ctx.course() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let input = stdin_lines();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "waiting for the instructor's poll…");
    let mut at = Seen::default();
    loop {
        let Some(p) = next_poll(&mut feed, &at) else {
            let _ = writeln!(out, "the poll is closed");
            return ExitCode::SUCCESS;
        };
        let here = Some((p.quiz.clone(), p.current));
        if at.question != here {
            at = Seen {
                question: here,
                revealed: false,
            };
            ask(&mut out, &p);
            if !p.question.revealed {
                match answer(&mut out, &input, &mut feed, &course, &p, ctx) {
                    Answered::Sent => {
                        let _ = writeln!(out, "waiting for the reveal…");
                    }
                    Answered::Moved => {}
                    Answered::Eof => return ExitCode::SUCCESS,
                }
                continue;
            }
        }
        if p.question.revealed && !at.revealed {
            at.revealed = true;
            reveal(&mut out, &p);
        }
    }
}

/// The question last shown, and whether its reveal was shown.
#[derive(Default)]
struct Seen {
    question: Option<(String, usize)>,
    revealed: bool,
}

fn fail(msg: &str, code: u8) -> ExitCode {
    eprintln!("datalab poll: {msg}");
    ExitCode::from(code)
}

fn view_of(f: &Feed) -> Option<&LiveView> {
    f.view.as_ref().map(|(v, _)| v)
}

/// The poll once it shows something new: another question, or the
/// reveal of this one. None: the poll closed (or nothing came for hours).
fn next_poll(feed: &mut LiveFeed, at: &Seen) -> Option<PollView> {
    let f = feed.wait_for(PATIENCE, |f| {
        let poll = view_of(f).and_then(|v| v.poll.as_ref());
        match (poll, &at.question) {
            (Some(p), Some((q, i))) => {
                (&p.quiz, p.current) != (q, *i) || (p.question.revealed && !at.revealed)
            }
            (Some(_), None) => true,
            (None, shown) => shown.is_some(),
        }
    })?;
    view_of(&f)?.poll.clone()
}

fn ask(out: &mut impl Write, p: &PollView) {
    let q = &p.question;
    let _ = writeln!(
        out,
        "\n{} — question {} of {}\n{}",
        p.title,
        p.current + 1,
        p.total,
        q.prompt
    );
    for (i, o) in q.options.iter().enumerate() {
        let _ = writeln!(out, "  {}) {o}", i + 1);
    }
}

/// Lines of stdin, read on a thread of their own so the poll can move on
/// while the learner is still thinking.
fn stdin_lines() -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

enum Answered {
    Sent,
    /// The instructor moved on (another question, the reveal, closed).
    Moved,
    Eof,
}

/// Read answer lines until one is taken, the poll moves on, or stdin ends.
fn answer(
    out: &mut impl Write,
    input: &Receiver<String>,
    feed: &mut LiveFeed,
    course: &datalab_content::Course,
    p: &PollView,
    ctx: &Ctx,
) -> Answered {
    let question = course
        .quizzes
        .get(&p.quiz)
        .and_then(|q| q.questions.iter().find(|q| q.id.value == p.question.id));
    let _ = write!(out, "your answer: ");
    let _ = out.flush();
    loop {
        let line = match input.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) if moved_on(&feed.now(), p) => return Answered::Moved,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return Answered::Eof,
        };
        let parsed = match question {
            Some(q) => datalab_engine::live::poll_answer(q, &line),
            None => Err(format!(
                "this course has no question {} in {}",
                p.question.id, p.quiz
            )),
        };
        match parsed
            .and_then(|a| datalab_room::answer_poll(&ctx.home, &a).map_err(|e| e.to_string()))
        {
            Ok(_) => {
                let _ = writeln!(out, "sent");
                return Answered::Sent;
            }
            Err(e) => {
                let _ = write!(out, "not taken: {e}\nyour answer: ");
                let _ = out.flush();
            }
        }
    }
}

/// Has the poll left question `p` unanswered (moved, revealed, closed)?
fn moved_on(f: &Feed, p: &PollView) -> bool {
    let now = view_of(f).and_then(|v| v.poll.as_ref());
    now.is_none_or(|n| n.quiz != p.quiz || n.current != p.current || n.question.revealed)
}

fn reveal(out: &mut impl Write, p: &PollView) {
    let q = &p.question;
    let counts = q.counts.clone().unwrap_or_default();
    let _ = writeln!(out, "revealed:");
    for (i, o) in q.options.iter().enumerate() {
        let right = q.right.as_ref().is_some_and(|r| r.contains(&i));
        let mine = q.mine.as_ref().is_some_and(|m| m.contains(&i));
        let n = counts.get(i).copied().unwrap_or(0);
        let mark = if right { "right" } else { "     " };
        let you = if mine { "  (you)" } else { "" };
        let _ = writeln!(out, "  {mark} {}) {o}: {n}{you}", i + 1);
    }
    if let Some(e) = &q.explanation {
        let _ = writeln!(out, "{e}");
    }
}
