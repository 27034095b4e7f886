//! The Kafka panel of the lab screen: a console taking the same words as
//! `datalab kafka …` (run by [`datalab_clients::kafka_console`], the CLI's
//! own code) and, while the shown step needs several brokers, a live view of
//! the partitions of the learner's topics: leader, replicas, ISR, and which
//! brokers are up; on the exactly-once pipeline step, the check's run of the
//! learner's scorer ([`super::kafka_pipeline`]).
//!
//! Everything that talks to Kafka runs on the runtime in the background with
//! a timeout and sends its result back over a channel, drained in `tick`:
//! the screen never waits for a broker.

use super::kafka_pipeline::{self, PipelineFeed, PipelineView};
use crate::panel::{LabPanel, PanelCtx};
use crate::theme::Theme;
use datalab_clients::kafka::{Kafka, PartitionInfo};
use datalab_clients::kafka_console::{self, Failure, Io};
use datalab_services::{Namespace, ServiceKind, Services};
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
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
/// History entries kept.
const HISTORY: usize = 100;

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
        result: Result<kafka_console::Output, Failure>,
    },
    Replication {
        generation: u64,
        result: Result<ReplicationView, String>,
    },
}

/// The Kafka panel. Its fields are the state it draws from (tests fill them
/// directly to snapshot the panel).
pub struct KafkaPanel {
    /// The line being typed.
    pub input: String,
    /// Commands entered, oldest first; Up/Down walk through them.
    pub history: Vec<String>,
    history_pos: Option<usize>,
    /// The last command and its output lines (stdout then notes).
    pub last: Option<String>,
    pub output: Vec<String>,
    /// A clear error line: bad words, an unreachable broker, a refusal.
    pub error: Option<String>,
    /// First output line shown (PageUp/PageDown).
    pub scroll: usize,
    /// A command is running (its line).
    pub running: Option<String>,
    /// The live replication view, while the shown step needs brokers > 1.
    pub replication: Option<ReplicationView>,
    /// Refresh results received (successful or not) since the panel began.
    pub refreshes: u64,
    /// The pipeline check's live view, while the shown step has one.
    pub pipeline: Option<PipelineView>,
    feed: PipelineFeed,
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
            input: String::new(),
            history: Vec::new(),
            history_pos: None,
            last: None,
            output: Vec::new(),
            error: None,
            scroll: 0,
            running: None,
            replication: None,
            refreshes: 0,
            pipeline: None,
            feed: PipelineFeed::new(),
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

    /// Run `line` (the words after `datalab kafka`) in the background.
    pub(crate) fn submit(&mut self, line: &str, ctx: &PanelCtx) {
        let line = line.trim().to_string();
        if line.is_empty() {
            return;
        }
        if let Some(r) = &self.running {
            self.error = Some(format!("still running `{r}`: wait for it to finish"));
            return;
        }
        if self.history.last() != Some(&line) {
            self.history.push(line.clone());
            if self.history.len() > HISTORY {
                self.history.remove(0);
            }
        }
        self.history_pos = None;
        self.last = Some(line.clone());
        self.scroll = 0;
        let args = match kafka_console::parse_line(&line) {
            Ok(a) => a,
            Err(e) => {
                // clap's message: the first line says what is wrong, the
                // usage follows.
                self.output = e.lines().skip(1).map(str::to_string).collect();
                self.error = Some(
                    e.lines()
                        .next()
                        .unwrap_or("bad command")
                        .trim_start_matches("error: ")
                        .to_string(),
                );
                if e.starts_with("Usage") || !e.starts_with("error") {
                    // --help: all of it is output, nothing is wrong.
                    self.output = e.lines().map(str::to_string).collect();
                    self.error = None;
                }
                return;
            }
        };
        self.output.clear();
        self.error = None;
        self.running = Some(line);
        let services = ctx.services.clone();
        let ns = ctx.namespace.clone();
        let io = Io {
            cwd: ctx.workspace.to_path_buf(),
            stdin: None,
            stop: Some(self.stop.clone()),
        };
        let tx = self.tx.clone();
        ctx.runtime.spawn(async move {
            let result = run_command(&services, &ns, args, &io).await;
            let _ = tx.send(Msg::Console { result });
        });
    }

