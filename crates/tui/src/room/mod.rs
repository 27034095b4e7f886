//! The instructor's room (`datalab room`): every learner in a table (stuck
//! ones first and marked), a learner's detail on Enter, how many finished
//! each unit of the agenda, and the room live (timer, poll, projector
//! note). State lives in [`RoomScreen`]; keys become a [`RoomIntent`]
//! first, then change the state; each part draws from the state alone
//! (`learners`, `detail`, `units`, `live`), so tests draw a screen into a
//! `TestBackend` with a fixed clock. The live tab's commands are queued on
//! the screen and sent by the run loop (`link`).
//!
//! Learner text (names, check messages, hints) arrives escaped from the
//! room's view model ([`datalab_room::sanitize_name`]) and is shown as is.

mod detail;
mod keys;
mod learners;
mod link;
mod live;
mod units;

pub use keys::RoomIntent;

use super::app::ScrollView;
use super::theme::Theme;
use datalab_content::Course;
use datalab_room::live::{Command, LiveView};
use datalab_room::{RoomModel, RoomView, Store, ViewOptions};
use ratatui::crossterm::event::{self, Event, KeyEvent, KeyEventKind};
use std::cell::Cell;
use std::path::Path;
use std::time::{Duration, Instant};

/// The parts of the room screen; `Tab` cycles through them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Learners,
    Units,
    Live,
}

impl Tab {
    const ALL: [Tab; 3] = [Tab::Learners, Tab::Units, Tab::Live];

    fn title(self) -> &'static str {
        match self {
            Tab::Learners => "Learners",
            Tab::Units => "Units",
            Tab::Live => "Live",
        }
    }
}

/// A unit of the agenda, in course order, as the units tab lists it.
#[derive(Clone, Debug)]
pub(crate) struct AgendaUnit {
    pub id: String,
    pub kind: datalab_content::UnitKind,
    pub title: String,
}

/// The instructor's room screen.
pub struct RoomScreen {
    model: RoomModel,
    pub(crate) agenda: Vec<AgendaUnit>,
    pub(crate) opts: ViewOptions,
    pub(crate) view: RoomView,
    pub(crate) tab: Tab,
    /// Cursor row in `view.rows`; follows `selected` when rows re-sort.
    pub(crate) cursor: usize,
    selected: Option<u64>,
    /// First row drawn (set by the renderer to keep the cursor visible).
    pub(crate) offset: Cell<usize>,
    /// Rows the table showed at the last draw (for PgUp/PgDn).
    pub(crate) page: Cell<usize>,
    /// The learner whose detail is open.
    pub(crate) detail: Option<u64>,
    pub(crate) detail_scroll: ScrollView,
    pub(crate) units_scroll: ScrollView,
    /// Typing a name filter.
    pub(crate) filtering: bool,
    pub(crate) help: bool,
    pub(crate) quit: bool,
    /// A problem reading the room (shown in the footer until it clears).
    pub(crate) problem: Option<String>,
    /// The live tab.
    pub(crate) live: live::LivePane,
    pub(crate) theme: Theme,
}

impl RoomScreen {
    /// A screen over `model`, units ordered by `course`'s agenda, the view
    /// computed at `now_ms` (unix milliseconds).
    pub fn new(model: RoomModel, course: &Course, opts: ViewOptions, now_ms: i64) -> RoomScreen {
        let agenda = course
            .units
            .iter()
            .map(|u| AgendaUnit {
                id: u.id.clone(),
                kind: u.kind,
                title: u.title.clone(),
            })
            .collect();
        let view = model.view(now_ms, &opts);
        let mut screen = RoomScreen {
            model,
            agenda,
            opts,
            view,
            tab: Tab::Learners,
            cursor: 0,
            selected: None,
            offset: Cell::new(0),
            page: Cell::new(10),
            detail: None,
            detail_scroll: ScrollView::default(),
            units_scroll: ScrollView::default(),
            filtering: false,
            help: false,
            quit: false,
            problem: None,
            live: live::LivePane::new(course),
            theme: Theme::from_env(),
        };
        screen.follow_selection();
        screen
    }

    /// Colours off (tests, `NO_COLOR`).
    pub fn monochrome(mut self) -> RoomScreen {
        self.theme = Theme::monochrome();
        self
    }

    /// Take in what the room stored since the last refresh, then recompute
    /// the view at `now_ms`. A read error is shown, not fatal.
    pub fn refresh(&mut self, store: &Store, now_ms: i64) {
        match self.model.refresh(store) {
            Ok(_) => self.problem = None,
            Err(e) => self.problem = Some(format!("cannot read the room: {e}")),
        }
        self.set_now(now_ms);
    }

    /// Recompute the view at `now_ms` (times on step, stuck flags).
    pub fn set_now(&mut self, now_ms: i64) {
        self.view = self.model.view(now_ms, &self.opts);
        self.follow_selection();
    }

    pub fn quit(&self) -> bool {
        self.quit
    }

    pub fn tab(&self) -> Tab {
        self.tab
    }

    /// The learner whose detail is open.
    pub fn detail_open(&self) -> Option<u64> {
        self.detail
    }

