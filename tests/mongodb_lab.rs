//! The MongoDB lab on a real server (a local mongod, or the mongo-java-server
//! stand-in with the native provider): the solution passes every step, the starter fails every
//! step, one wrong workspace per step fails with its message, bad query files
//! name file:line:col and change nothing, and `grade` reports are stable.

mod common;
#[path = "nosql/mod.rs"]
mod nosql;

use datalab_tui::panels::prompt::PromptPanel;
use nosql::*;

const LAB: &str = "mongodb";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solution_passes_every_step() {
    solution_passes(&lab(LAB), 7, "msol").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starter_fails_every_step() {
    starter_fails(&lab(LAB), "mst").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_wrong_workspace_per_step_fails_with_its_message() {
    let lab = lab(LAB);
    let cases: [(usize, &str, &str, &str); 7] = [
        (
            0,
            "load.sh",
            "datalab mongo import users --file data/users.json --drop\n",
            "lab.tweets has 0 documents, expected 2400",
        ),
        (
            1,
            "find.json",
            r#"{"filter": {"lang": "it", "day": "2024-03-05"}, "projection": {"_id": 0, "text": 1, "user": 1, "likes": 1}, "sort": {"likes": 1}, "limit": 10}"#,
            "result 1 is",
        ),
        (
            2,
            "update_tweets.json",
            r#"[{"filter": {"_id": 1000042}, "update": {"$inc": {"likes": 1}, "$push": {"hashtags": "nosql"}}}, {"filter": {"place.city": "Milan"}, "update": {"$set": {"place.city": "Milano"}}}]"#,
            "matching {\"place.city\":\"Milan\"}, expected 0",
        ),
        (
            3,
            "index.json",
            r#"{"lang": 1}"#,
            "no index on tweets starts with [\"user\"]",
        ),
        (
            4,
            "top_hashtags.json",
            r#"[{"$match": {"day": "2024-03-05"}}, {"$unwind": "$hashtags"}, {"$group": {"_id": "$hashtags", "count": {"$sum": 1}}}, {"$sort": {"count": -1}}]"#,
            "documents, expected 5",
        ),
        (
            5,
            "lookup.json",
            r#"[{"$sort": {"likes": -1}}, {"$limit": 5}, {"$lookup": {"from": "users", "localField": "_id", "foreignField": "_id", "as": "author"}}]"#,
            "the $lookup joins from",
        ),
        (
            6,
            "validator.json",
            r#"{"$jsonSchema": {"bsonType": "object", "required": ["name", "email"]}}"#,
            "bad document",
        ),
    ];
    wrong_files_fail(&lab, "mw", &cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_query_files_say_file_line_col_and_change_nothing() {
    let lab = lab(LAB);
    let ws = workspace(&lab, "solution");
    std::fs::write(
        ws.path().join("find.json"),
        "{\n  \"filter\": {\"lang\": \"it\",},\n  \"limit\": 10\n}\n",
    )
    .unwrap();
    // The first update is fine, the second is broken: neither may run.
    std::fs::write(
        ws.path().join("update_tweets.json"),
        "[\n  {\"filter\": {\"_id\": 1000042}, \"update\": {\"$inc\": {\"likes\": 1}}},\n  {\"filter\": {\"place.city\": \"Milan\"} \"update\": {}}\n]\n",
    )
    .unwrap();
    let ns = fresh_namespace("mbad");
    let g = Grader::new(&lab, ws.path(), ns.clone());
    let r = g.up_to(2).await;
    let find = failure(&r[1]);
    assert!(find.starts_with("find.json:2:"), "{find}");
    let upd = failure(&r[2]);
    assert!(upd.starts_with("update_tweets.json:3:"), "{upd}");
    // The console refused the whole file: tweet 1000042 still has its 17 likes.
    let (code, out, err) = datalab(
        &[
            "mongo",
            "find",
            "tweets",
            r#"{"filter": {"_id": 1000042}, "projection": {"likes": 1}}"#,
            "--json",
        ],
        ws.path(),
        &ns,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"likes\":17"), "{out}");
    let (code, _, err) = datalab(
        &["mongo", "update", "tweets", "--file", "update_tweets.json"],
        ws.path(),
        &ns,
    );
    assert_eq!(code, 1);
    assert!(err.contains("update_tweets.json:3:"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grade_reports_one_junit_case_per_check_and_the_same_result_twice() {
    let lab = lab(LAB);
    let content = content_dir(&lab);
    let ws = workspace(&lab, "solution");
    let (code, xml) = grade_cli(content.path(), LAB, ws.path(), "junit");
    assert_eq!(code, 0, "{xml}");
    let checks: usize = lab.def.steps.iter().map(|s| s.checks.len()).sum();
    assert_eq!(xml.matches("<testcase ").count(), checks, "{xml}");
    let statuses = |json: &str| -> Vec<(String, String)> {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["check"].to_string(), c["status"].to_string()))
            .collect()
    };
    let starter = workspace(&lab, "starter");
    let (c1, j1) = grade_cli(content.path(), LAB, starter.path(), "json");
    let (c2, j2) = grade_cli(content.path(), LAB, starter.path(), "json");
    assert_eq!((c1, c2), (1, 1));
    assert_eq!(statuses(&j1), statuses(&j2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_query_panel_shows_finds_pipelines_and_indexes_as_tables() {
    use datalab_clients::mongo;
    use datalab_services::{ServiceKind, UpOptions};
    use datalab_tui::panel::PanelCtx;
    use datalab_tui::panels::mongo::MongoPanel;
    use mongodb::bson::doc;
    let lab = lab(LAB);
    let services = common::services();
    let ep = services
        .ensure(ServiceKind::Mongodb, &UpOptions::default())
        .await
        .expect("MongoDB");
    let ns = fresh_namespace("mpanel");
    let db = ns.database("lab");
    let m = mongo::connect(ep.mongodb_uri(), std::time::Duration::from_secs(10))
        .await
        .unwrap();
    m.insert_many(
        &db,
        "tweets",
        vec![
            doc! {"_id": 1, "lang": "en", "user": "ada", "likes": 5, "place": {"city": "Milano"}},
            doc! {"_id": 2, "lang": "it", "user": "bob", "likes": 2},
            doc! {"_id": 3, "lang": "en", "user": "cy", "likes": 9},
        ],
    )
    .await
    .unwrap();
    let ws = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Handle::current();
    let ctx = PanelCtx {
        lab: &lab,
        services: &services,
        namespace: &ns,
        runtime: &rt,
        workspace: ws.path(),
        step: 0,
        checking: false,
    };
    let mut p = MongoPanel::new();
    let busy = |p: &MongoPanel| p.busy();

    panel_line(
        &mut p,
        &ctx,
        r#"find tweets {"lang": "en"} --limit 5"#,
        busy,
    )
    .await;
    let t = p.table().unwrap_or_else(|| panic!("{:?}", p.error()));
    assert_eq!(t.columns, ["_id", "lang", "user", "likes", "place"]);
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.rows[0][4], r#"{"city":"Milano"}"#);
    assert_eq!(t.summary, "2 documents");

    panel_line(
        &mut p,
        &ctx,
        r#"aggregate tweets [{"$group": {"_id": "$lang", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]"#,
        busy,
    )
    .await;
    let t = p.table().unwrap_or_else(|| panic!("{:?}", p.error()));
    assert_eq!(t.columns, ["_id", "n"]);
    assert_eq!(t.rows, [["en", "2"], ["it", "1"]]);

    panel_line(&mut p, &ctx, "indexes tweets", busy).await;
    let t = p.table().unwrap_or_else(|| panic!("{:?}", p.error()));
    let name = t.columns.iter().position(|c| c == "name").unwrap();
    assert!(t.rows.iter().any(|r| r[name] == "_id_"), "{t:?}");

    // A real mongod explains the plan; the native stand-in has no `explain`
    // and the panel says what would show one.
    panel_line(&mut p, &ctx, r#"explain tweets {"user": "ada"}"#, busy).await;
    match (p.table(), p.error()) {
        (Some(t), _) => assert_eq!(t.rows[0][0], "server"),
        (None, Some(e)) => assert!(e.contains("a query plan needs a real mongod"), "{e}"),
        (None, None) => panic!("explain showed neither a plan nor an error"),
    }

    // Bad JSON: where in the line, and nothing runs.
    panel_line(&mut p, &ctx, r#"find tweets {"lang": }"#, busy).await;
    let e = p.error().expect("an error line");
    assert!(e.starts_with("1:22:"), "{e}");
    // A server-side refusal keeps the server's words.
    panel_line(
        &mut p,
        &ctx,
        r#"aggregate tweets [{"$nosuchstage": {}}]"#,
        busy,
    )
    .await;
    let e = p.error().expect("an error line");
    assert!(e.contains("nosuchstage"), "{e}");
    m.drop(&db, "tweets").await.unwrap();
}
