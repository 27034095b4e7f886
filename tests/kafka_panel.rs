//! The Kafka panel of the TUI's lab screen: snapshots of its drawing from a
//! state filled by hand (no services), and its console driven with keys
//! against the real broker (tests/common services): what the panel shows is
//! what the broker says. The live replication view on 3 brokers is tested in
//! `kafka_cluster.rs`, which owns that cluster.

mod common;
#[path = "common/kafka_lab.rs"]
mod kl;

use datalab_clients::console::Output;
use datalab_clients::kafka::{Kafka, PartitionInfo};
use datalab_content::Lab;
use datalab_services::{Namespace, ProviderKind, ServiceKind, Services, ServicesConfig, UpOptions};
use datalab_tui::panel::{LabPanel, PanelCtx};
use datalab_tui::panels::kafka::{KafkaPanel, ReplicationView, TopicView};
use datalab_tui::panels::prompt::PromptPanel;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Draw the panel alone at `w`×`h` and return it as text.
fn draw(p: &KafkaPanel, w: u16, h: u16, focused: bool) -> String {
    common::panel_text(p, w, h, focused)
}

fn part(partition: i32, leader: i32, replicas: &[i32], isr: &[i32]) -> PartitionInfo {
    PartitionInfo {
        partition,
        leader,
        replicas: replicas.to_vec(),
        isr: isr.to_vec(),
    }
}

#[test]
fn snapshot_console_with_output() {
    let mut p = KafkaPanel::new();
    let lines = vec![
        "topic orders: 3 partition(s), replication factor 1".into(),
        "  partition  leader  replicas      isr".into(),
        "          0       1  1             1".into(),
        "          1       1  1             1".into(),
        "          2       1  1             1".into(),
        "  configs:".into(),
        "    cleanup.policy=delete (default)".into(),
        "    retention.ms=604800000 (default)".into(),
        "    min.insync.replicas=1 (default)".into(),
    ];
    p.prompt.show(
        Ok(Output {
            lines,
            ..Output::default()
        }),
        Duration::from_millis(9),
    );
    p.prompt.input = "groups describe billing".into();
    p.prompt.cursor = p.prompt.input.chars().count();
    insta::assert_snapshot!("console_output", draw(&p, 80, 10, true));
    // Scrolled: PgDn shows the rest.
    p.prompt.handle_key(&KeyEvent::from(KeyCode::PageDown));
    insta::assert_snapshot!("console_scrolled", draw(&p, 80, 10, true));
}

#[test]
fn snapshot_console_error_unfocused() {
    let mut p = KafkaPanel::new();
    p.prompt.show(
        Err(
            "Kafka at 127.0.0.1:1 did not answer within 5 s: is it running? `datalab services up kafka`"
                .into(),
        ),
        Duration::ZERO,
    );
    insta::assert_snapshot!("console_error", draw(&p, 80, 6, false));
}

#[test]
fn snapshot_live_replication_with_a_broker_down() {
    let mut p = KafkaPanel::new();
    p.replication = Some(ReplicationView {
        up: vec![1, 3],
        expected: 3,
        topics: vec![TopicView {
            name: "payments".into(),
            partitions: vec![
                part(0, 3, &[2, 3, 1], &[3, 1]),
                part(1, 3, &[3, 1, 2], &[3, 1]),
                part(2, 1, &[1, 2, 3], &[1, 3]),
            ],
        }],
        error: None,
    });
    p.prompt.show(
        Ok(Output {
            lines: vec!["produced 3 record(s) to payments (acks=all) [p0: 1, p1: 1, p2: 1]".into()],
            ..Output::default()
        }),
        Duration::from_millis(4),
    );
    assert_eq!(p.height(), 14);
    insta::assert_snapshot!("live_replication", draw(&p, 110, 14, false));
}

