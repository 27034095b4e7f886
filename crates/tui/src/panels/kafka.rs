//! The Kafka panel of the lab screen: a console on the shared prompt
//! ([`super::prompt`]) taking the same words as `datalab kafka …` (parsed and
//! run by [`datalab_clients::console::kafka`], the CLI's own code) and, while the shown step needs several brokers, a live view of
//! the partitions of the learner's topics: leader, replicas, ISR, and which
//! brokers are up; on the exactly-once pipeline step, the check's run of the
//! learner's scorer ([`super::kafka_pipeline`]).
//!
//! Everything that talks to Kafka runs on the runtime in the background with
//! a timeout and sends its result back over a channel, drained in `tick`:
//! the screen never waits for a broker.

use super::events_file::EventsFile;
use super::kafka_pipeline::{self, PipelineView};
use super::prompt::{Prompt, PromptPanel, Shown};
use crate::panel::{LabPanel, PanelCtx};
use crate::theme::Theme;
use datalab_clients::console::kafka::{KafkaArgs, execute, parse_line, time_limit};
use datalab_clients::console::line::panel_text;
use datalab_clients::console::{Failure, Io, Output};
use datalab_clients::kafka::{Kafka, PartitionInfo};
use datalab_services::{Namespace, ServiceKind, Services};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

/// Seconds each request of a console command may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The live view's refresh period and the timeout of one refresh.
const REFRESH_EVERY: Duration = Duration::from_secs(1);
const REFRESH_TIMEOUT: Duration = Duration::from_secs(3);

const HINT: &str = "topics describe orders · produce orders hello · consume orders --from-beginning · groups describe G · --help · ↑↓ history";

/// One topic of the live replication view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicView {
    /// The short name (namespace prefix removed).
    pub name: String,
    pub partitions: Vec<PartitionInfo>,
}

/// The live replication view: brokers and the namespace's topics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicationView {
    /// Broker ids that answer in the cluster metadata.
    pub up: Vec<i32>,
    /// Brokers the step runs on (its `brokers`).
    pub expected: u32,
    pub topics: Vec<TopicView>,
    /// The last refresh failed (shown with the last good state).
    pub error: Option<String>,
}

