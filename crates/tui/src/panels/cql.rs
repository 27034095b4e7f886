//! The CQL panel: a prompt running a statement in the learner's keyspaces
//! (`iot` is `<ns>_iot`, `USE`, `CONSISTENCY` and `COPY` as `datalab cql` has
//! them) through [`datalab_clients::console::cql`] (the CLI's own code), in
//! the background with a timeout, the rows as a table. On a step that runs
//! several nodes (the node-failure step) it also shows, beside the prompt,
//! which nodes are up and what each consistency level did while the check
//! stops and restarts nodes, from the events the check appends to a file the
//! panel names in its environment.

use super::events_file::EventsFile;
use super::prompt::{Prompt, PromptPanel, Shown};
use crate::panel::{LabPanel, PanelCtx};
use crate::theme::Theme;
use datalab_clients::console::cql::{Source, execute, parse};
use datalab_clients::console::line::panel_text;
use datalab_clients::console::{Failure, Output};
use datalab_clients::cql::{self, Runner};
use datalab_engine::check::cql_outage::{EVENTS_ENV, Event};
use datalab_services::{ServiceKind, Services};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

/// Each statement may take this long; the whole line a little more.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

const HINT: &str =
    "SELECT * FROM iot.readings_by_sensor_day LIMIT 5 · USE iot · CONSISTENCY QUORUM · ↑↓ history";

/// (result, time taken, the keyspace in use afterwards, the line to put
/// back when it was a bad request)
type Done = (
    Result<Output, String>,
    Duration,
    Option<String>,
    Option<String>,
);

/// The node-failure step live: nodes up and each level's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutageView {
    /// Node `i + 1` answers (as far as the check's events say).
    pub up: Vec<bool>,
    /// (nodes down, level, succeeded, why) in the order the check ran them.
    pub results: Vec<(u32, String, bool, String)>,
}

impl OutageView {
    pub fn new(nodes: u32) -> OutageView {
        OutageView {
            up: vec![true; nodes as usize],
            results: Vec::new(),
        }
    }

    /// Take one event of the check into account.
    pub fn apply(&mut self, e: &Event) {
        match e {
            Event::Node { node, up } => {
                if let Some(slot) = (node.checked_sub(1)).and_then(|i| self.up.get_mut(i as usize))
                {
                    *slot = *up;
                }
                // Node 3 going down starts a run: forget the last one's results.
                if !*up && *node == 3 {
                    self.results.clear();
                }
            }
            Event::Level {
                down,
                level,
                ok,
                why,
            } => self.results.push((*down, level.clone(), *ok, why.clone())),
        }
    }

    /// The view as text lines (what the panel draws on its right side).
    pub fn lines(&self) -> Vec<String> {
        let states: Vec<String> = (self.up.iter().enumerate())
            .map(|(i, up)| format!("{} {}", i + 1, if *up { "up" } else { "DOWN" }))
            .collect();
        let mut out = vec![format!(
            "nodes {}/{} up: {}",
            self.up.iter().filter(|u| **u).count(),
            self.up.len(),
            states.join(" · ")
        )];
        if self.results.is_empty() {
            out.push("the check stops node 3, then node 2,".into());
            out.push("and tries ONE, QUORUM and ALL".into());
        }
        for down in [1, 2] {
            let levels: Vec<String> = (self.results.iter())
                .filter(|r| r.0 == down)
                .map(|(_, l, ok, _)| format!("{l} {}", if *ok { "ok" } else { "fails" }))
                .collect();
            if !levels.is_empty() {
                let words = if down == 1 {
                    "1 node down "
                } else {
                    "2 nodes down"
                };
                out.push(format!("{words}: {}", levels.join(" · ")));
            }
        }
        if let Some((_, l, _, why)) = self.results.iter().rev().find(|r| !r.2) {
            out.push(format!("{l}: {why}"));
        }
        out
    }
}

pub struct CqlPanel {
    pub prompt: Prompt,
    /// The node-failure view, while the shown step runs several nodes.
    pub outage: Option<OutageView>,
    feed: EventsFile,
    /// The learner's keyspace in use (`USE`), without the namespace.
    pub keyspace: Option<String>,
    /// One runner (and session) for the panel's life: its consistency level
    /// and keyspace carry from one line to the next, as in cqlsh, and its
    /// `USE` changes no check's keyspace.
    runner: Arc<tokio::sync::Mutex<Option<Runner>>>,
    tx: Sender<Done>,
    rx: Receiver<Done>,
}

impl Default for CqlPanel {
    fn default() -> Self {
        Self::new()
    }
}

impl PromptPanel for CqlPanel {
    fn prompt(&self) -> &Prompt {
        &self.prompt
    }
}

impl CqlPanel {
    pub fn new() -> CqlPanel {
        let (tx, rx) = channel();
        CqlPanel {
            prompt: Prompt::new(HINT),
            outage: None,
            feed: EventsFile::new("datalab-cql-outage-", EVENTS_ENV),
            keyspace: None,
            runner: Arc::new(tokio::sync::Mutex::new(None)),
            tx,
            rx,
        }
    }

