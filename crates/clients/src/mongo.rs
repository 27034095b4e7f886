//! MongoDB for the MongoDB lab: read query files written in MongoDB Extended
//! JSON (what mongosh users write), run them through the official driver with
//! a timeout on every call, and say which server answered (a real `mongod`,
//! datalab's mongo-java-server stand-in or FerretDB, whose gaps the checks
//! must know about).
//!
//! File shapes:
//! - find / explain: `{"filter": {…}, "projection": {…}, "sort": {…}, "limit": n, "skip": n}`
//!   (every key optional; an object with none of these keys is a filter);
//! - aggregate: a pipeline array `[{"$match": …}, …]`;
//! - update: `{"filter": …, "update": …, "upsert": bool, "multi": bool}` or an array of them;
//! - import: a JSON array of documents, or one document a line.

use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, IndexModel};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// An error from reading a query file: `file:line:col: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Parse Extended JSON text (`display` names the file in errors).
pub fn parse_ext_json(text: &str, display: &str) -> Result<Bson, FileError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| FileError {
        file: display.into(),
        line: Some(e.line()),
        column: Some(e.column()),
        message: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or("")
            .to_string(),
    })?;
    to_bson(v, text, display)
}

fn to_bson(v: serde_json::Value, text: &str, display: &str) -> Result<Bson, FileError> {
    Bson::try_from(v).map_err(|e| {
        // Point at the first `$` key the driver could not read, when we can.
        let msg = e.to_string();
        let line = text
            .lines()
            .position(|l| {
                l.contains("\"$date\"") || l.contains("\"$oid\"") || l.contains("\"$numberLong\"")
            })
            .map(|i| i + 1);
        FileError {
            file: display.into(),
            line,
            column: None,
            message: format!("not valid MongoDB Extended JSON: {msg}"),
        }
    })
}

/// Read and parse a query file.
pub fn read_ext_json(path: &Path, display: &str) -> Result<Bson, FileError> {
    let text = std::fs::read_to_string(path).map_err(|e| FileError {
        file: display.into(),
        line: None,
        column: None,
        message: match e.kind() {
            std::io::ErrorKind::NotFound => "the file does not exist".into(),
            _ => e.to_string(),
        },
    })?;
    if text.trim().is_empty() {
        return Err(FileError {
            file: display.into(),
            line: Some(1),
            column: None,
            message: "the file is empty".into(),
        });
    }
    parse_ext_json(&text, display)
}

/// Documents to import: a JSON array, or one document a line.
pub fn read_documents(path: &Path, display: &str) -> Result<Vec<Document>, FileError> {
    let text = std::fs::read_to_string(path).map_err(|e| FileError {
        file: display.into(),
        line: None,
        column: None,
        message: e.to_string(),
    })?;
    let mut out = Vec::new();
    if text.trim_start().starts_with('[') {
        match parse_ext_json(&text, display)? {
            Bson::Array(a) => {
                for (i, d) in a.into_iter().enumerate() {
                    match d {
                        Bson::Document(d) => out.push(d),
                        _ => {
                            return Err(FileError {
                                file: display.into(),
                                line: None,
                                column: None,
                                message: format!("element {i} of the array is not a document"),
                            });
                        }
                    }
                }
            }
            _ => unreachable!("starts with ["),
        }
        return Ok(out);
    }
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        match parse_ext_json(l, display) {
            Ok(Bson::Document(d)) => out.push(d),
            Ok(_) => {
                return Err(FileError {
                    file: display.into(),
                    line: Some(i + 1),
                    column: None,
                    message: "this line is not a document".into(),
                });
            }
            Err(mut e) => {
                e.line = Some(i + 1);
                return Err(e);
            }
        }
    }
    Ok(out)
}

/// A find (or explain) request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FindSpec {
    pub filter: Document,
    pub projection: Option<Document>,
    pub sort: Option<Document>,
    pub limit: Option<i64>,
    pub skip: Option<u64>,
}

const FIND_KEYS: [&str; 5] = ["filter", "projection", "sort", "limit", "skip"];

fn as_doc(b: &Bson, what: &str) -> Result<Document, String> {
    match b {
        Bson::Document(d) => Ok(d.clone()),
        other => Err(format!("`{what}` must be a document, got {other}")),
    }
}

