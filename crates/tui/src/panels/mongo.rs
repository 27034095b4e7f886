//! The MongoDB query panel: one line as after `datalab mongo` (`find tweets
//! {"lang": "en"} --limit 5`, `aggregate tweets [{"$group": …}]`,
//! `explain …`, `indexes tweets`), run in the background against the
//! learner's database with a timeout, the result as a table.

use super::prompt::{Prompt, PromptPanel, Shown};
use crate::panel::{LabPanel, PanelCtx};
use crate::theme::Theme;
use datalab_clients::console::{self, MongoRequest, Table};
use datalab_clients::mongo;
use datalab_services::{ServiceKind, Services};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

/// Each server call may take this long; the whole request a little more.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

const HINT: &str = r#"find tweets {"lang": "en"} --limit 5 · aggregate COLL [stages] · explain COLL {filter} · indexes COLL · ↑↓ history"#;

type Done = (Result<Table, String>, Duration);

pub struct MongoPanel {
    pub prompt: Prompt,
    tx: Sender<Done>,
    rx: Receiver<Done>,
}

impl Default for MongoPanel {
    fn default() -> Self {
        Self::new()
    }
}

impl PromptPanel for MongoPanel {
    fn prompt(&self) -> &Prompt {
        &self.prompt
    }
}

impl MongoPanel {
    pub fn new() -> MongoPanel {
        let (tx, rx) = channel();
        MongoPanel {
            prompt: Prompt::new(HINT),
            tx,
            rx,
        }
    }

    /// Parse a line and start it in the background; a bad line is shown at
    /// once and stays in the prompt.
    pub(crate) fn submit(&mut self, line: &str, ctx: &PanelCtx) {
        let parsed = match console::parse_mongo_line(line, ctx.workspace) {
            Ok(p) => p,
            Err(e) => {
                // Nothing ran: the line stays to be fixed.
                self.prompt.restore(line);
                self.prompt.show(Err(e), Duration::ZERO);
                return;
            }
        };
        let what = match &parsed.request {
            MongoRequest::Find { .. } => "find",
            MongoRequest::Aggregate { .. } => "aggregate",
            MongoRequest::Explain { .. } => "explain",
            MongoRequest::Indexes { .. } => "indexes",
        };
        self.prompt.shown = Shown::Running(what.into());
        let tx = self.tx.clone();
        let services = ctx.services.clone();
        let db = ctx.namespace.database(&parsed.db);
        ctx.runtime.spawn(async move {
            let started = Instant::now();
            let r = tokio::time::timeout(TIMEOUT + Duration::from_secs(2), async {
                let uri = uri(&services).await?;
                let m = mongo::connect(&uri, TIMEOUT)
                    .await
                    .map_err(|e| e.to_string())?;
                console::run_mongo(&m, &db, &parsed.request)
                    .await
                    .map_err(|e| e.to_string())
            })
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "MongoDB did not answer within {}s; is it still running? (`datalab services status`)",
                    TIMEOUT.as_secs() + 2
                ))
            });
            let _ = tx.send((r, started.elapsed()));
        });
    }
}

/// The server's URI: `DATALAB_MONGODB_URI` as the console has it, else the
/// running service (the lab screen starts it; this panel never does).
async fn uri(services: &Arc<Services>) -> Result<String, String> {
    if let Ok(u) = std::env::var("DATALAB_MONGODB_URI")
        && !u.trim().is_empty()
    {
        return Ok(u);
    }
    match services.check(ServiceKind::Mongodb).await {
        Ok(ep) => Ok(ep.mongodb_uri().to_string()),
        Err(e) => Err(format!(
            "MongoDB is not reachable: {}",
            e.to_string().lines().next().unwrap_or("not running")
        )),
    }
}

impl LabPanel for MongoPanel {
    fn title(&self) -> String {
        "MongoDB query".into()
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
        while let Ok((r, took)) = self.rx.try_recv() {
            self.prompt.show(r, took);
        }
    }
}
