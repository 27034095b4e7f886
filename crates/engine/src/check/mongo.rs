//! MongoDB check kinds. Each talks to the real server through the official
//! driver and compares what it finds with the checker's own computation over
//! the lab's trusted data (`ctx.lab_data`), never the learner's copy.
//!
//! Where the server is not a real mongod, the checks tell the truth about
//! it: on datalab's native stand-in (mongo-java-server) aggregation and
//! `$lookup` run for real, but there is no `explain` (the index step grades
//! the index definition and the query's answer and says a plan needs a real
//! mongod) and a `$jsonSchema` validator is accepted and dropped (the
//! validation step sees that in `listCollections`, evaluates the schema
//! itself and says so). FerretDB (an external server) has no `$lookup` and
//! no validators; those steps grade what it can show. On a real MongoDB they
//! run the whole thing.

use super::{Check, CheckContext, Outcome};
use async_trait::async_trait;
use datalab_clients::mongo::{self, FindSpec, Mongo, MongoError, UpdateSpec};
use datalab_content::checks::mongo::*;
use datalab_services::ServiceKind;
use mongodb::bson::{Bson, Document, doc};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

async fn connect(ctx: &CheckContext) -> Result<Mongo, Outcome> {
    let ep = ctx
        .endpoint(ServiceKind::Mongodb)
        .await
        .map_err(Outcome::from)?;
    mongo::connect(ep.mongodb_uri(), ctx.timeout)
        .await
        .map_err(|e| Outcome::error(format!("{e}")))
}

fn server_err(e: MongoError) -> Outcome {
    match e {
        MongoError::Server { .. } => Outcome::fail(format!("the server refused: {e}")),
        other => Outcome::error(format!("{other}")),
    }
}

type DataCache = HashMap<(PathBuf, Option<SystemTime>), Arc<Vec<Value>>>;
static DATA: OnceLock<Mutex<DataCache>> = OnceLock::new();

/// The trusted data file as JSON values, parsed once per process (and again
/// if the file changes).
fn data(ctx: &CheckContext, file: &str) -> Result<Arc<Vec<Value>>, Outcome> {
    let p = ctx.lab_data.join(file);
    let key = (
        p.clone(),
        std::fs::metadata(&p).and_then(|m| m.modified()).ok(),
    );
    let cache = DATA.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(d) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(d);
    }
    let text = std::fs::read_to_string(&p)
        .map_err(|e| Outcome::error(format!("lab data {file} is missing: {e}")))?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(a)) => {
            let a = Arc::new(a);
            if let Ok(mut c) = cache.lock() {
                c.insert(key, a.clone());
            }
            Ok(a)
        }
        _ => Err(Outcome::error(format!(
            "lab data {file} is not a JSON array"
        ))),
    }
}

fn to_bson_doc(v: &Value) -> Result<Document, Outcome> {
    match Bson::try_from(v.clone()) {
        Ok(Bson::Document(d)) => Ok(d),
        _ => Err(Outcome::error(format!("lab.yaml: {v} is not a document"))),
    }
}

/// A dotted path into a JSON value.
pub(crate) fn get_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, k| cur.get(k))
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Object(o) => o
            .get("$numberLong")
            .or_else(|| o.get("$numberInt"))
            .or_else(|| o.get("$numberDouble"))
            .and_then(|s| s.as_str()?.parse().ok()),
        _ => None,
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// The checker's own filter: equality on dotted paths (an array field
/// matches when it contains the value) and `$gt/$gte/$lt/$lte/$in/$ne`.
pub(crate) fn matches(doc: &Value, filter: &Value) -> bool {
    let Some(f) = filter.as_object() else {
        return true;
    };
    f.iter().all(|(path, cond)| {
        let got = get_path(doc, path);
        let eq = |want: &Value| match got {
            Some(Value::Array(a)) => a.iter().any(|x| same(x, want)) || same(got.unwrap(), want),
            Some(g) => same(g, want),
            None => want.is_null(),
        };
        match cond.as_object() {
            Some(ops) if ops.keys().all(|k| k.starts_with('$')) && !ops.is_empty() => {
                ops.iter().all(|(op, arg)| {
                    let g = got.and_then(num);
                    let a = num(arg);
                    match op.as_str() {
                        "$gt" => matches!((g, a), (Some(g), Some(a)) if g > a),
                        "$gte" => matches!((g, a), (Some(g), Some(a)) if g >= a),
                        "$lt" => matches!((g, a), (Some(g), Some(a)) if g < a),
                        "$lte" => matches!((g, a), (Some(g), Some(a)) if g <= a),
                        "$in" => arg.as_array().is_some_and(|xs| xs.iter().any(eq)),
                        "$ne" => !eq(arg),
                        _ => false,
                    }
                })
            }
            _ => eq(cond),
        }
    })
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 160 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(157).map(|(i, _)| i).unwrap_or(s.len())]
        )
    } else {
        s
    }
}

