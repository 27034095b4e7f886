//! The room, live, on the learner's side (#13): the room's activity timer
//! and poll, followed in the background ([`RoomLive`]), announced on every
//! screen when the instructor starts something, and shown on the live
//! screen (`L`), where the learner answers the poll.
//!
//! The learner's own activity timer keeps working without a room; the
//! room's timer rings the bell at a phase's end whichever screen is open.

use super::app::{AppEvent, Ctx, Nav};
use super::theme::Theme;
use datalab_room::LiveFeed;
use datalab_room::live::{ActivityView, LiveView, PollView};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Padding, Paragraph, Wrap};
use std::time::Instant;

/// An id and a position in it: (activity, phase) or (quiz, question).
type Place = (String, usize);

/// The room's live state as this learner follows it.
#[derive(Default)]
pub struct RoomLive {
    feed: Option<LiveFeed>,
    /// The latest view and when it arrived.
    pub(crate) view: Option<(LiveView, Instant)>,
    pub(crate) connected: bool,
    /// The (activity, phase) whose end already rang.
    rang: Option<(String, usize)>,
    /// The (activity, phase) and (quiz, question) last announced.
    announced: (Option<Place>, Option<Place>),
    /// The clock at the last tick: what the screens show.
    pub(crate) now: Option<Instant>,
}

impl RoomLive {
    /// Follow the room the learner joined, if any (quietly nothing when not
    /// joined; a problem reading the room file is returned to be shown).
    pub(crate) fn start(ctx_home: &std::path::Path) -> (RoomLive, Option<String>) {
        match LiveFeed::follow_joined(ctx_home) {
            Ok(feed) => (
                RoomLive {
                    feed,
                    ..Default::default()
                },
                None,
            ),
            Err(e) => (RoomLive::default(), Some(format!("room live: {e}"))),
        }
    }

    /// A fixed view (tests).
    pub fn showing(view: LiveView, at: Instant) -> RoomLive {
        RoomLive {
            view: Some((view, at)),
            connected: true,
            now: Some(at),
            ..Default::default()
        }
    }

    pub(crate) fn joined(&self) -> bool {
        self.feed.is_some() || self.view.is_some()
    }

    pub(crate) fn activity(&self) -> Option<&ActivityView> {
        self.view.as_ref()?.0.activity.as_ref()
    }

    pub(crate) fn poll(&self) -> Option<&PollView> {
        self.view.as_ref()?.0.poll.as_ref()
    }

    /// Milliseconds left in the room's phase at `now` (counting from when
    /// the view arrived; frozen while paused).
    pub(crate) fn remaining_ms(&self, now: Instant) -> Option<i64> {
        let (view, at) = self.view.as_ref()?;
        remaining_ms(view.activity.as_ref()?, *at, now)
    }
}

/// Milliseconds left in `a`'s phase at `now`, its view having arrived at
/// `at` (frozen while paused, 0 when up).
pub(crate) fn remaining_ms(a: &ActivityView, at: Instant, now: Instant) -> Option<i64> {
    if !a.running {
        return Some(a.remaining_ms);
    }
    let gone = now.saturating_duration_since(at).as_millis() as i64;
    Some((a.remaining_ms - gone).max(0))
}

/// Take in what the feed brought: announce what is new, ring the bell at a
/// phase's end. `on_live` is true while the live screen is open.
pub(crate) fn tick(ctx: &mut Ctx, on_live: bool, now: Instant) {
    ctx.live.now = Some(now);
    if let Some(f) = ctx.live.feed.as_mut().and_then(LiveFeed::now_changed) {
        ctx.live.connected = f.connected;
        if f.view.is_some() {
            ctx.live.view = f.view;
        }
        if !on_live && let Some(news) = announcement(&mut ctx.live) {
            ctx.info(news);
        }
    }
    let ended = ctx.live.activity().map(|a| (a.id.clone(), a.phase));
    if ctx.live.remaining_ms(now) == Some(0) && ctx.live.rang != ended {
        ctx.live.rang = ended;
        ctx.bell = true;
    }
}

/// A line for a newly started activity phase or a new poll question.
fn announcement(live: &mut RoomLive) -> Option<String> {
    let act = live.activity().map(|a| (a.id.clone(), a.phase));
    let poll = live.poll().map(|p| (p.quiz.clone(), p.current));
    let mut news = None;
    if act.is_some() && act != live.announced.0 {
        let a = live.activity()?;
        let phase = &a.phases[a.phase].title;
        news = Some(format!(
            "The room: {} — {phase}. Press L to follow",
            a.title
        ));
    }
    if poll.is_some() && poll != live.announced.1 {
        let p = live.poll()?;
        news = Some(format!(
            "The room: poll \"{}\" question {}. Press L to answer",
            p.title,
            p.current + 1
        ));
    }
    live.announced = (act, poll);
    news
}

