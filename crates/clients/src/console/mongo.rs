//! The MongoDB console, shared by `datalab mongo …` (the CLI) and the
//! MongoDB panel of the TUI: the request words (clap), and running a request
//! against the server into tables or lines. Queries are MongoDB Extended
//! JSON, inline or in a file. The database is the learner's (`--db lab` is
//! `<namespace>_lab` on a shared server).
//!
//! A panel takes the read-only requests (`find|aggregate|explain|indexes
//! COLL [JSON] [--limit N] [--skip N]`); writes are the CLI's.

use super::{Bad, Failure, Io, Output, Table, plural, truncate};
use crate::mongo::{self, FileError, FindSpec, Mongo, MongoError, UpdateSpec};
use clap::{Args, Parser, Subcommand};
use mongodb::bson::{Bson, Document};
use std::path::PathBuf;

/// `datalab mongo …`: the words after `mongo`, shared by the CLI and the
/// TUI panel.
#[derive(Parser, Debug)]
#[command(name = "mongo")]
pub struct MongoArgs {
    /// Database (namespaced with --learner)
    #[arg(long, global = true, default_value = "lab")]
    pub db: String,
    /// Print documents as Extended JSON, one a line
    #[arg(long, global = true)]
    pub json: bool,
    /// Seconds each server call may take (generous: a step's `run` must not
    /// fail a correct solution on a busy machine)
    #[arg(long, global = true, default_value_t = 30)]
    pub timeout: u64,
    #[command(subcommand)]
    pub cmd: MongoCmd,
}

#[derive(Subcommand, Debug)]
pub enum MongoCmd {
    /// Find documents: QUERY or --file holds {"filter", "projection", "sort", "limit", "skip"} (or just a filter)
    Find(FindArgs),
    /// Run an aggregation pipeline ([{"$match": …}, …])
    Aggregate(QueryArgs),
    /// Explain a find (executionStats): plan stages and documents examined
    Explain(FindArgs),
    /// List a collection's indexes, or create one with --create
    Indexes {
        collection: String,
        /// Create an index with these keys ({"field": 1}), inline or with --file
        #[arg(long)]
        create: bool,
        keys: Option<String>,
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Apply update(s): {"filter", "update", "upsert", "multi"} or an array of them
    Update(QueryArgs),
    /// Insert documents from a JSON array or a file with one document a line
    Import {
        collection: String,
        #[arg(long)]
        file: PathBuf,
        /// Drop the collection first, so importing twice gives the same data
        #[arg(long)]
        drop: bool,
    },
    /// Insert one document
    Insert(QueryArgs),
    /// Count documents (matching an optional filter)
    Count(QueryArgs),
    /// Create a collection, with a $jsonSchema validator from --validator
    Create {
        collection: String,
        #[arg(long)]
        validator: Option<PathBuf>,
    },
    /// Drop a collection
    Drop { collection: String },
    /// List collections
    Collections,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    pub collection: String,
    /// Inline Extended JSON
    pub query: Option<String>,
    /// Read the query from this file
    #[arg(long)]
    pub file: Option<PathBuf>,
}

/// A find's query, with `--limit`/`--skip` overriding the query's own.
#[derive(Args, Debug)]
pub struct FindArgs {
    #[command(flatten)]
    pub q: QueryArgs,
    /// Return at most N documents
    #[arg(long)]
    pub limit: Option<i64>,
    /// Skip the first N documents
    #[arg(long)]
    pub skip: Option<u64>,
}

/// What a panel line may say.
pub const PANEL_USAGE: &str =
    "find|aggregate|explain|indexes COLLECTION [JSON] [--file F] [--limit N] [--skip N] [--db DB]";

/// Parse a typed line as the words after `datalab mongo`; a JSON object
/// or array may hold spaces, unquoted.
pub fn parse_line(line: &str) -> Result<MongoArgs, Failure> {
    super::line::parse(
        "mongo",
        line,
        true,
        &format!("type a request: {PANEL_USAGE}"),
    )
}

impl MongoCmd {
    /// The request's word (`find`).
    pub fn verb(&self) -> &'static str {
        match self {
            MongoCmd::Find(_) => "find",
            MongoCmd::Aggregate(_) => "aggregate",
            MongoCmd::Explain(_) => "explain",
            MongoCmd::Indexes { .. } => "indexes",
            MongoCmd::Update(_) => "update",
            MongoCmd::Import { .. } => "import",
            MongoCmd::Insert(_) => "insert",
            MongoCmd::Count(_) => "count",
            MongoCmd::Create { .. } => "create",
            MongoCmd::Drop { .. } => "drop",
            MongoCmd::Collections => "collections",
        }
    }

