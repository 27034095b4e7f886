//! `datalab room live …`: the instructor runs the room's live activity
//! timer, polls and projector note from the shell (the instructor's view
//! binds the same commands to keys).

use super::{Ctx, USAGE};
use clap::Subcommand;
use datalab_engine::live::{Instructor, open_poll, start_activity};
use datalab_room::live::{Command, LiveView};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum LiveCommand {
    /// Start one of the course's activities for the whole room
    Start { activity: String },
    /// Pause the room's timer
    Pause,
    /// Resume the room's timer
    Resume,
    /// Go to the activity's next phase
    Next,
    /// One more minute on the current phase
    AddMinute,
    /// End the activity
    End,
    /// Open one of the course's quizzes as a live poll
    Poll { quiz: String },
    /// Show question N of the poll (from 1)
    Question { n: usize },
    /// Reveal the current question's answer and explanation to everyone
    Reveal,
    /// Close the poll
    Close,
    /// List the notes learners saved (of one activity, or all)
    Notes { activity: Option<String> },
    /// Show a note (its number from `notes`) on the projector
    Pick { id: i64 },
    /// Take the note off the projector
    Unpick,
    /// Show learners' names with picked notes on the projector: on or off
    Names {
        #[arg(value_parser = ["on", "off"])]
        on: String,
    },
    /// Print the room's live state
    Show,
}

pub fn run(cmd: LiveCommand, dir: &Path, ctx: &Ctx) -> ExitCode {
    let room = match Instructor::open(dir) {
        Ok(r) => r,
        Err(e) => return fail(&e, USAGE),
    };
    if let LiveCommand::Notes { activity } = &cmd {
        return notes(&room, activity.as_deref().unwrap_or(""));
    }
    let command = match to_command(cmd, ctx) {
        Ok(Some(c)) => c,
        Ok(None) => return show(&room),
        Err(e) => return fail(&e, USAGE),
    };
    match room.send(&command) {
        Ok(view) => {
            print!("{}", describe(&view));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, 1),
    }
}

fn fail(msg: &str, code: u8) -> ExitCode {
    eprintln!("datalab room live: {msg}");
    ExitCode::from(code)
}

/// The room command for a CLI command (None: just show the state).
fn to_command(cmd: LiveCommand, ctx: &Ctx) -> Result<Option<Command>, String> {
    Ok(Some(match cmd {
        LiveCommand::Start { activity } => {
            let course = ctx
                .course()
                .map_err(|_| "the course has errors".to_string())?;
            start_activity(
                &activity,
                lookup(&course.activities, &activity, "activity")?,
            )
        }
        LiveCommand::Poll { quiz } => {
            let course = ctx
                .course()
                .map_err(|_| "the course has errors".to_string())?;
            open_poll(&quiz, lookup(&course.quizzes, &quiz, "quiz")?)
        }
        LiveCommand::Question { n } if n >= 1 => Command::ShowQuestion { index: n - 1 },
        LiveCommand::Question { .. } => return Err("questions count from 1".into()),
        LiveCommand::Pause => Command::Pause,
        LiveCommand::Resume => Command::Resume,
        LiveCommand::Next => Command::NextPhase,
        LiveCommand::AddMinute => Command::AddMinute,
        LiveCommand::End => Command::EndActivity,
        LiveCommand::Reveal => Command::Reveal,
        LiveCommand::Close => Command::ClosePoll,
        LiveCommand::Pick { id } => Command::PickNote { id },
        LiveCommand::Unpick => Command::ClearNote,
        LiveCommand::Names { on } => Command::ShowNames { on: on == "on" },
        LiveCommand::Show | LiveCommand::Notes { .. } => return Ok(None),
    }))
}

/// `map[id]`, or a message listing the ids there are.
fn lookup<'m, T>(map: &'m BTreeMap<String, T>, id: &str, what: &str) -> Result<&'m T, String> {
    map.get(id).ok_or_else(|| {
        let known: Vec<&str> = map.keys().map(String::as_str).collect();
        format!("no {what} {id:?}; the course has: {}", known.join(", "))
    })
}

fn show(room: &Instructor) -> ExitCode {
    let (url, token) = room.url_and_token();
    let url = url.to_string();
    let ep = match datalab_room::Endpoint::parse(&url) {
        Ok(ep) => ep,
        Err(e) => return fail(&e.to_string(), 1),
    };
    let mut feed = match datalab_room::LiveFeed::follow(ep, token.to_string()) {
        Ok(f) => f,
        Err(e) => return fail(&e.to_string(), 1),
    };
    match feed.wait_for(std::time::Duration::from_secs(15), |f| f.view.is_some()) {
        Some(f) => {
            print!("{}", describe(&f.view.expect("a view").0));
            ExitCode::SUCCESS
        }
        None => fail(
            &format!("no answer from the room at {url}: {:?}", feed.now().error),
            1,
        ),
    }
}

fn notes(room: &Instructor, activity: &str) -> ExitCode {
    match room.notes(activity) {
        Ok(list) if list.is_empty() => {
            println!("no notes yet");
            ExitCode::SUCCESS
        }
        Ok(list) => {
            for n in list {
                let text = n.text.replace('\n', " ");
                println!(
                    "{:>4}  {} phase {}  {}: {text}",
                    n.id, n.activity, n.phase, n.author
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, 1),
    }
}

/// The live state in a few lines.
pub fn describe(v: &LiveView) -> String {
    let mut out = String::new();
    match &v.activity {
        Some(a) => {
            let p = &a.phases[a.phase];
            let secs = a.remaining_ms / 1000;
            let state = if a.running { "" } else { " (paused)" };
            out += &format!(
                "activity: {} — phase {}/{} {}: {:02}:{:02} left{state}\n",
                a.title,
                a.phase + 1,
                a.phases.len(),
                p.title,
                secs / 60,
                secs % 60
            );
        }
        None => out += "activity: none\n",
    }
    match &v.poll {
        Some(p) => {
            let q = &p.question;
            out += &format!(
                "poll: {} — question {}/{}: {}\n",
                p.title,
                p.current + 1,
                p.total,
                q.prompt
            );
            let counts = q.counts.clone().unwrap_or_default();
            for (i, o) in q.options.iter().enumerate() {
                let right = q.right.as_ref().is_some_and(|r| r.contains(&i));
                let mark = if right { "✓" } else { " " };
                let n = counts.get(i).copied().unwrap_or(0);
                out += &format!("  {mark} {}) {o}: {n}\n", i + 1);
            }
            let revealed = if q.revealed { ", revealed" } else { "" };
            out += &format!("  {} answered{revealed}\n", q.answered);
        }
        None => out += "poll: none\n",
    }
    if let Some(n) = &v.note {
        out += &format!("projector note: {}\n", n.text.replace('\n', " "));
    }
    if v.show_names {
        out += "projector: learners' names shown with the note\n";
    }
    out
}