    /// Show the room's live state `view` (the instructor's), as it was at
    /// `at`; the live tab is drawn at `at` too.
    pub fn show_live(&mut self, view: LiveView, at: Instant) {
        self.live.show(view, at);
    }

    /// The live commands the keys queued, for the room server.
    pub fn take_live_commands(&mut self) -> Vec<Command> {
        self.live.take_pending()
    }

    /// Handle one key.
    pub fn handle_key(&mut self, key: KeyEvent) {
        let intent = keys::intent(self, &key);
        self.apply(intent);
    }

    /// Put the cursor back on the selected learner after a re-sort.
    fn follow_selection(&mut self) {
        let rows = &self.view.rows;
        if let Some(i) = self
            .selected
            .and_then(|id| rows.iter().position(|r| r.learner == id))
        {
            self.cursor = i;
        }
        self.cursor = self.cursor.min(rows.len().saturating_sub(1));
        self.selected = rows.get(self.cursor).map(|r| r.learner);
    }

    fn move_cursor(&mut self, to: usize) {
        self.cursor = to.min(self.view.rows.len().saturating_sub(1));
        self.selected = self.view.rows.get(self.cursor).map(|r| r.learner);
    }

    /// The filter changed: recompute the rows now.
    fn refilter(&mut self) {
        self.view = self.model.view(self.view.now_ms, &self.opts);
        self.follow_selection();
    }

    /// The learner detail, computed at the view's time.
    pub(crate) fn detail_of(&self, learner: u64) -> Option<datalab_room::Detail> {
        self.model.detail(learner, self.view.now_ms, &self.opts)
    }

    /// Draw the whole screen.
    pub fn render(&self, frame: &mut ratatui::Frame) {
        learners::render_screen(self, frame);
    }

    /// Draw `frames` frames into a `w`×`h` test terminal and return the
    /// mean time per frame (what `datalab room load` reports).
    pub fn time_frames(&self, w: u16, h: u16, frames: u32) -> Duration {
        let backend = ratatui::backend::TestBackend::new(w, h);
        let Ok(mut term) = ratatui::Terminal::new(backend);
        let started = Instant::now();
        for _ in 0..frames.max(1) {
            let Ok(_) = term.draw(|f| self.render(f));
        }
        started.elapsed() / frames.max(1)
    }
}

/// How often the room is read again while the screen is open.
const REFRESH: Duration = Duration::from_secs(1);
/// How often the loop wakes up without input (live answers, the clock).
const TICK: Duration = Duration::from_millis(100);

/// Run the instructor's room until `q`: read `room_dir` read-only, show
/// it, refresh every second; follow the room live when its server runs
/// (the other tabs work without it). Errors opening the room come before
/// the terminal changes.
pub fn run_room(room_dir: &Path, course: &Course, opts: ViewOptions) -> std::io::Result<()> {
    let store = Store::open_readonly(room_dir).map_err(|e| {
        std::io::Error::other(format!(
            "cannot open the room in {}: {e}",
            room_dir.display()
        ))
    })?;
    let model = RoomModel::load(&store).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut screen = RoomScreen::new(model, course, opts, datalab_room::now_ms());
    let link = link::LiveLink::open(room_dir)
        .inspect_err(|_| {
            screen.live.offline = Some(format!(
                "The room server is not running, so nothing is live.\n`datalab room serve --dir {}` starts it.",
                room_dir.display()
            ));
        })
        .ok();
    let mut terminal = ratatui::try_init().inspect_err(|_| ratatui::restore())?;
    let result = room_loop(&mut terminal, &mut screen, &store, link);
    ratatui::restore();
    result
}

fn room_loop(
    terminal: &mut ratatui::DefaultTerminal,
    screen: &mut RoomScreen,
    store: &Store,
    mut link: Option<link::LiveLink>,
) -> std::io::Result<()> {
    let mut last_refresh = Instant::now();
    loop {
        let now = Instant::now();
        match link.as_mut() {
            Some(l) => l.tick(screen, now),
            None => link::no_server(screen),
        }
        screen.live.now = now;
        terminal.draw(|f| screen.render(f))?;
        if screen.quit {
            return Ok(());
        }
        if event::poll(TICK)? {
            while {
                if let Event::Key(k) = event::read()?
                    && k.kind != KeyEventKind::Release
                {
                    screen.handle_key(k);
                }
                !screen.quit && event::poll(Duration::ZERO)?
            } {}
        }
        if last_refresh.elapsed() >= REFRESH {
            screen.refresh(store, datalab_room::now_ms());
            last_refresh = Instant::now();
        }
    }
}

/// A duration in ms as `45s`, `12m`, `2h05`.
pub(crate) fn short_duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        _ => format!("{}h{:02}", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::short_duration;

    #[test]
    fn durations_are_short() {
        assert_eq!(short_duration(-5), "0s");
        assert_eq!(short_duration(45_000), "45s");
        assert_eq!(short_duration(12 * 60_000 + 5), "12m");
        assert_eq!(short_duration(2 * 3_600_000 + 5 * 60_000), "2h05");
    }
}
