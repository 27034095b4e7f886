//! CQL for the Cassandra lab: split a learner's `.cql` file into statements
//! (quotes and comments respected), put keyspaces in the learner's namespace,
//! run statements through the scylla driver with a timeout, and return rows
//! as strings. Two cqlsh shell commands are understood as well, because that
//! is what cqlsh users write: `CONSISTENCY <level>` and
//! `COPY ks.table (cols) FROM 'file.csv' [WITH HEADER = TRUE]`.
//!
//! Namespaces: a learner writes `iot`; datalab runs it as `<ns>_iot`. Every
//! keyspace name in a statement is rewritten: after `KEYSPACE` (with
//! `IF [NOT] EXISTS`), after `USE`, and before the `.` of a qualified
//! `keyspace.table`. System keyspaces (`system`, `system_*`) are left alone.

use crate::Namespace;
use futures::StreamExt;
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::errors::{DbError, ExecutionError, PrepareError, RequestAttemptError};
use scylla::statement::Consistency;
use scylla::statement::unprepared::Statement;
use scylla::value::{CqlDate, CqlTimestamp, CqlValue};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// One statement of a file, with the line it starts on (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stmt {
    pub text: String,
    pub line: usize,
}

/// Split CQL text into statements at `;`, ignoring `;` inside strings,
/// quoted identifiers, `$$…$$` literals and comments. Comments are dropped.
/// Err: `(line, message)` for an unterminated string or comment.
pub fn split(text: &str) -> Result<Vec<Stmt>, (usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start_line: Option<usize> = None;
    let mut line = 1usize;
    let mut i = 0;
    let push = |cur: &mut String, start: &mut Option<usize>, out: &mut Vec<Stmt>| {
        let t = cur.trim();
        if !t.is_empty() {
            out.push(Stmt {
                text: t.to_string(),
                line: start.unwrap_or(1),
            });
        }
        cur.clear();
        *start = None;
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            cur.push(c);
            i += 1;
            continue;
        }
        if (c == '-' && next == Some('-')) || (c == '/' && next == Some('/')) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            let open = line;
            i += 2;
            loop {
                if i >= chars.len() {
                    return Err((open, "this /* comment is never closed".into()));
                }
                if chars[i] == '\n' {
                    line += 1;
                }
                if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    i += 2;
                    break;
                }
                i += 1;
            }
            cur.push(' ');
            continue;
        }
        if c.is_whitespace() {
            cur.push(c);
            i += 1;
            continue;
        }
        if start_line.is_none() && c != ';' {
            start_line = Some(line);
        }
        if c == ';' {
            push(&mut cur, &mut start_line, &mut out);
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' || (c == '$' && next == Some('$')) {
            let open = line;
            let dollar = c == '$';
            cur.push(c);
            if dollar {
                cur.push('$');
                i += 2;
            } else {
                i += 1;
            }
            loop {
                if i >= chars.len() {
                    let what = if dollar {
                        "$$ string"
                    } else if c == '\'' {
                        "string"
                    } else {
                        "quoted name"
                    };
                    return Err((open, format!("this {what} is never closed")));
                }
                let d = chars[i];
                if d == '\n' {
                    line += 1;
                }
                cur.push(d);
                i += 1;
                if dollar {
                    if d == '$' && chars.get(i) == Some(&'$') {
                        cur.push('$');
                        i += 1;
                        break;
                    }
                } else if d == c {
                    // '' and "" are escapes
                    if chars.get(i) == Some(&c) {
                        cur.push(c);
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
            continue;
        }
        cur.push(c);
        i += 1;
    }
    push(&mut cur, &mut start_line, &mut out);
    Ok(out)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Str(String),
    Space(String),
    Sym(char),
}

fn tokenize(s: &str) -> Vec<Tok> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            let st = i;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            out.push(Tok::Space(chars[st..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let st = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Word(chars[st..i].iter().collect()));
        } else if c.is_ascii_digit() {
            // numbers (with decimals and exponents) are one symbol run
            let st = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '-')
            {
                // a '-' only inside a date/uuid-like literal; stop at "- "
                if chars[i] == '-' && !chars.get(i + 1).is_some_and(|d| d.is_ascii_alphanumeric()) {
                    break;
                }
                i += 1;
            }
            out.push(Tok::Str(chars[st..i].iter().collect()));
        } else if c == '\'' || c == '"' || (c == '$' && chars.get(i + 1) == Some(&'$')) {
            let st = i;
            let dollar = c == '$';
            i += if dollar { 2 } else { 1 };
            while i < chars.len() {
                if dollar {
                    if chars[i] == '$' && chars.get(i + 1) == Some(&'$') {
                        i += 2;
                        break;
                    }
                    i += 1;
                } else if chars[i] == c {
                    if chars.get(i + 1) == Some(&c) {
                        i += 2;
                    } else {
                        i += 1;
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            let t: String = chars[st..i.min(chars.len())].iter().collect();
            out.push(if c == '"' {
                Tok::Quoted(t)
            } else {
                Tok::Str(t)
            });
        } else {
            out.push(Tok::Sym(c));
            i += 1;
        }
    }
    out
}

fn tok_text(t: &Tok) -> String {
    match t {
        Tok::Word(s) | Tok::Quoted(s) | Tok::Str(s) | Tok::Space(s) => s.clone(),
        Tok::Sym(c) => c.to_string(),
    }
}

fn is_word(t: &Tok, w: &str) -> bool {
    matches!(t, Tok::Word(s) if s.eq_ignore_ascii_case(w))
}

/// An identifier token's name (unquoted names fold to lowercase).
fn ident_name(t: &Tok) -> Option<String> {
    match t {
        Tok::Word(s) => Some(s.to_lowercase()),
        Tok::Quoted(s) => Some(s.trim_matches('"').replace("\"\"", "\"")),
        _ => None,
    }
}

fn is_system_keyspace(name: &str) -> bool {
    name == "system" || name.starts_with("system_")
}

/// Put every keyspace a statement names into the namespace.
pub(crate) fn rewrite_keyspaces(stmt: &str, ns: &Namespace) -> String {
    if ns.is_empty() {
        return stmt.to_string();
    }
    let toks = tokenize(stmt);
    let sig: Vec<usize> = (0..toks.len())
        .filter(|&i| !matches!(toks[i], Tok::Space(_)))
        .collect();
    let mut targets = std::collections::BTreeSet::new();
    for (k, &i) in sig.iter().enumerate() {
        let t = &toks[i];
        if ident_name(t).is_none() {
            continue;
        }
        let prev = k.checked_sub(1).map(|p| &toks[sig[p]]);
        let next = sig.get(k + 1).map(|&n| &toks[n]);
        // ks.table (not the middle of a.b.c, not after a '.')
        if next == Some(&Tok::Sym('.'))
            && sig
                .get(k + 2)
                .is_some_and(|&n| ident_name(&toks[n]).is_some())
            && prev != Some(&Tok::Sym('.'))
        {
            targets.insert(i);
            continue;
        }
        // USE ks / KEYSPACE [IF [NOT] EXISTS] ks
        let mut p = k;
        while p > 0 {
            let pt = &toks[sig[p - 1]];
            if is_word(pt, "if") || is_word(pt, "not") || is_word(pt, "exists") {
                p -= 1;
            } else {
                break;
            }
        }
        if p > 0 {
            let pt = &toks[sig[p - 1]];
            let skipped = p != k;
            let use_kw = is_word(pt, "use") && !skipped;
            let ks_kw = is_word(pt, "keyspace")
                && !(is_word(t, "if") || is_word(t, "not") || is_word(t, "exists"));
            if use_kw || ks_kw {
                targets.insert(i);
            }
        }
    }
    let mut out = String::with_capacity(stmt.len() + 16);
    for (i, t) in toks.iter().enumerate() {
        if targets.contains(&i) {
            let name = ident_name(t).unwrap_or_default();
            let already = ns.strip(&name).is_some();
            if is_system_keyspace(&name) || already {
                out.push_str(&tok_text(t));
            } else {
                out.push_str(&ns.keyspace(&name));
            }
        } else {
            out.push_str(&tok_text(t));
        }
    }
    out
}

/// A query's result: column names and rows of printable values (None = null).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl Rows {
    pub fn col(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    }
    /// The `[applied]` value of a lightweight transaction's result.
    pub fn applied(&self) -> Option<bool> {
        let i = self.col("[applied]")?;
        Some(self.rows.first()?.get(i)?.as_deref() == Some("true"))
    }
}

/// Errors of the CQL client, worded for a learner.
#[derive(Clone, Debug, thiserror::Error)]
pub enum CqlError {
    #[error("Cassandra did not answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach Cassandra at {address}: {reason}")]
    Connect { address: String, reason: String },
    /// The server's own error for a statement.
    #[error("{message}")]
    Server {
        message: String,
        /// CQL syntax error (nothing was run).
        syntax: bool,
    },
    #[error("{0}")]
    Other(String),
}

type CachedSession = Arc<Session>;
static SESSIONS: OnceLock<Mutex<HashMap<String, CachedSession>>> = OnceLock::new();

/// A session to these contact points, reused for the life of the process.
pub async fn session(contact: &str, timeout: Duration) -> Result<Arc<Session>, CqlError> {
    let map = SESSIONS.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(s) = map.lock().ok().and_then(|m| m.get(contact).cloned()) {
        return Ok(s);
    }
    let s = own_session(contact, timeout).await?;
    if let Ok(mut m) = map.lock() {
        m.insert(contact.to_string(), s.clone());
    }
    Ok(s)
}

/// A session of the caller's own, not shared: `USE` on it changes no one
/// else's keyspace (a prompt that lives next to running checks needs this).
pub async fn own_session(contact: &str, timeout: Duration) -> Result<Arc<Session>, CqlError> {
    let points: Vec<String> = contact.split(',').map(|s| s.trim().to_string()).collect();
    let profile = ExecutionProfile::builder()
        .request_timeout(Some(timeout.max(Duration::from_secs(10))))
        .consistency(Consistency::One)
        .build()
        .into_handle();
    let builder = SessionBuilder::new()
        .known_nodes(&points)
        .connection_timeout(timeout)
        .default_execution_profile_handle(profile);
    // Built on the driver runtime so its connection tasks outlive the
    // caller's runtime (see `driver_runtime`).
    let built = super::driver_runtime().spawn(async move { builder.build().await });
    match tokio::time::timeout(timeout + Duration::from_secs(2), built).await {
        Ok(Ok(Ok(s))) => Ok(Arc::new(s)),
        Ok(Err(e)) => Err(CqlError::Connect {
            address: contact.into(),
            reason: e.to_string(),
        }),
        Ok(Ok(Err(e))) => Err(CqlError::Connect {
            address: contact.into(),
            reason: e.to_string(),
        }),
        Err(_) => Err(CqlError::Connect {
            address: contact.into(),
            reason: format!("no answer within {timeout:?}"),
        }),
    }
}

fn db_error(e: &ExecutionError) -> Option<(&DbError, &str)> {
    match e {
        ExecutionError::LastAttemptError(RequestAttemptError::DbError(d, m)) => Some((d, m)),
        ExecutionError::PrepareError(PrepareError::AllAttemptsFailed {
            first_attempt: RequestAttemptError::DbError(d, m),
        }) => Some((d, m)),
        _ => None,
    }
}

fn map_exec(e: ExecutionError) -> CqlError {
    if let Some((d, m)) = db_error(&e) {
        return CqlError::Server {
            message: m.to_string(),
            syntax: matches!(d, DbError::SyntaxError),
        };
    }
    match e {
        ExecutionError::RequestTimeout(d) => CqlError::Timeout(d),
        ExecutionError::ConnectionPoolError(p) => lost(p),
        ExecutionError::LastAttemptError(
            a @ (RequestAttemptError::BrokenConnectionError(_)
            | RequestAttemptError::UnableToAllocStreamId),
        ) => lost(a),
        ExecutionError::PrepareError(PrepareError::AllAttemptsFailed {
            first_attempt:
                a @ (RequestAttemptError::BrokenConnectionError(_)
                | RequestAttemptError::UnableToAllocStreamId),
        }) => lost(a),
        other => CqlError::Other(other.to_string()),
    }
}

/// The server went away under a request (stopped, crashed, restarted).
fn lost(why: impl std::fmt::Display) -> CqlError {
    CqlError::Other(format!(
        "lost the connection to Cassandra ({why}); is it still running? (`datalab services status`)"
    ))
}

/// Parse a consistency level name (`ONE`, `quorum`, `LOCAL_QUORUM`…).
pub(crate) fn parse_consistency(s: &str) -> Option<Consistency> {
    Some(match s.trim().to_ascii_uppercase().as_str() {
        "ANY" => Consistency::Any,
        "ONE" => Consistency::One,
        "TWO" => Consistency::Two,
        "THREE" => Consistency::Three,
        "QUORUM" => Consistency::Quorum,
        "ALL" => Consistency::All,
        "LOCAL_QUORUM" => Consistency::LocalQuorum,
        "EACH_QUORUM" => Consistency::EachQuorum,
        "LOCAL_ONE" => Consistency::LocalOne,
        "SERIAL" => Consistency::Serial,
        "LOCAL_SERIAL" => Consistency::LocalSerial,
        _ => return None,
    })
}

/// Run one CQL statement (already namespaced) at a consistency level.
pub async fn execute(
    session: &Session,
    cql: &str,
    consistency: Consistency,
    timeout: Duration,
) -> Result<Rows, CqlError> {
    let mut st = Statement::new(cql);
    st.set_consistency(consistency);
    st.set_request_timeout(Some(timeout));
    let res = match tokio::time::timeout(
        timeout + Duration::from_secs(1),
        session.query_unpaged(st, &[]),
    )
    .await
    {
        Ok(r) => r.map_err(map_exec)?,
        Err(_) => return Err(CqlError::Timeout(timeout)),
    };
    if !res.is_rows() {
        return Ok(Rows::default());
    }
    let rows = res
        .into_rows_result()
        .map_err(|e| CqlError::Other(e.to_string()))?;
    let columns: Vec<String> = rows
        .column_specs()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let mut out = Vec::new();
    for r in rows
        .rows::<scylla::value::Row>()
        .map_err(|e| CqlError::Other(e.to_string()))?
    {
        let r = r.map_err(|e| CqlError::Other(e.to_string()))?;
        out.push(
            r.columns
                .iter()
                .map(|v| v.as_ref().map(fmt_value))
                .collect(),
        );
    }
    Ok(Rows { columns, rows: out })
}

/// Ask the server to parse a statement without running it. Only a syntax
/// error is reported (a table created earlier in the same file may not
/// exist yet, which is fine).
pub(crate) async fn syntax_check(
    session: &Session,
    cql: &str,
    timeout: Duration,
) -> Result<(), CqlError> {
    match tokio::time::timeout(timeout, session.prepare(cql)).await {
        Err(_) => Err(CqlError::Timeout(timeout)),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(PrepareError::AllAttemptsFailed {
            first_attempt: RequestAttemptError::DbError(DbError::SyntaxError, m),
        })) => Err(CqlError::Server {
            message: m,
            syntax: true,
        }),
        Ok(Err(PrepareError::ConnectionPoolError(p))) => Err(lost(p)),
        Ok(Err(PrepareError::AllAttemptsFailed {
            first_attempt:
                a @ (RequestAttemptError::BrokenConnectionError(_)
                | RequestAttemptError::UnableToAllocStreamId),
        })) => Err(lost(a)),
        Ok(Err(_)) => Ok(()),
    }
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DD` → days since the epoch.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    // Years a CQL `date` can hold (±5.8 million); more would overflow.
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || y.unsigned_abs() > 5_000_000 {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// `YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|+0000]` (UTC) → milliseconds since the epoch.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s
        .strip_suffix('Z')
        .or_else(|| s.strip_suffix("+0000"))
        .or_else(|| s.strip_suffix("+00:00"))
        .unwrap_or(s);
    let (date, time) = match s.find(['T', ' ']) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, "00:00:00"),
    };
    let days = parse_date(date)?;
    let mut parts = time.split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let mi: i64 = parts.next().unwrap_or("0").parse().ok()?;
    let sec = parts.next().unwrap_or("0");
    let (sec, ms) = match sec.split_once('.') {
        Some((a, b)) => {
            let b3: String = format!("{b:0<3}").chars().take(3).collect();
            (a.parse::<i64>().ok()?, b3.parse::<i64>().ok()?)
        }
        None => (sec.parse::<i64>().ok()?, 0),
    };
    // A clock time, not any number: out of range it is not a timestamp (and
    // large ones overflowed the sum below).
    if !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0..=60).contains(&sec) || ms < 0 {
        return None;
    }
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms)
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS.fffZ` (cqlsh's style).
pub fn fmt_timestamp(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

pub fn fmt_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A double printed the way the checker prints the dataset's numbers.
pub fn fmt_double(v: f64) -> String {
    format!("{v}")
}

/// A CQL value as text.
pub(crate) fn fmt_value(v: &CqlValue) -> String {
    match v {
        CqlValue::Ascii(s) | CqlValue::Text(s) => s.clone(),
        CqlValue::Boolean(b) => b.to_string(),
        CqlValue::Int(i) => i.to_string(),
        CqlValue::BigInt(i) => i.to_string(),
        CqlValue::SmallInt(i) => i.to_string(),
        CqlValue::TinyInt(i) => i.to_string(),
        CqlValue::Counter(c) => c.0.to_string(),
        CqlValue::Double(d) => fmt_double(*d),
        CqlValue::Float(f) => format!("{f}"),
        CqlValue::Timestamp(CqlTimestamp(ms)) => fmt_timestamp(*ms),
        CqlValue::Date(CqlDate(d)) => fmt_date(*d as i64 - (1i64 << 31)),
        CqlValue::Uuid(u) => u.to_string(),
        CqlValue::Timeuuid(u) => u.to_string(),
        CqlValue::Inet(a) => a.to_string(),
        CqlValue::List(xs) | CqlValue::Set(xs) | CqlValue::Vector(xs) => format!(
            "[{}]",
            xs.iter().map(fmt_value).collect::<Vec<_>>().join(", ")
        ),
        CqlValue::Map(kv) => format!(
            "{{{}}}",
            kv.iter()
                .map(|(k, v)| format!("{}: {}", fmt_value(k), fmt_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        CqlValue::Empty => String::new(),
        other => format!("{other:?}"),
    }
}

/// A shell command of cqlsh that datalab understands, or a CQL statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Cql(String),
    /// `CONSISTENCY` alone shows the level; with a name, sets it.
    Consistency(Option<String>),
    Copy {
        keyspace: Option<String>,
        table: String,
        columns: Vec<String>,
        file: String,
        header: bool,
    },
    Use(String),
}

/// Classify a (namespaced) statement.
pub fn parse_command(stmt: &str) -> Result<Command, String> {
    let toks: Vec<Tok> = tokenize(stmt)
        .into_iter()
        .filter(|t| !matches!(t, Tok::Space(_)))
        .collect();
    let Some(first) = toks.first() else {
        return Ok(Command::Cql(stmt.into()));
    };
    if is_word(first, "consistency") {
        return match toks.get(1).and_then(ident_name) {
            None => Ok(Command::Consistency(None)),
            Some(l) if parse_consistency(&l).is_some() && toks.len() == 2 => {
                Ok(Command::Consistency(Some(l.to_uppercase())))
            }
            Some(l) => Err(format!(
                "unknown consistency level `{l}` (ONE, TWO, THREE, QUORUM, ALL, LOCAL_QUORUM, LOCAL_ONE, ANY)"
            )),
        };
    }
    if is_word(first, "use") {
        return match toks.get(1).and_then(ident_name) {
            Some(k) if toks.len() == 2 => Ok(Command::Use(k)),
            _ => Err("USE takes one keyspace name".into()),
        };
    }
    if is_word(first, "copy") {
        let usage =
            "COPY is `COPY keyspace.table (col1, col2, …) FROM 'file.csv' [WITH HEADER = TRUE]`";
        let mut i = 1;
        let a = toks.get(i).and_then(ident_name).ok_or(usage)?;
        i += 1;
        let (keyspace, table) = if toks.get(i) == Some(&Tok::Sym('.')) {
            let t = toks.get(i + 1).and_then(ident_name).ok_or(usage)?;
            i += 2;
            (Some(a), t)
        } else {
            (None, a)
        };
        let mut columns = Vec::new();
        if toks.get(i) == Some(&Tok::Sym('(')) {
            i += 1;
            while let Some(t) = toks.get(i) {
                i += 1;
                match t {
                    Tok::Sym(')') => break,
                    Tok::Sym(',') => {}
                    t => columns.push(ident_name(t).ok_or(usage)?),
                }
            }
        }
        if !toks.get(i).is_some_and(|t| is_word(t, "from")) {
            return Err(format!(
                "{usage} (datalab's COPY only reads files: COPY … TO is not supported)"
            ));
        }
        let file = match toks.get(i + 1) {
            Some(Tok::Str(s)) if s.starts_with('\'') => s.trim_matches('\'').replace("''", "'"),
            _ => return Err(usage.into()),
        };
        i += 2;
        let mut header = false;
        if toks.get(i).is_some_and(|t| is_word(t, "with")) {
            let rest: Vec<String> = toks[i + 1..]
                .iter()
                .map(|t| tok_text(t).to_ascii_lowercase())
                .collect();
            match rest.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                ["header", "=", "true"] => header = true,
                ["header", "=", "false"] => header = false,
                _ => return Err(format!("{usage}: only the HEADER option is supported")),
            }
        } else if toks.len() > i {
            return Err(usage.into());
        }
        return Ok(Command::Copy {
            keyspace,
            table,
            columns,
            file,
            header,
        });
    }
    Ok(Command::Cql(stmt.into()))
}

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

/// What running a file did, statement by statement.
#[derive(Clone, Debug, Default)]
pub struct FileRun {
    /// (statement as run, its line, its rows)
    pub results: Vec<(String, usize, Rows)>,
    /// The consistency level in force at the end.
    pub(crate) consistency: Option<String>,
}

/// A runner for statements and cqlsh commands, with the learner's namespace.
pub struct Runner {
    pub session: Arc<Session>,
    pub(crate) namespace: Namespace,
    pub(crate) consistency: Consistency,
    pub(crate) consistency_name: Option<String>,
    /// Relative `COPY` paths are read from here.
    pub(crate) base_dir: std::path::PathBuf,
    pub(crate) timeout: Duration,
}

impl Runner {
    pub fn new(
        session: Arc<Session>,
        namespace: Namespace,
        base_dir: &Path,
        timeout: Duration,
    ) -> Runner {
        Runner {
            session,
            namespace,
            consistency: Consistency::One,
            consistency_name: None,
            base_dir: base_dir.to_path_buf(),
            timeout,
        }
    }

    /// Run one statement or shell command (not yet namespaced). Returns the
    /// statement as run and its rows.
    pub async fn run(&mut self, stmt: &str) -> Result<(String, Rows), CqlError> {
        let cql = rewrite_keyspaces(stmt, &self.namespace);
        match parse_command(&cql).map_err(CqlError::Other)? {
            Command::Consistency(None) => Ok((
                cql,
                Rows {
                    columns: vec!["consistency".into()],
                    rows: vec![vec![Some(format!("{:?}", self.consistency).to_uppercase())]],
                },
            )),
            Command::Consistency(Some(l)) => {
                self.consistency = parse_consistency(&l).unwrap_or(Consistency::One);
                self.consistency_name = Some(l);
                Ok((cql, Rows::default()))
            }
            Command::Use(k) => {
                match tokio::time::timeout(self.timeout, self.session.use_keyspace(&k, false)).await
                {
                    Err(_) => Err(CqlError::Timeout(self.timeout)),
                    Ok(Err(e)) => Err(CqlError::Server {
                        message: e.to_string(),
                        syntax: false,
                    }),
                    Ok(Ok(())) => Ok((cql, Rows::default())),
                }
            }
            Command::Copy {
                keyspace,
                table,
                columns,
                file,
                header,
            } => {
                let n = self.copy(keyspace, &table, columns, &file, header).await?;
                Ok((
                    cql,
                    Rows {
                        columns: vec!["rows imported".into()],
                        rows: vec![vec![Some(n.to_string())]],
                    },
                ))
            }
            Command::Cql(c) => {
                let rows = execute(&self.session, &c, self.consistency, self.timeout).await?;
                Ok((cql, rows))
            }
        }
    }

    async fn copy(
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

    pub async fn run_stmts(&mut self, stmts: &[Stmt], display: &str) -> Result<FileRun, String> {
        for s in stmts {
            let cql = rewrite_keyspaces(&s.text, &self.namespace);
            match parse_command(&cql) {
                Err(m) => return Err(format!("{display}:{}: {m}", s.line)),
                Ok(Command::Cql(c)) => {
                    if let Err(e) = syntax_check(&self.session, &c, self.timeout).await {
                        return Err(format!("{display}:{}: {e}", s.line));
                    }
                }
                Ok(_) => {}
            }
        }
        let mut run = FileRun::default();
        for s in stmts {
            match self.run(&s.text).await {
                Ok((cql, rows)) => run.results.push((cql, s.line, rows)),
                Err(e) => return Err(format!("{display}:{}: {e}", s.line)),
            }
        }
        run.consistency = self.consistency_name.clone();
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let t = "-- a comment; not a statement\nCREATE KEYSPACE iot WITH x = {'a': 'b;c'};\n\n/* block;\n */ SELECT 'it''s;' FROM t; -- tail\nINSERT INTO t (a) VALUES ($$x;y$$)";
        let s = split(t).unwrap();
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(s[0].line, 2);
        assert!(s[0].text.contains("'b;c'"));
        assert_eq!(s[1].line, 5);
        assert_eq!(s[1].text, "SELECT 'it''s;' FROM t");
        assert_eq!(s[2].line, 6);
        assert_eq!(split("SELECT 'oops\n;").unwrap_err().0, 1);
        assert_eq!(split("a;\n/* never").unwrap_err().0, 2);
    }

    #[test]
    fn keyspaces_go_into_the_namespace() {
        let ns = Namespace::for_learner("ada");
        let r = |s: &str| rewrite_keyspaces(s, &ns);
        assert_eq!(
            r("CREATE KEYSPACE IF NOT EXISTS iot WITH replication = {'class': 'SimpleStrategy'}"),
            "CREATE KEYSPACE IF NOT EXISTS ada_iot WITH replication = {'class': 'SimpleStrategy'}"
        );
        assert_eq!(r("use IOT"), "use ada_iot");
        assert_eq!(
            r("SELECT ts FROM iot.readings WHERE s = 'iot.x' AND v > 1.5"),
            "SELECT ts FROM ada_iot.readings WHERE s = 'iot.x' AND v > 1.5"
        );
        assert_eq!(
            r("SELECT * FROM system_schema.tables WHERE keyspace_name = 'iot'"),
            "SELECT * FROM system_schema.tables WHERE keyspace_name = 'iot'"
        );
        assert_eq!(r("DROP KEYSPACE iot"), "DROP KEYSPACE ada_iot");
        assert_eq!(r("SELECT * FROM ada_iot.t"), "SELECT * FROM ada_iot.t");
        assert_eq!(
            r("INSERT INTO iot.t (d) VALUES ('2024-03-01')"),
            "INSERT INTO ada_iot.t (d) VALUES ('2024-03-01')"
        );
        assert_eq!(rewrite_keyspaces("USE iot", &Namespace::none()), "USE iot");
    }

    #[test]
    fn shell_commands_parse() {
        assert_eq!(
            parse_command("CONSISTENCY quorum").unwrap(),
            Command::Consistency(Some("QUORUM".into()))
        );
        assert!(parse_command("CONSISTENCY MOST").is_err());
        assert_eq!(
            parse_command("COPY ks.t (a, b) FROM 'data/x.csv' WITH HEADER = TRUE").unwrap(),
            Command::Copy {
                keyspace: Some("ks".into()),
                table: "t".into(),
                columns: vec!["a".into(), "b".into()],
                file: "data/x.csv".into(),
                header: true
            }
        );
    }

    #[test]
    fn dates_and_timestamps_round_trip() {
        let d = parse_date("2024-03-01").unwrap();
        assert_eq!(fmt_date(d), "2024-03-01");
        let t = parse_timestamp("2024-03-01T06:15:00Z").unwrap();
        assert_eq!(fmt_timestamp(t), "2024-03-01 06:15:00.000Z");
        assert_eq!(parse_timestamp("1970-01-01 00:00:01.5"), Some(1500));
        // Found by fuzz/cql_line: huge hours overflowed instead of failing.
        assert_eq!(parse_timestamp("24-01-2 666666666666665"), None);
        assert_eq!(parse_timestamp("2024-01-01 25:00"), None);
        assert_eq!(parse_timestamp("2024-01-01 00:00:01.-5"), None);
        assert_eq!(parse_date("99999999999999-01-01"), None);
        assert_eq!(
            parse_timestamp("2024-01-01 23:59:60.999"),
            Some(1_704_153_600_999)
        );
    }
}
