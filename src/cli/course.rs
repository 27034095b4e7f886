//! `outline`, `lint`, `quiz`, `progress`, `reset`.

use super::{Ctx, USAGE};
use clap::Args;
use datalab_content::{Content, QuestionKind, Quiz, Severity, UnitKind};
use datalab_engine::quiz::{self, QuizRun, is_multiple};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct OutlineArgs {
    /// Print JSON: {"days": [...]}
    #[arg(long)]
    pub json: bool,
}

pub fn outline(a: OutlineArgs, ctx: &Ctx) -> ExitCode {
    let course = match ctx.course() {
        Ok(c) => c,
        Err(code) => return code,
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&course.outline_json()).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    let progress = ctx.progress();
    println!("{}", course.title);
    for day in &course.days {
        println!("\n{}", day.title);
        for s in &day.sessions {
            println!("  {} ({} min)", s.title, s.minutes);
            for &i in &s.units {
                let u = &course.units[i];
                let mark = if progress.is_done(&u.id) { "✓" } else { " " };
                println!("    {mark} {:<10} {:<28} {}", u.kind.name(), u.id, u.title);
            }
        }
    }
    ExitCode::SUCCESS
}

#[derive(Args, Debug)]
pub struct LintArgs {
    /// A content folder (holding course.yaml) [default: --content, else the built-in content]
    pub path: Option<PathBuf>,
}