    /// Refuse what a read-only console (the panel) does not run: writes.
    pub fn read_only(&self) -> Result<(), Failure> {
        let writes = match self {
            MongoCmd::Find(_) | MongoCmd::Aggregate(_) | MongoCmd::Explain(_) => false,
            MongoCmd::Indexes {
                create, keys, file, ..
            } => *create || keys.is_some() || file.is_some(),
            _ => true,
        };
        if !writes {
            return Ok(());
        }
        let verb = self.verb();
        Err(Failure::Usage(Bad::in_word(
            verb,
            format!(
                "this console runs {PANEL_USAGE}; `{verb}` changes data: run `datalab mongo {verb} …`"
            ),
        )))
    }
}

/// The database: as the learner names it (`lab`), and on the server.
#[derive(Clone, Debug)]
pub struct Db {
    pub shown: String,
    pub full: String,
}

/// Run one request against `m` in database `db`.
pub async fn execute(
    cmd: MongoCmd,
    m: &Mongo,
    db: &Db,
    json: bool,
    io: &Io,
) -> Result<Output, Failure> {
    match cmd {
        MongoCmd::Find(f) => find(m, db, &f, json, io).await,
        MongoCmd::Aggregate(q) => aggregate(m, db, &q, json, io).await,
        MongoCmd::Explain(f) => explain(m, db, &f, json, io).await,
        MongoCmd::Indexes {
            collection,
            create,
            keys,
            file,
            name,
        } => {
            if create || keys.is_some() || file.is_some() {
                let keys = index_keys(keys.as_deref(), file.as_ref(), io)?;
                let n = m.create_index(&db.full, &collection, keys, name, false);
                Ok(line(format!("created index {}", n.await.map_err(service)?)))
            } else {
                indexes(m, db, &collection, json).await
            }
        }
        MongoCmd::Update(q) => update(m, db, &q, io).await,
        MongoCmd::Import {
            collection,
            file,
            drop,
        } => import(m, db, &collection, &file, drop, io).await,
        MongoCmd::Insert(q) => {
            let d = as_doc(q.bson(None, io)?, "a document")?;
            m.insert_one(&db.full, &q.collection, d)
                .await
                .map_err(service)?;
            Ok(line("inserted 1 document"))
        }
        MongoCmd::Count(q) => {
            let f = as_doc(q.bson(Some(empty()), io)?, "a filter")?;
            let n = m.count(&db.full, &q.collection, f).await;
            Ok(line(n.map_err(service)?.to_string()))
        }
        MongoCmd::Create {
            collection,
            validator,
        } => {
            let v = match validator {
                Some(f) => Some(as_doc(read_file(&f, io)?, "a validator")?),
                None => None,
            };
            m.create_collection(&db.full, &collection, v)
                .await
                .map_err(service)?;
            Ok(line(format!("created {}.{collection}", db.shown)))
        }
        MongoCmd::Drop { collection } => {
            m.drop(&db.full, &collection).await.map_err(service)?;
            Ok(line(format!("dropped {}.{collection}", db.shown)))
        }
        MongoCmd::Collections => Ok(Output {
            lines: m.collections(&db.full).await.map_err(service)?,
            ..Output::default()
        }),
    }
}

fn service(e: MongoError) -> Failure {
    Failure::Service(e.to_string())
}

fn line(s: impl Into<String>) -> Output {
    Output {
        lines: vec![s.into()],
        ..Output::default()
    }
}

fn empty() -> Bson {
    Bson::Document(Document::new())
}

// ------------------------------------------------------------ reads

async fn find(m: &Mongo, db: &Db, f: &FindArgs, json: bool, io: &Io) -> Result<Output, Failure> {
    let spec = f.spec(io)?;
    let docs = m.find(&db.full, &f.q.collection, &spec).await;
    Ok(docs_output(&docs.map_err(service)?, json))
}