    fn drain(&mut self) {
        while let Ok(m) = self.rx.try_recv() {
            match m {
                Msg::Console { result } => {
                    self.running = None;
                    match result {
                        Ok(out) => {
                            self.output = out.lines;
                            self.output.extend(out.notes);
                            if self.output.is_empty() {
                                self.output.push("(no output)".into());
                            }
                            self.error = None;
                        }
                        Err(e) => self.error = Some(e.to_string()),
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

    fn history_step(&mut self, up: bool) {
        if self.history.is_empty() {
            return;
        }
        let pos = match (self.history_pos, up) {
            (None, true) => Some(self.history.len() - 1),
            (None, false) => None,
            (Some(0), true) => Some(0),
            (Some(i), true) => Some(i - 1),
            (Some(i), false) if i + 1 < self.history.len() => Some(i + 1),
            (Some(_), false) => None,
        };
        self.history_pos = pos;
        self.input = pos.map(|i| self.history[i].clone()).unwrap_or_default();
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
        for e in self.feed.read_new() {
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
    args: kafka_console::KafkaArgs,
    io: &Io,
) -> Result<kafka_console::Output, Failure> {
    let timeout = Duration::from_secs(args.timeout.max(1)).min(REQUEST_TIMEOUT * 6);
    let k = connect(services, timeout).await.map_err(Failure::Kafka)?;
    let limit = kafka_console::time_limit(&args.command, timeout);
    match tokio::time::timeout(
        limit,
        kafka_console::execute(args.command, &k, ns, args.json, io),
    )
    .await
    {
        Ok(r) => r,
        Err(_) => Err(Failure::Kafka(format!(
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
        let title = match (&self.running, self.is_live()) {
            (Some(r), _) => format!(" Kafka console: running `{r}` "),
            (None, true) => " Kafka console · live partitions ".to_string(),
            (None, false) if self.pipeline.is_some() => {
                " Kafka console · live scoring ".to_string()
            }
            (None, false) => " Kafka console ".to_string(),
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
        if console.height == 0 {
            return;
        }
        let mut lines: Vec<Line> = Vec::new();
        let prompt = if focused {
            Line::from(vec![
                Span::styled("kafka> ", t.accent()),
                Span::raw(self.input.clone()),
                Span::styled("▏", t.accent()),
            ])
        } else if self.input.is_empty() {
            Line::from(Span::styled(
                "Tab: type a command, e.g. topics describe orders",
                t.dim(),
            ))
        } else {
            Line::from(vec![
                Span::styled("kafka> ", t.dim()),
                Span::raw(self.input.clone()),
            ])
        };
        lines.push(prompt);
        if let Some(e) = &self.error {
            // Wrapped: the message is what the learner needs to read whole.
            let chars: Vec<char> = format!("✗ {e}").chars().collect();
            for chunk in chars.chunks((console.width as usize).max(1)).take(3) {
                lines.push(Line::from(Span::styled(
                    chunk.iter().collect::<String>(),
                    t.bad(),
                )));
            }
        }
        let room = (console.height as usize).saturating_sub(lines.len());
        let start = self.scroll.min(self.output.len().saturating_sub(1));
        for (i, l) in self.output.iter().enumerate().skip(start).take(room) {
            let style = if i == 0 && (l.starts_with("  ") || l.contains("partition")) {
                t.strong()
            } else {
                t.plain()
            };
            lines.push(Line::from(Span::styled(l.clone(), style)));
        }
        let more = self.output.len().saturating_sub(start + room);
        if more > 0
            && let Some(last) = lines.last_mut()
        {
            *last = Line::from(Span::styled(
                format!("… {more} more line(s): PgDn"),
                t.dim(),
            ));
        }
        frame.render_widget(Paragraph::new(lines), console);
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
        match key.code {
            KeyCode::Enter => {
                let line = std::mem::take(&mut self.input);
                self.submit(&line, ctx);
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.input.clear();
            }
            KeyCode::Char('l') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.output.clear();
                self.error = None;
                self.last = None;
            }
            KeyCode::Char(c) => self.input.push(c),
            KeyCode::Backspace => {
                self.input.pop();
            }
            KeyCode::Up => self.history_step(true),
            KeyCode::Down => self.history_step(false),
            KeyCode::PageDown => {
                self.scroll = (self.scroll + 5).min(self.output.len().saturating_sub(1));
            }
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(5),
            KeyCode::Home => self.scroll = 0,
            // Keep the lab screen's arrows from moving the step under the
            // learner's fingers while typing.
            KeyCode::Left | KeyCode::Right => {}
            _ => return false,
        }
        true
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