/// Step 11's live view, fed the events the pipeline check writes: the first
/// run killed mid-stream, the restart at the end, the verdict.
#[test]
fn snapshot_live_pipeline_killed_and_restarted() {
    use datalab_engine::check::kafka_pipeline::events::Event;
    use datalab_tui::panels::kafka_pipeline::PipelineView;
    let mut v = PipelineView::default();
    for e in [
        Event::Started {
            run: 1,
            orders: 120,
            expected_alerts: 26,
        },
        Event::Progress {
            run: 1,
            scored: 40,
            alerts: 11,
        },
        Event::Killed {
            scored: 50,
            alerts: 14,
        },
        Event::Started {
            run: 2,
            orders: 120,
            expected_alerts: 26,
        },
        Event::Progress {
            run: 2,
            scored: 120,
            alerts: 34,
        },
        Event::Done {
            passed: true,
            message: "all 120 orders of orders scored once, 26 alerts".into(),
        },
    ] {
        v.apply(&e);
    }
    assert_eq!(v.killed, Some((50, 14)));
    let mut p = KafkaPanel::new();
    p.pipeline = Some(v);
    insta::assert_snapshot!("live_pipeline", draw(&p, 80, 14, false));
}

// ------------------------------------------------------------ real broker

/// What the panel needs from the lab screen.
struct Screen {
    lab: Lab,
    services: Arc<Services>,
    ns: Namespace,
    rt: tokio::runtime::Runtime,
    ws: tempfile::TempDir,
}

impl Screen {
    fn new(services: Arc<Services>, ns: Namespace) -> Screen {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        Screen {
            lab: kl::load(),
            services,
            ns,
            rt,
            ws: tempfile::tempdir().unwrap(),
        }
    }

    fn ctx(&self, step: usize) -> PanelCtx<'_> {
        PanelCtx {
            lab: &self.lab,
            services: &self.services,
            namespace: &self.ns,
            runtime: self.rt.handle(),
            workspace: self.ws.path(),
            step,
            checking: false,
        }
    }

    /// Type a line into the focused panel (emptied first: a bad line stays
    /// in the prompt), press Enter, and tick until the command is done
    /// (never more than 30 s: a hang fails the test).
    fn run(&self, p: &mut KafkaPanel, line: &str) {
        let ctx = self.ctx(0);
        let ctrl_u = KeyEvent::new(
            KeyCode::Char('u'),
            ratatui::crossterm::event::KeyModifiers::CONTROL,
        );
        assert!(p.handle_key(&ctrl_u, &ctx));
        for c in line.chars() {
            assert!(p.handle_key(&KeyEvent::from(KeyCode::Char(c)), &ctx));
        }
        assert!(p.handle_key(&KeyEvent::from(KeyCode::Enter), &ctx));
        let deadline = Instant::now() + Duration::from_secs(30);
        p.tick(&ctx);
        while p.busy() {
            assert!(Instant::now() < deadline, "`{line}` did not finish");
            std::thread::sleep(Duration::from_millis(20));
            p.tick(&ctx);
        }
    }
}

