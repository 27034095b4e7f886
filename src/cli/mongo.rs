//! `datalab mongo …`: a small MongoDB console for the lab. Queries are
//! MongoDB Extended JSON, inline or in a file. The database is the learner's
//! (`--db lab` is `<namespace>_lab` on a shared server).

use super::Ctx;
use clap::{Args, Subcommand};
use datalab_clients::console;
use datalab_clients::mongo::{self, FileError, FindSpec, Mongo, UpdateSpec};
use datalab_services::{ServiceKind, UpOptions};
use mongodb::bson::{Bson, Document};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug)]
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

impl FindArgs {
    fn spec(&self) -> Result<FindSpec, String> {
        let b = self
            .q
            .bson(Some(Bson::Document(Document::new())))
            .map_err(|e| e.to_string())?;
        let mut spec = FindSpec::from_bson(&b)?;
        if self.limit.is_some() {
            spec.limit = self.limit;
        }
        if self.skip.is_some() {
            spec.skip = self.skip;
        }
        Ok(spec)
    }
}

impl QueryArgs {
    fn bson(&self, default: Option<Bson>) -> Result<Bson, FileError> {
        match (&self.query, &self.file) {
            (_, Some(f)) => mongo::read_ext_json(f, &f.display().to_string()),
            (Some(q), None) => mongo::parse_ext_json(q, "<query>"),
            (None, None) => default.ok_or(FileError {
                file: "<query>".into(),
                line: None,
                column: None,
                message: "give a query inline or with --file".into(),
            }),
        }
    }
}

/// The MongoDB URI: `DATALAB_MONGODB_URI`, else the services layer.
pub async fn endpoint(ctx: &Ctx) -> Result<String, String> {
    if let Ok(u) = std::env::var("DATALAB_MONGODB_URI")
        && !u.trim().is_empty()
    {
        return Ok(u);
    }
    ctx.services
        .ensure(ServiceKind::Mongodb, &UpOptions::default())
        .await
        .map(|e| e.address)
        .map_err(|e| e.to_string())
}

/// Documents as a table (columns = top-level fields in order of appearance,
/// cells cut at 40 characters).
pub fn table(docs: &[Document]) -> String {
    let t = console::docs_table(docs);
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(|c| console::truncate(c, 40)).collect())
        .collect();
    console::text_table(&t.columns, &rows)
}

fn print_docs(docs: &[Document], json: bool) {
    if json {
        for d in docs {
            println!("{}", mongo::to_json(d));
        }
    } else {
        print!("{}", table(docs));
        println!("({})", console::plural(docs.len(), "document"));
    }
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("datalab mongo: {msg}");
    ExitCode::from(1)
}

fn as_doc(b: Bson, what: &str) -> Result<Document, String> {
    match b {
        Bson::Document(d) => Ok(d),
        _ => Err(format!("{what} must be a JSON object")),
    }
}

