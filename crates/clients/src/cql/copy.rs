//! cqlsh's `COPY … FROM 'file.csv'`: CSV fields, typed values, the data
//! path, and loading the rows through a prepared INSERT.

use super::calendar::{parse_date, parse_timestamp};
use super::session::{execute, map_exec};
use super::{CqlError, Runner};
use futures::StreamExt;
use scylla::errors::ExecutionError;
use scylla::statement::Consistency;
use scylla::value::{CqlDate, CqlTimestamp, CqlValue};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Split a CSV line (double quotes for fields with commas).
pub fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn cql_value(typ: &str, s: &str) -> Result<Option<CqlValue>, String> {
    let s = s.trim();
    if s.is_empty() && typ != "text" && typ != "varchar" && typ != "ascii" {
        return Ok(None);
    }
    let bad = || format!("`{s}` is not a valid {typ}");
    Ok(Some(match typ {
        "text" | "varchar" => CqlValue::Text(s.into()),
        "ascii" => CqlValue::Ascii(s.into()),
        "int" => CqlValue::Int(s.parse().map_err(|_| bad())?),
        "bigint" => CqlValue::BigInt(s.parse().map_err(|_| bad())?),
        "smallint" => CqlValue::SmallInt(s.parse().map_err(|_| bad())?),
        "double" => CqlValue::Double(s.parse().map_err(|_| bad())?),
        "float" => CqlValue::Float(s.parse().map_err(|_| bad())?),
        "boolean" => CqlValue::Boolean(s.eq_ignore_ascii_case("true")),
        "date" => {
            let d = parse_date(s).ok_or_else(bad)?;
            CqlValue::Date(CqlDate((d + (1i64 << 31)) as u32))
        }
        "timestamp" => CqlValue::Timestamp(CqlTimestamp(parse_timestamp(s).ok_or_else(bad)?)),
        "uuid" => CqlValue::Uuid(s.parse().map_err(|_| bad())?),
        other => return Err(format!("COPY cannot load columns of type {other}")),
    }))
}

/// A relative path from the workspace; `data/…` falls back to the lab's own
/// data (`DATALAB_LAB_DATA`) when the workspace has no copy of it.
pub fn resolve_data_path(base: &Path, file: &str) -> std::path::PathBuf {
    let p = base.join(file);
    if !p.exists()
        && let Some(rest) = file.strip_prefix("data/")
        && let Some(d) = std::env::var_os("DATALAB_LAB_DATA")
    {
        let q = Path::new(&d).join(rest);
        if q.exists() {
            return q;
        }
    }
    p
}

impl Runner {
    pub(super) async fn copy(
        &mut self,
        keyspace: Option<String>,
        table: &str,
        mut columns: Vec<String>,
        file: &str,
        header: bool,
    ) -> Result<usize, CqlError> {
        let ks = match keyspace.or_else(|| self.session.get_keyspace().map(|k| k.to_string())) {
            Some(k) => k,
            None => {
                return Err(CqlError::Other(
                    "COPY needs a keyspace: write keyspace.table or USE one first".into(),
                ));
            }
        };
        let path = resolve_data_path(&self.base_dir, file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CqlError::Other(format!("cannot read {}: {e}", path.display())))?;
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let head: Option<Vec<String>> = if header {
            lines.next().map(|(_, l)| {
                csv_fields(l)
                    .iter()
                    .map(|s| s.trim().to_lowercase())
                    .collect()
            })
        } else {
            None
        };
        if columns.is_empty() {
            columns = head.clone().ok_or_else(|| {
                CqlError::Other("COPY without a column list needs WITH HEADER = TRUE".into())
            })?;
        }
        let types = execute(
            &self.session,
            &format!(
                "SELECT column_name, type FROM system_schema.columns WHERE keyspace_name = '{}' AND table_name = '{}'",
                ks.replace('\'', "''"),
                table.replace('\'', "''")
            ),
            Consistency::One,
            self.timeout,
        )
        .await?;
        let typ: HashMap<String, String> = types
            .rows
            .iter()
            .filter_map(|r| Some((r[0].clone()?, r[1].clone()?)))
            .collect();
        if typ.is_empty() {
            return Err(CqlError::Server {
                message: format!("table {ks}.{table} does not exist"),
                syntax: false,
            });
        }
        for c in &columns {
            if !typ.contains_key(c) {
                return Err(CqlError::Other(format!(
                    "table {ks}.{table} has no column `{c}`"
                )));
            }
        }
        let insert = format!(
            "INSERT INTO {ks}.{table} ({}) VALUES ({})",
            columns.join(", "),
            vec!["?"; columns.len()].join(", ")
        );
        let mut prepared =
            match tokio::time::timeout(self.timeout, self.session.prepare(insert)).await {
                Err(_) => return Err(CqlError::Timeout(self.timeout)),
                Ok(Err(e)) => return Err(map_exec(ExecutionError::PrepareError(e))),
                Ok(Ok(p)) => p,
            };
        prepared.set_consistency(self.consistency);
        let mut rows = Vec::new();
        for (i, l) in lines {
            let f = csv_fields(l);
            if f.len() != columns.len() {
                return Err(CqlError::Other(format!(
                    "{file}:{}: {} fields, expected {} ({})",
                    i + 1,
                    f.len(),
                    columns.len(),
                    columns.join(", ")
                )));
            }
            let mut vals = Vec::with_capacity(f.len());
            for (c, v) in columns.iter().zip(&f) {
                vals.push(
                    cql_value(&typ[c], v)
                        .map_err(|e| CqlError::Other(format!("{file}:{}: {c}: {e}", i + 1)))?,
                );
            }
            rows.push(vals);
        }
        let n = rows.len();
        let session = self.session.clone();
        let prepared = Arc::new(prepared);
        let timeout = self.timeout;
        let results: Vec<Result<(), CqlError>> =
            futures::stream::iter(rows.into_iter().map(|vals| {
                let s = session.clone();
                let p = prepared.clone();
                async move {
                    match tokio::time::timeout(timeout, s.execute_unpaged(&p, vals)).await {
                        Err(_) => Err(CqlError::Timeout(timeout)),
                        Ok(r) => r.map(|_| ()).map_err(map_exec),
                    }
                }
            }))
            .buffer_unordered(32)
            .collect()
            .await;
        if let Some(Err(e)) = results.into_iter().find(|r| r.is_err()) {
            return Err(e);
        }
        Ok(n)
    }
}