    /// Start a line in the background; a line that cannot split (a string
    /// never closed) is shown at once and stays in the prompt.
    pub(crate) fn submit(&mut self, text: &str, ctx: &PanelCtx) {
        if self
            .prompt
            .accept(text, false, parse(text, Source::Line))
            .is_none()
        {
            return;
        }
        self.prompt.shown = Shown::Running(first_word(text));
        let tx = self.tx.clone();
        let services = ctx.services.clone();
        let ns = ctx.namespace.clone();
        let base = ctx.workspace.to_path_buf();
        let runner = self.runner.clone();
        let line = text.to_string();
        ctx.runtime.spawn(async move {
            let started = Instant::now();
            let mut keyspace = None;
            let mut back = None;
            let r = tokio::time::timeout(TIMEOUT + Duration::from_secs(3), async {
                let mut guard = runner.lock().await;
                if guard.is_none() {
                    let contact = contact(&services).await?;
                    let session = cql::own_session(&contact, TIMEOUT)
                        .await
                        .map_err(|e| e.to_string())?;
                    *guard = Some(Runner::new(session, ns.clone(), &base, TIMEOUT));
                }
                let r = guard.as_mut().expect("set above");
                let out = execute(r, &line, Source::Line, false).await;
                if matches!(out, Err(Failure::Usage(_))) {
                    back = Some(line.clone());
                }
                let out = out.map_err(|f| panel_text(&f, &line, false));
                keyspace = r
                    .session
                    .get_keyspace()
                    .map(|k| ns.strip(&k).unwrap_or(&k).to_string());
                if out.as_ref().is_err_and(|e| server_gone(e)) {
                    // The next line connects afresh (a restarted server may
                    // have a new address); its keyspace needs USE again.
                    *guard = None;
                    keyspace = None;
                }
                out
            })
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "Cassandra did not answer within {}s; is it still running? (`datalab services status`)",
                    TIMEOUT.as_secs() + 3
                ))
            });
            let _ = tx.send((r, started.elapsed(), keyspace, back));
        });
    }
}

fn server_gone(e: &str) -> bool {
    e.contains("lost the connection") || e.contains("did not answer") || e.contains("cannot reach")
}

fn first_word(line: &str) -> String {
    line.split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase()
}

/// Contact points: `DATALAB_CASSANDRA_CONTACT` as the console has it, else
/// the running service (the lab screen starts it; this panel never does).
async fn contact(services: &Arc<Services>) -> Result<String, String> {
    if let Ok(u) = std::env::var("DATALAB_CASSANDRA_CONTACT")
        && !u.trim().is_empty()
    {
        return Ok(u);
    }
    match services.check(ServiceKind::Cassandra).await {
        Ok(ep) => Ok(ep.address),
        Err(e) => Err(format!(
            "Cassandra is not reachable: {}",
            e.to_string().lines().next().unwrap_or("not running")
        )),
    }
}

impl LabPanel for CqlPanel {
    fn title(&self) -> String {
        match &self.keyspace {
            Some(k) => format!("CQL · {k}"),
            None => "CQL".into(),
        }
    }

    fn height(&self) -> u16 {
        12
    }

    fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let Some(view) = &self.outage else {
            self.prompt
                .render(frame, area, theme, focused, &self.title());
            return;
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(if focused {
                theme.accent()
            } else {
                theme.border()
            })
            .title(Span::styled(
                format!(" {} · live nodes ", self.title()),
                theme.title(),
            ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [console, live] = if inner.width >= 70 {
            Layout::horizontal([Constraint::Min(30), Constraint::Length(46)]).areas(inner)
        } else {
            Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas(inner)
        };
        self.prompt.render_body(frame, console, theme, focused);
        let lines: Vec<Line> = view.lines().into_iter().map(Line::from).collect();
        let side = Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(
                Block::default()
                    .borders(Borders::LEFT)
                    .border_style(theme.border()),
            );
        frame.render_widget(side, live);
    }

    fn handle_key(&mut self, key: &KeyEvent, ctx: &PanelCtx) -> bool {
        self.prompt
            .handle_key(key)
            .used(|line| self.submit(&line, ctx))
    }

    fn run_env(&self) -> Vec<(String, String)> {
        if self.outage.is_some() {
            self.feed.run_env()
        } else {
            Vec::new()
        }
    }

    fn tick(&mut self, ctx: &PanelCtx) {
        let nodes = (ctx.lab.def.steps.get(ctx.step))
            .and_then(|s| s.nodes)
            .unwrap_or(1);
        if nodes > 1 {
            let view = self.outage.get_or_insert_with(|| OutageView::new(nodes));
            for e in self.feed.read_new::<Event>() {
                view.apply(&e);
            }
        } else {
            self.outage = None;
        }
        while let Ok((r, took, ks, back)) = self.rx.try_recv() {
            self.prompt.show(r, took);
            self.keyspace = ks;
            if let Some(line) = back {
                self.prompt.restore_if_empty(&line);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outage_view_follows_the_checks_events() {
        let mut v = OutageView::new(3);
        assert_eq!(v.lines()[0], "nodes 3/3 up: 1 up · 2 up · 3 up");
        v.apply(&Event::Node { node: 3, up: false });
        for (level, ok) in [("ONE", true), ("QUORUM", true), ("ALL", false)] {
            v.apply(&Event::Level {
                down: 1,
                level: level.into(),
                ok,
                why: if ok {
                    "succeeded"
                } else {
                    "Unavailable: Cannot achieve consistency level ALL"
                }
                .into(),
            });
        }
        v.apply(&Event::Node { node: 2, up: false });
        let text = v.lines().join("\n");
        assert!(
            text.contains("nodes 1/3 up: 1 up · 2 DOWN · 3 DOWN"),
            "{text}"
        );
        assert!(
            text.contains("1 node down : ONE ok · QUORUM ok · ALL fails"),
            "{text}"
        );
        assert!(text.contains("ALL: Unavailable"), "{text}");
        v.apply(&Event::Node { node: 2, up: true });
        v.apply(&Event::Node { node: 3, up: true });
        assert!(v.lines()[0].starts_with("nodes 3/3 up"));
        // The next run starts with node 3 going down: old results go.
        v.apply(&Event::Node { node: 3, up: false });
        assert!(v.results.is_empty());
    }
}