#[test]
fn the_console_runs_commands_against_the_broker() {
    let services = common::services();
    let screen = Screen::new(services.clone(), kl::unique_ns("panel"));
    let ep = screen
        .rt
        .block_on(services.ensure(ServiceKind::Kafka, &UpOptions::default()))
        .expect("Kafka");
    // A topic made by the test, outside the panel.
    let k = Kafka::new(ep.kafka_bootstrap(), Duration::from_secs(5));
    screen
        .rt
        .block_on(k.create_topic(&screen.ns.topic("seen"), 2, Some(1), &[]))
        .unwrap();

    let mut p = KafkaPanel::new();
    screen.run(&mut p, "topics describe seen");
    assert_eq!(p.error(), None, "{:?}", p.lines());
    let out = p.lines();
    assert_eq!(
        out[0], "topic seen: 2 partition(s), replication factor 1",
        "the namespace prefix is stripped: {out:?}",
    );
    // One row per partition: number, leader, replicas, ISR.
    assert!(out[1].contains("leader"), "{out:?}");
    for (i, row) in out[2..4].iter().enumerate() {
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols.len(), 4, "{row:?}");
        assert_eq!(cols[0], i.to_string());
        assert_eq!(cols[2], cols[1], "one replica, the leader: {row:?}");
        assert_eq!(cols[3], cols[1], "in sync: {row:?}");
    }
    assert_eq!(out[4], "  configs:");
    let screen_text = draw(&p, 80, 10, true);
    assert!(
        screen_text.contains("topic seen: 2 partition(s)"),
        "{screen_text}"
    );

    // Produce with a key, read it back.
    screen.run(&mut p, "produce seen --key c1 hello 'two words'");
    assert_eq!(p.error(), None, "{:?}", p.lines());
    assert!(
        p.lines()[0].starts_with("produced 2 record(s) to seen"),
        "{:?}",
        p.lines()
    );
    screen.run(&mut p, "consume seen --from-beginning --max 5");
    assert_eq!(p.error(), None, "{:?}", p.lines());
    let out = p.lines();
    let values: Vec<&String> = out.iter().filter(|l| l.contains(" c1 ")).collect();
    assert_eq!(values.len(), 2, "{out:?}");
    assert!(
        values.iter().any(|l| l.ends_with("two words")),
        "{values:?}"
    );
    assert!(out.last().unwrap().starts_with("2 record(s)"));

    // History: Up brings the last command back.
    let ctx = screen.ctx(0);
    p.handle_key(&KeyEvent::from(KeyCode::Up), &ctx);
    assert_eq!(p.prompt.input, "consume seen --from-beginning --max 5");
    p.handle_key(&KeyEvent::from(KeyCode::Up), &ctx);
    assert_eq!(p.prompt.input, "produce seen --key c1 hello 'two words'");
    // The cursor moves inside the line: Home, then type in front.
    p.handle_key(&KeyEvent::from(KeyCode::Home), &ctx);
    p.handle_key(&KeyEvent::from(KeyCode::Char('x')), &ctx);
    p.handle_key(&KeyEvent::from(KeyCode::Right), &ctx);
    p.handle_key(&KeyEvent::from(KeyCode::Char('y')), &ctx);
    assert_eq!(p.prompt.input, "xpyroduce seen --key c1 hello 'two words'");
    p.handle_key(&KeyEvent::from(KeyCode::Down), &ctx);
    p.handle_key(&KeyEvent::from(KeyCode::Down), &ctx);
    assert_eq!(p.prompt.input, "");

    // Bad words: `1:col: message`, nothing sent, the line kept to fix.
    screen.run(&mut p, "topics frobnicate");
    let e = p.error().expect("an error line");
    assert_eq!(e, "1:8: unrecognized subcommand 'frobnicate'");
    assert_eq!(p.prompt.input, "topics frobnicate");
    screen.run(&mut p, "produce seen");
    let e = p.error().expect("an error line");
    assert!(e.starts_with("1:1: nothing to produce"), "{e}");
    assert_eq!(p.prompt.input, "produce seen");
    // A topic that is not there: the broker's answer, short name.
    screen.run(&mut p, "topics describe nothere");
    assert_eq!(p.error(), Some("topic nothere does not exist"));
    // Not a live step: no replication view on a single-broker step.
    assert!(!p.is_live() && p.replication.is_none());
}

#[test]
fn no_broker_gives_an_error_line_not_a_hang() {
    // A services layer with nothing running (a fresh home): the panel never
    // starts a service itself, and says what to run.
    let home = tempfile::tempdir().unwrap();
    let services = Arc::new(Services::new(ServicesConfig {
        data_dir: home.path().join("services"),
        cache_dir: home.path().join("cache"),
        provider: ProviderKind::Native,
        timeout: Duration::from_secs(1),
    }));
    let screen = Screen::new(services, Namespace::for_learner("nobody"));
    let mut p = KafkaPanel::new();
    let t = Instant::now();
    screen.run(&mut p, "topics describe orders");
    let e = p.error().expect("an error line").to_string();
    assert!(e.contains("datalab services up kafka"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    assert!(Path::new(home.path()).exists());
}
