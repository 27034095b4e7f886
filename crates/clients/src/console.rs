//! What the consoles share, whether they print (`datalab mongo`,
//! `datalab cql`) or draw (the TUI's MongoDB and CQL panels): one-line
//! requests parsed into typed ones, and results as tables of strings.
//! Nothing in here prints or draws.

use super::cql::{self, CqlError, Runner};
use super::mongo::{self, FileError, FindSpec, Mongo, MongoError};
use mongodb::bson::{Bson, Document};
use std::path::Path;

/// A result as text: column headers, rows of cells (same length as the
/// headers) and a one-line summary ("3 documents").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub summary: String,
}

/// `n word(s)`.
pub fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// At most `max` characters, the last one `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// A BSON value in one cell: strings as they are, everything else as
/// compact relaxed Extended JSON, on one line.
pub(crate) fn compact(b: &Bson) -> String {
    let s = match b {
        Bson::String(s) => s.clone(),
        other => other.clone().into_relaxed_extjson().to_string(),
    };
    s.replace(['\n', '\r'], " ")
}

/// Documents as a table: columns are the top-level fields in order of first
/// appearance, nested values compact JSON, a missing field an empty cell.
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
                .map(|c| d.get(c).map(compact).unwrap_or_default())
                .collect()
        })
        .collect();
    Table {
        columns,
        rows,
        summary: plural(docs.len(), "document"),
    }
}

/// A plain text table (`a | b` over `--+--`), cells as given.
pub fn text_table(cols: &[String], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = cols.iter().map(|c| c.chars().count()).collect();
    for r in rows {
        for (i, v) in r.iter().enumerate() {
            w[i] = w[i].max(v.chars().count());
        }
    }
    let line = |vals: &[String]| {
        vals.iter()
            .enumerate()
            .map(|(i, v)| format!("{v:<width$}", width = w[i]))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_string()
    };
    let mut out = line(cols) + "\n";
    out += &w
        .iter()
        .map(|n| "-".repeat(*n))
        .collect::<Vec<_>>()
        .join("-+-");
    out.push('\n');
    for r in rows {
        out += &line(r);
        out.push('\n');
    }
    out
}

