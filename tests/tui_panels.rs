//! The MongoDB and CQL lab panels without a terminal and without servers:
//! drawn into a `TestBackend` from a set state and snapshotted (text only),
//! plus what a learner sees when the line is wrong or no server runs. The
//! same panels against real servers: tests/mongodb_lab.rs, cassandra_lab.rs.

mod common;

use datalab_clients::console::Table;
use datalab_content::Lab;
use datalab_content::{Content, parse_lab};
use datalab_services::{Namespace, ProviderKind, Services, ServicesConfig};
use datalab_tui::panel::{LabPanel, PanelCtx, for_lab};
use datalab_tui::panels::cql::CqlPanel;
use datalab_tui::panels::mongo::MongoPanel;
use datalab_tui::panels::prompt::PromptPanel;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn lab(id: &str) -> Lab {
    let content = Content::disk(env!("CARGO_MANIFEST_DIR"));
    Lab {
        id: id.into(),
        def: parse_lab(&content, id).expect("the lab parses"),
        content,
    }
}

fn draw(p: &dyn LabPanel, focused: bool) -> String {
    common::panel_text(p, 72, p.height(), focused)
}

fn keys(p: &mut dyn LabPanel, ctx: &PanelCtx, s: &str) {
    for c in s.chars() {
        assert!(p.handle_key(&KeyEvent::from(KeyCode::Char(c)), ctx));
    }
}

/// A services layer with nothing behind it: the external provider with no
/// endpoints configured.
fn no_services(home: &std::path::Path) -> Arc<Services> {
    Arc::new(Services::new(ServicesConfig {
        data_dir: home.join("services"),
        cache_dir: home.join("cache"),
        provider: ProviderKind::External,
        timeout: Duration::from_secs(1),
    }))
}

#[test]
fn labs_get_their_panel() {
    assert_eq!(for_lab(&lab("mongodb")).unwrap().title(), "MongoDB query");
    assert_eq!(for_lab(&lab("cassandra")).unwrap().title(), "CQL");
}

#[test]
fn snapshot_mongo_panel_with_a_result() {
    let mut p = MongoPanel::new();
    assert!(draw(&p, false).contains("Tab: type here"));
    p.prompt.show(
        Ok(Table {
            columns: vec!["_id".into(), "user".into(), "text".into(), "place".into()],
            rows: (1..=9)
                .map(|i| {
                    vec![
                        format!("{}", 1000000 + i),
                        format!("user{i}"),
                        format!("tweet number {i} about #bigdata and a rather long text that will not fit"),
                        r#"{"city":"Milano","country":"IT"}"#.into(),
                    ]
                })
                .collect(),
            summary: "9 documents".into(),
        }
        .into()),
        Duration::from_millis(12),
    );
    p.prompt.input = r#"find tweets {"lang": "it"} --limit 9"#.into();
    p.prompt.cursor = p.prompt.input.chars().count();
    insta::assert_snapshot!("mongo_panel_result", draw(&p, true));
    // PgDn scrolls the rows.
    p.prompt.handle_key(&KeyEvent::from(KeyCode::PageDown));
    let s = draw(&p, true);
    assert!(s.contains("rows 6–9 of 9"), "{s}");
    assert!(s.contains("1000006") && !s.contains("1000005"), "{s}");
}

#[test]
fn snapshot_cql_panel_with_an_lwt() {
    let mut p = CqlPanel::new();
    p.keyspace = Some("iot".into());
    p.prompt.show(
        Ok(
            datalab_clients::console::cql::table(&datalab_clients::cql::Rows {
                columns: vec!["[applied]".into(), "sensor_id".into(), "name".into()],
                rows: vec![vec![Some("false".into()), Some("s-01".into()), None]],
            })
            .into(),
        ),
        Duration::from_millis(7),
    );
    insta::assert_snapshot!("cql_panel_lwt", draw(&p, false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn bad_lines_and_missing_servers_say_so_in_the_panel() {
    let home = tempfile::tempdir().unwrap();
    let services = no_services(home.path());
    let mlab = lab("mongodb");
    let ns = Namespace::for_learner("ada");
    let rt = tokio::runtime::Handle::current();
    let ctx = PanelCtx {
        lab: &mlab,
        services: &services,
        namespace: &ns,
        runtime: &rt,
        workspace: home.path(),
        step: 0,
        checking: false,
    };
    let mut m = MongoPanel::new();
    // Bad JSON: line:col, at once, nothing runs.
    keys(&mut m, &ctx, r#"find tweets {"lang": "it",}"#);
    m.handle_key(&KeyEvent::from(KeyCode::Enter), &ctx);
    assert!(!m.busy());
    assert!(m.error().unwrap().starts_with("1:27: "), "{:?}", m.error());
    insta::assert_snapshot!("mongo_panel_bad_json", draw(&m, true));
    // The line stays to be fixed, and is in the history.
    assert_eq!(m.prompt.input, r#"find tweets {"lang": "it",}"#);
    assert_eq!(m.prompt.history, [r#"find tweets {"lang": "it",}"#]);
    m.handle_key(&KeyEvent::from(KeyCode::Char('u')).with_ctrl(), &ctx);
    // No server: a clear line, no hang.
    keys(&mut m, &ctx, "find tweets");
    m.handle_key(&KeyEvent::from(KeyCode::Enter), &ctx);
    wait(|| {
        m.tick(&ctx);
        m.busy()
    })
    .await;
    let e = m.error().expect("an error");
    assert!(e.starts_with("MongoDB is not reachable"), "{e}");

    let mut c = CqlPanel::new();
    keys(&mut c, &ctx, "SELECT * FROM iot.readings");
    c.handle_key(&KeyEvent::from(KeyCode::Enter), &ctx);
    wait(|| {
        c.tick(&ctx);
        c.busy()
    })
    .await;
    let e = c.error().expect("an error");
    assert!(e.starts_with("Cassandra is not reachable"), "{e}");
    // Keys the panel does not use go back to the lab screen.
    assert!(!c.handle_key(&KeyEvent::from(KeyCode::F(5)), &ctx));
}

trait Ctrl {
    fn with_ctrl(self) -> Self;
}
impl Ctrl for KeyEvent {
    fn with_ctrl(mut self) -> Self {
        self.modifiers = ratatui::crossterm::event::KeyModifiers::CONTROL;
        self
    }
}

async fn wait(mut busy: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while busy() {
        assert!(Instant::now() < deadline, "the panel did not finish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