pub fn lint(a: LintArgs, ctx: &Ctx) -> ExitCode {
    let content = match a.path {
        Some(p) => Content::disk(p),
        None => ctx.content.clone(),
    };
    if let Content::Disk(root) = &content
        && !root.join("course.yaml").is_file()
    {
        eprintln!(
            "datalab lint: {} has no course.yaml: point at the folder that holds it",
            root.display()
        );
        return ExitCode::from(USAGE);
    }
    let diags = datalab_content::lint(&content);
    for d in &diags {
        println!("{d}");
    }
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diags.len() - errors;
    eprintln!("{errors} error(s), {warnings} warning(s)");
    if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[derive(Args, Debug)]
pub struct QuizArgs {
    /// The quiz's id (see `datalab outline`)
    pub id: String,
    /// Plain text: one answer a line on stdin (the default when stdin is not a terminal)
    #[arg(long)]
    pub plain: bool,
}

pub fn quiz(a: QuizArgs, ctx: &Ctx) -> ExitCode {
    let course = match ctx.course() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(quiz) = course.quizzes.get(&a.id) else {
        let ids: Vec<&str> = course
            .units
            .iter()
            .filter(|u| u.kind == UnitKind::Quiz)
            .map(|u| u.id.as_str())
            .collect();
        eprintln!(
            "datalab quiz: no quiz `{}`; quizzes: {}",
            a.id,
            ids.join(", ")
        );
        return ExitCode::from(USAGE);
    };
    let room = ctx.room_link();
    room.unit_opened(&a.id);
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let mut out = std::io::stdout().lock();
    let mut lines = stdin.lock().lines();
    let attempt = quiz::attempt(&ctx.progress(), &a.id);
    let mut run = QuizRun::new(&a.id, quiz, attempt);
    let _ = writeln!(out, "{}", quiz.title);
    if let Some(intro) = &quiz.intro {
        let _ = writeln!(out, "{}", intro.trim());
    }
    while !run.finished(quiz) {
        ask(&mut out, quiz, &run);
        let report = |qid: &str, line: &str, correct: bool| {
            room.quiz_answer(&a.id, qid, line, correct);
        };
        if !answer_one(&mut out, &mut lines, interactive, (quiz, &mut run), &report) {
            let _ = writeln!(out, "\n(no more answers)");
            break;
        }
    }
    let (right, total) = run.score();
    let _ = writeln!(out, "\nscore: {right}/{total}");
    let finished = run.finished(quiz);
    let saved = ctx.save_progress(&room, |p| {
        let u = p.unit_mut(&a.id);
        for (q, given) in quiz.questions.iter().zip(&run.answers) {
            if let Some(given) = given {
                quiz::record_answer(u, &q.id.value, given);
            }
        }
        if finished {
            quiz::record_finished(u, (right, total));
        }
        p.last_unit = Some(a.id.clone());
    });
    if let Err(e) = saved {
        eprintln!("datalab: {e}");
    }
    drop(out);
    super::flush_room(&room);
    ExitCode::SUCCESS
}

/// Print the current question, its options numbered as shown.
fn ask(out: &mut impl Write, quiz: &Quiz, run: &QuizRun) {
    let q = &quiz.questions[run.current];
    let n = quiz.questions.len();
    let _ = writeln!(
        out,
        "\nQuestion {}/{n}: {}",
        run.current + 1,
        q.prompt.trim()
    );
    match q.kind {
        QuestionKind::TrueFalse => {
            let _ = writeln!(out, "  answer t (true) or f (false)");
        }
        QuestionKind::Choice => {
            for (i, o) in run.shown_options(quiz, run.current).iter().enumerate() {
                let _ = writeln!(out, "  {}) {o}", i + 1);
            }
            let how = if is_multiple(q) {
                "choose all that apply, e.g. 1,3"
            } else {
                "choose one number"
            };
            let _ = writeln!(out, "  {how}");
        }
        QuestionKind::Numeric => {
            let unit = q
                .unit
                .as_deref()
                .map(|u| format!(" (in {u})"))
                .unwrap_or_default();
            let _ = writeln!(out, "  answer with a number{unit}");
        }
    }
}

/// Read lines until one answers the current question; false when stdin ends.
fn answer_one(
    out: &mut impl Write,
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    interactive: bool,
    (quiz, run): (&Quiz, &mut QuizRun),
    report: &dyn Fn(&str, &str, bool),
) -> bool {
    loop {
        if interactive {
            let _ = write!(out, "> ");
        }
        let _ = out.flush();
        let Some(Ok(line)) = lines.next() else {
            return false;
        };
        let qid = quiz.questions[run.current].id.value.clone();
        match run.answer(quiz, &line) {
            Ok(a) => {
                let fb = &a.feedback;
                report(&qid, line.trim(), fb.correct);
                if fb.correct {
                    let _ = writeln!(out, "✓ correct: {}", fb.right_answer);
                } else {
                    let _ = writeln!(out, "✗ not quite. The answer: {}", fb.right_answer);
                }
                let _ = writeln!(out, "  {}", fb.explanation.replace('\n', "\n  "));
                run.next(quiz);
                return true;
            }
            Err(msg) => {
                let _ = writeln!(out, "? {msg}");
            }
        }
    }
}

#[derive(Args, Debug)]
pub struct ProgressArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

pub fn progress(a: ProgressArgs, ctx: &Ctx) -> ExitCode {
    let course = match ctx.course() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let p = ctx.progress();
    let done = course.units.iter().filter(|u| p.is_done(&u.id)).count();
    if a.json {
        let units: Vec<serde_json::Value> = course
            .units
            .iter()
            .map(|u| {
                let up = p.unit(&u.id);
                serde_json::json!({
                    "id": u.id, "kind": u.kind.name(), "title": u.title,
                    "done": p.is_done(&u.id),
                    "score": up.and_then(|x| x.score),
                    "steps_done": up.map(|x| x.steps_done.len()).unwrap_or(0),
                })
            })
            .collect();
        let v = serde_json::json!({"done": done, "total": course.units.len(), "last_unit": p.last_unit, "units": units});
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    println!(
        "{done}/{} units done   (progress file: {})",
        course.units.len(),
        ctx.store().path().display()
    );
    for day in &course.days {
        println!("\n{}", day.title);
        for s in &day.sessions {
            println!("  {}", s.title);
            for &i in &s.units {
                let u = &course.units[i];
                let up = p.unit(&u.id);
                let mark = if p.is_done(&u.id) { "✓" } else { "·" };
                let extra = match (u.kind, up) {
                    (UnitKind::Quiz, Some(x)) => x
                        .score
                        .map(|(r, t)| format!("  score {r}/{t}"))
                        .unwrap_or_default(),
                    (UnitKind::Lab, Some(x)) => course
                        .labs
                        .get(&u.id)
                        .map(|l| format!("  {}/{} steps", x.steps_done.len(), l.def.steps.len()))
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                println!("    {mark} {}{extra}", u.title);
            }
        }
    }
    if let Some(last) = &p.last_unit {
        println!("\nlast: {last}  (run `datalab` to resume)");
    }
    ExitCode::SUCCESS
}

#[derive(Args, Debug)]
pub struct ResetArgs {
    /// Only this unit (default: everything)
    pub unit: Option<String>,
    /// Do not ask
    #[arg(long, short)]
    pub yes: bool,
}

pub fn reset(a: ResetArgs, ctx: &Ctx) -> ExitCode {
    if let Some(u) = &a.unit {
        let course = match ctx.course() {
            Ok(c) => c,
            Err(code) => return code,
        };
        if course.unit(u).is_none() {
            eprintln!("datalab reset: no unit `{u}` (see `datalab outline`)");
            return ExitCode::from(USAGE);
        }
    }
    let what = match &a.unit {
        Some(u) => format!("your progress on `{u}`"),
        None => "ALL your progress (answers, scores, notes, lab steps)".to_string(),
    };
    if !a.yes {
        if !std::io::stdin().is_terminal() {
            eprintln!("datalab reset: this would forget {what}; run again with --yes to confirm");
            return ExitCode::from(USAGE);
        }
        eprint!("Forget {what}? [y/N] ");
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        if !matches!(line.trim(), "y" | "Y" | "yes") {
            eprintln!("nothing changed");
            return ExitCode::SUCCESS;
        }
    }
    let r = ctx.store().update(|p| match &a.unit {
        Some(u) => {
            p.units.remove(u);
        }
        None => *p = datalab_engine::progress::Progress::new(),
    });
    match r {
        Ok(()) => {
            println!("forgot {what}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("datalab reset: {e}");
            ExitCode::from(1)
        }
    }
}
