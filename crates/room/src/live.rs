//! The room, live (#13): the activity timer and the poll the instructor
//! runs for everyone, and the note picked for the projector.
//!
//! [`LiveState`] is the whole truth, kept by the server (and saved in the
//! room database on every change, so a restarted server carries on). The
//! instructor changes it with a [`Command`]; learners add poll answers.
//! Nobody is sent the state itself: each audience gets a [`LiveView`] cut
//! for it ([`LiveState::view`]) — learners never see others' answers or the
//! right answer before the reveal, the projector never sees names unless
//! the instructor turns them on.
//!
//! Clocks: a running phase is stored as its end time on the server's clock;
//! a view carries the time left at the moment it was made, so a learner
//! whose clock is off still counts down the right number of seconds.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most phases in one activity.
pub const MAX_PHASES: usize = 20;
/// Longest phase, in seconds (a workshop day).
pub const MAX_PHASE_SECS: u64 = 8 * 3600;
/// Most questions in one poll.
pub const MAX_QUESTIONS: usize = 100;
/// Most options in one question.
pub const MAX_OPTIONS: usize = 12;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    /// Bumped on every change; views carry it.
    pub version: u64,
    pub activity: Option<LiveActivity>,
    pub poll: Option<LivePoll>,
    pub note: Option<PickedNote>,
    /// Show learners' names on the projector (off unless turned on).
    #[serde(default)]
    pub show_names: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveActivity {
    pub id: String,
    pub title: String,
    pub phases: Vec<LivePhase>,
    /// The current phase, from 0.
    pub phase: usize,
    pub clock: Clock,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivePhase {
    pub title: String,
    pub secs: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Clock {
    Running { ends_at_ms: i64 },
    Paused { remaining_ms: i64 },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LivePoll {
    pub quiz: String,
    pub title: String,
    pub questions: Vec<PollQuestion>,
    /// The question on screen, from 0.
    pub current: usize,
}

/// A poll question as the instructor opens it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionDef {
    pub id: String,
    pub prompt: String,
    /// What a learner picks from, in the file's order.
    pub options: Vec<String>,
    /// The right options' positions in `options`.
    pub right: Vec<usize>,
    pub explanation: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PollQuestion {
    pub def: QuestionDef,
    pub revealed: bool,
    /// Each learner's latest answer: option positions.
    pub answers: BTreeMap<u64, Vec<usize>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickedNote {
    /// The note event's id in the room database.
    pub id: i64,
    pub activity: String,
    pub phase: String,
    pub text: String,
    pub author: String,
}

/// What the instructor can do to the room's live state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    StartActivity {
        id: String,
        title: String,
        phases: Vec<LivePhase>,
    },
    Pause,
    Resume,
    NextPhase,
    AddMinute,
    EndActivity,
    OpenPoll {
        quiz: String,
        title: String,
        questions: Vec<QuestionDef>,
    },
    ShowQuestion {
        index: usize,
    },
    Reveal,
    ClosePoll,
    /// Show a saved note (its id from `GET /live/notes`) on the projector.
    PickNote {
        id: i64,
    },
    ClearNote,
    ShowNames {
        on: bool,
    },
}

/// A learner's poll answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollAnswer {
    pub question: String,
    pub options: Vec<usize>,
}

/// Who a view is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Instructor,
    Projector,
    Learner(u64),
}

