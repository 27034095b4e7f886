//! Application state and key handling. Nothing in here draws: every screen
//! renders from this state alone (see the screen modules), so tests can draw
//! an [`App`] into a `TestBackend` and drive it with keys.

use super::activity::ActivityState;
use super::comparison::ComparisonState;
use super::lab::LabState;
use super::lesson::LessonState;
use super::quiz::QuizState;
use super::theme::Theme;
use super::{TuiOptions, ui};
use datalab_content::{Course, UnitKind};
use datalab_engine::lab::StepResult;
use datalab_engine::progress::{Progress, ProgressStore, UnitProgress};
use datalab_engine::room::RoomLink;
use datalab_services::{Namespace, Services};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::cell::Cell;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Instant;

/// Results of background work (checks, workspace preparation, service
/// probes), sent back to the UI thread on a channel.
#[derive(Debug)]
pub(crate) enum AppEvent {
    WorkspaceReady {
        lab: String,
        result: Result<usize, String>,
    },
    StepChecked {
        lab: String,
        step: usize,
        result: Result<StepResult, String>,
    },
    Services {
        lab: String,
        lines: Vec<String>,
    },
    /// A poll answer was sent to the room (or not, and why).
    PollAnswered(Result<(), String>),
}

/// What a screen asks the app to do after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Stay,
    /// Back to the agenda.
    Back,
    /// Open the unit at this index of `Course::units`.
    Open(usize),
    Quit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MessageKind {
    Info,
    Error,
}

/// Everything screens share: the course, the learner's progress, services,
/// and a way to report back. Kept apart from [`Screen`] so a screen's key
/// handler can borrow both.
pub struct Ctx {
    pub(crate) course: Course,
    pub(crate) store: ProgressStore,
    /// The last progress read or written through the store.
    pub(crate) progress: Progress,
    pub(crate) services: Arc<Services>,
    pub(crate) home: PathBuf,
    pub(crate) namespace: Namespace,
    pub(crate) runtime: tokio::runtime::Handle,
    pub theme: Theme,
    pub(crate) message: Option<(String, MessageKind)>,
    pub(crate) tx: Sender<AppEvent>,
    /// Ring the terminal bell on the next frame.
    pub(crate) bell: bool,
    /// The learner's room (inert when not joined): what they do is
    /// reported in the background.
    pub(crate) room: RoomLink,
    /// The room's live activity and poll (empty when not in a room).
    pub(crate) live: super::live::RoomLive,
}

impl Ctx {
    /// Change progress through the store (locked, atomic). On failure the
    /// learner sees why; the in-memory copy still changes so nothing typed
    /// is lost from the screen.
    pub(crate) fn save(&mut self, f: impl FnOnce(&mut Progress)) {
        let mut f = Some(f);
        match self.store.update(|p| {
            if let Some(f) = f.take() {
                f(p);
            }
            p.clone()
        }) {
            Ok(p) => {
                self.room.units_done(&self.progress, &p);
                self.progress = p;
            }
            Err(e) => {
                if let Some(f) = f.take() {
                    f(&mut self.progress);
                } else {
                    // The closure ran on the store's copy; replay is not
                    // possible, so reload what is on disk.
                    self.progress = self.store.load().0;
                }
                self.error(format!("progress not saved: {e}"));
            }
        }
    }

    pub(crate) fn save_unit(&mut self, id: &str, f: impl FnOnce(&mut UnitProgress)) {
        let id = id.to_string();
        self.save(move |p| f(p.unit_mut(&id)));
    }

    pub(crate) fn unit_progress(&self, id: &str) -> Option<&UnitProgress> {
        self.progress.unit(id)
    }

    pub(crate) fn is_done(&self, id: &str) -> bool {
        self.progress.is_done(id)
    }

    pub(crate) fn mark_done(&mut self, id: &str) {
        if !self.is_done(id) {
            self.save_unit(id, |u| u.done = true);
        }
    }

    pub(crate) fn info(&mut self, m: impl Into<String>) {
        self.message = Some((m.into(), MessageKind::Info));
    }

    pub(crate) fn error(&mut self, m: impl Into<String>) {
        self.message = Some((m.into(), MessageKind::Error));
    }

    /// Units done / all units.
    pub(crate) fn done_count(&self) -> (usize, usize) {
        let done = self
            .course
            .units
            .iter()
            .filter(|u| self.progress.is_done(&u.id))
            .count();
        (done, self.course.units.len())
    }

    /// `<home>/workspaces/<lab>`, the same place `datalab lab` uses.
    pub(crate) fn workspace(&self, lab: &str) -> PathBuf {
        self.home.join("workspaces").join(lab)
    }