fn as_int(b: &Bson, what: &str) -> Result<i64, String> {
    match b {
        Bson::Int32(i) => Ok(*i as i64),
        Bson::Int64(i) => Ok(*i),
        Bson::Double(f) if f.fract() == 0.0 => Ok(*f as i64),
        other => Err(format!("`{what}` must be a whole number, got {other}")),
    }
}

impl FindSpec {
    pub fn from_bson(b: &Bson) -> Result<FindSpec, String> {
        let d = as_doc(b, "the query")?;
        if !d.keys().any(|k| FIND_KEYS.contains(&k.as_str())) {
            return Ok(FindSpec {
                filter: d,
                ..Default::default()
            });
        }
        if let Some(k) = d.keys().find(|k| !FIND_KEYS.contains(&k.as_str())) {
            return Err(format!(
                "unknown key `{k}`: a query file has filter, projection, sort, limit and skip"
            ));
        }
        Ok(FindSpec {
            filter: match d.get("filter") {
                Some(f) => as_doc(f, "filter")?,
                None => Document::new(),
            },
            projection: d
                .get("projection")
                .map(|p| as_doc(p, "projection"))
                .transpose()?,
            sort: d.get("sort").map(|p| as_doc(p, "sort")).transpose()?,
            limit: d.get("limit").map(|p| as_int(p, "limit")).transpose()?,
            skip: d
                .get("skip")
                .map(|p| as_int(p, "skip").map(|n| n.max(0) as u64))
                .transpose()?,
        })
    }
}

/// An update request.
#[derive(Clone, Debug, PartialEq)]
pub struct UpdateSpec {
    pub filter: Document,
    pub(crate) update: Document,
    pub(crate) upsert: bool,
    pub(crate) multi: bool,
}

impl UpdateSpec {
    /// One update, or an array of them.
    pub fn list_from_bson(b: &Bson) -> Result<Vec<UpdateSpec>, String> {
        let items: Vec<&Bson> = match b {
            Bson::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        let mut out = Vec::new();
        for (i, it) in items.iter().enumerate() {
            let d = as_doc(it, &format!("update {}", i + 1))?;
            for k in d.keys() {
                if !["filter", "update", "upsert", "multi"].contains(&k.as_str()) {
                    return Err(format!(
                        "update {}: unknown key `{k}` (an update has filter, update, upsert, multi)",
                        i + 1
                    ));
                }
            }
            let update = match d.get("update") {
                Some(u) => as_doc(u, "update")?,
                None => return Err(format!("update {} has no `update` document", i + 1)),
            };
            if update.keys().next().is_some_and(|k| !k.starts_with('$')) {
                return Err(format!(
                    "update {}: `update` must use update operators ($set, $inc, $push…), not a whole replacement document",
                    i + 1
                ));
            }
            out.push(UpdateSpec {
                filter: match d.get("filter") {
                    Some(f) => as_doc(f, "filter")?,
                    None => Document::new(),
                },
                update,
                upsert: d.get_bool("upsert").unwrap_or(false),
                multi: d.get_bool("multi").unwrap_or(false),
            });
        }
        Ok(out)
    }
}

/// What an update did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct UpdateOutcome {
    pub matched: u64,
    pub modified: u64,
    pub upserted: bool,
}

/// Which server answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Flavor {
    MongoDb(String),
    /// FerretDB (MongoDB wire protocol on SQLite): no `$lookup`, no
    /// validators, an SQLite plan in `explain`.
    FerretDb(String),
    /// mongo-java-server (datalab's native stand-in, H2 backend): no
    /// `explain`, validators accepted but not kept.
    JavaServer(String),
}

impl Flavor {
    /// Tell the server from its `buildInfo`: FerretDB names itself, a real
    /// mongod always reports its `gitVersion`, mongo-java-server reports
    /// little more than a version.
    pub fn of_build_info(info: &Document) -> Flavor {
        let version = info.get_str("version").unwrap_or("?").to_string();
        if info.contains_key("ferretdbVersion") || info.contains_key("ferretdbFeatures") {
            Flavor::FerretDb(version)
        } else if info.contains_key("gitVersion") {
            Flavor::MongoDb(version)
        } else {
            Flavor::JavaServer(version)
        }
    }