fn read_file_bson(ctx: &CheckContext, file: &str) -> Result<Bson, Outcome> {
    mongo::read_ext_json(&ctx.ws(file), file)
        .map_err(|e| Outcome::fail(e.to_string()).in_file(file))
}

// ---------------------------------------------------------------- count

#[async_trait]
impl Check for MongoCount {
    fn describe(&self) -> String {
        match &self.filter {
            Some(f) => format!(
                "{} has the right number of documents matching {f}",
                self.collection
            ),
            None => format!("{} has the right number of documents", self.collection),
        }
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let m = match connect(ctx).await {
            Ok(m) => m,
            Err(o) => return o,
        };
        let want = match (self.equals, &self.data) {
            (Some(n), _) => n,
            (None, Some(file)) => match data(ctx, file) {
                Ok(d) => {
                    let f = self.data_filter.as_ref().or(self.filter.as_ref());
                    d.iter().filter(|x| f.is_none_or(|f| matches(x, f))).count() as u64
                }
                Err(o) => return o,
            },
            (None, None) => return Outcome::error("lab.yaml: mongo_count needs equals or data"),
        };
        let filter = match &self.filter {
            Some(f) => match to_bson_doc(f) {
                Ok(d) => d,
                Err(o) => return o,
            },
            None => Document::new(),
        };
        let db = ctx.namespace.database(&self.db);
        match m.count(&db, &self.collection, filter).await {
            Ok(n) if n == want => Outcome::pass(format!("{} has {n} documents", self.collection)),
            Ok(n) => {
                let what = match &self.filter {
                    Some(f) => format!("documents matching {f}"),
                    None => "documents".into(),
                };
                let o = Outcome::fail(format!(
                    "{}.{} has {n} {what}, expected {want}{}",
                    self.db,
                    self.collection,
                    if n == 0 && self.filter.is_none() {
                        " — has the step's command imported the data into the database `lab`?"
                    } else {
                        ""
                    }
                ));
                match &self.file {
                    Some(f) => o.in_file(f),
                    None => o,
                }
            }
            Err(e) => server_err(e),
        }
    }
}

// ---------------------------------------------------------------- find

fn cmp_by(a: &Value, b: &Value, sort: &[(String, i32)]) -> std::cmp::Ordering {
    for (f, dir) in sort {
        let (x, y) = (get_path(a, f), get_path(b, f));
        let o = match (x.and_then(num), y.and_then(num)) {
            (Some(p), Some(q)) => p.partial_cmp(&q).unwrap_or(std::cmp::Ordering::Equal),
            _ => x.map(|v| v.to_string()).cmp(&y.map(|v| v.to_string())),
        };
        let o = if *dir < 0 { o.reverse() } else { o };
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    std::cmp::Ordering::Equal
}

fn project(v: &Value, fields: &[String]) -> Value {
    let mut m = serde_json::Map::new();
    for f in fields {
        if let Some(x) = get_path(v, f) {
            m.insert(f.clone(), x.clone());
        }
    }
    Value::Object(m)
}

#[async_trait]
impl Check for MongoFind {
    fn describe(&self) -> String {
        format!(
            "{} finds the right {} documents",
            self.file, self.collection
        )
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let b = match read_file_bson(ctx, &self.file) {
            Ok(b) => b,
            Err(o) => return o,
        };
        let spec = match FindSpec::from_bson(&b) {
            Ok(s) => s,
            Err(e) => return Outcome::fail(format!("{}: {e}", self.file)).in_file(&self.file),
        };
        let all = match data(ctx, &self.data) {
            Ok(d) => d,
            Err(o) => return o,
        };
        let mut want: Vec<&Value> = all.iter().filter(|d| matches(d, &self.where_)).collect();
        want.sort_by(|a, b| cmp_by(a, b, &self.sort));
        want.truncate(self.limit);
        let m = match connect(ctx).await {
            Ok(m) => m,
            Err(o) => return o,
        };
        let db = ctx.namespace.database(&self.db);
        let got = match m.find(&db, &self.collection, &spec).await {
            Ok(g) => g,
            Err(e) => return server_err(e).in_file(&self.file),
        };
        let got: Vec<Value> = got.iter().map(mongo::to_json).collect();
        let fail = |msg: String| Outcome::fail(msg).in_file(&self.file);
        if got.len() != want.len() {
            return fail(format!(
                "{} returned {} documents, expected {} (the {} the question asks for)",
                self.file,
                got.len(),
                want.len(),
                self.limit
            ));
        }
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            if let Some(why) = wrong_row(self, i + 1, g, w) {
                return fail(why);
            }
        }
        Outcome::pass(format!(
            "{} returned the {} expected documents in order",
            self.file,
            want.len()
        ))
    }
}