/// What `explain` shows without `--json`: the server, the plan stages and
/// the documents examined, one (what, value) pair a line.
pub fn explain_summary(explain: &Document, server: &str) -> Vec<(String, String)> {
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
pub fn pipeline_from_bson(b: Bson) -> Result<Vec<Document>, String> {
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

/// A read-only MongoDB request, as typed after `datalab mongo`.
#[derive(Clone, Debug, PartialEq)]
pub enum MongoRequest {
    Find {
        collection: String,
        spec: FindSpec,
    },
    Aggregate {
        collection: String,
        pipeline: Vec<Document>,
    },
    Explain {
        collection: String,
        spec: FindSpec,
    },
    Indexes {
        collection: String,
    },
}

/// A console line: the request and its database (before namespacing).
#[derive(Clone, Debug, PartialEq)]
pub struct MongoLine {
    pub db: String,
    pub request: MongoRequest,
}

/// What a console line may say.
pub(crate) const MONGO_USAGE: &str =
    "find|aggregate|explain|indexes COLLECTION [JSON] [--file F] [--limit N] [--skip N] [--db DB]";

fn line_err(col: usize, message: impl std::fmt::Display) -> String {
    format!("1:{col}: {message}")
}

/// Parse one console line, e.g. `find tweets {"lang": "en"} --limit 5`,
/// `aggregate tweets [{"$group": …}]`, `explain tweets {"user": "ada"}`,
/// `indexes tweets`. The JSON is Extended JSON and may hold spaces; a bad
/// one reads `1:col: message` with the column in the line. `--file F` reads
/// the JSON from `base/F` instead (errors then name the file).
pub fn parse_mongo_line(line: &str, base: &Path) -> Result<MongoLine, String> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    // Column (1-based, in characters) of a byte offset.
    let col_of = |byte: usize| chars.iter().take_while(|(b, _)| *b < byte).count() + 1;
    let mut pos = 0usize; // byte offset
    let mut words: Vec<(usize, String)> = Vec::new();
    let mut json: Option<(usize, Bson)> = None;
    while pos < line.len() {
        let rest = &line[pos..];
        let trimmed = rest.trim_start();
        pos += rest.len() - trimmed.len();
        if trimmed.is_empty() {
            break;
        }
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            if json.is_some() {
                return Err(line_err(col_of(pos), "only one JSON value per line"));
            }
            let mut stream =
                serde_json::Deserializer::from_str(trimmed).into_iter::<serde_json::Value>();
            match stream.next() {
                Some(Ok(_)) => {
                    let used = stream.byte_offset();
                    let text = &trimmed[..used];
                    let b = mongo::parse_ext_json(text, "<line>").map_err(|e| match e.column {
                        Some(c) => line_err(col_of(pos) + c - 1, e.message),
                        None => line_err(col_of(pos), e.message),
                    })?;
                    json = Some((pos, b));
                    pos += used;
                }
                Some(Err(e)) => {
                    // Single line: the column is within the JSON text.
                    let msg = e.to_string();
                    let msg = msg.split(" at line ").next().unwrap_or("").to_string();
                    let c = if e.line() > 1 {
                        trimmed.len()
                    } else {
                        e.column().max(1)
                    };
                    return Err(line_err(col_of(pos) + c - 1, msg));
                }
                None => return Err(line_err(col_of(pos), "expected a JSON value")),
            }
            continue;
        }
        let end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        words.push((pos, trimmed[..end].to_string()));
        pos += end;
    }
    let mut it = words.into_iter().peekable();
    let Some((_, verb)) = it.next() else {
        return Err(format!("type a request: {MONGO_USAGE}"));
    };
    let verb = verb.to_ascii_lowercase();
    if !["find", "aggregate", "explain", "indexes"].contains(&verb.as_str()) {
        return Err(format!(
            "unknown request `{verb}`: this console runs {MONGO_USAGE} (use `datalab mongo` for writes)"
        ));
    }
    let collection = match it.next() {
        Some((p, c)) if c.starts_with("--") => {
            return Err(line_err(
                col_of(p),
                format!("{verb} needs a COLLECTION before {c}"),
            ));
        }
        Some((_, c)) => c,
        None => return Err(format!("{verb} needs a COLLECTION: {MONGO_USAGE}")),
    };
    let mut db = "lab".to_string();
    let (mut limit, mut skip, mut file) = (None, None, None);
    while let Some((p, w)) = it.next() {
        let mut value = |name: &str| match it.next() {
            Some((_, v)) => Ok(v),
            None => Err(line_err(col_of(p), format!("{name} needs a value"))),
        };
        match w.as_str() {
            "--limit" | "--skip" => {
                let v = value(&w)?;
                let n: i64 = v.parse().map_err(|_| {
                    line_err(col_of(p), format!("{w} takes a whole number, not `{v}`"))
                })?;
                if w == "--limit" {
                    limit = Some(n);
                } else {
                    skip = Some(n.max(0) as u64);
                }
            }
            "--file" => file = Some(value("--file")?),
            "--db" => db = value("--db")?,
            other => {
                return Err(line_err(
                    col_of(p),
                    format!("unexpected `{other}`: {MONGO_USAGE}"),
                ));
            }
        }
    }
    let json = match (json, file) {
        (Some(_), Some(_)) => return Err("give the JSON inline or with --file, not both".into()),
        (Some((_, b)), None) => Some(b),
        (None, Some(f)) => {
            Some(mongo::read_ext_json(&base.join(&f), &f).map_err(|e: FileError| e.to_string())?)
        }
        (None, None) => None,
    };
    let find_spec = |json: Option<Bson>| -> Result<FindSpec, String> {
        let mut spec = match json {
            Some(b) => FindSpec::from_bson(&b)?,
            None => FindSpec::default(),
        };
        if limit.is_some() {
            spec.limit = limit;
        }
        if skip.is_some() {
            spec.skip = skip;
        }
        Ok(spec)
    };
    let request = match verb.as_str() {
        "find" => MongoRequest::Find {
            collection,
            spec: find_spec(json)?,
        },
        "explain" => MongoRequest::Explain {
            collection,
            spec: find_spec(json)?,
        },
        "aggregate" => {
            if limit.is_some() || skip.is_some() {
                return Err("aggregate takes $limit and $skip stages, not --limit/--skip".into());
            }
            let Some(b) = json else {
                return Err("aggregate needs a pipeline: [{\"$match\": …}, …]".into());
            };
            MongoRequest::Aggregate {
                collection,
                pipeline: pipeline_from_bson(b)?,
            }
        }
        _ => {
            if json.is_some() || limit.is_some() || skip.is_some() {
                return Err("indexes takes only a COLLECTION here (create indexes with `datalab mongo indexes --create`)".into());
            }
            MongoRequest::Indexes { collection }
        }
    };
    Ok(MongoLine { db, request })
}

/// Run a request in database `db` (already namespaced).
pub async fn run_mongo(m: &Mongo, db: &str, req: &MongoRequest) -> Result<Table, MongoError> {
    Ok(match req {
        MongoRequest::Find { collection, spec } => docs_table(&m.find(db, collection, spec).await?),
        MongoRequest::Aggregate {
            collection,
            pipeline,
        } => docs_table(&m.aggregate(db, collection, pipeline.clone()).await?),
        MongoRequest::Explain { collection, spec } => {
            let e = m.explain_find(db, collection, spec, None).await?;
            let server = m.flavor().await.map(|f| f.label()).unwrap_or_default();
            Table {
                columns: vec!["explain".into(), "value".into()],
                rows: explain_summary(&e, &server)
                    .into_iter()
                    .map(|(k, v)| vec![k, v])
                    .collect(),
                summary: format!("explain of a find on {collection} (executionStats)"),
            }
        }
        MongoRequest::Indexes { collection } => {
            let mut t = docs_table(&m.indexes(db, collection).await?);
            t.summary = plural(t.rows.len(), "index").replace("indexs", "indexes");
            t
        }
    })
}

