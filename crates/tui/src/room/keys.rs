//! The room screen's keys: each key becomes a [`RoomIntent`] (what the
//! instructor wants), which then changes the state; and the key hints the
//! footer and the `?` overlay show for the current mode.

use super::{RoomScreen, Tab, live};
use crate::help::Keys;
use datalab_room::live::Command;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks the room screen to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoomIntent {
    Nothing,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Open the detail of the learner under the cursor.
    Open,
    /// Close the detail, the help, or stop filtering.
    Back,
    NextTab,
    /// Start typing a name filter.
    StartFilter,
    FilterType(char),
    FilterErase,
    /// Keep the filter and stop typing.
    FilterDone,
    /// Drop the filter.
    FilterClear,
    ToggleHelp,
    Quit,
    /// Send a command to the room's live state (the live tab).
    Live(Command),
}

/// The intent of `key` in the screen's current mode.
pub(crate) fn intent(s: &RoomScreen, key: &KeyEvent) -> RoomIntent {
    use RoomIntent as I;
    if key.modifiers.contains(KeyModifiers::CONTROL)
        && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('q'))
    {
        return I::Quit;
    }
    if s.help {
        return match key.code {
            KeyCode::Char('?') | KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => {
                I::ToggleHelp
            }
            _ => I::Nothing,
        };
    }
    if s.filtering {
        return match key.code {
            KeyCode::Enter => I::FilterDone,
            KeyCode::Esc => I::FilterClear,
            KeyCode::Backspace => I::FilterErase,
            KeyCode::Char(c) if !c.is_control() => I::FilterType(c),
            _ => I::Nothing,
        };
    }
    if s.tab == Tab::Live
        && let Some(i) = live::intent(&s.live, key)
    {
        return i;
    }
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => I::Up,
        KeyCode::Down | KeyCode::Char('j') => I::Down,
        KeyCode::PageUp => I::PageUp,
        KeyCode::PageDown | KeyCode::Char(' ') => I::PageDown,
        KeyCode::Home | KeyCode::Char('g') => I::Top,
        KeyCode::End | KeyCode::Char('G') => I::Bottom,
        KeyCode::Enter if s.detail.is_none() && s.tab == Tab::Learners => I::Open,
        KeyCode::Tab if s.detail.is_none() => I::NextTab,
        KeyCode::Char('/') if s.detail.is_none() && s.tab == Tab::Learners => I::StartFilter,
        KeyCode::Char('?') => I::ToggleHelp,
        KeyCode::Esc | KeyCode::Char('q') if s.detail.is_some() => I::Back,
        KeyCode::Esc if !s.opts.filter.is_empty() => I::FilterClear,
        KeyCode::Char('q') | KeyCode::Esc => I::Quit,
        _ => I::Nothing,
    }
}

impl RoomScreen {
    /// Carry out an intent.
    pub fn apply(&mut self, intent: RoomIntent) {
        use RoomIntent as I;
        match intent {
            I::Nothing => {}
            I::Up | I::Down | I::PageUp | I::PageDown | I::Top | I::Bottom => self.scroll(&intent),
            I::Open => self.detail = self.view.rows.get(self.cursor).map(|r| r.learner),
            I::Back => self.detail = None,
            I::NextTab => {
                let i = Tab::ALL.iter().position(|t| *t == self.tab).unwrap_or(0);
                self.tab = Tab::ALL[(i + 1) % Tab::ALL.len()];
            }
            I::StartFilter => self.filtering = true,
            I::FilterType(c) => {
                if self.opts.filter.chars().count() < 40 {
                    self.opts.filter.push(c);
                    self.refilter();
                }
            }
            I::FilterErase => {
                self.opts.filter.pop();
                self.refilter();
            }
            I::FilterDone => self.filtering = false,
            I::FilterClear => {
                self.filtering = false;
                self.opts.filter.clear();
                self.refilter();
            }
            I::ToggleHelp => self.help = !self.help,
            I::Quit => self.quit = true,
            I::Live(cmd) => self.live.queue(cmd),
        }
    }

    /// Move the cursor (learners) or scroll (detail, units).
    fn scroll(&mut self, intent: &RoomIntent) {
        use RoomIntent as I;
        let key = |code| KeyEvent::from(code);
        let as_key = match intent {
            I::Up => key(KeyCode::Up),
            I::Down => key(KeyCode::Down),
            I::PageUp => key(KeyCode::PageUp),
            I::PageDown => key(KeyCode::PageDown),
            I::Top => key(KeyCode::Home),
            _ => key(KeyCode::End),
        };
        if self.detail.is_some() {
            self.detail_scroll.handle_key(&as_key);
            return;
        }
        match self.tab {
            Tab::Units => {
                self.units_scroll.handle_key(&as_key);
                return;
            }
            Tab::Live => return self.live.move_cursor(intent),
            Tab::Learners => {}
        }
        let page = self.page.get().max(2) - 1;
        let last = self.view.rows.len().saturating_sub(1);
        let to = match intent {
            I::Up => self.cursor.saturating_sub(1),
            I::Down => self.cursor + 1,
            I::PageUp => self.cursor.saturating_sub(page),
            I::PageDown => self.cursor + page,
            I::Top => 0,
            _ => last,
        };
        self.move_cursor(to);
    }
}

/// Every key of the current mode, for the `?` overlay.
pub(crate) fn keys(s: &RoomScreen) -> Keys {
    let mut k: Keys = if s.detail.is_some() {
        vec![("↑ ↓  PgUp PgDn", "scroll"), ("q  Esc", "back to the room")]
    } else if s.tab == Tab::Units {
        vec![
            ("↑ ↓  PgUp PgDn", "scroll"),
            ("Tab", "live: the room's timer, poll and projector note"),
        ]
    } else if s.tab == Tab::Live {
        live::keys()
    } else {
        vec![
            ("↑ ↓  j k", "move"),
            ("PgUp PgDn", "move a page"),
            ("Home End", "first / last learner"),
            ("Enter", "the learner's checks, hints and quizzes"),
            ("/", "filter by name (Enter keeps it, Esc drops it)"),
            ("Tab", "units: how many finished each"),
        ]
    };
    k.push(("?", "this help"));
    if s.detail.is_none() {
        k.push(("q", "quit"));
    }
    k.push(("Ctrl-C", "quit from anywhere"));
    k
}

/// The few keys shown in the footer.
pub(crate) fn hints(s: &RoomScreen) -> Keys {
    if s.filtering {
        return vec![("type", "a name"), ("Enter", "keep"), ("Esc", "clear")];
    }
    let mut k: Keys = if s.detail.is_some() {
        vec![("↑↓", "scroll"), ("q", "back")]
    } else if s.tab == Tab::Units {
        vec![("↑↓", "scroll"), ("Tab", "live"), ("q", "quit")]
    } else if s.tab == Tab::Live {
        live::hints(&s.live)
    } else {
        vec![
            ("↑↓", "move"),
            ("Enter", "detail"),
            ("/", "filter"),
            ("Tab", "units"),
            ("q", "quit"),
        ]
    };
    k.push(("?", "keys"));
    k
}
