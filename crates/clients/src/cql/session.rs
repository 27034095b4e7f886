//! Sessions (one cached per contact points, or the caller's own), running
//! a statement with a timeout, and the driver's errors and values worded
//! for a learner.

use super::calendar::{fmt_date, fmt_double, fmt_timestamp};
use super::{CqlError, Rows};
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::errors::{DbError, ExecutionError, PrepareError, RequestAttemptError};
use scylla::statement::Consistency;
use scylla::statement::unprepared::Statement;
use scylla::value::{CqlDate, CqlTimestamp, CqlValue};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

type CachedSession = Arc<Session>;
static SESSIONS: OnceLock<Mutex<HashMap<String, CachedSession>>> = OnceLock::new();

/// A session to these contact points, reused for the life of the process.
pub async fn session(contact: &str, timeout: Duration) -> Result<Arc<Session>, CqlError> {
    let map = SESSIONS.get_or_init(|| Mutex::new(HashMap::new()));
    // A new login for the same servers (a shared cluster's admin replacing
    // the default role) gets a session of its own.
    let user = crate::auth::login_for(contact).map(|l| l.user);
    let key = format!("{contact}|{user:?}");
    if let Some(s) = map.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(s);
    }
    let s = own_session(contact, timeout).await?;
    if let Ok(mut m) = map.lock() {
        m.insert(key, s.clone());
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
    // Only what routing needs of the schema: every session start and every
    // schema change otherwise reads the columns of every keyspace on the
    // server (on a room's shared node, every learner's); datalab reads the
    // schema it wants from `system_schema` itself.
    let mut builder = SessionBuilder::new()
        .known_nodes(&points)
        .connection_timeout(timeout)
        .fetch_full_schema_metadata(false)
        .default_execution_profile_handle(profile);
    let login = crate::auth::login_for(contact);
    if let Some(l) = &login {
        builder = builder.user(&l.user, &l.password);
    }
    let who = login.map(|l| l.user);
    // Built on the driver runtime so its connection tasks outlive the
    // caller's runtime (see `driver_runtime`).
    let built = crate::driver_runtime().spawn(async move { builder.build().await });
    match tokio::time::timeout(timeout + Duration::from_secs(2), built).await {
        Ok(Ok(Ok(s))) => Ok(Arc::new(s)),
        Ok(Err(e)) => Err(CqlError::Connect {
            address: contact.into(),
            reason: e.to_string(),
        }),
        Ok(Ok(Err(e))) => Err(login_words(contact, e.to_string(), who.as_deref())),
        Err(_) => Err(CqlError::Connect {
            address: contact.into(),
            reason: format!("no answer within {timeout:?}"),
        }),
    }
}

/// A refused login said as such, not as a driver's connection error.
fn login_words(address: &str, reason: String, user: Option<&str>) -> CqlError {
    let lower = reason.to_lowercase();
    if !(lower.contains("authentication") || lower.contains("bad credentials")) {
        return CqlError::Connect {
            address: address.into(),
            reason,
        };
    }
    let reason = match user {
        Some(u) => format!(
            "wrong password for learner {u}, or no such learner on this cluster (ask the instructor for your credentials file: `datalab services login FILE`); the server said: {reason}"
        ),
        None => format!(
            "this Cassandra wants a login (a room's shared cluster): get your credentials file from the instructor and run `datalab services login FILE`; the server said: {reason}"
        ),
    };
    CqlError::Login {
        address: address.into(),
        reason,
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

pub(super) fn map_exec(e: ExecutionError) -> CqlError {
    if let Some((d, m)) = db_error(&e) {
        let message = match d {
            DbError::Unauthorized => format!(
                "{m} (not authorised: on a shared cluster a learner's role reaches only the keyspaces of their own namespace; this one belongs to another learner)"
            ),
            _ => m.to_string(),
        };
        return CqlError::Server {
            message,
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
