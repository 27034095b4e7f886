//! The MongoDB query panel: one line as after `datalab mongo` (`find tweets
//! {"lang": "en"} --limit 5`, `aggregate tweets [{"$group": …}]`,
//! `explain …`, `indexes tweets`), parsed and run by
//! [`datalab_clients::console::mongo`] (the CLI's own code) in the
//! background against the learner's database with a timeout, the result as
//! a table.

use super::prompt::{Prompt, PromptPanel, Shown};
use crate::panel::{LabPanel, PanelCtx};
use crate::theme::Theme;
use datalab_clients::console::line::panel_text;
use datalab_clients::console::mongo::{Db, MongoArgs, execute, parse_line};
use datalab_clients::console::{Failure, Io, Output};
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

/// (result, time taken, the line to put back when it was a bad request)
type Done = (Result<Output, String>, Duration, Option<String>);

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
    /// once (`1:col: message`) and stays in the prompt.
    pub(crate) fn submit(&mut self, text: &str, ctx: &PanelCtx) {
        let parsed = parse_line(text).and_then(|a| a.cmd.read_only().map(|()| a));
        let Some(args) = self.prompt.accept(text, true, parsed) else {
            return;
        };
        self.prompt.shown = Shown::Running(args.cmd.verb().into());
        let tx = self.tx.clone();
        let services = ctx.services.clone();
        let db = Db {
            full: ctx.namespace.database(&args.db),
            shown: args.db.clone(),
        };
        let io = Io {
            cwd: ctx.workspace.to_path_buf(),
            ..Io::default()
        };
        let text = text.to_string();
        ctx.runtime.spawn(async move {
            let started = Instant::now();
            let limit = TIMEOUT + Duration::from_secs(2);
            let r = tokio::time::timeout(limit, run(&services, args, &db, &io))
                .await
                .unwrap_or_else(|_| {
                    Err(Failure::Service(format!(
                        "MongoDB did not answer within {}s; is it still running? (`datalab services status`)",
                        limit.as_secs()
                    )))
                });
            // A bad request found while running (a query file, Extended
            // JSON the driver refuses) comes back to be fixed.
            let back = matches!(r, Err(Failure::Usage(_))).then(|| text.clone());
            let r = r.map_err(|f| panel_text(&f, &text, true));
            let _ = tx.send((r, started.elapsed(), back));
        });
    }
}

/// Run a parsed request against the running server.
async fn run(
    services: &Arc<Services>,
    args: MongoArgs,
    db: &Db,
    io: &Io,
) -> Result<Output, Failure> {
    let uri = uri(services).await.map_err(Failure::Service)?;
    let m = mongo::connect(&uri, TIMEOUT)
        .await
        .map_err(|e| Failure::Service(e.to_string()))?;
    execute(args.cmd, &m, db, args.json, io).await
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
        while let Ok((r, took, back)) = self.rx.try_recv() {
            self.prompt.show(r, took);
            if let Some(line) = back {
                self.prompt.restore_if_empty(&line);
            }
        }
    }
}
