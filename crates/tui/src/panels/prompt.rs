//! A one-line prompt over a command's output: what every console panel
//! (Kafka, MongoDB, CQL) shares. It edits the line (Left/Right/Home/End,
//! Ctrl-A/E/U), keeps a history (Up/Down), scrolls the result (PgUp/PgDn),
//! clears it (Ctrl-L) and draws from its own state alone; the panels decide
//! what a submitted line does and hand back an [`Output`] (a table, or
//! lines of text) or an error line.

use crate::theme::Theme;
use datalab_clients::console::line::panel_text;
use datalab_clients::console::{Failure, Output, Table, truncate};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use std::time::Duration;

/// What the panel shows under the prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Shown {
    /// Nothing run yet: a hint of what to type.
    Hint(String),
    /// A line is running in the background.
    Running(String),
    /// A result, and how long it took.
    Output(Output, Duration),
    /// What went wrong, in one message.
    Error(String),
}

/// What a key did to the prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Enter on a non-empty line: run this.
    Submit(String),
    /// The prompt used the key.
    Handled,
    /// Not a prompt key.
    Ignored,
}

impl Edit {
    /// Whether the panel used the key, running `submit` on a submitted line.
    pub(crate) fn used(self, submit: impl FnOnce(String)) -> bool {
        match self {
            Edit::Submit(line) => {
                submit(line);
                true
            }
            Edit::Handled => true,
            Edit::Ignored => false,
        }
    }
}

/// Rows a PgUp/PgDn moves.
const PAGE: usize = 5;
/// The widest a column gets before the others are considered.
const MAX_COL: usize = 40;
/// History entries kept.
const HISTORY: usize = 100;

#[derive(Clone, Debug)]
pub struct Prompt {
    pub input: String,
    /// Cursor position in characters.
    pub cursor: usize,
    pub history: Vec<String>,
    /// Where Up/Down is in the history (None = the line being typed).
    browsing: Option<usize>,
    /// The line being typed when browsing started.
    draft: String,
    pub(crate) shown: Shown,
    /// First table row (or text line) shown.
    pub(crate) scroll: usize,
    hint: String,
}

/// A panel built on a [`Prompt`]: what tests and the lab screen ask of it.
pub trait PromptPanel {
    fn prompt(&self) -> &Prompt;

    /// The last result.
    fn output(&self) -> Option<&Output> {
        match &self.prompt().shown {
            Shown::Output(o, _) => Some(o),
            _ => None,
        }
    }

    /// The last result's table (its last one), when it has one.
    fn table(&self) -> Option<&Table> {
        self.output()?.tables.last()
    }

    /// The last result's text: its lines, then its notes.
    fn lines(&self) -> Vec<String> {
        self.output()
            .map(|o| o.lines.iter().chain(&o.notes).cloned().collect())
            .unwrap_or_default()
    }

    /// The last error line, if the last line failed.
    fn error(&self) -> Option<&str> {
        match &self.prompt().shown {
            Shown::Error(e) => Some(e),
            _ => None,
        }
    }

    /// Whether a line is still running.
    fn busy(&self) -> bool {
        self.prompt().running()
    }
}

impl Prompt {
    pub(crate) fn new(hint: &str) -> Prompt {
        Prompt {
            input: String::new(),
            cursor: 0,
            history: Vec::new(),
            browsing: None,
            draft: String::new(),
            shown: Shown::Hint(hint.into()),
            scroll: 0,
            hint: hint.into(),
        }
    }

    pub(crate) fn running(&self) -> bool {
        matches!(self.shown, Shown::Running(_))
    }

    /// Show a finished result (or error) and go back to the top of it.
    pub fn show(&mut self, result: Result<Output, String>, took: Duration) {
        self.scroll = 0;
        self.shown = match result {
            Ok(o) => Shown::Output(o, took),
            Err(e) => Shown::Error(e),
        };
    }

    /// Rows (of the table shown) or lines (of text shown) to scroll.
    fn shown_len(&self) -> usize {
        match &self.shown {
            Shown::Output(o, _) => match o.tables.last() {
                Some(t) => t.rows.len(),
                None => o.lines.len() + o.notes.len(),
            },
            _ => 0,
        }
    }

    /// Put a submitted line back to be fixed (it did not run).
    pub(crate) fn restore(&mut self, line: &str) {
        self.set_input(line.to_string());
    }

    /// A parsed line to run; else nothing runs: `--help`'s text is shown,
    /// or the fault as `1:col: message` with the line kept to be fixed
    /// (`json`: how the line was split into words).
    pub(crate) fn accept<A>(
        &mut self,
        text: &str,
        json: bool,
        parsed: Result<A, Failure>,
    ) -> Option<A> {
        match parsed {
            Ok(a) => Some(a),
            Err(Failure::Help(lines)) => {
                let out = Output {
                    lines,
                    ..Output::default()
                };
                self.show(Ok(out), Duration::ZERO);
                None
            }
            Err(f) => {
                self.restore(text);
                self.show(Err(panel_text(&f, text, json)), Duration::ZERO);
                None
            }
        }
    }