/// The live screen: the room's timer and poll, and the answer being typed.
#[derive(Default)]
pub struct LiveScreen {
    pub(crate) input: String,
    pub(crate) sending: bool,
}

impl LiveScreen {
    pub(crate) fn captures_text(&self) -> bool {
        !self.input.is_empty()
    }

    pub(crate) fn hints(&self, ctx: &Ctx) -> crate::help::Keys {
        if ctx.live.poll().is_some_and(|p| !p.question.revealed) {
            vec![
                ("type", "your answer (1, 2… / t f / a number)"),
                ("Enter", "send"),
                ("Esc", "back"),
            ]
        } else {
            vec![("Esc", "back to the agenda")]
        }
    }
}

pub(crate) fn handle_key(s: &mut LiveScreen, ctx: &mut Ctx, key: &KeyEvent) -> Nav {
    match key.code {
        KeyCode::Esc if s.input.is_empty() => return Nav::Back,
        KeyCode::Esc => s.input.clear(),
        KeyCode::Char('q') if s.input.is_empty() => return Nav::Back,
        KeyCode::Backspace => {
            s.input.pop();
        }
        KeyCode::Enter if !s.input.trim().is_empty() && !s.sending => send(s, ctx),
        KeyCode::Char(c)
            if !key.modifiers.contains(KeyModifiers::CONTROL) && s.input.len() < 64 =>
        {
            s.input.push(c)
        }
        _ => {}
    }
    Nav::Stay
}

/// Turn the typed answer into the room's poll answer and send it in the
/// background; the result comes back as an [`AppEvent::PollAnswered`].
fn send(s: &mut LiveScreen, ctx: &mut Ctx) {
    let Some(poll) = ctx.live.poll() else {
        return ctx.error("no poll is open in the room");
    };
    let answer = match course_question(ctx, poll) {
        Some(q) => datalab_engine::live::poll_answer(q, &s.input),
        None => option_numbers(&s.input, poll.question.options.len()).map(|options| {
            datalab_room::live::PollAnswer {
                question: poll.question.id.clone(),
                options,
            }
        }),
    };
    let answer = match answer {
        Ok(a) => a,
        Err(e) => return ctx.error(e),
    };
    s.sending = true;
    s.input.clear();
    let (home, tx) = (ctx.home.clone(), ctx.tx.clone());
    std::thread::spawn(move || {
        let r = datalab_room::answer_poll(&home, &answer)
            .map(|_| ())
            .map_err(|e| e.to_string());
        let _ = tx.send(AppEvent::PollAnswered(r));
    });
}

/// The poll's question in this learner's own course, if it has it.
fn course_question<'c>(ctx: &'c Ctx, poll: &PollView) -> Option<&'c datalab_content::Question> {
    let quiz = ctx.course.quizzes.get(&poll.quiz)?;
    quiz.questions
        .iter()
        .find(|q| q.id.value == poll.question.id)
}

/// `1`, `2,3`: option numbers from 1, as 0-based positions.
fn option_numbers(input: &str, n: usize) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in input.split([',', ' ']).filter(|p| !p.is_empty()) {
        match part.parse::<usize>() {
            Ok(i) if (1..=n).contains(&i) => out.push(i - 1),
            _ => return Err(format!("answer with option numbers from 1 to {n}")),
        }
    }
    Ok(out)
}

/// The background answer came back.
pub(crate) fn answered(s: Option<&mut LiveScreen>, ctx: &mut Ctx, r: Result<(), String>) {
    if let Some(s) = s {
        s.sending = false;
    }
    match r {
        Ok(()) => ctx.info("answer sent to the room"),
        Err(e) => ctx.error(format!("answer not sent: {e}")),
    }
}

pub(crate) fn render(ctx: &Ctx, s: &LiveScreen, frame: &mut Frame, area: Rect) {
    let t = &ctx.theme;
    let now = ctx.live.now.unwrap_or_else(Instant::now);
    let [top, bottom] = Layout::vertical([Constraint::Length(5), Constraint::Min(3)]).areas(area);
    render_timer(&ctx.live, t, frame, top, now);
    render_poll(&ctx.live, s, t, frame, bottom);
}