async fn aggregate(
    m: &Mongo,
    db: &Db,
    q: &QueryArgs,
    json: bool,
    io: &Io,
) -> Result<Output, Failure> {
    let word = q.query.clone().unwrap_or_default();
    let pipeline = pipeline_from_bson(q.bson(None, io)?).map_err(|e| usage(&word, e))?;
    let docs = m.aggregate(&db.full, &q.collection, pipeline).await;
    Ok(docs_output(&docs.map_err(service)?, json))
}

async fn explain(m: &Mongo, db: &Db, f: &FindArgs, json: bool, io: &Io) -> Result<Output, Failure> {
    let spec = f.spec(io)?;
    let e = m.explain_find(&db.full, &f.q.collection, &spec, None).await;
    let e = e.map_err(service)?;
    if json {
        return Ok(line(mongo::to_json(&e).to_string()));
    }
    let server = m.flavor().await.map(|f| f.label()).unwrap_or_default();
    Ok(Table {
        columns: vec!["explain".into(), "value".into()],
        rows: explain_summary(&e, &server)
            .into_iter()
            .map(|(k, v)| vec![k, v])
            .collect(),
        summary: format!("explain of a find on {} (executionStats)", f.q.collection),
    }
    .into())
}

async fn indexes(m: &Mongo, db: &Db, collection: &str, json: bool) -> Result<Output, Failure> {
    let d = m.indexes(&db.full, collection).await.map_err(service)?;
    let mut out = docs_output(&d, json);
    for t in &mut out.tables {
        t.summary = plural(t.rows.len(), "index").replace("indexs", "indexes");
    }
    Ok(out)
}

/// Documents as JSON lines, or as a table.
fn docs_output(docs: &[Document], json: bool) -> Output {
    if json {
        return Output {
            lines: docs.iter().map(|d| mongo::to_json(d).to_string()).collect(),
            ..Output::default()
        };
    }
    docs_table(docs).into()
}

// ------------------------------------------------------------ writes

async fn update(m: &Mongo, db: &Db, q: &QueryArgs, io: &Io) -> Result<Output, Failure> {
    let word = q.query.clone().unwrap_or_default();
    let specs = UpdateSpec::list_from_bson(&q.bson(None, io)?).map_err(|e| usage(&word, e))?;
    let mut out = Output::default();
    for (i, u) in specs.iter().enumerate() {
        let r = m
            .update(&db.full, &q.collection, u)
            .await
            .map_err(|e| Failure::Service(format!("update {}: {e}", i + 1)))?;
        out.line(format!(
            "update {}: matched {}, modified {}{}",
            i + 1,
            r.matched,
            r.modified,
            if r.upserted {
                ", inserted 1 (upsert)"
            } else {
                ""
            }
        ));
    }
    Ok(out)
}

async fn import(
    m: &Mongo,
    db: &Db,
    collection: &str,
    file: &std::path::Path,
    drop: bool,
    io: &Io,
) -> Result<Output, Failure> {
    let path = crate::cql::resolve_data_path(&io.cwd, &file.to_string_lossy());
    let docs = mongo::read_documents(&path, &file.display().to_string())
        .map_err(|e| usage(&file.to_string_lossy(), e))?;
    if drop {
        m.drop(&db.full, collection).await.map_err(service)?;
    }
    let n = m.insert_many(&db.full, collection, docs).await;
    Ok(line(format!(
        "imported {} documents into {}.{collection}",
        n.map_err(service)?,
        db.shown
    )))
}

fn index_keys(keys: Option<&str>, file: Option<&PathBuf>, io: &Io) -> Result<Document, Failure> {
    let b = match (keys, file) {
        (_, Some(f)) => read_file(f, io)?,
        (Some(k), None) => inline(k, "<keys>")?,
        (None, None) => return Err(Failure::Usage(Bad::new("--create needs KEYS or --file"))),
    };
    let keys = as_doc(b, "index keys")?;
    Ok(match keys.get_document("keys") {
        Ok(k) => k.clone(),
        Err(_) => keys,
    })
}

// ------------------------------------------------------------ queries

fn usage(word: &str, message: impl std::fmt::Display) -> Failure {
    Failure::Usage(Bad::in_word(word, message.to_string()))
}