    /// Does `explain` show a MongoDB query plan (stages, documents examined)?
    pub fn explains_plans(&self) -> bool {
        matches!(self, Flavor::MongoDb(_))
    }

    pub fn label(&self) -> String {
        match self {
            Flavor::MongoDb(v) => format!("MongoDB {v}"),
            Flavor::FerretDb(v) => format!("FerretDB (MongoDB {v} wire-compatible, SQLite)"),
            Flavor::JavaServer(v) => {
                format!("mongo-java-server (MongoDB {v} wire-compatible, H2), datalab's stand-in")
            }
        }
    }
}

/// A driver error in a learner's words, keeping the server's own text.
#[derive(Clone, Debug, thiserror::Error)]
pub enum MongoError {
    #[error("MongoDB did not answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach MongoDB at {address}: {reason}")]
    Connect { address: String, reason: String },
    /// The server refused: its code and message.
    #[error("{message} (code {code})")]
    Server { code: i32, message: String },
    #[error("{0}")]
    Other(String),
}

impl MongoError {
    pub fn code(&self) -> Option<i32> {
        match self {
            MongoError::Server { code, .. } => Some(*code),
            _ => None,
        }
    }
    /// The server does not implement this (FerretDB's answer for gaps).
    pub fn not_implemented(&self) -> bool {
        self.code() == Some(238)
    }
}

fn map_err(e: mongodb::error::Error) -> MongoError {
    match e.kind.as_ref() {
        ErrorKind::Command(c) => MongoError::Server {
            code: c.code,
            message: c.message.clone(),
        },
        ErrorKind::Write(WriteFailure::WriteError(w)) => MongoError::Server {
            code: w.code,
            message: w.message.clone(),
        },
        ErrorKind::InsertMany(im) => match im.write_errors.as_ref().and_then(|w| w.first()) {
            Some(w) => MongoError::Server {
                code: w.code,
                message: w.message.clone(),
            },
            None => MongoError::Other(e.to_string()),
        },
        ErrorKind::ServerSelection { message, .. } => MongoError::Connect {
            address: String::new(),
            reason: format!(
                "{} — is it running? (`datalab services status`)",
                message.lines().next().unwrap_or("no server answered")
            ),
        },
        ErrorKind::Io(io) => MongoError::Other(format!(
            "lost the connection to MongoDB ({io}); is it still running? (`datalab services status`)"
        )),
        _ => MongoError::Other(e.to_string()),
    }
}

async fn within<T>(
    t: Duration,
    f: impl std::future::IntoFuture<Output = Result<T, mongodb::error::Error>>,
) -> Result<T, MongoError> {
    match tokio::time::timeout(t, f.into_future()).await {
        Ok(r) => r.map_err(map_err),
        Err(_) => Err(MongoError::Timeout(t)),
    }
}

/// A connection to one server, with a timeout for every call.
#[derive(Clone)]
pub struct Mongo {
    pub(crate) client: Client,
    pub(crate) timeout: Duration,
    pub(crate) uri: String,
}

type Cached = (Client, Flavor);
static CLIENTS: OnceLock<Mutex<HashMap<String, Cached>>> = OnceLock::new();

/// Connect (reusing a client for the life of the process).
pub async fn connect(uri: &str, timeout: Duration) -> Result<Mongo, MongoError> {
    let map = CLIENTS.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some((c, _)) = map.lock().ok().and_then(|m| m.get(uri).cloned()) {
        return Ok(Mongo {
            client: c,
            timeout,
            uri: uri.into(),
        });
    }
    let mut opts = match tokio::time::timeout(timeout, ClientOptions::parse(uri)).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            return Err(MongoError::Connect {
                address: uri.into(),
                reason: e.to_string(),
            });
        }
        Err(_) => return Err(MongoError::Timeout(timeout)),
    };
    opts.server_selection_timeout = Some(timeout);
    opts.connect_timeout = Some(timeout);
    opts.app_name = Some("datalab".into());
    // The client's background tasks run on the driver runtime (see there).
    let client = {
        let _on_drivers = super::driver_runtime().enter();
        Client::with_options(opts)
    }
    .map_err(|e| MongoError::Connect {
        address: uri.into(),
        reason: e.to_string(),
    })?;
    let m = Mongo {
        client: client.clone(),
        timeout,
        uri: uri.into(),
    };
    let flavor = m.detect_flavor().await.map_err(|e| match e {
        MongoError::Connect { reason, .. } => MongoError::Connect {
            address: uri.into(),
            reason,
        },
        other => other,
    })?;
    if let Ok(mut mm) = map.lock() {
        mm.insert(uri.into(), (client, flavor));
    }
    Ok(m)
}