/// The live state as one audience sees it (what the stream sends).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveView {
    pub version: u64,
    pub activity: Option<ActivityView>,
    pub poll: Option<PollView>,
    pub note: Option<NoteView>,
    /// Learners' names show with a picked note on the projector.
    #[serde(default)]
    pub show_names: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityView {
    pub id: String,
    pub title: String,
    pub phases: Vec<LivePhase>,
    pub phase: usize,
    pub running: bool,
    /// Time left in the phase when the view was made (0 when up).
    pub remaining_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollView {
    pub quiz: String,
    pub title: String,
    pub current: usize,
    pub total: usize,
    pub question: QuestionView,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionView {
    pub id: String,
    pub prompt: String,
    pub options: Vec<String>,
    /// How many learners answered.
    pub answered: usize,
    /// Per option, how many chose it (learners: after the reveal only).
    pub counts: Option<Vec<u32>>,
    pub revealed: bool,
    /// The right options (the instructor always; others after the reveal).
    pub right: Option<Vec<usize>>,
    pub explanation: Option<String>,
    /// The learner's own answer (learners' views only).
    pub mine: Option<Vec<usize>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteView {
    pub activity: String,
    pub phase: String,
    pub text: String,
    pub author: Option<String>,
}

impl LiveState {
    /// Apply an instructor's command (not `PickNote`: the server resolves
    /// the note first, see [`LiveState::pick`]). `Err` says why it cannot
    /// be done now; the state is then unchanged.
    pub fn apply(&mut self, cmd: Command, now_ms: i64) -> Result<(), String> {
        match cmd {
            Command::StartActivity { id, title, phases } => self.start(id, title, phases, now_ms),
            Command::Pause | Command::Resume | Command::AddMinute => self.clock(&cmd, now_ms),
            Command::NextPhase => self.next_phase(now_ms),
            Command::EndActivity => self.activity.take().map(drop).ok_or_else(no_activity),
            Command::OpenPoll {
                quiz,
                title,
                questions,
            } => self.open_poll(quiz, title, questions),
            Command::ShowQuestion { index } => self.show_question(index),
            Command::Reveal => self.reveal(),
            Command::ClosePoll => self.poll.take().map(drop).ok_or_else(no_poll),
            Command::PickNote { .. } => Err("a note is picked by the server".into()),
            Command::ClearNote => {
                self.note = None;
                Ok(())
            }
            Command::ShowNames { on } => {
                self.show_names = on;
                Ok(())
            }
        }
    }

    pub fn pick(&mut self, note: PickedNote) {
        self.note = Some(note);
    }

    fn start(
        &mut self,
        id: String,
        title: String,
        phases: Vec<LivePhase>,
        now: i64,
    ) -> Result<(), String> {
        check_id("activity id", &id)?;
        check_text("activity title", &title)?;
        if phases.is_empty() || phases.len() > MAX_PHASES {
            return Err(format!("an activity has 1 to {MAX_PHASES} phases"));
        }
        for p in &phases {
            check_text("phase title", &p.title)?;
            if p.secs == 0 || p.secs > MAX_PHASE_SECS {
                return Err(format!("a phase lasts 1 to {MAX_PHASE_SECS} seconds"));
            }
        }
        let ends_at_ms = now + phases[0].secs as i64 * 1000;
        self.activity = Some(LiveActivity {
            id,
            title,
            phases,
            phase: 0,
            clock: Clock::Running { ends_at_ms },
        });
        Ok(())
    }

    fn clock(&mut self, cmd: &Command, now: i64) -> Result<(), String> {
        let a = self.activity.as_mut().ok_or_else(no_activity)?;
        a.clock = match (cmd, a.clock) {
            (Command::Pause, Clock::Running { ends_at_ms }) => Clock::Paused {
                remaining_ms: (ends_at_ms - now).max(0),
            },
            (Command::Resume, Clock::Paused { remaining_ms }) => Clock::Running {
                ends_at_ms: now + remaining_ms,
            },
            (Command::AddMinute, Clock::Running { ends_at_ms }) => Clock::Running {
                ends_at_ms: ends_at_ms.max(now) + 60_000,
            },
            (Command::AddMinute, Clock::Paused { remaining_ms }) => Clock::Paused {
                remaining_ms: remaining_ms + 60_000,
            },
            (Command::Pause, Clock::Paused { .. }) => return Err("already paused".into()),
            (Command::Resume, Clock::Running { .. }) => return Err("already running".into()),
            _ => return Err("not a clock command".into()),
        };
        Ok(())
    }

    fn next_phase(&mut self, now: i64) -> Result<(), String> {
        let a = self.activity.as_mut().ok_or_else(no_activity)?;
        if a.phase + 1 >= a.phases.len() {
            return Err(format!("{} is on its last phase", a.title));
        }
        a.phase += 1;
        a.clock = Clock::Running {
            ends_at_ms: now + a.phases[a.phase].secs as i64 * 1000,
        };
        Ok(())
    }

    fn open_poll(
        &mut self,
        quiz: String,
        title: String,
        defs: Vec<QuestionDef>,
    ) -> Result<(), String> {
        check_id("quiz id", &quiz)?;
        check_text("quiz title", &title)?;
        if defs.is_empty() || defs.len() > MAX_QUESTIONS {
            return Err(format!("a poll has 1 to {MAX_QUESTIONS} questions"));
        }
        defs.iter().try_for_each(check_question)?;
        let questions = defs
            .into_iter()
            .map(|def| PollQuestion {
                def,
                revealed: false,
                answers: BTreeMap::new(),
            })
            .collect();
        self.poll = Some(LivePoll {
            quiz,
            title,
            questions,
            current: 0,
        });
        Ok(())
    }

    fn show_question(&mut self, index: usize) -> Result<(), String> {
        let p = self.poll.as_mut().ok_or_else(no_poll)?;
        if index >= p.questions.len() {
            return Err(format!("the poll has {} questions", p.questions.len()));
        }
        p.current = index;
        Ok(())
    }

    fn reveal(&mut self) -> Result<(), String> {
        let p = self.poll.as_mut().ok_or_else(no_poll)?;
        p.questions[p.current].revealed = true;
        Ok(())
    }

    /// Record (or replace) a learner's answer to an unrevealed question.
    pub fn answer(&mut self, learner: u64, a: PollAnswer) -> Result<(), String> {
        let p = self.poll.as_mut().ok_or_else(no_poll)?;
        let q = p.questions.iter_mut().find(|q| q.def.id == a.question);
        let q = q.ok_or_else(|| format!("the poll has no question {:?}", a.question))?;
        if q.revealed {
            return Err("the answer is revealed: answers are closed".into());
        }
        let n = q.def.options.len();
        let mut picked = a.options;
        picked.sort_unstable();
        picked.dedup();
        if picked.is_empty() || picked.iter().any(|&i| i >= n) {
            return Err(format!("pick options from 0 to {}", n.saturating_sub(1)));
        }
        q.answers.insert(learner, picked);
        Ok(())
    }

    /// The state as `who` may see it, at `now_ms`.
    pub fn view(&self, who: Audience, now_ms: i64) -> LiveView {
        LiveView {
            version: self.version,
            activity: self.activity.as_ref().map(|a| activity_view(a, now_ms)),
            poll: self.poll.as_ref().map(|p| poll_view(p, who)),
            note: self.note.as_ref().map(|n| NoteView {
                activity: n.activity.clone(),
                phase: n.phase.clone(),
                text: n.text.clone(),
                author: (who == Audience::Instructor || self.show_names).then(|| n.author.clone()),
            }),
            show_names: self.show_names,
        }
    }
}

fn no_activity() -> String {
    "no activity is running for the room".into()
}

fn no_poll() -> String {
    "no poll is open".into()
}

fn check_id(what: &str, s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > crate::protocol::MAX_ID_BYTES {
        return Err(format!(
            "{what}: 1 to {} bytes",
            crate::protocol::MAX_ID_BYTES
        ));
    }
    Ok(())
}

fn check_text(what: &str, s: &str) -> Result<(), String> {
    if s.len() > crate::protocol::MAX_TEXT_BYTES {
        return Err(format!(
            "{what}: at most {} bytes",
            crate::protocol::MAX_TEXT_BYTES
        ));
    }
    Ok(())
}

fn check_question(q: &QuestionDef) -> Result<(), String> {
    check_id("question id", &q.id)?;
    check_text("question", &q.prompt)?;
    check_text("explanation", &q.explanation)?;
    if q.options.len() < 2 || q.options.len() > MAX_OPTIONS {
        return Err(format!("question {}: 2 to {MAX_OPTIONS} options", q.id));
    }
    q.options.iter().try_for_each(|o| check_text("option", o))?;
    if q.right.iter().any(|&i| i >= q.options.len()) {
        return Err(format!("question {}: a right option is out of range", q.id));
    }
    Ok(())
}

fn activity_view(a: &LiveActivity, now: i64) -> ActivityView {
    let (running, remaining_ms) = match a.clock {
        Clock::Running { ends_at_ms } => (true, (ends_at_ms - now).max(0)),
        Clock::Paused { remaining_ms } => (false, remaining_ms),
    };
    ActivityView {
        id: a.id.clone(),
        title: a.title.clone(),
        phases: a.phases.clone(),
        phase: a.phase,
        running,
        remaining_ms,
    }
}

fn poll_view(p: &LivePoll, who: Audience) -> PollView {
    let q = &p.questions[p.current];
    let sees_counts = !matches!(who, Audience::Learner(_));
    let sees_right = who == Audience::Instructor || q.revealed;
    let mut counts = vec![0u32; q.def.options.len()];
    for picked in q.answers.values() {
        for &i in picked {
            counts[i] += 1;
        }
    }
    PollView {
        quiz: p.quiz.clone(),
        title: p.title.clone(),
        current: p.current,
        total: p.questions.len(),
        question: QuestionView {
            id: q.def.id.clone(),
            prompt: q.def.prompt.clone(),
            options: q.def.options.clone(),
            answered: q.answers.len(),
            counts: (sees_counts || q.revealed).then_some(counts),
            revealed: q.revealed,
            right: sees_right.then(|| q.def.right.clone()),
            explanation: q.revealed.then(|| q.def.explanation.clone()),
            mine: match who {
                Audience::Learner(id) => q.answers.get(&id).cloned(),
                _ => None,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phases() -> Vec<LivePhase> {
        [("think", 180), ("pair", 120)]
            .iter()
            .map(|(t, s)| LivePhase {
                title: t.to_string(),
                secs: *s,
            })
            .collect()
    }

    fn start(s: &mut LiveState, now: i64) {
        let cmd = Command::StartActivity {
            id: "brainstorm".into(),
            title: "Brainstorm".into(),
            phases: phases(),
        };
        s.apply(cmd, now).unwrap();
    }

    #[test]
    fn the_clock_pauses_resumes_and_gains_a_minute() {
        let mut s = LiveState::default();
        start(&mut s, 0);
        assert_eq!(
            s.view(Audience::Projector, 1000)
                .activity
                .unwrap()
                .remaining_ms,
            179_000
        );
        s.apply(Command::Pause, 10_000).unwrap();
        let v = s.view(Audience::Projector, 50_000).activity.unwrap();
        assert_eq!((v.running, v.remaining_ms), (false, 170_000));
        s.apply(Command::AddMinute, 50_000).unwrap();
        s.apply(Command::Resume, 100_000).unwrap();
        let v = s.view(Audience::Projector, 100_000).activity.unwrap();
        assert_eq!((v.running, v.remaining_ms), (true, 230_000));
        assert!(s.apply(Command::Resume, 0).is_err());
        s.apply(Command::NextPhase, 200_000).unwrap();
        let v = s.view(Audience::Projector, 200_000).activity.unwrap();
        assert_eq!((v.phase, v.remaining_ms), (1, 120_000));
        assert!(
            s.apply(Command::NextPhase, 0).is_err(),
            "no phase after the last"
        );
        assert_eq!(
            s.view(Audience::Projector, 999_999)
                .activity
                .unwrap()
                .remaining_ms,
            0
        );
    }

    fn poll(s: &mut LiveState) {
        let q = QuestionDef {
            id: "q1".into(),
            prompt: "HDFS keeps 3 copies by default".into(),
            options: vec!["True".into(), "False".into()],
            right: vec![0],
            explanation: "dfs.replication is 3".into(),
        };
        let cmd = Command::OpenPoll {
            quiz: "hdfs".into(),
            title: "HDFS".into(),
            questions: vec![q],
        };
        s.apply(cmd, 0).unwrap();
    }

    fn answer(s: &mut LiveState, learner: u64, opt: usize) -> Result<(), String> {
        let a = PollAnswer {
            question: "q1".into(),
            options: vec![opt],
        };
        s.answer(learner, a)
    }

    #[test]
    fn learners_see_counts_and_the_answer_only_after_the_reveal() {
        let mut s = LiveState::default();
        poll(&mut s);
        answer(&mut s, 1, 0).unwrap();
        answer(&mut s, 2, 1).unwrap();
        answer(&mut s, 2, 0).unwrap(); // changed their mind
        assert!(answer(&mut s, 3, 2).is_err(), "out of range");
        let proj = s.view(Audience::Projector, 0).poll.unwrap().question;
        assert_eq!((proj.counts, proj.right), (Some(vec![2, 0]), None));
        let me = s.view(Audience::Learner(2), 0).poll.unwrap().question;
        assert_eq!((me.counts, me.right, me.mine), (None, None, Some(vec![0])));
        s.apply(Command::Reveal, 0).unwrap();
        let me = s.view(Audience::Learner(2), 0).poll.unwrap().question;
        assert_eq!(me.right, Some(vec![0]));
        assert_eq!(me.explanation.as_deref(), Some("dfs.replication is 3"));
        assert!(answer(&mut s, 3, 1).is_err(), "closed after the reveal");
    }

    #[test]
    fn names_reach_the_projector_only_when_turned_on() {
        let mut s = LiveState::default();
        s.pick(PickedNote {
            id: 1,
            activity: "a".into(),
            phase: "1".into(),
            text: "idea".into(),
            author: "Ada".into(),
        });
        assert_eq!(s.view(Audience::Projector, 0).note.unwrap().author, None);
        s.apply(Command::ShowNames { on: true }, 0).unwrap();
        assert!(s.view(Audience::Instructor, 0).show_names);
        assert_eq!(
            s.view(Audience::Projector, 0)
                .note
                .unwrap()
                .author
                .as_deref(),
            Some("Ada")
        );
    }

    use proptest::prelude::*;

    fn command() -> impl Strategy<Value = Command> {
        let phase = (0u64..5, "[a-z]{0,3}").prop_map(|(secs, title)| LivePhase { title, secs });
        let question =
            (0usize..4, prop::collection::vec(0usize..5, 0..3)).prop_map(|(n, right)| {
                QuestionDef {
                    id: format!("q{n}"),
                    prompt: "p".into(),
                    options: (0..n).map(|i| i.to_string()).collect(),
                    right,
                    explanation: String::new(),
                }
            });
        prop_oneof![
            prop::collection::vec(phase, 0..4).prop_map(|phases| Command::StartActivity {
                id: "a".into(),
                title: "A".into(),
                phases
            }),
            Just(Command::Pause),
            Just(Command::Resume),
            Just(Command::NextPhase),
            Just(Command::AddMinute),
            Just(Command::EndActivity),
            prop::collection::vec(question, 0..3).prop_map(|questions| Command::OpenPoll {
                quiz: "q".into(),
                title: "Q".into(),
                questions
            }),
            (0usize..4).prop_map(|index| Command::ShowQuestion { index }),
            Just(Command::Reveal),
            Just(Command::ClosePoll),
        ]
    }

    proptest! {
        /// Any sequence of commands and answers: a refused command changes
        /// nothing, and every audience's view can be drawn after each one.
        #[test]
        fn any_sequence_keeps_the_state_drawable(
            steps in prop::collection::vec((command(), 0u64..3, 0usize..4, 0usize..6), 0..40)
        ) {
            let mut s = LiveState::default();
            for (i, (cmd, learner, q, opt)) in steps.into_iter().enumerate() {
                let now = i as i64 * 1000;
                let before = s.clone();
                if s.apply(cmd, now).is_err() {
                    prop_assert_eq!(&s, &before);
                }
                let a = PollAnswer { question: format!("q{q}"), options: vec![opt] };
                let _ = s.answer(learner, a);
                for who in [Audience::Instructor, Audience::Projector, Audience::Learner(learner)] {
                    let _ = s.view(who, now);
                }
            }
        }
    }
}