/// Inline Extended JSON; a fault points into the word.
fn inline(text: &str, label: &str) -> Result<Bson, Failure> {
    mongo::parse_ext_json(text, label).map_err(|e: FileError| {
        Failure::Usage(Bad {
            message: e.message,
            word: Some(text.to_string()),
            pos: e.line.map(|l| (l, e.column.unwrap_or(0))),
            label: Some(label.to_string()),
            col: None,
        })
    })
}

/// Extended JSON from a file (relative to `io.cwd`); errors name the file
/// as typed, with line and column.
fn read_file(f: &std::path::Path, io: &Io) -> Result<Bson, Failure> {
    mongo::read_ext_json(&io.cwd.join(f), &f.display().to_string())
        .map_err(|e| usage(&f.to_string_lossy(), e))
}

fn as_doc(b: Bson, what: &str) -> Result<Document, Failure> {
    match b {
        Bson::Document(d) => Ok(d),
        _ => Err(Failure::Usage(Bad::new(format!(
            "{what} must be a JSON object"
        )))),
    }
}

impl QueryArgs {
    /// The query: from --file, else inline, else `default`.
    fn bson(&self, default: Option<Bson>, io: &Io) -> Result<Bson, Failure> {
        match (&self.query, &self.file) {
            (Some(_), Some(_)) => Err(Failure::Usage(Bad::in_word(
                "--file",
                "give the JSON inline or with --file, not both",
            ))),
            (_, Some(f)) => read_file(f, io),
            (Some(q), None) => inline(q, "<query>"),
            (None, None) => default
                .ok_or_else(|| Failure::Usage(Bad::new("give a query inline or with --file"))),
        }
    }
}

impl FindArgs {
    fn spec(&self, io: &Io) -> Result<FindSpec, Failure> {
        let word = self.q.query.clone().unwrap_or_default();
        let b = self.q.bson(Some(empty()), io)?;
        let mut spec = FindSpec::from_bson(&b).map_err(|e| usage(&word, e))?;
        if self.limit.is_some() {
            spec.limit = self.limit;
        }
        if self.skip.is_some() {
            spec.skip = self.skip;
        }
        Ok(spec)
    }
}

// ------------------------------------------------------------ results

/// A BSON value in one cell: strings as they are, everything else as
/// compact relaxed Extended JSON, on one line.
fn compact(b: &Bson) -> String {
    let s = match b {
        Bson::String(s) => s.clone(),
        other => other.clone().into_relaxed_extjson().to_string(),
    };
    s.replace(['\n', '\r'], " ")
}

/// The widest a cell gets (the rest is cut with `…`).
const CELL: usize = 40;