/// Why result `n` (from 1) of a find check is not the expected document
/// `want`: fields the projection should have dropped, or other values.
fn wrong_row(check: &MongoFind, n: usize, got: &Value, want: &Value) -> Option<String> {
    let wanted = |k: &String| {
        check
            .fields
            .iter()
            .any(|f| f == k || f.starts_with(&format!("{k}.")))
    };
    let keys = got
        .as_object()
        .map(|o| o.keys().cloned().collect::<Vec<_>>());
    let extra: Vec<String> = keys
        .unwrap_or_default()
        .into_iter()
        .filter(|k| !wanted(k))
        .collect();
    if !extra.is_empty() {
        let id = if extra.iter().any(|k| k == "_id") {
            " (_id is included unless you exclude it with \"_id\": 0)"
        } else {
            ""
        };
        return Some(format!(
            "result {n} has fields {extra:?} that were not asked for; the projection should keep only {:?}{id}",
            check.fields
        ));
    }
    let (gp, wp) = (project(got, &check.fields), project(want, &check.fields));
    let equal = check
        .fields
        .iter()
        .all(|f| match (get_path(&gp, f).or(gp.get(f)), wp.get(f)) {
            (Some(a), Some(b)) => same(a, b),
            (None, None) => true,
            _ => false,
        });
    let sort: Vec<String> = check
        .sort
        .iter()
        .map(|(f, d)| format!("{f}: {d}"))
        .collect();
    (!equal).then(|| {
        format!(
            "result {n} is {}, expected {} — check the filter, the sort ({}) and the limit",
            show(got),
            show(&wp),
            sort.join(", ")
        )
    })
}

// ---------------------------------------------------------------- document

#[async_trait]
impl Check for MongoDocument {
    fn describe(&self) -> String {
        format!("{} document {} was updated", self.collection, self.id)
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        if let Err(o) = read_file_bson(ctx, &self.file).and_then(|b| {
            UpdateSpec::list_from_bson(&b)
                .map_err(|e| Outcome::fail(format!("{}: {e}", self.file)).in_file(&self.file))
        }) {
            return o;
        }
        let m = match connect(ctx).await {
            Ok(m) => m,
            Err(o) => return o,
        };
        let id = match Bson::try_from(self.id.clone()) {
            Ok(b) => b,
            Err(e) => return Outcome::error(format!("lab.yaml: bad id: {e}")),
        };
        let db = ctx.namespace.database(&self.db);
        let spec = FindSpec {
            filter: doc! {"_id": id},
            ..Default::default()
        };
        let got = match m.find(&db, &self.collection, &spec).await {
            Ok(g) => g,
            Err(e) => return server_err(e),
        };
        let fail = |msg: String| Outcome::fail(msg).in_file(&self.file);
        let Some(g) = got.first().map(mongo::to_json) else {
            return fail(format!(
                "there is no document with _id {} in {}",
                self.id, self.collection
            ));
        };
        for (f, want) in &self.equals {
            match get_path(&g, f) {
                Some(v) if same(v, want) => {}
                other => {
                    return fail(format!(
                        "document {}: `{f}` is {}, expected {want}",
                        self.id,
                        other.map(show).unwrap_or_else(|| "missing".into())
                    ));
                }
            }
        }
        if !self.delta.is_empty() {
            let base = match &self.data {
                Some(file) => match data(ctx, file) {
                    Ok(d) => d
                        .iter()
                        .find(|x| x.get("_id").is_some_and(|i| same(i, &self.id)))
                        .cloned(),
                    Err(o) => return o,
                },
                None => None,
            };
            let Some(base) = base else {
                return Outcome::error(
                    "lab.yaml: mongo_document with delta needs data holding the document",
                );
            };
            for (f, d) in &self.delta {
                let before = get_path(&base, f).and_then(num).unwrap_or(0.0);
                let now = get_path(&g, f).and_then(num);
                if now != Some(before + d) {
                    return fail(format!(
                        "document {}: `{f}` is {}, expected {} ({} in the data, then {:+})",
                        self.id,
                        now.map(|n| n.to_string())
                            .unwrap_or_else(|| "missing".into()),
                        before + d,
                        before,
                        d
                    ));
                }
            }
        }
        for (f, want) in &self.contains {
            match get_path(&g, f) {
                Some(Value::Array(a)) if a.iter().any(|x| same(x, want)) => {}
                other => {
                    return fail(format!(
                        "document {}: `{f}` is {}, expected an array containing {want}",
                        self.id,
                        other.map(show).unwrap_or_else(|| "missing".into())
                    ));
                }
            }
        }
        Outcome::pass(format!("document {} is as expected", self.id))
    }
}