fn cursor_batch(reply: &Document) -> Vec<Document> {
    reply
        .get_document("cursor")
        .ok()
        .and_then(|c| c.get_array("firstBatch").ok())
        .map(|a| a.iter().filter_map(|b| b.as_document().cloned()).collect())
        .unwrap_or_default()
}

impl Mongo {
    /// [`within`], naming this server when it cannot be reached.
    async fn within<T>(
        &self,
        t: Duration,
        f: impl std::future::IntoFuture<Output = Result<T, mongodb::error::Error>>,
    ) -> Result<T, MongoError> {
        within(t, f).await.map_err(|e| match e {
            MongoError::Connect { address, reason } if address.is_empty() => MongoError::Connect {
                address: self.uri.clone(),
                reason,
            },
            other => other,
        })
    }

    async fn detect_flavor(&self) -> Result<Flavor, MongoError> {
        let info = self.command("admin", doc! {"buildInfo": 1}).await?;
        Ok(Flavor::of_build_info(&info))
    }

    /// The server behind this connection.
    pub async fn flavor(&self) -> Result<Flavor, MongoError> {
        if let Some(f) = CLIENTS
            .get()
            .and_then(|m| m.lock().ok())
            .and_then(|m| m.get(&self.uri).map(|e| e.1.clone()))
        {
            return Ok(f);
        }
        self.detect_flavor().await
    }

    pub(crate) async fn command(&self, db: &str, cmd: Document) -> Result<Document, MongoError> {
        self.within(self.timeout, self.client.database(db).run_command(cmd))
            .await
    }

    pub async fn find(
        &self,
        db: &str,
        coll: &str,
        spec: &FindSpec,
    ) -> Result<Vec<Document>, MongoError> {
        let c = self.client.database(db).collection::<Document>(coll);
        let t = self.timeout;
        let fut = async {
            let mut f = c.find(spec.filter.clone());
            if let Some(p) = &spec.projection {
                f = f.projection(p.clone());
            }
            if let Some(s) = &spec.sort {
                f = f.sort(s.clone());
            }
            if let Some(l) = spec.limit {
                f = f.limit(l);
            }
            if let Some(s) = spec.skip {
                f = f.skip(s);
            }
            f.await?.try_collect::<Vec<Document>>().await
        };
        self.within(t, fut).await
    }

    pub async fn aggregate(
        &self,
        db: &str,
        coll: &str,
        pipeline: Vec<Document>,
    ) -> Result<Vec<Document>, MongoError> {
        let c = self.client.database(db).collection::<Document>(coll);
        self.within(self.timeout, async {
            c.aggregate(pipeline)
                .await?
                .try_collect::<Vec<Document>>()
                .await
        })
        .await
    }

    /// `explain` of a find with execution statistics; `hint` forces a plan
    /// (`{"$natural": 1}` = a collection scan).
    pub async fn explain_find(
        &self,
        db: &str,
        coll: &str,
        spec: &FindSpec,
        hint: Option<Bson>,
    ) -> Result<Document, MongoError> {
        let mut find = doc! {"find": coll, "filter": spec.filter.clone()};
        if let Some(p) = &spec.projection {
            find.insert("projection", p.clone());
        }
        if let Some(s) = &spec.sort {
            find.insert("sort", s.clone());
        }
        if let Some(l) = spec.limit {
            find.insert("limit", l);
        }
        if let Some(h) = hint {
            find.insert("hint", h);
        }
        let explain = doc! {"explain": find, "verbosity": "executionStats"};
        match self.command(db, explain).await {
            Err(e) if e.code() == Some(59) => {
                let server = self.flavor().await.map(|f| f.label()).unwrap_or_default();
                Err(MongoError::Other(format!(
                    "{server} has no `explain` command ({e}): a query plan needs a real mongod (the docker provider's mongo:8.0, or a mongod on PATH)"
                )))
            }
            other => other,
        }
    }