/// Documents as a table: columns are the top-level fields in order of first
/// appearance, nested values compact JSON, a missing field an empty cell,
/// cells cut at 40 characters.
pub fn docs_table(docs: &[Document]) -> Table {
    let mut columns: Vec<String> = Vec::new();
    for d in docs {
        for k in d.keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let rows = docs
        .iter()
        .map(|d| {
            columns
                .iter()
                .map(|c| truncate(&d.get(c).map(compact).unwrap_or_default(), CELL))
                .collect()
        })
        .collect();
    Table {
        columns,
        rows,
        summary: plural(docs.len(), "document"),
    }
}

/// What `explain` shows without `--json`: the server, the plan stages and
/// the documents examined, one (what, value) pair a line.
fn explain_summary(explain: &Document, server: &str) -> Vec<(String, String)> {
    vec![
        ("server".into(), server.to_string()),
        ("plan".into(), mongo::plan_stages(explain).join(" → ")),
        (
            "totalDocsExamined".into(),
            match mongo::docs_examined(explain) {
                Some(n) => n.to_string(),
                None => "not reported by this server".into(),
            },
        ),
    ]
}

/// A pipeline from parsed Extended JSON: an array of stage documents.
fn pipeline_from_bson(b: Bson) -> Result<Vec<Document>, String> {
    match b {
        Bson::Array(stages) => stages
            .into_iter()
            .map(|s| match s {
                Bson::Document(d) => Ok(d),
                _ => Err("a stage must be a JSON object".to_string()),
            })
            .collect(),
        _ => Err("a pipeline is an array of stages: [{\"$match\": …}, …]".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::doc;

    fn io() -> Io {
        Io {
            cwd: ".".into(),
            ..Io::default()
        }
    }

    /// A typed line and the same words as a shell hands them to the CLI
    /// parse to the same request.
    #[test]
    fn a_line_parses_as_the_cli_words() {
        let cases: [(&str, &[&str]); 4] = [
            (
                r#"find tweets {"lang": "en"} --limit 5"#,
                &["find", "tweets", r#"{"lang": "en"}"#, "--limit", "5"],
            ),
            (
                r#"aggregate tweets [{"$group": {"_id": "$lang"}}] --db other"#,
                &[
                    "aggregate",
                    "tweets",
                    r#"[{"$group": {"_id": "$lang"}}]"#,
                    "--db",
                    "other",
                ],
            ),
            ("indexes tweets", &["indexes", "tweets"]),
            (
                "explain tweets --file 'my q.json'",
                &["explain", "tweets", "--file", "my q.json"],
            ),
        ];
        for (line, argv) in cases {
            let typed = parse_line(line).unwrap();
            let cli =
                MongoArgs::try_parse_from(std::iter::once("mongo").chain(argv.iter().copied()))
                    .unwrap();
            assert_eq!(format!("{typed:?}"), format!("{cli:?}"), "{line}");
        }
        let MongoCmd::Find(f) = parse_line(r#"find tweets {"lang": "en"} --limit 5"#)
            .unwrap()
            .cmd
        else {
            panic!("a find")
        };
        let spec = f.spec(&io()).unwrap();
        assert_eq!(spec.filter, doc! {"lang": "en"});
        assert_eq!(spec.limit, Some(5));
    }

    fn bad(line: &str) -> String {
        let f = match parse_line(line) {
            Err(f) => f,
            Ok(a) => match a.cmd.read_only() {
                Err(f) => f,
                Ok(()) => match a.cmd {
                    MongoCmd::Find(f) => f.spec(&io()).map(|_| ()).unwrap_err(),
                    MongoCmd::Aggregate(q) => q.bson(None, &io()).map(|_| ()).unwrap_err(),
                    other => panic!("{other:?} is fine"),
                },
            },
        };
        super::super::line::panel_text(&f, line, true)
    }

    #[test]
    fn bad_lines_say_where() {
        // The `}` after the stray comma is column 27 of the line.
        assert_eq!(
            bad(r#"find tweets {"lang": "en",}"#),
            "1:27: trailing comma"
        );
        assert!(bad(r#"find tweets {"lang": "en""#).starts_with("1:"));
        let e = bad("remove tweets");
        assert!(
            e.starts_with("1:1: unrecognized subcommand 'remove'"),
            "{e}"
        );
        assert!(bad("find").starts_with("1:5: "), "missing COLLECTION");
        let e = bad("find t --limit x");
        assert!(e.starts_with("1:16: invalid value 'x'"), "{e}");
        // Extended JSON the driver refuses: the start of the query.
        let e = bad(r#"find t {"_id": {"$oid": "nothex"}}"#);
        assert!(e.starts_with("1:8: not valid MongoDB Extended JSON"), "{e}");
        let e = bad("insert t {}");
        assert!(e.starts_with("1:1: this console runs find"), "{e}");
    }

    #[test]
    fn the_cli_names_the_query_in_its_errors() {
        let a = MongoArgs::try_parse_from(["mongo", "find", "t", r#"{"a": 1,}"#]).unwrap();
        let MongoCmd::Find(f) = a.cmd else { panic!() };
        assert_eq!(
            f.spec(&io()).unwrap_err().to_string(),
            "<query>:1:9: trailing comma"
        );
    }

    #[test]
    fn tables_have_top_level_columns() {
        let t = docs_table(&[
            doc! {"_id": 1, "user": "ada", "place": {"city": "Milano"}},
            doc! {"_id": 2, "likes": 3, "text": "x".repeat(50)},
        ]);
        assert_eq!(t.columns, ["_id", "user", "place", "likes", "text"]);
        assert_eq!(t.rows[0][2], r#"{"city":"Milano"}"#);
        assert_eq!(t.rows[1][1], "");
        assert_eq!(t.rows[1][4].chars().count(), 40);
        assert_eq!(t.summary, "2 documents");
    }
}