// ---------------------------------------------------------------- index

#[async_trait]
impl Check for MongoIndex {
    fn describe(&self) -> String {
        format!(
            "an index on {} serves the query {}",
            self.collection, self.query
        )
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let b = match read_file_bson(ctx, &self.file) {
            Ok(b) => b,
            Err(o) => return o,
        };
        let keys = match b {
            Bson::Document(d) if d.contains_key("keys") => {
                d.get_document("keys").cloned().unwrap_or_default()
            }
            Bson::Document(d) => d,
            _ => {
                return Outcome::fail(format!(
                    "{}: index keys must be a document like {{\"field\": 1}}",
                    self.file
                ))
                .in_file(&self.file);
            }
        };
        let m = match connect(ctx).await {
            Ok(m) => m,
            Err(o) => return o,
        };
        let db = ctx.namespace.database(&self.db);
        let idx = match m.indexes(&db, &self.collection).await {
            Ok(i) => i,
            Err(e) => return server_err(e),
        };
        let fail = |msg: String| Outcome::fail(msg).in_file(&self.file);
        let names: Vec<String> = idx
            .iter()
            .map(|d| d.get_str("name").unwrap_or("?").to_string())
            .collect();
        let serving = idx.iter().find(|d| {
            let k: Vec<String> = d
                .get_document("key")
                .map(|k| k.keys().cloned().collect())
                .unwrap_or_default();
            k.len() >= self.prefix.len() && k.iter().zip(&self.prefix).all(|(a, b)| a == b)
        });
        let Some(serving) = serving else {
            return fail(format!(
                "no index on {} starts with {:?} (indexes: {}); {} holds {} — create it with `datalab mongo indexes {} --create --file {}`",
                self.collection,
                self.prefix,
                names.join(", "),
                self.file,
                Bson::Document(keys).into_relaxed_extjson(),
                self.collection,
                self.file
            ));
        };
        let index_name = serving.get_str("name").unwrap_or("?").to_string();
        let spec =
            match FindSpec::from_bson(&Bson::try_from(self.query.clone()).unwrap_or(Bson::Null)) {
                Ok(s) => s,
                Err(e) => return Outcome::error(format!("lab.yaml: bad query: {e}")),
            };
        let flavor = m
            .flavor()
            .await
            .unwrap_or(mongo::Flavor::MongoDb("?".into()));
        if !flavor.explains_plans() {
            let done = format!("index {index_name} starts with {:?}", self.prefix);
            return index_without_plan(self, ctx, &m, &db, &spec, done, &flavor).await;
        }
        let after = match m.explain_find(&db, &self.collection, &spec, None).await {
            Ok(e) => e,
            Err(e) => return server_err(e),
        };
        let stages = mongo::plan_stages(&after);
        let before = m
            .explain_find(
                &db,
                &self.collection,
                &spec,
                Some(Bson::Document(doc! {"$natural": 1})),
            )
            .await
            .ok();
        let before_n = before.as_ref().and_then(mongo::docs_examined);
        let after_n = mongo::docs_examined(&after);
        if !stages.iter().any(|s| s == "IXSCAN") {
            return fail(format!(
                "explain of {} shows {} — no IXSCAN: the query does not use an index",
                self.query,
                stages.join(" → ")
            ));
        }
        match (before_n, after_n) {
            (Some(b), Some(a)) if a < b => Outcome::pass(format!(
                "explain shows {} via {index_name}: {a} documents examined instead of {b} with a collection scan",
                stages.join(" → ")
            )),
            (b, a) => fail(format!(
                "explain shows IXSCAN but totalDocsExamined did not drop (collection scan: {:?}, with the index: {:?})",
                b, a
            )),
        }
    }
}