    pub async fn indexes(&self, db: &str, coll: &str) -> Result<Vec<Document>, MongoError> {
        match self.command(db, doc! {"listIndexes": coll}).await {
            Ok(r) => Ok(cursor_batch(&r)),
            // NamespaceNotFound: no collection, no indexes
            Err(MongoError::Server { code: 26, .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    pub async fn create_index(
        &self,
        db: &str,
        coll: &str,
        keys: Document,
        name: Option<String>,
        unique: bool,
    ) -> Result<String, MongoError> {
        let c = self.client.database(db).collection::<Document>(coll);
        let opts = IndexOptions::builder()
            .name(name)
            .unique(unique.then_some(true))
            .build();
        let model = IndexModel::builder().keys(keys).options(opts).build();
        self.within(self.timeout, c.create_index(model))
            .await
            .map(|r| r.index_name)
    }

    pub async fn update(
        &self,
        db: &str,
        coll: &str,
        u: &UpdateSpec,
    ) -> Result<UpdateOutcome, MongoError> {
        let c = self.client.database(db).collection::<Document>(coll);
        let r = if u.multi {
            self.within(
                self.timeout,
                c.update_many(u.filter.clone(), u.update.clone())
                    .upsert(u.upsert),
            )
            .await?
        } else {
            self.within(
                self.timeout,
                c.update_one(u.filter.clone(), u.update.clone())
                    .upsert(u.upsert),
            )
            .await?
        };
        Ok(UpdateOutcome {
            matched: r.matched_count,
            modified: r.modified_count,
            upserted: r.upserted_id.is_some(),
        })
    }

    pub async fn insert_many(
        &self,
        db: &str,
        coll: &str,
        docs: Vec<Document>,
    ) -> Result<usize, MongoError> {
        if docs.is_empty() {
            return Ok(0);
        }
        let c = self.client.database(db).collection::<Document>(coll);
        let t = self.timeout * 6;
        self.within(t, c.insert_many(docs))
            .await
            .map(|r| r.inserted_ids.len())
    }

    pub async fn insert_one(&self, db: &str, coll: &str, d: Document) -> Result<(), MongoError> {
        let c = self.client.database(db).collection::<Document>(coll);
        self.within(self.timeout, c.insert_one(d)).await.map(|_| ())
    }

    pub async fn count(&self, db: &str, coll: &str, filter: Document) -> Result<u64, MongoError> {
        let c = self.client.database(db).collection::<Document>(coll);
        self.within(self.timeout, c.count_documents(filter)).await
    }

    /// Drop a collection; one that does not exist is already dropped
    /// (mongo-java-server refuses that with a reply the driver cannot read,
    /// "ns not found" without an error code, so it is not asked).
    pub async fn drop(&self, db: &str, coll: &str) -> Result<(), MongoError> {
        if !self.collections(db).await?.iter().any(|c| c == coll) {
            return Ok(());
        }
        let c = self.client.database(db).collection::<Document>(coll);
        self.within(self.timeout, c.drop()).await
    }

    pub async fn create_collection(
        &self,
        db: &str,
        coll: &str,
        validator: Option<Document>,
    ) -> Result<(), MongoError> {
        let mut cmd = doc! {"create": coll};
        if let Some(v) = validator {
            cmd.insert("validator", v);
            cmd.insert("validationLevel", "strict");
            cmd.insert("validationAction", "error");
        }
        self.command(db, cmd).await.map(|_| ())
    }

    /// The server's `buildInfo` (version, and which server it is).
    pub async fn build_info(&self) -> Result<Document, MongoError> {
        self.command("admin", doc! {"buildInfo": 1}).await
    }

    /// The names of every database on the server.
    pub async fn databases(&self) -> Result<Vec<String>, MongoError> {
        self.within(self.timeout, self.client.list_database_names())
            .await
    }

    /// Drop a whole database.
    pub async fn drop_database(&self, db: &str) -> Result<(), MongoError> {
        self.within(self.timeout, self.client.database(db).drop())
            .await
    }

    /// A collection's options as `listCollections` reports them (where a
    /// kept validator shows); `None` when there is no such collection.
    pub async fn collection_options(
        &self,
        db: &str,
        coll: &str,
    ) -> Result<Option<Document>, MongoError> {
        let cmd = doc! {"listCollections": 1, "filter": {"name": coll}};
        let reply = self.command(db, cmd).await?;
        Ok(cursor_batch(&reply)
            .into_iter()
            .next()
            .map(|c| c.get_document("options").cloned().unwrap_or_default()))
    }

    /// Collection names of a database.
    pub async fn collections(&self, db: &str) -> Result<Vec<String>, MongoError> {
        self.within(
            self.timeout,
            self.client.database(db).list_collection_names(),
        )
        .await
    }
}

/// A document as relaxed Extended JSON.
pub fn to_json(d: &Document) -> serde_json::Value {
    Bson::Document(d.clone()).into_relaxed_extjson()
}

/// The plan stages named in an explain reply (`COLLSCAN`, `IXSCAN`, `FETCH`…)
/// on a real mongod; FerretDB's SQLite plan lines otherwise.
pub fn plan_stages(explain: &Document) -> Vec<String> {
    fn walk(b: &Bson, out: &mut Vec<String>) {
        match b {
            Bson::Document(d) => {
                if let Ok(s) = d.get_str("stage") {
                    out.push(s.to_string());
                }
                for (k, v) in d {
                    if k == "rejectedPlans" {
                        continue;
                    }
                    walk(v, out);
                }
            }
            Bson::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(qp) = explain.get_document("queryPlanner") {
        if let Some(wp) = qp.get("winningPlan") {
            walk(wp, &mut out);
        }
        if let Ok(lines) = qp.get_array("Plan") {
            out.extend(lines.iter().filter_map(|l| l.as_str().map(str::to_string)));
        }
    }
    out
}

/// `executionStats.totalDocsExamined`, when the server reports it.
pub fn docs_examined(explain: &Document) -> Option<i64> {
    let s = explain.get_document("executionStats").ok()?;
    match s.get("totalDocsExamined")? {
        Bson::Int32(i) => Some(*i as i64),
        Bson::Int64(i) => Some(*i),
        Bson::Double(f) => Some(*f as i64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_json_says_line_and_column() {
        let e = parse_ext_json("{\n  \"filter\": {\"lang\": \"it\",}\n}", "find.json").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().starts_with("find.json:2:"), "{e}");
    }

    #[test]
    fn find_files_and_plain_filters() {
        let b = parse_ext_json(
            r#"{"filter": {"day": "2024-03-05"}, "sort": {"likes": -1}, "limit": 3}"#,
            "f",
        )
        .unwrap();
        let s = FindSpec::from_bson(&b).unwrap();
        assert_eq!(s.limit, Some(3));
        let plain =
            FindSpec::from_bson(&parse_ext_json(r#"{"lang": "it"}"#, "f").unwrap()).unwrap();
        assert_eq!(plain.filter, doc! {"lang": "it"});
        let dated = parse_ext_json(r#"{"t": {"$date": "2024-03-05T00:00:00Z"}}"#, "f").unwrap();
        assert!(matches!(
            dated.as_document().unwrap().get("t"),
            Some(Bson::DateTime(_))
        ));
        assert!(
            FindSpec::from_bson(&parse_ext_json(r#"{"filter": {}, "limt": 3}"#, "f").unwrap())
                .is_err()
        );
    }

    #[test]
    fn updates_need_operators() {
        let b = parse_ext_json(
            r#"[{"filter": {"_id": 1}, "update": {"$inc": {"n": 1}}, "upsert": true}]"#,
            "u",
        )
        .unwrap();
        let u = UpdateSpec::list_from_bson(&b).unwrap();
        assert!(u[0].upsert && !u[0].multi);
        let bad = parse_ext_json(r#"{"filter": {"_id": 1}, "update": {"n": 1}}"#, "u").unwrap();
        assert!(
            UpdateSpec::list_from_bson(&bad)
                .unwrap_err()
                .contains("update operators")
        );
    }
}