fn render_timer(live: &RoomLive, t: &Theme, frame: &mut Frame, area: Rect, now: Instant) {
    let status = if live.connected {
        ""
    } else {
        " · reconnecting…"
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.border())
        .padding(Padding::horizontal(1))
        .title(Line::styled(format!(" Room activity{status} "), t.title()));
    let lines = match (live.activity(), live.remaining_ms(now)) {
        (Some(a), Some(ms)) => {
            let secs = (ms + 999) / 1000;
            let clock = format!("{:02}:{:02}", secs / 60, secs % 60);
            let state = match (a.running, ms) {
                (false, _) => Span::styled("  paused", t.warn()),
                (true, 0) => Span::styled("  time's up", t.warn()),
                _ => Span::raw(""),
            };
            vec![
                Line::styled(a.title.clone(), t.strong()),
                Line::from(vec![
                    Span::styled(
                        format!("Phase {} of {}: ", a.phase + 1, a.phases.len()),
                        t.dim(),
                    ),
                    Span::raw(a.phases[a.phase].title.clone()),
                ]),
                Line::from(vec![Span::styled(clock, t.accent()), state]),
            ]
        }
        _ => vec![Line::styled("No activity is running in the room.", t.dim())],
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn render_poll(live: &RoomLive, s: &LiveScreen, t: &Theme, frame: &mut Frame, area: Rect) {
    let Some(p) = live.poll() else {
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(t.border());
        let line = Line::styled(
            "No poll is open. Polls the instructor opens appear here.",
            t.dim(),
        );
        return frame.render_widget(Paragraph::new(line).block(block.title(" Poll ")), area);
    };
    let q = &p.question;
    let title = format!(
        " Poll · {} · question {} of {} ",
        p.title,
        p.current + 1,
        p.total
    );
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.border())
        .padding(Padding::horizontal(1))
        .title(Line::styled(title, t.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = vec![Line::styled(q.prompt.clone(), t.strong())];
    lines.push(Line::raw(""));
    lines.extend(option_lines(q, t, inner.width as usize));
    lines.push(Line::raw(""));
    if q.revealed {
        let why = q.explanation.clone().unwrap_or_default();
        lines.push(Line::styled(why, t.plain()));
    } else {
        let prompt = if s.sending {
            "sending…"
        } else {
            "your answer: "
        };
        lines.push(Line::from(vec![
            Span::styled(prompt, t.dim()),
            Span::styled(format!("{}▏", s.input), t.accent()),
        ]));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// Longest option label and bar shown.
const MAX_LABEL: usize = 40;
const MAX_BAR: usize = 20;

/// One line per option of `q` within `width` columns: ✓ on the right ones
/// (when known), a bar scaled to the most-chosen option and its count
/// (when counted), the learner's own answer marked.
pub(crate) fn option_lines(
    q: &datalab_room::live::QuestionView,
    t: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    let most = q
        .counts
        .as_ref()
        .and_then(|c| c.iter().max().copied())
        .unwrap_or(0)
        .max(1);
    // "✓ 1) " before the label; "  ", the bar (10 columns at least), " "
    // and the count after it.
    let (tail, min_bar) = match q.counts {
        Some(_) => (3 + most.to_string().len(), 10),
        None => (0, 0),
    };
    let longest = q.options.iter().map(|o| o.chars().count()).max();
    let label_w =
        (longest.unwrap_or(0).min(MAX_LABEL)).min(width.saturating_sub(5 + tail + min_bar).max(8));
    let bar_w = width.saturating_sub(5 + label_w + tail).clamp(1, MAX_BAR);
    q.options
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let right = q.right.as_ref().is_some_and(|r| r.contains(&i));
            let mark = if right { "✓" } else { " " };
            let style = if right { t.ok() } else { t.plain() };
            let label = crate::ui::truncate(o, label_w);
            let mut spans = vec![Span::styled(
                format!("{mark} {}) {label:<label_w$}", i + 1),
                style,
            )];
            if let Some(&n) = q.counts.as_ref().and_then(|c| c.get(i)) {
                let bar = "█".repeat(n as usize * bar_w / most as usize);
                spans.push(Span::styled(format!("  {bar} {n}"), t.dim()));
            }
            if q.mine.as_ref().is_some_and(|m| m.contains(&i)) {
                spans.push(Span::styled("  ← your answer", t.accent()));
            }
            Line::from(spans)
        })
        .collect()
}

/// The room's clock for the top bar: `room 02:13`, when an activity runs.
pub(crate) fn top_bar_clock(live: &RoomLive) -> Option<String> {
    let ms = live.remaining_ms(live.now?)?;
    let secs = (ms + 999) / 1000;
    Some(format!("room {:02}:{:02} · ", secs / 60, secs % 60))
}