/// The index step on a server that shows no MongoDB query plan (datalab's stand-in has
/// no `explain`; FerretDB shows SQLite's): the index definition (already
/// graded: `done`) and the query's answer against the trusted data.
async fn index_without_plan(
    check: &MongoIndex,
    ctx: &CheckContext,
    m: &Mongo,
    db: &str,
    spec: &FindSpec,
    done: String,
    flavor: &mongo::Flavor,
) -> Outcome {
    let got = match m.find(db, &check.collection, spec).await {
        Ok(g) => g,
        Err(e) => return server_err(e),
    };
    let got: Vec<Value> = got.iter().map(mongo::to_json).collect();
    let answer = match &check.data {
        Some(file) => match index_query_answer(check, ctx, file, &got) {
            Ok(a) => a,
            Err(o) => return o,
        },
        None => format!("the query {} runs", check.query),
    };
    Outcome::pass(format!(
        "{done} and {answer}. The server is {}, which shows no MongoDB query plan, so IXSCAN and the documents examined were not checked: a plan needs a real mongod (the docker provider's mongo:8.0, or a mongod on PATH)",
        flavor.label()
    ))
}

/// `got` is what the trusted data says the query returns: the same
/// documents, in the query's sort order.
fn index_query_answer(
    check: &MongoIndex,
    ctx: &CheckContext,
    file: &str,
    got: &[Value],
) -> Result<String, Outcome> {
    let all = data(ctx, file)?;
    let filter = check.query.get("filter").cloned().unwrap_or(Value::Null);
    let sort: Vec<(String, i32)> = (check.query.get("sort").and_then(Value::as_object))
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(1) as i32))
                .collect()
        })
        .unwrap_or_default();
    let ids = |docs: &mut dyn Iterator<Item = &Value>| -> Vec<String> {
        let mut ids: Vec<String> = docs
            .filter_map(|d| d.get("_id"))
            .map(Value::to_string)
            .collect();
        ids.sort();
        ids
    };
    let want = ids(&mut all
        .iter()
        .filter(|d| filter.is_null() || matches(d, &filter)));
    let have = ids(&mut got.iter());
    let sorted = got.windows(2).all(|w| cmp_by(&w[0], &w[1], &sort).is_le());
    if want != have || !sorted {
        return Err(Outcome::fail(format!(
                "with the index in place the query {} returned {} documents{}, expected the {} the data holds",
                check.query,
                got.len(),
                if sorted { "" } else { " out of order" },
                want.len()
            ))
            .in_file(&check.file));
    }
    Ok(format!(
        "the query {} returns the right {} documents in order",
        check.query,
        got.len()
    ))
}

// ---------------------------------------------------------------- aggregation

fn read_pipeline(ctx: &CheckContext, file: &str) -> Result<Vec<Document>, Outcome> {
    match read_file_bson(ctx, file)? {
        Bson::Array(a) => a
            .into_iter()
            .enumerate()
            .map(|(i, s)| match s {
                Bson::Document(d) => Ok(d),
                _ => Err(
                    Outcome::fail(format!("{file}: stage {} is not a document", i + 1))
                        .in_file(file),
                ),
            })
            .collect(),
        _ => Err(Outcome::fail(format!(
            "{file}: a pipeline is an array of stages: [{{\"$match\": …}}, …]"
        ))
        .in_file(file)),
    }
}

#[async_trait]
impl Check for MongoTopValues {
    fn describe(&self) -> String {
        format!(
            "{} returns the top {} {} of {}",
            self.file, self.limit, self.unwind, self.match_
        )
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let pipeline = match read_pipeline(ctx, &self.file) {
            Ok(p) => p,
            Err(o) => return o,
        };
        let all = match data(ctx, &self.data) {
            Ok(d) => d,
            Err(o) => return o,
        };
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        for d in all.iter().filter(|d| matches(d, &self.match_)) {
            if let Some(Value::Array(a)) = get_path(d, &self.unwind) {
                for v in a {
                    *counts
                        .entry(
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string()),
                        )
                        .or_default() += 1;
                }
            }
        }
        let mut ranked: Vec<(String, i64)> = counts.clone().into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(self.limit);
        let m = match connect(ctx).await {
            Ok(m) => m,
            Err(o) => return o,
        };
        let db = ctx.namespace.database(&self.db);
        let got = match m.aggregate(&db, &self.collection, pipeline).await {
            Ok(g) => g,
            Err(e) => return server_err(e).in_file(&self.file),
        };
        let fail = |msg: String| Outcome::fail(msg).in_file(&self.file);
        let expected = ranked
            .iter()
            .map(|(t, n)| format!("{t} ({n})"))
            .collect::<Vec<_>>()
            .join(", ");
        if got.len() != ranked.len() {
            return fail(format!(
                "{} returned {} documents, expected {}: {expected}",
                self.file,
                got.len(),
                ranked.len()
            ));
        }
        for (i, g) in got.iter().enumerate() {
            let j = mongo::to_json(g);
            let tag = match j.get("_id") {
                Some(Value::String(s)) => s.clone(),
                other => {
                    return fail(format!(
                        "result {} has _id {}, expected the {} value itself as _id (group by \"${}\")",
                        i + 1,
                        other.map(show).unwrap_or_else(|| "missing".into()),
                        self.unwind,
                        self.unwind
                    ));
                }
            };
            let n = j.as_object().and_then(|o| {
                o.iter()
                    .filter(|(k, _)| *k != "_id")
                    .find_map(|(_, v)| num(v))
            });
            let Some(n) = n else {
                return fail(format!(
                    "result {} ({}) has no count field: add one with {{\"$sum\": 1}}",
                    i + 1,
                    show(&j)
                ));
            };
            let truth = counts.get(&tag).copied().unwrap_or(0);
            if n as i64 != truth || truth != ranked[i].1 {
                return fail(format!(
                    "result {} is {tag} with {n}, expected {} with {} (top {}: {expected})",
                    i + 1,
                    ranked[i].0,
                    ranked[i].1,
                    self.limit
                ));
            }
        }
        Outcome::pass(format!("top {}: {expected}", self.limit))
    }
}