impl ReplicationView {
    /// Every broker id known (up, or named as a replica) with whether it
    /// answers: a stopped broker still appears in replica lists.
    pub(crate) fn brokers(&self) -> Vec<(i32, bool)> {
        let mut ids: Vec<i32> = self.up.clone();
        for t in &self.topics {
            for p in &t.partitions {
                ids.extend(&p.replicas);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().map(|i| (i, self.up.contains(&i))).collect()
    }

    /// The view as text lines (what the panel draws on its right side).
    pub fn lines(&self) -> Vec<String> {
        let brokers = self.brokers();
        let mut out = Vec::new();
        let states: Vec<String> = brokers
            .iter()
            .map(|(id, up)| format!("{id} {}", if *up { "up" } else { "DOWN" }))
            .collect();
        out.push(format!(
            "brokers {}/{} up: {}",
            self.up.len(),
            self.expected.max(brokers.len() as u32),
            states.join(" · ")
        ));
        if self.topics.is_empty() {
            out.push("no topics yet in your namespace".into());
        }
        for t in &self.topics {
            out.push(format!("topic {}", t.name));
            out.push(format!(
                "  {:<4} {:>6}  {:<8} {:<8}",
                "part", "leader", "replicas", "isr"
            ));
            for p in &t.partitions {
                let full = p.isr.len() == p.replicas.len();
                out.push(format!(
                    "  p{:<3} {:>6}  {:<8} {:<8}{}",
                    p.partition,
                    p.leader_text(),
                    p.replicas_text(),
                    p.isr_text(),
                    if full { "" } else { " under-replicated" }
                ));
            }
        }
        if let Some(e) = &self.error {
            out.push(format!("refresh failed: {e}"));
        }
        out
    }
}

/// What a background task sends back.
enum Msg {
    Console {
        result: Result<Output, String>,
        took: Duration,
        /// The line to put back when it was a bad request.
        back: Option<String>,
    },
    Replication {
        generation: u64,
        result: Result<ReplicationView, String>,
    },
}

/// The Kafka panel. Its fields are the state it draws from (tests fill them
/// directly to snapshot the panel).
pub struct KafkaPanel {
    /// The console: line, history, the last output or error.
    pub prompt: Prompt,
    /// The live replication view, while the shown step needs brokers > 1.
    pub replication: Option<ReplicationView>,
    /// Refresh results received (successful or not) since the panel began.
    pub refreshes: u64,
    /// The pipeline check's live view, while the shown step has one.
    pub pipeline: Option<PipelineView>,
    feed: EventsFile,
    /// The step the live view follows (None: not refreshing).
    live_step: Option<usize>,
    generation: u64,
    refreshing: bool,
    last_refresh: Option<Instant>,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    /// Set when the panel goes away: a running `consume --stay` stops.
    stop: Arc<AtomicBool>,
}

impl Default for KafkaPanel {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for KafkaPanel {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl KafkaPanel {
    pub fn new() -> KafkaPanel {
        let (tx, rx) = channel();
        KafkaPanel {
            prompt: Prompt::new(HINT),
            replication: None,
            refreshes: 0,
            pipeline: None,
            feed: kafka_pipeline::events_file(),
            live_step: None,
            generation: 0,
            refreshing: false,
            last_refresh: None,
            tx,
            rx,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether the live replication view is refreshing.
    pub fn is_live(&self) -> bool {
        self.live_step.is_some()
    }

    /// Run `text` (the words after `datalab kafka`) in the background; a
    /// bad line is shown at once (`1:col: message`) and stays in the prompt.
    pub(crate) fn submit(&mut self, text: &str, ctx: &PanelCtx) {
        let Some(args) = self.prompt.accept(text, false, parse_line(text)) else {
            return;
        };
        self.prompt.shown = Shown::Running(text.to_string());
        let services = ctx.services.clone();
        let ns = ctx.namespace.clone();
        let io = Io {
            cwd: ctx.workspace.to_path_buf(),
            stop: Some(self.stop.clone()),
            ..Io::default()
        };
        let tx = self.tx.clone();
        let text = text.to_string();
        ctx.runtime.spawn(async move {
            let started = Instant::now();
            let result = run_command(&services, &ns, args, &io).await;
            // A bad request found while running (nothing to produce, a
            // --config without `=`) comes back to be fixed.
            let back = matches!(result, Err(Failure::Usage(_))).then(|| text.clone());
            let result = result.map_err(|f| panel_text(&f, &text, false));
            let took = started.elapsed();
            let _ = tx.send(Msg::Console { result, took, back });
        });
    }

    fn drain(&mut self) {
        while let Ok(m) = self.rx.try_recv() {
            match m {
                Msg::Console { result, took, back } => {
                    self.prompt.show(result, took);
                    if let Some(line) = back {
                        self.prompt.restore_if_empty(&line);
                    }
                }
                Msg::Replication { generation, result } => {
                    if generation != self.generation {
                        continue; // a refresh for a step no longer shown
                    }
                    self.refreshing = false;
                    self.refreshes += 1;
                    match result {
                        Ok(v) => self.replication = Some(v),
                        Err(e) => match &mut self.replication {
                            Some(v) => v.error = Some(e),
                            None => {
                                self.replication = Some(ReplicationView {
                                    up: Vec::new(),
                                    expected: 0,
                                    topics: Vec::new(),
                                    error: Some(e),
                                })
                            }
                        },
                    }
                }
            }
        }
    }

    fn refresh(&mut self, ctx: &PanelCtx, expected: u32) {
        self.refreshing = true;
        self.last_refresh = Some(Instant::now());
        let services = ctx.services.clone();
        let ns = ctx.namespace.clone();
        let tx = self.tx.clone();
        let generation = self.generation;
        ctx.runtime.spawn(async move {
            let result =
                match tokio::time::timeout(REFRESH_TIMEOUT, replication(&services, &ns, expected))
                    .await
                {
                    Ok(r) => r,
                    Err(_) => Err(format!(
                        "Kafka did not answer within {} s",
                        REFRESH_TIMEOUT.as_secs()
                    )),
                };
            let _ = tx.send(Msg::Replication { generation, result });
        });
    }
}

impl PromptPanel for KafkaPanel {
    fn prompt(&self) -> &Prompt {
        &self.prompt
    }
}

impl KafkaPanel {
    /// The right side: the replication view or the pipeline view, styled.
    fn side_lines(&self, t: &Theme) -> Option<Vec<Line<'static>>> {
        if let Some(v) = &self.replication {
            let lines = v.lines().into_iter().enumerate().map(|(i, l)| {
                let style = if i == 0 {
                    if v.up.len() < v.brokers().len() {
                        t.warn()
                    } else {
                        t.ok()
                    }
                } else if l.ends_with("under-replicated") || l.starts_with("refresh failed") {
                    t.bad()
                } else if l.contains("leader") || l.starts_with("topic ") {
                    t.strong()
                } else {
                    t.plain()
                };
                Line::from(Span::styled(l, style))
            });
            return Some(lines.collect());
        }
        let v = self.pipeline.as_ref()?;
        let lines = v.lines().into_iter().map(|l| {
            let style = if l.starts_with("KILLED") || l.starts_with('✗') {
                t.bad()
            } else if l.starts_with('✓') || l.starts_with("restarted") {
                t.ok()
            } else if l.starts_with("scorer") {
                t.strong()
            } else {
                t.plain()
            };
            Line::from(Span::styled(l, style))
        });
        Some(lines.collect())
    }

    /// Follow the pipeline check's events while the shown step has one.
    fn follow_pipeline(&mut self, ctx: &PanelCtx) {
        if !ctx
            .lab
            .def
            .steps
            .get(ctx.step)
            .is_some_and(kafka_pipeline::fits)
        {
            self.pipeline = None;
            return;
        }
        let view = self.pipeline.get_or_insert_with(PipelineView::default);
        for e in self
            .feed
            .read_new::<datalab_engine::check::kafka_pipeline::events::Event>()
        {
            view.apply(&e);
        }
    }
}

/// The broker of the running Kafka service (nothing is started here: the
/// lab screen brings services up).
async fn connect(services: &Services, timeout: Duration) -> Result<Kafka, String> {
    let ep = services
        .check(ServiceKind::Kafka)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Kafka::new(ep.kafka_bootstrap(), timeout))
}

/// Run one parsed console command the way the panel does: against the
/// running Kafka service, in `ns`, bounded in time.
pub(crate) async fn run_command(
    services: &Services,
    ns: &Namespace,
    args: KafkaArgs,
    io: &Io,
) -> Result<Output, Failure> {
    let timeout = Duration::from_secs(args.timeout.max(1)).min(REQUEST_TIMEOUT * 6);
    let k = connect(services, timeout).await.map_err(Failure::Service)?;
    let limit = time_limit(&args.command, timeout);
    match tokio::time::timeout(limit, execute(args.command, &k, ns, args.json, io)).await {
        Ok(r) => r,
        Err(_) => Err(Failure::Service(format!(
            "no answer within {} s: is Kafka running? `datalab services up kafka`",
            limit.as_secs()
        ))),
    }
}

/// Read the live replication view: the brokers that answer and every
/// partition of the namespace's topics.
pub(crate) async fn replication(
    services: &Services,
    ns: &Namespace,
    expected: u32,
) -> Result<ReplicationView, String> {
    let k = connect(services, Duration::from_secs(2)).await?;
    let (brokers, names) = k.cluster().await.map_err(|e| e.to_string())?;
    let mut up: Vec<i32> = brokers.iter().map(|b| b.id).collect();
    up.sort_unstable();
    let mut mine: Vec<(String, String)> = names
        .iter()
        .filter(|t| !t.starts_with("__"))
        .filter_map(|t| ns.strip(t).map(|s| (s.to_string(), t.clone())))
        .collect();
    mine.sort();
    let mut topics = Vec::new();
    for (short, full) in mine {
        match k.describe_topic(&full, false).await {
            Ok(Some(t)) => topics.push(TopicView {
                name: short,
                partitions: t.partitions,
            }),
            Ok(None) => {} // deleted meanwhile
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(ReplicationView {
        up,
        expected,
        topics,
        error: None,
    })
}

impl LabPanel for KafkaPanel {
    fn title(&self) -> String {
        "Kafka console".into()
    }

    fn height(&self) -> u16 {
        if self.replication.is_some() || self.pipeline.is_some() {
            14
        } else {
            10
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, t: &Theme, focused: bool) {
        let title = match (&self.prompt.shown, self.is_live()) {
            (Shown::Running(r), _) => format!(" Kafka console: running `{r}` "),
            (_, true) => " Kafka console · live partitions ".to_string(),
            (_, false) if self.pipeline.is_some() => " Kafka console · live scoring ".to_string(),
            (_, false) => " Kafka console ".to_string(),
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(if focused { t.accent() } else { t.border() })
            .title(Span::styled(title, t.title()));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let side = self.side_lines(t);
        let (console, live) = match &side {
            Some(_) if inner.width >= 70 => {
                let [a, b] =
                    Layout::horizontal([Constraint::Min(30), Constraint::Length(52)]).areas(inner);
                (a, Some(b))
            }
            Some(_) => {
                let [a, b] =
                    Layout::vertical([Constraint::Min(3), Constraint::Length(6)]).areas(inner);
                (a, Some(b))
            }
            None => (inner, None),
        };
        self.prompt.render_body(frame, console, t, focused);
        if let (Some(lines), Some(area)) = (side, live) {
            let block = Block::default()
                .borders(Borders::LEFT)
                .border_style(t.border());
            let mut p = Paragraph::new(lines).block(block);
            if self.replication.is_none() {
                // The pipeline's verdict is a sentence: wrap it.
                p = p.wrap(ratatui::widgets::Wrap { trim: false });
            }
            frame.render_widget(p, area);
        }
    }

    fn handle_key(&mut self, key: &KeyEvent, ctx: &PanelCtx) -> bool {
        self.prompt
            .handle_key(key)
            .used(|line| self.submit(&line, ctx))
    }

    fn run_env(&self) -> Vec<(String, String)> {
        if self.pipeline.is_some() {
            self.feed.run_env()
        } else {
            Vec::new()
        }
    }

    fn tick(&mut self, ctx: &PanelCtx) {
        self.drain();
        self.follow_pipeline(ctx);
        let brokers = ctx
            .lab
            .def
            .steps
            .get(ctx.step)
            .and_then(|s| s.brokers)
            .unwrap_or(1);
        if brokers <= 1 {
            if self.live_step.take().is_some() {
                self.generation += 1;
                self.refreshing = false;
                self.replication = None;
            }
            return;
        }
        if self.live_step != Some(ctx.step) {
            self.live_step = Some(ctx.step);
            self.generation += 1;
            self.refreshing = false;
            self.replication = None;
            self.last_refresh = None;
        }
        let due = self
            .last_refresh
            .is_none_or(|t| t.elapsed() >= REFRESH_EVERY);
        if !self.refreshing && due {
            self.refresh(ctx, brokers);
        }
    }
}
