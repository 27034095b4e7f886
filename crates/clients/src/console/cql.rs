//! The CQL console, shared by `datalab cql` (the CLI: `-e`, `--file` or
//! stdin) and the CQL panel of the TUI (a typed line): the grammar is the
//! statement text itself (statements split at `;`, cqlsh's `USE`,
//! `CONSISTENCY` and `COPY` understood, keyspaces put in the learner's
//! namespace), run by one [`execute`] through a [`Runner`] whose keyspace
//! and consistency carry from one call to the next, as in cqlsh.

use super::{Bad, Failure, Output, Table, plural};
use crate::cql::{self, Rows, Runner, Stmt};

/// Where the text came from: a file (or `<-e>`, `<stdin>`), whose errors
/// read `name:line: message`; or a panel's typed line, whose errors read
/// `1:col: message`.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    File(&'a str),
    Line,
}

/// What to type, for an empty line.
const HINT: &str = "type a CQL statement, e.g. SELECT * FROM iot.readings LIMIT 5";

/// The statements of `text`; a string or comment never closed is a bad
/// request, found before anything runs.
pub fn parse(text: &str, source: Source) -> Result<Vec<Stmt>, Failure> {
    let stmts = cql::split(text).map_err(|(l, m)| usage(source, text, l, None, m))?;
    if stmts.is_empty() && matches!(source, Source::Line) {
        return Err(Failure::Usage(Bad::at_col(1, HINT)));
    }
    Ok(stmts)
}

fn usage(source: Source, text: &str, line: usize, stmt: Option<&str>, m: String) -> Failure {
    match source {
        Source::File(name) => Failure::Usage(Bad::new(format!("{name}:{line}: {m}"))),
        Source::Line => {
            let col = stmt
                .and_then(|s| text.find(s))
                .map(|b| text[..b].chars().count() + 1)
                .unwrap_or(1);
            Failure::Usage(Bad::at_col(col, m))
        }
    }
}

/// Run the statements in order; none runs when one is malformed (a cqlsh
/// command with bad words, or a CQL syntax error the server reports). Each
/// result with columns is a table (rows as JSON lines with `json`); a text
/// without any says "done".
pub async fn execute(
    runner: &mut Runner,
    text: &str,
    source: Source<'_>,
    json: bool,
) -> Result<Output, Failure> {
    let stmts = parse(text, source)?;
    if let Err((i, m)) = runner.check_all(&stmts).await {
        let s = &stmts[i];
        return Err(usage(source, text, s.line, Some(&s.text), m));
    }
    let mut out = Output::default();
    for (i, s) in stmts.iter().enumerate() {
        let rows = match runner.run(&s.text).await {
            Ok((_, rows)) => rows,
            Err(e) => return Err(Failure::Service(refused(source, &stmts, i, e))),
        };
        if rows.columns.is_empty() {
            continue;
        }
        if json {
            out.lines.extend(json_lines(&rows));
        } else {
            out.tables.push(table(&rows));
        }
    }
    if out.tables.is_empty() && out.lines.is_empty() && matches!(source, Source::Line) {
        out.tables.push(Table {
            summary: match stmts.len() {
                1 => "done".into(),
                n => format!("done: {n} statements"),
            },
            ..Table::default()
        });
    }
    Ok(out)
}

/// The server's refusal of statement `i`, with where it is.
fn refused(source: Source, stmts: &[Stmt], i: usize, e: cql::CqlError) -> String {
    match source {
        Source::File(name) => format!("{name}:{}: {e}", stmts[i].line),
        Source::Line if stmts.len() > 1 => format!("statement {}: {e}", i + 1),
        Source::Line => e.to_string(),
    }
}

/// CQL rows as a table (null cells read `null`, as cqlsh shows them).
pub fn table(rows: &Rows) -> Table {
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

/// Rows as JSON objects, one a line (null as null).
fn json_lines(rows: &Rows) -> Vec<String> {
    rows.rows
        .iter()
        .map(|r| {
            let o: serde_json::Map<String, serde_json::Value> = rows
                .columns
                .iter()
                .zip(r)
                .map(|(c, v)| {
                    let v = v.clone().map(serde_json::Value::String);
                    (c.clone(), v.unwrap_or(serde_json::Value::Null))
                })
                .collect();
            serde_json::Value::Object(o).to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lwt_results_say_applied() {
        let r = Rows {
            columns: vec!["[applied]".into(), "id".into()],
            rows: vec![vec![Some("false".into()), Some("7".into())]],
        };
        assert!(table(&r).summary.starts_with("[applied] false"));
    }

    #[test]
    fn bad_text_says_where() {
        let e = parse("SELECT 'oops", Source::Line).unwrap_err();
        assert!(e.to_string().contains("never closed"), "{e}");
        let e = parse("a;\n/* never", Source::File("x.cql")).unwrap_err();
        assert!(e.to_string().starts_with("x.cql:2: "), "{e}");
        assert!(matches!(
            parse("  ", Source::Line),
            Err(Failure::Usage(Bad { col: Some(1), .. }))
        ));
    }
}