    /// `<home>/lab-data/<lab>`: the lab's data, copied from trusted content.
    pub(crate) fn lab_data(&self, lab: &str) -> PathBuf {
        self.home.join("lab-data").join(lab)
    }
}

pub enum Screen {
    Home,
    Lesson(LessonState),
    Quiz(QuizState),
    Comparison(ComparisonState),
    Activity(ActivityState),
    Lab(LabState),
    /// The room's live activity and poll (`L`).
    Live(super::live::LiveScreen),
}

impl Screen {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Screen::Home => "home",
            Screen::Lesson(_) => "lesson",
            Screen::Quiz(_) => "quiz",
            Screen::Comparison(_) => "comparison",
            Screen::Activity(_) => "activity",
            Screen::Lab(_) => "lab",
            Screen::Live(_) => "room live",
        }
    }

    /// The unit shown, if any.
    pub(crate) fn unit(&self) -> Option<usize> {
        match self {
            Screen::Home | Screen::Live(_) => None,
            Screen::Lesson(s) => Some(s.unit),
            Screen::Quiz(s) => Some(s.unit),
            Screen::Comparison(s) => Some(s.unit),
            Screen::Activity(s) => Some(s.unit),
            Screen::Lab(s) => Some(s.unit),
        }
    }

    /// True while the screen takes typed text (so `q` and `?` are letters).
    fn captures_text(&self) -> bool {
        match self {
            Screen::Quiz(s) => s.captures_text(),
            Screen::Activity(s) => s.notes_focus,
            Screen::Lab(s) => s.panel_focus,
            Screen::Live(s) => s.captures_text(),
            _ => false,
        }
    }
}

/// A vertical scroll position over content whose height is known only when
/// drawn: the renderer records the page height and the largest offset.
#[derive(Debug, Default)]
pub struct ScrollView {
    pub offset: usize,
    pub(crate) max: Cell<usize>,
    pub(crate) page: Cell<usize>,
    /// Set once the content has been laid out at least once.
    pub(crate) laid_out: Cell<bool>,
}

impl ScrollView {
    pub(crate) fn at(offset: usize) -> ScrollView {
        ScrollView {
            offset,
            ..Default::default()
        }
    }

    /// Record the geometry of a render and return the offset to draw from.
    pub(crate) fn layout(&self, content: usize, page: usize) -> usize {
        let max = content.saturating_sub(page);
        self.max.set(max);
        self.page.set(page);
        self.laid_out.set(true);
        self.offset.min(max)
    }

    pub(crate) fn clamp(&mut self) {
        if self.laid_out.get() {
            self.offset = self.offset.min(self.max.get());
        }
    }

    pub(crate) fn at_end(&self) -> bool {
        self.laid_out.get() && self.offset >= self.max.get()
    }

    /// Scroll keys: ↑/↓, j/k, PgUp/PgDn, space, Home/End, g/G. True when
    /// the key was a scroll key.
    pub(crate) fn handle_key(&mut self, key: &KeyEvent) -> bool {
        let page = self.page.get().max(2) - 1;
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.offset = self.offset.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.offset += 1,
            KeyCode::PageUp => self.offset = self.offset.saturating_sub(page),
            KeyCode::PageDown | KeyCode::Char(' ') => self.offset += page,
            KeyCode::Home | KeyCode::Char('g') => self.offset = 0,
            KeyCode::End | KeyCode::Char('G') => self.offset = self.max.get(),
            _ => return false,
        }
        self.clamp();
        true
    }
}

/// The whole TUI: shared context, the current screen, overlays.
pub struct App {
    pub ctx: Ctx,
    pub screen: Screen,
    /// Agenda cursor: an index into `Course::units`.
    pub(crate) cursor: usize,
    pub(crate) home_offset: Cell<usize>,
    pub help: bool,
    pub quit: bool,
    /// Set by the renderer when the terminal is below 80×24.
    pub(crate) too_small: Cell<bool>,
    /// A resume point not yet written (the start unit: nothing is written
    /// before the first frame).
    pending_resume: Option<String>,
    rx: Receiver<AppEvent>,
}

