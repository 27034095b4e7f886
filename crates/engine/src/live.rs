//! The room, live (#13), on the course's side: an activity or a quiz of
//! the course turned into the room's live commands, a learner's typed
//! answer turned into a poll answer, and the instructor's link to the room
//! server running on this machine.

use crate::quiz::{Given, parse_answer, right_options};
use datalab_content::{Activity, AnswerValue, Question, QuestionKind, Quiz};
use datalab_room::live::{Command, LivePhase, LiveView, PickedNote, PollAnswer, QuestionDef};
use std::path::{Path, PathBuf};

/// The poll options of a numeric question: the learner's client grades the
/// number and answers with one of these.
pub const NUMERIC_OPTIONS: [&str; 2] = ["Close enough", "Off"];

/// Start `activity` (id `id`) for the room.
pub fn start_activity(id: &str, activity: &Activity) -> Command {
    let phases = activity
        .phases
        .iter()
        .map(|p| LivePhase {
            title: p.title.clone(),
            secs: u64::from(p.minutes.value) * 60,
        })
        .collect();
    Command::StartActivity {
        id: id.into(),
        title: activity.title.clone(),
        phases,
    }
}

/// Open `quiz` (id `id`) as a live poll: options in the file's order (the
/// room shares one order), true/false as two options, numeric questions as
/// "close enough" or "off".
pub fn open_poll(id: &str, quiz: &Quiz) -> Command {
    Command::OpenPoll {
        quiz: id.into(),
        title: quiz.title.clone(),
        questions: quiz.questions.iter().map(question_def).collect(),
    }
}

fn question_def(q: &Question) -> QuestionDef {
    let (options, right): (Vec<String>, Vec<usize>) = match (&q.kind, &q.answer.value) {
        (QuestionKind::TrueFalse, AnswerValue::Bool(b)) => {
            (vec!["True".into(), "False".into()], vec![usize::from(!b)])
        }
        (QuestionKind::Choice, _) => (q.options.clone(), right_options(q)),
        _ => (NUMERIC_OPTIONS.map(String::from).to_vec(), vec![0]),
    };
    let explanation = match (&q.kind, &q.answer.value) {
        (QuestionKind::Numeric, AnswerValue::Number(n)) => {
            let unit = q
                .unit
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default();
            format!(
                "The answer: {}{unit}. {}",
                crate::quiz::fmt_number(*n),
                q.explanation.trim()
            )
        }
        _ => q.explanation.trim().to_string(),
    };
    QuestionDef {
        id: q.id.value.clone(),
        prompt: q.prompt.trim().to_string(),
        options,
        right,
        explanation,
    }
}

/// What a learner typed for a poll question, as the room takes it: option
/// numbers as shown in the poll (1-based; letters too), t/f, or a number
/// (graded here: the room only hears "close enough" or "off").
pub fn poll_answer(q: &Question, input: &str) -> Result<PollAnswer, String> {
    let as_option = match (q.kind, input.trim()) {
        (QuestionKind::TrueFalse, "1") => Some(true),
        (QuestionKind::TrueFalse, "2") => Some(false),
        _ => None,
    };
    let given = match as_option {
        Some(b) => Given::Bool(b),
        None => parse_answer(q, input)?,
    };
    let options = match given {
        Given::Bool(b) => vec![usize::from(!b)],
        Given::Options(picked) => picked,
        Given::Number(_) => {
            let order: Vec<usize> = (0..q.options.len()).collect();
            let correct = crate::quiz::grade_given(q, &order, &parse_answer(q, input)?);
            vec![usize::from(!correct)]
        }
    };
    Ok(PollAnswer {
        question: q.id.value.clone(),
        options,
    })
}

/// The instructor's link to the room server running from `dir`.
pub struct Instructor {
    url: String,
    token: String,
}

impl Instructor {
    /// Read the running room's address and the instructor's token.
    pub fn open(dir: &Path) -> Result<Instructor, String> {
        let read =
            |p: PathBuf, what: &str| {
                std::fs::read_to_string(&p).map(|s| s.trim().to_string()).map_err(|e| {
                format!(
                    "{what} ({}): {e}; is the room running? (`datalab room serve --dir {}`)",
                    p.display(),
                    dir.display()
                )
            })
            };
        Ok(Instructor {
            url: read(datalab_room::url_path(dir), "the room's address")?,
            token: read(
                datalab_room::instructor_token_path(dir),
                "the instructor token",
            )?,
        })
    }

    pub fn send(&self, cmd: &Command) -> Result<LiveView, String> {
        datalab_room::send_command(&self.url, &self.token, cmd).map_err(|e| e.to_string())
    }

    /// The notes learners saved (every activity when `activity` is empty).
    pub fn notes(&self, activity: &str) -> Result<Vec<PickedNote>, String> {
        datalab_room::notes(&self.url, &self.token, activity).map_err(|e| e.to_string())
    }

    /// The room's address and the instructor token (to follow the stream).
    pub fn url_and_token(&self) -> (&str, &str) {
        (&self.url, &self.token)
    }
}
