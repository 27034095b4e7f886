//! The CQL panel: a prompt running a statement in the learner's keyspaces
//! (`iot` is `<ns>_iot`, `USE`, `CONSISTENCY` and `COPY` as `datalab cql` has
//! them) through [`datalab_clients::console::cql`] (the CLI's own code), in
//! the background with a timeout, the rows as a table.

use super::prompt::{Prompt, PromptPanel, Shown};
use crate::panel::{LabPanel, PanelCtx};
use crate::theme::Theme;
use datalab_clients::console::cql::{Source, execute, parse};
use datalab_clients::console::line::panel_text;
use datalab_clients::console::{Failure, Output};
use datalab_clients::cql::{self, Runner};
use datalab_services::{ServiceKind, Services};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
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

pub struct CqlPanel {
    pub prompt: Prompt,
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
        self.prompt
            .render(frame, area, theme, focused, &self.title());
    }

    fn handle_key(&mut self, key: &KeyEvent, ctx: &PanelCtx) -> bool {
        self.prompt
            .handle_key(key)
            .used(|line| self.submit(&line, ctx))
    }

    fn tick(&mut self, _ctx: &PanelCtx) {
        while let Ok((r, took, ks, back)) = self.rx.try_recv() {
            self.prompt.show(r, took);
            self.keyspace = ks;
            if let Some(line) = back {
                self.prompt.restore_if_empty(&line);
            }
        }
    }
}