// ---------------------------------------------------------------- $lookup

#[async_trait]
impl Check for MongoLookup {
    fn describe(&self) -> String {
        format!(
            "{} joins {} to {} with $lookup",
            self.file, self.collection, self.from
        )
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let pipeline = match read_pipeline(ctx, &self.file) {
            Ok(p) => p,
            Err(o) => return o,
        };
        let fail = |msg: String| Outcome::fail(msg).in_file(&self.file);
        let Some(li) = pipeline.iter().position(|s| s.contains_key("$lookup")) else {
            return fail(format!("{} has no $lookup stage", self.file));
        };
        let lk = pipeline[li]
            .get_document("$lookup")
            .cloned()
            .unwrap_or_default();
        let field = |k: &str| lk.get_str(k).unwrap_or("").to_string();
        if field("from") != self.from
            || field("localField") != self.local_field
            || field("foreignField") != self.foreign_field
        {
            return fail(format!(
                "the $lookup joins from {:?} on localField {:?} = foreignField {:?}; expected from {:?}, localField {:?}, foreignField {:?}",
                field("from"),
                field("localField"),
                field("foreignField"),
                self.from,
                self.local_field,
                self.foreign_field
            ));
        }
        let tweets = match data(ctx, &self.data) {
            Ok(d) => d,
            Err(o) => return o,
        };
        let users = match data(ctx, &self.from_data) {
            Ok(d) => d,
            Err(o) => return o,
        };
        let mut want: Vec<&Value> = tweets.iter().collect();
        want.sort_by(|a, b| cmp_by(a, b, &self.sort));
        want.truncate(self.limit);
        let m = match connect(ctx).await {
            Ok(m) => m,
            Err(o) => return o,
        };
        let db = ctx.namespace.database(&self.db);
        let got = match m.aggregate(&db, &self.collection, pipeline.clone()).await {
            Ok(g) => g,
            Err(e) if e.not_implemented() => {
                // FerretDB: run what precedes $lookup, check it picks the right documents.
                let flavor = m.flavor().await.map(|f| f.label()).unwrap_or_default();
                let before = match m
                    .aggregate(&db, &self.collection, pipeline[..li].to_vec())
                    .await
                {
                    Ok(g) => g,
                    Err(e) => return server_err(e).in_file(&self.file),
                };
                let ids: Vec<Value> = before
                    .iter()
                    .map(mongo::to_json)
                    .filter_map(|d| d.get("_id").cloned())
                    .collect();
                let want_ids: Vec<Value> =
                    want.iter().filter_map(|d| d.get("_id").cloned()).collect();
                if ids != want_ids {
                    return fail(format!(
                        "the stages before $lookup select {} documents ({}), expected the {} tweets with the most {} ({})",
                        ids.len(),
                        ids.iter()
                            .map(|v| v.to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                        self.limit,
                        self.sort.first().map(|s| s.0.as_str()).unwrap_or(""),
                        want_ids
                            .iter()
                            .map(|v| v.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                return Outcome::pass(format!(
                    "the stages before $lookup select the right {} tweets and the $lookup stage joins {} on {} = {}. The server is {}, which does not implement $lookup (it said: {e}), so the join itself was not run; on a real MongoDB this check runs your whole pipeline",
                    self.limit, self.from, self.local_field, self.foreign_field, flavor
                ));
            }
            Err(e) => return server_err(e).in_file(&self.file),
        };
        if got.len() != want.len() {
            return fail(format!(
                "{} returned {} documents, expected {}",
                self.file,
                got.len(),
                want.len()
            ));
        }
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let j = mongo::to_json(g);
            let uid = get_path(w, &self.local_field)
                .cloned()
                .unwrap_or(Value::Null);
            let user = users
                .iter()
                .find(|u| get_path(u, &self.foreign_field).is_some_and(|x| same(x, &uid)));
            let expect = user
                .and_then(|u| get_path(u, &self.show))
                .cloned()
                .unwrap_or(Value::Null);
            let text = j.to_string();
            let needle = expect.to_string();
            if !text.contains(&needle) {
                return fail(format!(
                    "result {} is {}, expected it to carry the author's {} {needle} (from {})",
                    i + 1,
                    show(&j),
                    self.show,
                    self.from
                ));
            }
        }
        Outcome::pass(format!(
            "{} joined {} results with their authors",
            self.file,
            got.len()
        ))
    }
}

// ---------------------------------------------------------------- $jsonSchema

/// Evaluate the subset of `$jsonSchema` the lab teaches. Err = why rejected.
pub(crate) fn json_schema_ok(schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let Some(s) = schema.as_object() else {
        return Ok(());
    };
    let here = if at.is_empty() {
        "the document".to_string()
    } else {
        format!("`{at}`")
    };
    let types: Vec<String> = match s.get("bsonType").or_else(|| s.get("type")) {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => vec![],
    };
    if !types.is_empty() {
        let ok = types.iter().any(|t| match t.as_str() {
            "object" => v.is_object(),
            "string" => v.is_string(),
            "array" => v.is_array(),
            "bool" | "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            "int" | "long" | "integer" => v.as_i64().is_some() || v.as_u64().is_some(),
            "double" | "number" | "decimal" => v.is_number(),
            "date" => v.get("$date").is_some(),
            _ => true,
        });
        if !ok {
            return Err(format!("{here} is {v}, not of type {}", types.join("/")));
        }
    }
    if let Some(Value::Array(req)) = s.get("required") {
        for r in req.iter().filter_map(|r| r.as_str()) {
            if v.get(r).is_none() {
                return Err(format!("{here} lacks the required field `{r}`"));
            }
        }
    }
    if let Some(Value::Array(e)) = s.get("enum")
        && !e.iter().any(|x| same(x, v))
    {
        return Err(format!(
            "{here} is {v}, not one of {}",
            Value::Array(e.clone())
        ));
    }
    if let Some(n) = num(v) {
        if let Some(min) = s.get("minimum").and_then(num)
            && n < min
        {
            return Err(format!("{here} is {n}, below the minimum {min}"));
        }
        if let Some(max) = s.get("maximum").and_then(num)
            && n > max
        {
            return Err(format!("{here} is {n}, above the maximum {max}"));
        }
    }
    if let Some(st) = v.as_str() {
        let len = st.chars().count() as f64;
        if s.get("minLength").and_then(num).is_some_and(|m| len < m) {
            return Err(format!("{here} is shorter than minLength"));
        }
        if s.get("maxLength").and_then(num).is_some_and(|m| len > m) {
            return Err(format!("{here} is longer than maxLength"));
        }
        if let Some(p) = s.get("pattern").and_then(|p| p.as_str())
            && let Ok(re) = regex::Regex::new(p)
            && !re.is_match(st)
        {
            return Err(format!("{here} ({st:?}) does not match the pattern {p}"));
        }
    }
    if let (Some(Value::Object(props)), Some(obj)) = (s.get("properties"), v.as_object()) {
        for (k, sub) in props {
            if let Some(x) = obj.get(k) {
                json_schema_ok(
                    sub,
                    x,
                    &if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}.{k}")
                    },
                )?;
            }
        }
        if s.get("additionalProperties") == Some(&Value::Bool(false)) {
            for k in obj.keys() {
                if !props.contains_key(k) {
                    return Err(format!(
                        "{here} has the field `{k}`, which the schema does not allow"
                    ));
                }
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            json_schema_ok(items, x, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// The validation step where the server keeps no validator: datalab evaluates the schema on
/// the good and bad documents itself, and says why (`server`).
fn schema_evaluated_here(check: &MongoValidator, validator: Document, server: &str) -> Outcome {
    let fail = |msg: String| Outcome::fail(msg).in_file(&check.file);
    let schema = Bson::Document(validator).into_relaxed_extjson();
    let schema = &schema["$jsonSchema"];
    for g in &check.good {
        if let Err(why) = json_schema_ok(schema, g, "") {
            return fail(format!(
                "the validator rejects a good document {}: {why}",
                show(g)
            ));
        }
    }
    if let Some(bd) = check
        .bad
        .iter()
        .find(|bd| json_schema_ok(schema, bd, "").is_ok())
    {
        return fail(format!(
            "the validator accepts the bad document {}",
            show(bd)
        ));
    }
    Outcome::pass(format!(
        "your $jsonSchema accepts the good documents and rejects the bad ones. {server}, so datalab evaluated the schema itself; on a real MongoDB the check inserts the documents"
    ))
}

#[async_trait]
impl Check for MongoValidator {
    fn describe(&self) -> String {
        format!(
            "the $jsonSchema validator in {} rejects a bad document",
            self.file
        )
    }
    async fn run(&self, ctx: &CheckContext) -> Outcome {
        let b = match read_file_bson(ctx, &self.file) {
            Ok(b) => b,
            Err(o) => return o,
        };
        let fail = |msg: String| Outcome::fail(msg).in_file(&self.file);
        let validator = match &b {
            Bson::Document(d) if d.contains_key("$jsonSchema") => d.clone(),
            _ => {
                return fail(format!(
                    "{} must hold a validator: {{\"$jsonSchema\": {{…}}}}",
                    self.file
                ));
            }
        };
        let m = match connect(ctx).await {
            Ok(m) => m,
            Err(o) => return o,
        };
        let db = ctx.namespace.database(&self.db);
        let _ = m.drop(&db, &self.collection).await;
        let created = m
            .create_collection(&db, &self.collection, Some(validator.clone()))
            .await;
        let not_enforced = match created {
            Ok(()) => match m.collection_options(&db, &self.collection).await {
                Ok(Some(o)) if o.contains_key("validator") => None,
                Ok(_) => Some("accepted the validator but did not keep it (listCollections shows no validator on the collection)".to_string()),
                Err(e) => return server_err(e),
            },
            Err(e) if e.not_implemented() => {
                Some(format!("does not enforce validators (it said: {e})"))
            }
            Err(e) => return server_err(e).in_file(&self.file),
        };
        if let Some(why) = not_enforced {
            let flavor = m.flavor().await.map(|f| f.label()).unwrap_or_default();
            return schema_evaluated_here(
                self,
                validator,
                &format!("The server is {flavor}, which {why}"),
            );
        }
        for g in &self.good {
            let d = match to_bson_doc(g) {
                Ok(d) => d,
                Err(o) => return o,
            };
            if let Err(e) = m.insert_one(&db, &self.collection, d).await {
                return fail(format!(
                    "the validator rejects a good document {}: {e}",
                    show(g)
                ));
            }
        }
        for bd in &self.bad {
            let d = match to_bson_doc(bd) {
                Ok(d) => d,
                Err(o) => return o,
            };
            match m.insert_one(&db, &self.collection, d).await {
                Ok(()) => {
                    return fail(format!(
                        "the server accepted the bad document {} — the validator lets it through",
                        show(bd)
                    ));
                }
                Err(e) if e.code() == Some(121) => {}
                Err(e) => return server_err(e),
            }
        }
        Outcome::pass(format!(
            "{} rejected the bad document (DocumentValidationFailure)",
            self.collection
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_checkers_filter() {
        let d = json!({"lang": "it", "tags": ["a", "b"], "place": {"city": "Milan"}, "likes": 5});
        assert!(matches(&d, &json!({"lang": "it", "place.city": "Milan"})));
        assert!(matches(&d, &json!({"tags": "b", "likes": {"$gte": 5}})));
        assert!(!matches(&d, &json!({"likes": {"$gt": 5}})));
    }

    #[test]
    fn json_schema_subset() {
        let s = json!({"bsonType": "object", "required": ["name", "email"], "properties": {
            "name": {"bsonType": "string", "minLength": 1},
            "email": {"bsonType": "string", "pattern": "^[^@]+@[^@]+$"},
            "age": {"bsonType": "int", "minimum": 0}}});
        assert!(json_schema_ok(&s, &json!({"name": "a", "email": "a@b"}), "").is_ok());
        assert!(
            json_schema_ok(&s, &json!({"name": "a"}), "")
                .unwrap_err()
                .contains("email")
        );
        assert!(json_schema_ok(&s, &json!({"name": "a", "email": "nope"}), "").is_err());
        assert!(json_schema_ok(&s, &json!({"name": "a", "email": "a@b", "age": -1}), "").is_err());
    }
}