pub async fn run(a: MongoArgs, ctx: &Ctx) -> ExitCode {
    let uri = match endpoint(ctx).await {
        Ok(u) => u,
        Err(e) => return fail(e),
    };
    let m: Mongo = match mongo::connect(&uri, Duration::from_secs(a.timeout)).await {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    let db = ctx.namespace.database(&a.db);
    match a.cmd {
        MongoCmd::Find(f) => {
            let spec = match f.spec() {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            match m.find(&db, &f.q.collection, &spec).await {
                Ok(d) => print_docs(&d, a.json),
                Err(e) => return fail(e),
            }
        }
        MongoCmd::Aggregate(q) => {
            let pipeline = match q
                .bson(None)
                .map_err(|e| e.to_string())
                .and_then(console::pipeline_from_bson)
            {
                Ok(p) => p,
                Err(e) => return fail(e),
            };
            match m.aggregate(&db, &q.collection, pipeline).await {
                Ok(d) => print_docs(&d, a.json),
                Err(e) => return fail(e),
            }
        }
        MongoCmd::Explain(f) => {
            let spec = match f.spec() {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            match m.explain_find(&db, &f.q.collection, &spec, None).await {
                Ok(e) if a.json => println!("{}", mongo::to_json(&e)),
                Ok(e) => {
                    let flavor = m.flavor().await.map(|f| f.label()).unwrap_or_default();
                    for (what, value) in console::explain_summary(&e, &flavor) {
                        println!("{what}: {value}");
                    }
                }
                Err(e) => return fail(e),
            }
        }
        MongoCmd::Indexes {
            collection,
            create,
            keys,
            file,
            name,
        } => {
            if create || keys.is_some() || file.is_some() {
                let b = match (&keys, &file) {
                    (_, Some(f)) => mongo::read_ext_json(f, &f.display().to_string()),
                    (Some(k), None) => mongo::parse_ext_json(k, "<keys>"),
                    (None, None) => return fail("--create needs KEYS or --file"),
                };
                let keys = match b
                    .map_err(|e| e.to_string())
                    .and_then(|b| as_doc(b, "index keys"))
                {
                    Ok(k) => k,
                    Err(e) => return fail(e),
                };
                let keys = match keys.get_document("keys") {
                    Ok(k) => k.clone(),
                    Err(_) => keys,
                };
                match m.create_index(&db, &collection, keys, name, false).await {
                    Ok(n) => println!("created index {n}"),
                    Err(e) => return fail(e),
                }
            } else {
                match m.indexes(&db, &collection).await {
                    Ok(d) => print_docs(&d, a.json),
                    Err(e) => return fail(e),
                }
            }
        }
        MongoCmd::Update(q) => {
            let specs = match q
                .bson(None)
                .map_err(|e| e.to_string())
                .and_then(|b| UpdateSpec::list_from_bson(&b))
            {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            for (i, u) in specs.iter().enumerate() {
                match m.update(&db, &q.collection, u).await {
                    Ok(r) => println!(
                        "update {}: matched {}, modified {}{}",
                        i + 1,
                        r.matched,
                        r.modified,
                        if r.upserted {
                            ", inserted 1 (upsert)"
                        } else {
                            ""
                        }
                    ),
                    Err(e) => return fail(format!("update {}: {e}", i + 1)),
                }
            }
        }
        MongoCmd::Import {
            collection,
            file,
            drop,
        } => {
            let cwd = std::env::current_dir().unwrap_or_default();
            let file = datalab_clients::cql::resolve_data_path(&cwd, &file.to_string_lossy());
            let docs = match mongo::read_documents(&file, &file.display().to_string()) {
                Ok(d) => d,
                Err(e) => return fail(e),
            };
            if drop && let Err(e) = m.drop(&db, &collection).await {
                return fail(e);
            }
            match m.insert_many(&db, &collection, docs).await {
                Ok(n) => println!("imported {n} documents into {}.{collection}", a.db),
                Err(e) => return fail(e),
            }
        }
        MongoCmd::Insert(q) => {
            let d = match q
                .bson(None)
                .map_err(|e| e.to_string())
                .and_then(|b| as_doc(b, "a document"))
            {
                Ok(d) => d,
                Err(e) => return fail(e),
            };
            match m.insert_one(&db, &q.collection, d).await {
                Ok(()) => println!("inserted 1 document"),
                Err(e) => return fail(e),
            }
        }
        MongoCmd::Count(q) => {
            let f = match q
                .bson(Some(Bson::Document(Document::new())))
                .map_err(|e| e.to_string())
                .and_then(|b| as_doc(b, "a filter"))
            {
                Ok(d) => d,
                Err(e) => return fail(e),
            };
            match m.count(&db, &q.collection, f).await {
                Ok(n) => println!("{n}"),
                Err(e) => return fail(e),
            }
        }
        MongoCmd::Create {
            collection,
            validator,
        } => {
            let v = match validator {
                Some(f) => match mongo::read_ext_json(&f, &f.display().to_string())
                    .map_err(|e| e.to_string())
                    .and_then(|b| as_doc(b, "a validator"))
                {
                    Ok(d) => Some(d),
                    Err(e) => return fail(e),
                },
                None => None,
            };
            match m.create_collection(&db, &collection, v).await {
                Ok(()) => println!("created {}.{collection}", a.db),
                Err(e) => return fail(e),
            }
        }
        MongoCmd::Drop { collection } => match m.drop(&db, &collection).await {
            Ok(()) => println!("dropped {}.{collection}", a.db),
            Err(e) => return fail(e),
        },
        MongoCmd::Collections => match m.collections(&db).await {
            Ok(c) => c.iter().for_each(|c| println!("{c}")),
            Err(e) => return fail(e),
        },
    }
    ExitCode::SUCCESS
}