impl App {
    /// Build the app: read progress (a corrupt file is reported on screen),
    /// put the cursor on the resume point, and open `start_unit` if given.
    pub fn new(opts: TuiOptions) -> std::io::Result<App> {
        let TuiOptions {
            course,
            store,
            services,
            home,
            namespace,
            start_unit,
            runtime,
        } = opts;
        let start = match &start_unit {
            Some(id) => Some(course.unit_index(id).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("the course has no unit `{id}` (see `datalab outline`)"),
                )
            })?),
            None => None,
        };
        let (progress, warning) = store.load();
        let (tx, rx) = channel();
        let mut ctx = Ctx {
            course,
            store,
            progress,
            services,
            home,
            namespace,
            runtime,
            theme: Theme::from_env(),
            message: None,
            tx,
            bell: false,
            room: RoomLink::none(),
            live: Default::default(),
        };
        if let Some(w) = warning {
            ctx.error(w.to_string());
        }
        match RoomLink::start(&ctx.home) {
            Ok(link) => ctx.room = link,
            Err(e) => ctx.error(e),
        }
        if ctx.room.joined() {
            let (live, problem) = super::live::RoomLive::start(&ctx.home);
            ctx.live = live;
            if let Some(p) = problem {
                ctx.error(p);
            }
        }
        let cursor = ctx
            .progress
            .last_unit
            .as_deref()
            .and_then(|id| ctx.course.unit_index(id))
            .unwrap_or(0);
        let mut app = App {
            ctx,
            screen: Screen::Home,
            cursor,
            home_offset: Cell::new(0),
            help: false,
            quit: false,
            too_small: Cell::new(false),
            pending_resume: None,
            rx,
        };
        if let Some(i) = start {
            app.open_unit(i, false);
            // Written on the first tick, after the first frame.
            app.pending_resume = app.ctx.course.units.get(i).map(|u| u.id.clone());
        }
        Ok(app)
    }

    pub(crate) fn theme(&self) -> &Theme {
        &self.ctx.theme
    }

    /// The id of the unit under the agenda cursor.
    pub fn cursor_unit(&self) -> Option<&str> {
        self.ctx
            .course
            .units
            .get(self.cursor)
            .map(|u| u.id.as_str())
    }

    /// Take (and clear) a pending terminal bell.
    pub fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.ctx.bell)
    }

    /// True while background work runs (a spinner is showing).
    pub fn busy(&self) -> bool {
        matches!(&self.screen, Screen::Lab(s) if s.running.is_some())
    }

    /// Is something animating (so the loop should redraw soon)?
    pub(crate) fn animating(&self) -> bool {
        match &self.screen {
            Screen::Lab(s) => s.running.is_some(),
            Screen::Activity(s) => s.timer.running() || s.flash_until.is_some(),
            Screen::Live(_) => self.ctx.live.activity().is_some_and(|a| a.running),
            _ => false,
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) {
        if key.modifiers.contains(KeyModifiers::CONTROL)
            && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('q'))
        {
            self.leave();
            self.quit = true;
            return;
        }
        if self.help {
            if matches!(
                key.code,
                KeyCode::Char('?') | KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter
            ) {
                self.help = false;
            }
            return;
        }
        if self.too_small.get() {
            if matches!(key.code, KeyCode::Char('q') | KeyCode::Esc) {
                self.leave();
                self.quit = true;
            }
            return;
        }
        self.ctx.message = None;
        if !self.screen.captures_text() && key.code == KeyCode::Char('?') {
            self.help = true;
            return;
        }
        if !self.screen.captures_text()
            && key.code == KeyCode::Char('L')
            && self.ctx.live.joined()
            && !matches!(self.screen, Screen::Live(_))
        {
            return self.open_live();
        }
        let nav = match &mut self.screen {
            Screen::Home => self.home_key(&key),
            Screen::Lesson(s) => super::lesson::handle_key(s, &mut self.ctx, &key),
            Screen::Quiz(s) => super::quiz::handle_key(s, &mut self.ctx, &key),
            Screen::Comparison(s) => super::comparison::handle_key(s, &mut self.ctx, &key),
            Screen::Activity(s) => super::activity::handle_key(s, &mut self.ctx, &key),
            Screen::Lab(s) => super::lab::handle_key(s, &mut self.ctx, &key),
            Screen::Live(s) => super::live::handle_key(s, &mut self.ctx, &key),
        };
        match nav {
            Nav::Stay => {}
            Nav::Back => self.back(),
            Nav::Open(i) => self.open(i),
            Nav::Quit => {
                self.leave();
                self.quit = true;
            }
        }
    }

    fn home_key(&mut self, key: &KeyEvent) -> Nav {
        let n = self.ctx.course.units.len();
        if n == 0 {
            return match key.code {
                KeyCode::Char('q') | KeyCode::Esc => Nav::Quit,
                _ => Nav::Stay,
            };
        }
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.cursor = (self.cursor + 1).min(n - 1),
            KeyCode::PageUp => self.cursor = self.cursor.saturating_sub(10),
            KeyCode::PageDown => self.cursor = (self.cursor + 10).min(n - 1),
            KeyCode::Home | KeyCode::Char('g') => self.cursor = 0,
            KeyCode::End | KeyCode::Char('G') => self.cursor = n - 1,
            KeyCode::Char('r') => {
                // Jump to the resume point.
                if let Some(i) = self
                    .ctx
                    .progress
                    .last_unit
                    .as_deref()
                    .and_then(|id| self.ctx.course.unit_index(id))
                {
                    self.cursor = i;
                }
            }
            KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => return Nav::Open(self.cursor),
            KeyCode::Char('q') | KeyCode::Esc => return Nav::Quit,
            _ => {}
        }
        Nav::Stay
    }

    /// Save what the current screen holds only in memory (a lesson's
    /// position, unsaved notes).
    fn leave(&mut self) {
        self.save_resume();
        match &mut self.screen {
            Screen::Lesson(s) => super::lesson::leave(s, &mut self.ctx),
            Screen::Activity(s) => super::activity::flush_notes(s, &mut self.ctx),
            _ => {}
        }
    }

    fn save_resume(&mut self) {
        if let Some(id) = self.pending_resume.take() {
            self.ctx.save(|p| p.last_unit = Some(id));
        }
    }

    fn back(&mut self) {
        self.leave();
        if let Some(i) = self.screen.unit() {
            self.cursor = i;
        }
        self.screen = Screen::Home;
    }

    /// Follow a fixed live view instead of a room (tests, demos).
    pub fn show_live(&mut self, view: datalab_room::live::LiveView, at: Instant) {
        self.ctx.live = super::live::RoomLive::showing(view, at);
    }

    /// Show the room's live activity and poll.
    pub fn open_live(&mut self) {
        self.leave();
        if let Some(i) = self.screen.unit() {
            self.cursor = i;
        }
        self.screen = Screen::Live(Default::default());
    }

    /// Open a unit: record it as the resume point and show its screen.
    pub fn open(&mut self, index: usize) {
        self.open_unit(index, true);
    }

    fn open_unit(&mut self, index: usize, save: bool) {
        let Some(unit) = self.ctx.course.units.get(index).cloned() else {
            return;
        };
        self.leave();
        self.cursor = index;
        self.pending_resume = None;
        self.ctx.room.unit_opened(&unit.id);
        if save && self.ctx.progress.last_unit.as_deref() != Some(unit.id.as_str()) {
            let id = unit.id.clone();
            self.ctx.save(|p| p.last_unit = Some(id));
        }
        self.screen = match unit.kind {
            UnitKind::Lesson => Screen::Lesson(LessonState::new(index, &unit.id, &self.ctx)),
            UnitKind::Quiz => match QuizState::new(index, &unit.id, &self.ctx) {
                Some(s) => Screen::Quiz(s),
                None => Screen::Home,
            },
            UnitKind::Comparison => Screen::Comparison(ComparisonState::new(index, &unit.id)),
            UnitKind::Activity => {
                match ActivityState::new(index, &unit.id, &self.ctx, Instant::now()) {
                    Some(s) => Screen::Activity(s),
                    None => Screen::Home,
                }
            }
            UnitKind::Lab => match LabState::open(index, &unit.id, &mut self.ctx) {
                Some(s) => Screen::Lab(s),
                None => Screen::Home,
            },
        };
    }

    /// Apply the results of background work; true when there were any.
    pub fn pump_events(&mut self) -> bool {
        let mut any = false;
        while let Ok(ev) = self.rx.try_recv() {
            if let AppEvent::PollAnswered(r) = ev {
                let screen = match &mut self.screen {
                    Screen::Live(s) => Some(s),
                    _ => None,
                };
                super::live::answered(screen, &mut self.ctx, r);
            } else {
                super::lab::apply_event(&mut self.screen, &mut self.ctx, ev);
            }
            any = true;
        }
        any
    }

    /// Advance clocks: activity timers, note saving, spinners, end-of-text
    /// detection.
    pub fn tick(&mut self, now: Instant) {
        self.save_resume();
        let on_live = matches!(self.screen, Screen::Live(_));
        super::live::tick(&mut self.ctx, on_live, now);
        match &mut self.screen {
            Screen::Activity(s) => super::activity::tick(s, &mut self.ctx, now),
            Screen::Lab(s) => super::lab::tick(s, &mut self.ctx, now),
            Screen::Lesson(s) => super::lesson::tick(s, &mut self.ctx),
            Screen::Comparison(s) => super::comparison::tick(s, &mut self.ctx),
            _ => {}
        }
    }

    /// Flush everything held in memory; call before leaving the TUI.
    pub fn shutdown(&mut self) {
        self.leave();
    }

    /// Draw the whole UI into a frame.
    pub fn render(&self, frame: &mut ratatui::Frame) {
        ui::render(self, frame);
    }
}
