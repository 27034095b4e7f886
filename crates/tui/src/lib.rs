//! The course UI (ratatui). State ([`app`]) is kept apart from drawing (one
//! module per screen, each rendering from state alone) and from the event
//! loop ([`run`]), so tests draw an [`App`] into a `TestBackend` and drive it
//! with keys, without a terminal.
//!
//! Entry point: [`run`]. Without a terminal, callers print [`NO_TTY_HELP`]
//! instead (see [`is_interactive`]).

pub(crate) mod activity;
pub(crate) mod app;
pub(crate) mod comparison;
pub(crate) mod help;
pub(crate) mod home;
pub(crate) mod lab;
pub(crate) mod lab_checks;
pub(crate) mod lesson;
mod live;
pub(crate) mod markdown;
pub mod panel;
pub mod panels;
pub(crate) mod quiz;
pub mod room;
pub mod theme;
pub(crate) mod ui;

pub use app::{App, Screen};
pub use room::{RoomScreen, run_room};

use datalab_content::Course;
use datalab_engine::progress::ProgressStore;
use datalab_services::{Namespace, Services};
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything the TUI needs, built by the CLI.
pub struct TuiOptions {
    pub course: Course,
    pub store: ProgressStore,
    pub services: Arc<Services>,
    /// The data dir: workspaces live under `<home>/workspaces/<lab>`.
    pub home: PathBuf,
    pub namespace: Namespace,
    /// Open this unit (e.g. a lab id for `datalab lab ID`) instead of the agenda.
    pub start_unit: Option<String>,
    /// Checks and service probes run here; the UI thread never blocks on them.
    pub runtime: tokio::runtime::Handle,
}

/// What `datalab` prints when stdin or stdout is not a terminal.
pub const NO_TTY_HELP: &str =
    "datalab runs its course in a terminal UI, and this is not a terminal.
Without one, use the plain commands:
  datalab outline              the agenda
  datalab quiz ID --plain      take a quiz, one answer a line on stdin
  datalab lab ID               prepare a lab's workspace and list its steps
  datalab check LAB [STEP]     run a lab's checks against your workspace
  datalab grade --lab ID       grade a workspace (text, json or junit)
  datalab progress             what is done
  datalab services status      the Kafka, MongoDB and Cassandra servers";

/// True when both stdin and stdout are terminals (the TUI can run).
pub fn is_interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// How often the loop wakes up without input (timers, spinners, results).
const TICK: Duration = Duration::from_millis(100);

/// Run the TUI until the learner quits. The terminal is restored on return,
/// on error and on panic. Must not be called from inside the tokio runtime
/// (call it from the main thread; pass `runtime.handle().clone()`).
pub fn run(opts: TuiOptions) -> std::io::Result<()> {
    // Build the state first: a bad start unit is reported before the
    // terminal changes.
    let mut app = App::new(opts)?;
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            ratatui::restore();
            return Err(e);
        }
    };
    let result = event_loop(&mut terminal, &mut app);
    app.shutdown();
    ratatui::restore();
    result
}

fn event_loop(terminal: &mut ratatui::DefaultTerminal, app: &mut App) -> std::io::Result<()> {
    let mut dirty = true;
    let mut last_draw = Instant::now();
    loop {
        // Draw after input, background results and while something moves
        // (timer, spinner); otherwise once a second for clocks elsewhere.
        if dirty || app.animating() || last_draw.elapsed() >= Duration::from_secs(1) {
            terminal.draw(|f| app.render(f))?;
            last_draw = Instant::now();
            dirty = false;
        }
        if app.take_bell() {
            let out = terminal.backend_mut();
            out.write_all(b"\x07")?;
            out.flush()?;
        }
        if app.quit {
            return Ok(());
        }
        if event::poll(TICK)? {
            // Handle everything queued before drawing again (fast typing,
            // pasted text).
            loop {
                match event::read()? {
                    Event::Key(k) if k.kind != KeyEventKind::Release => app.handle_key(k),
                    Event::Paste(text) => {
                        for c in text.chars() {
                            app.handle_key(event::KeyEvent::from(event::KeyCode::Char(c)));
                        }
                    }
                    _ => {}
                }
                dirty = true;
                if app.quit || !event::poll(Duration::ZERO)? {
                    break;
                }
            }
        }
        dirty |= app.pump_events();
        app.tick(Instant::now());
    }
}