/// CQL rows as a table (null cells read `null`, as cqlsh shows them).
pub fn cql_table(rows: &cql::Rows) -> Table {
    let mut summary = plural(rows.rows.len(), "row");
    if let Some(applied) = rows.applied() {
        summary = if applied {
            "[applied] true: the write was made".into()
        } else {
            "[applied] false: the condition did not hold".into()
        };
    }
    Table {
        columns: rows.columns.clone(),
        rows: rows
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| v.clone().unwrap_or_else(|| "null".into()))
                    .collect()
            })
            .collect(),
        summary,
    }
}

/// Run what a CQL prompt line holds: one statement (or a few, `;`
/// separated, run in order), namespaced and with `USE`, `CONSISTENCY` and
/// `COPY` as `datalab cql` has them. The table is the last result with
/// columns; a statement with no rows says "done".
pub async fn run_cql_line(runner: &mut Runner, line: &str) -> Result<Table, String> {
    let stmts = cql::split(line).map_err(|(l, m)| format!("{l}: {m}"))?;
    if stmts.is_empty() {
        return Err("type a CQL statement, e.g. SELECT * FROM iot.readings LIMIT 5".into());
    }
    let mut last: Option<Table> = None;
    let n = stmts.len();
    for (i, s) in stmts.iter().enumerate() {
        let (_, rows) = runner.run(&s.text).await.map_err(|e: CqlError| {
            if n > 1 {
                format!("statement {}: {e}", i + 1)
            } else {
                e.to_string()
            }
        })?;
        if !rows.columns.is_empty() {
            last = Some(cql_table(&rows));
        }
    }
    Ok(last.unwrap_or_else(|| Table {
        summary: if n == 1 {
            "done".into()
        } else {
            format!("done: {n} statements")
        },
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::doc;

    fn parse(l: &str) -> Result<MongoLine, String> {
        parse_mongo_line(l, Path::new("."))
    }

    #[test]
    fn lines_parse_like_the_cli() {
        let l = parse(r#"find tweets {"lang": "en"} --limit 5"#).unwrap();
        assert_eq!(l.db, "lab");
        assert_eq!(
            l.request,
            MongoRequest::Find {
                collection: "tweets".into(),
                spec: FindSpec {
                    filter: doc! {"lang": "en"},
                    limit: Some(5),
                    ..Default::default()
                }
            }
        );
        let a =
            parse(r#"aggregate tweets [{"$group": {"_id": "$lang", "n": {"$sum": 1}}}]"#).unwrap();
        assert!(
            matches!(a.request, MongoRequest::Aggregate { ref pipeline, .. } if pipeline.len() == 1)
        );
        assert_eq!(
            parse("indexes tweets --db other").unwrap(),
            MongoLine {
                db: "other".into(),
                request: MongoRequest::Indexes {
                    collection: "tweets".into()
                }
            }
        );
        assert!(matches!(
            parse("find tweets").unwrap().request,
            MongoRequest::Find { ref spec, .. } if spec.filter.is_empty()
        ));
    }

    #[test]
    fn bad_lines_say_where() {
        // The `}` after the stray comma is column 27 of the line.
        let e = parse(r#"find tweets {"lang": "en",}"#).unwrap_err();
        assert!(e.starts_with("1:27:"), "{e}");
        let e = parse(r#"find tweets {"lang": "en""#).unwrap_err();
        assert!(e.starts_with("1:"), "{e}");
        assert!(
            parse("remove tweets")
                .unwrap_err()
                .contains("unknown request")
        );
        assert!(parse("find").unwrap_err().contains("COLLECTION"));
        assert!(parse("find t --limit x").unwrap_err().starts_with("1:8:"));
        assert!(
            parse("aggregate t {}")
                .unwrap_err()
                .contains("array of stages")
        );
    }

    #[test]
    fn tables_have_top_level_columns() {
        let t = docs_table(&[
            doc! {"_id": 1, "user": "ada", "place": {"city": "Milano"}},
            doc! {"_id": 2, "likes": 3},
        ]);
        assert_eq!(t.columns, ["_id", "user", "place", "likes"]);
        assert_eq!(t.rows[0][2], r#"{"city":"Milano"}"#);
        assert_eq!(t.rows[1][1], "");
        assert_eq!(t.summary, "2 documents");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }

    #[test]
    fn lwt_results_say_applied() {
        let r = cql::Rows {
            columns: vec!["[applied]".into(), "id".into()],
            rows: vec![vec![Some("false".into()), Some("7".into())]],
        };
        assert!(cql_table(&r).summary.starts_with("[applied] false"));
    }
}
