//! Key help: the footer hints and the `?` overlay, per screen.

use super::app::{App, Screen};
use super::theme::Theme;
use super::ui::centered;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

pub(crate) type Keys = Vec<(&'static str, &'static str)>;

/// Every key of the current screen, for the `?` overlay.
pub(crate) fn keys(app: &App) -> Keys {
    let mut k: Keys = match &app.screen {
        Screen::Live(s) => s.hints(&app.ctx),
        Screen::Home => vec![
            ("↑ ↓  j k", "move"),
            ("PgUp PgDn", "move by ten"),
            ("Home End", "first / last unit"),
            ("Enter", "open the unit"),
            ("r", "jump to where you left off"),
        ],
        Screen::Lesson(s) => {
            let mut k = vec![
                ("↑ ↓  j k", "scroll a line"),
                ("PgUp PgDn space", "scroll a page"),
                ("Home End", "top / bottom"),
            ];
            if s.wide_code() {
                k.push(("← →  h l", "scroll wide code blocks sideways"));
            }
            k.extend([("d", "mark as done"), ("n  p", "next / previous unit")]);
            k
        }
        Screen::Quiz(_) => vec![
            ("t  f", "true / false"),
            ("1-9", "pick an option (toggles when several are right)"),
            ("0-9 . e k M B", "type a number"),
            ("Backspace", "erase"),
            ("Enter", "submit, then continue"),
            ("r", "retry (on the score)"),
            ("n", "next unit (on the score)"),
        ],
        Screen::Comparison(_) => vec![
            ("↑ ↓  j k", "scroll a line"),
            ("PgUp PgDn space", "scroll a page"),
            ("d", "mark as done"),
            ("n  p", "next / previous unit"),
        ],
        Screen::Activity(_) => vec![
            ("space", "start / pause the timer"),
            ("n", "next phase"),
            ("r", "reset this phase"),
            ("Tab", "write notes (Tab or Esc to stop)"),
            ("d", "mark as done"),
        ],
        Screen::Lab(s) => {
            let mut k = vec![
                ("c", "check this step"),
                ("h", "reveal the next hint"),
                ("n  p  → ←", "next / previous step"),
                ("↑ ↓  PgUp PgDn", "scroll the instructions"),
                ("f", "the check results in full (f or Esc closes)"),
            ];
            if s.panel.is_some() {
                k.push(("Tab", "focus the service panel"));
                k.push(("v", "hide / show the panel (more room to read)"));
            }
            k
        }
    };
    k.push(("?", "this help"));
    k.push((
        "q  Esc",
        if matches!(app.screen, Screen::Home) {
            "quit"
        } else {
            "back"
        },
    ));
    k.push(("Ctrl-C", "quit from anywhere"));
    k
}

/// The few keys shown in the footer.
pub(crate) fn hints(app: &App) -> Keys {
    let back = if matches!(app.screen, Screen::Home) {
        ("q", "quit")
    } else {
        ("q", "back")
    };
    let mut k: Keys = match &app.screen {
        Screen::Live(s) => return s.hints(&app.ctx),
        Screen::Home if app.ctx.live.joined() => {
            vec![
                ("↑↓", "move"),
                ("Enter", "open"),
                ("r", "resume"),
                ("L", "room live"),
            ]
        }
        Screen::Home => vec![("↑↓", "move"), ("Enter", "open"), ("r", "resume")],
        Screen::Lesson(s) if s.wide_code() => vec![
            ("↑↓ PgUp PgDn", "scroll"),
            ("←→", "code sideways"),
            ("n/p", "next/prev"),
            ("d", "done"),
        ],
        Screen::Lesson(_) | Screen::Comparison(_) => {
            vec![
                ("↑↓ PgUp PgDn", "scroll"),
                ("n/p", "next/prev"),
                ("d", "done"),
            ]
        }
        Screen::Quiz(s) => s.hints(&app.ctx),
        Screen::Activity(s) => {
            if s.notes_focus {
                return vec![("type", "your notes"), ("Tab/Esc", "stop writing")];
            }
            vec![
                ("space", "start/pause"),
                ("n", "next phase"),
                ("r", "reset"),
                ("Tab", "notes"),
            ]
        }
        Screen::Lab(s) => {
            if s.panel_focus {
                return vec![("Tab/Esc", "leave the panel")];
            }
            if s.full_results {
                return vec![("↑↓", "scroll"), ("f/Esc", "close the results")];
            }
            let mut k = vec![
                ("c", "check"),
                ("h", "hint"),
                ("n/p", "step"),
                ("↑↓", "scroll"),
                ("f", "results"),
            ];
            if s.panel.is_some() {
                k.push((
                    "v",
                    if s.panel_hidden {
                        "show panel"
                    } else {
                        "hide panel"
                    },
                ));
            }
            k
        }
    };
    k.push(back);
    k.push(("?", "keys"));
    k
}

/// The `?` overlay: a box with the keys of the current screen.
pub(crate) fn render(app: &App, frame: &mut Frame, area: Rect) {
    render_keys(app.theme(), app.screen.name(), &keys(app), frame, area);
}

/// A box listing `keys` over `area`, titled `Keys: <screen>`.
pub(crate) fn render_keys(t: &Theme, screen: &str, keys: &Keys, frame: &mut Frame, area: Rect) {
    let kw = keys
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let lines: Vec<Line> = keys
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<kw$}  "), t.accent()),
                Span::raw(*what),
            ])
        })
        .collect();
    let width = 64;
    let height = lines.len() as u16 + 4;
    let r = centered(area, width, height);
    frame.render_widget(Clear, r);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.border())
        .title(Line::styled(format!(" Keys: {screen} "), t.title()))
        .title_bottom(Line::styled(" ? or Esc to close ", t.dim()).right_aligned());
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let inner = Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    };
    frame.render_widget(Paragraph::new(lines), inner);
}