    /// Put a line that failed while running back, unless a new one is
    /// being typed.
    pub(crate) fn restore_if_empty(&mut self, line: &str) {
        if self.input.is_empty() {
            self.restore(line);
        }
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.input
            .char_indices()
            .nth(chars)
            .map(|(b, _)| b)
            .unwrap_or(self.input.len())
    }

    fn set_input(&mut self, s: String) {
        self.cursor = s.chars().count();
        self.input = s;
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> Edit {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('u') if ctrl => {
                self.set_input(String::new());
                self.browsing = None;
            }
            KeyCode::Char('l') if ctrl && !self.running() => {
                self.shown = Shown::Hint(self.hint.clone());
                self.scroll = 0;
            }
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.input.chars().count(),
            KeyCode::Char(_) if ctrl => return Edit::Ignored,
            KeyCode::Char(c) => {
                let b = self.byte_at(self.cursor);
                self.input.insert(b, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let b = self.byte_at(self.cursor);
                self.input.remove(b);
            }
            KeyCode::Delete if self.cursor < self.input.chars().count() => {
                let b = self.byte_at(self.cursor);
                self.input.remove(b);
            }
            KeyCode::Backspace | KeyCode::Delete => {}
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.input.chars().count()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.input.chars().count(),
            KeyCode::Up if !self.history.is_empty() => {
                let i = match self.browsing {
                    None => {
                        self.draft = self.input.clone();
                        self.history.len() - 1
                    }
                    Some(i) => i.saturating_sub(1),
                };
                self.browsing = Some(i);
                self.set_input(self.history[i].clone());
            }
            KeyCode::Down => match self.browsing {
                Some(i) if i + 1 < self.history.len() => {
                    self.browsing = Some(i + 1);
                    self.set_input(self.history[i + 1].clone());
                }
                Some(_) => {
                    self.browsing = None;
                    let d = std::mem::take(&mut self.draft);
                    self.set_input(d);
                }
                None => {}
            },
            KeyCode::Up => {}
            KeyCode::PageDown => {
                self.scroll = (self.scroll + PAGE).min(self.shown_len().saturating_sub(1));
            }
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(PAGE),
            KeyCode::Enter => {
                let line = self.input.trim().to_string();
                if line.is_empty() || self.running() {
                    return Edit::Handled;
                }
                if self.history.last() != Some(&line) {
                    self.history.push(line.clone());
                    if self.history.len() > HISTORY {
                        self.history.remove(0);
                    }
                }
                self.browsing = None;
                self.draft.clear();
                self.set_input(String::new());
                return Edit::Submit(line);
            }
            _ => return Edit::Ignored,
        }
        Edit::Handled
    }

    /// Draw the prompt and its result inside a bordered block.
    pub(crate) fn render(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        focused: bool,
        title: &str,
    ) {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(if focused {
                theme.accent()
            } else {
                theme.border()
            })
            .title(Span::styled(format!(" {title} "), theme.title()));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        self.render_body(frame, inner, theme, focused);
    }

    /// Draw the prompt line and its result into `inner` (no border): a
    /// panel with more to show beside it (Kafka's live view) draws its own.
    pub(crate) fn render_body(&self, frame: &mut Frame, inner: Rect, theme: &Theme, focused: bool) {
        if inner.height == 0 || inner.width == 0 {
            return;
        }
        let width = inner.width as usize;
        let mut lines: Vec<Line> = Vec::new();
        // The prompt line, with a block cursor when focused.
        let mut prompt = vec![Span::styled("> ", theme.accent())];
        if self.input.is_empty() && !focused {
            prompt.push(Span::styled("Tab: type here", theme.dim()));
        } else {
            let chars: Vec<char> = self.input.chars().collect();
            // Keep the cursor in view on a long line.
            let room = width.saturating_sub(3).max(1);
            let start = (self.cursor + 1).saturating_sub(room);
            let before: String = chars[start..self.cursor.min(chars.len())].iter().collect();
            prompt.push(Span::raw(before));
            if focused {
                let at = chars.get(self.cursor).map(|c| c.to_string());
                prompt.push(Span::styled(
                    at.unwrap_or_else(|| " ".into()),
                    theme.selected(),
                ));
                let after: String = chars.iter().skip(self.cursor + 1).collect();
                prompt.push(Span::raw(after));
            } else {
                let after: String = chars.iter().skip(self.cursor).collect();
                prompt.push(Span::raw(after));
            }
        }
        lines.push(Line::from(prompt));
        match &self.shown {
            Shown::Hint(h) => {
                lines.push(Line::styled(h.clone(), theme.dim()));
            }
            Shown::Running(what) => {
                lines.push(Line::styled(format!("running {what} …"), theme.warn()));
            }
            Shown::Error(e) => {
                // The only part that wraps: a long server message is read whole.
                lines.push(Line::styled(e.clone(), theme.bad()));
                frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
                return;
            }
            Shown::Output(o, _) if o.tables.is_empty() => {
                let room = (inner.height as usize).saturating_sub(1);
                text_lines(&mut lines, o, self.scroll, room, theme);
            }
            Shown::Output(o, took) => {
                let t = o.tables.last().expect("a table");
                let visible = (inner.height as usize).saturating_sub(3);
                let mut status = format!("{} · {} ms", t.summary, took.as_millis());
                if t.rows.len() > visible && visible > 0 {
                    let last = (self.scroll + visible).min(t.rows.len());
                    status += &format!(
                        " · rows {}–{last} of {} (PgUp/PgDn)",
                        self.scroll + 1,
                        t.rows.len()
                    );
                }
                lines.push(Line::styled(status, theme.ok()));
                if !t.columns.is_empty() {
                    let w = widths(t, width);
                    lines.push(Line::styled(row_text(&t.columns, &w), theme.strong()));
                    for r in t.rows.iter().skip(self.scroll).take(visible) {
                        lines.push(Line::raw(row_text(r, &w)));
                    }
                }
            }
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

/// An output's text (lines, then notes) from line `scroll`, in `room`
/// lines; the last says how many more there are.
fn text_lines(lines: &mut Vec<Line>, o: &Output, scroll: usize, room: usize, theme: &Theme) {
    let all: Vec<&String> = o.lines.iter().chain(&o.notes).collect();
    if all.is_empty() {
        lines.push(Line::styled("(no output)", theme.dim()));
        return;
    }
    let start = scroll.min(all.len() - 1);
    let shown = all.len().saturating_sub(start).min(room);
    for l in &all[start..start + shown] {
        lines.push(Line::raw(l.to_string()));
    }
    let more = all.len() - start - shown;
    if more > 0
        && let Some(last) = lines.last_mut()
    {
        *last = Line::styled(format!("… {more} more line(s): PgDn"), theme.dim());
    }
}

/// Column widths that fit `width`: each column as wide as its widest cell
/// (at most 40), then the widest shrunk one at a time until the row fits or
/// every column is down to 4.
pub(crate) fn widths(t: &Table, width: usize) -> Vec<usize> {
    let mut w: Vec<usize> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            t.rows
                .iter()
                .filter_map(|r| r.get(i))
                .map(|v| v.chars().count())
                .chain([c.chars().count()])
                .max()
                .unwrap_or(1)
                .clamp(1, MAX_COL)
        })
        .collect();
    let seps = 3 * w.len().saturating_sub(1);
    while w.iter().sum::<usize>() + seps > width {
        let (i, &m) = w
            .iter()
            .enumerate()
            .max_by_key(|(_, v)| **v)
            .expect("a column");
        if m <= 4 {
            break;
        }
        w[i] -= 1;
    }
    w
}

fn row_text(cells: &[String], w: &[usize]) -> String {
    cells
        .iter()
        .zip(w)
        .map(|(c, &n)| format!("{:<n$}", truncate(c, n)))
        .collect::<Vec<_>>()
        .join(" │ ")
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::from(c)
    }

    #[test]
    fn history_and_editing() {
        let mut p = Prompt::new("hint");
        for c in "find t".chars() {
            p.handle_key(&key(KeyCode::Char(c)));
        }
        assert_eq!(
            p.handle_key(&key(KeyCode::Enter)),
            Edit::Submit("find t".into())
        );
        for c in "indexes u".chars() {
            p.handle_key(&key(KeyCode::Char(c)));
        }
        p.handle_key(&key(KeyCode::Enter));
        p.handle_key(&key(KeyCode::Char('x')));
        p.handle_key(&key(KeyCode::Up));
        assert_eq!(p.input, "indexes u");
        p.handle_key(&key(KeyCode::Up));
        assert_eq!(p.input, "find t");
        p.handle_key(&key(KeyCode::Down));
        p.handle_key(&key(KeyCode::Down));
        assert_eq!(p.input, "x");
        p.handle_key(&key(KeyCode::Left));
        p.handle_key(&key(KeyCode::Char('é')));
        p.handle_key(&key(KeyCode::Backspace));
        p.handle_key(&key(KeyCode::Backspace));
        assert_eq!(p.input, "x");
        assert_eq!(p.handle_key(&key(KeyCode::F(2))), Edit::Ignored);
    }

    #[test]
    fn columns_shrink_to_fit() {
        let t = Table {
            columns: vec!["a".into(), "b".into()],
            rows: vec![vec!["x".repeat(30), "y".repeat(30)]],
            summary: String::new(),
        };
        let w = widths(&t, 40);
        assert!(w.iter().sum::<usize>() + 3 <= 40, "{w:?}");
        assert_eq!(row_text(&t.rows[0], &w).chars().count(), 40);
    }
}
