//! The room's HTTP API (axum), under `/api/v1`:
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET /health` | anyone | `{"ok":true}` |
//! | `POST /join` | anyone with the join code | a learner id and token (and, with a [`crate::JoinHook`], that learner's credentials) |
//! | `POST /events` | a learner | store a batch of that learner's events |
//! | `GET /me` | a learner | that learner's own counts, nothing of others |
//! | `GET /summary` | instructor or view token | per-unit finished counts |
//! | `GET /view` | instructor | the full room view (`?filter=`, `?stuck_after_secs=`) |
//! | `GET /learners/{id}` | instructor | one learner's detail |
//! | `GET /export?format=csv\|json` | instructor | the grade book |
//! | `/live…` | see `live_http` | the room's live activity, poll and note |
//! | `GET /projector` (outside `/api`) | anyone | the projector page (it carries no data; its script reads the view token from the URL's `#token=`) |
//!
//! Missing or unknown token: 401, nothing written. A valid token of the
//! wrong role: 403. Bodies over `MAX_BODY_BYTES`: 413. Malformed or invalid
//! bodies: 400 with a message. Later features add routes to `router`.

use crate::auth::{Auth, Principal};
use crate::export::{ExportFormat, render};
use crate::hub::Hub;
use crate::live_http;
use crate::model::RoomModel;
use crate::protocol::{self, BatchAck, ErrorBody, JoinResponse, MeResponse};
use crate::store::{Store, StoreError};
use crate::view::ViewOptions;
use crate::writer::Job;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Everything a request handler needs; shared by all connections.
pub(crate) struct AppState {
    pub writer: mpsc::Sender<Job>,
    pub auth: Auth,
    /// A read connection and the model folded from it (refreshed per read).
    pub reader: Mutex<(Store, RoomModel)>,
    #[allow(dead_code)] // publish-only today
    pub hub: Hub,
    /// The live state (activity, poll, note), pushed to every stream.
    pub live_tx: tokio::sync::watch::Sender<Arc<crate::live::LiveState>>,
    /// Live changes are made one at a time (read, save, publish).
    pub live_lock: tokio::sync::Mutex<()>,
    /// Turns true when the server stops: live streams end then.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// Credentials handed to each learner who joins, when the room has them.
    pub join_hook: Option<crate::JoinHookHandle>,
}

pub(crate) type Shared = Arc<AppState>;

/// An error answer: status and a JSON `{"error": ...}` body.
pub(crate) struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorBody { error: self.1 })).into_response()
    }
}

pub(crate) fn err(status: StatusCode, msg: impl Into<String>) -> ApiError {
    ApiError(status, msg.into())
}

/// The router; `/api/v1` routes with the body limit applied.
pub(crate) fn router(state: Shared) -> Router {
    let api = Router::new()
        .route(
            "/health",
            get(|| async { Json(serde_json::json!({"ok": true})) }),
        )
        .route("/join", post(join))
        .route("/events", post(events))
        .route("/me", get(me))
        .route("/summary", get(summary))
        .route("/view", get(view))
        .route("/learners/{id}", get(learner_detail))
        .route("/export", get(export))
        .route("/live", get(live_http::current).post(live_http::command))
        .route("/live/stream", get(live_http::stream))
        .route("/live/answer", post(live_http::answer))
        .route("/live/notes", get(live_http::notes));
    Router::new()
        .nest("/api/v1", api)
        .route("/projector", get(crate::projector::page))
        .fallback(|| async { err(StatusCode::NOT_FOUND, "no such route") })
        .layer(DefaultBodyLimit::max(protocol::MAX_BODY_BYTES))
        .with_state(state)
}

fn require(state: &AppState, headers: &HeaderMap, allowed: &[Role]) -> Result<Principal, ApiError> {
    let Some(principal) = state.auth.check(headers) else {
        return Err(err(StatusCode::UNAUTHORIZED, "missing or unknown token"));
    };
    let role = match principal {
        Principal::Instructor => Role::Instructor,
        Principal::Viewer => Role::Viewer,
        Principal::Learner { .. } => Role::Learner,
    };
    if allowed.contains(&role) {
        Ok(principal)
    } else {
        Err(err(
            StatusCode::FORBIDDEN,
            "this token may not use this route",
        ))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Instructor,
    Viewer,
    Learner,
}

async fn join(State(state): State<Shared>, body: Bytes) -> Result<Json<JoinResponse>, ApiError> {
    let req = protocol::parse_join(&body).map_err(|e| err(StatusCode::BAD_REQUEST, e.0))?;
    if !state.auth.join_code_matches(&req.code) {
        return Err(err(StatusCode::UNAUTHORIZED, "wrong join code"));
    }
    let token = crate::token::new_token();
    let token_hash = crate::token::hash(&token);
    let (reply, rx) = oneshot::channel();
    let job = Job::Join {
        name: req.name.clone(),
        token_hash,
        reply,
    };
    let id = submit(&state, job, rx).await?.map_err(|e| match e {
        StoreError::NameTaken(_) => err(StatusCode::CONFLICT, e.to_string()),
        other => err(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
    })?;
    state.auth.add_learner(token_hash, id);
    let (credentials, credentials_error) = match &state.join_hook {
        None => (None, None),
        Some(hook) => match hook.0.credentials(&req.name).await {
            Ok(c) => (Some(c), None),
            Err(e) => (None, Some(e)),
        },
    };
    Ok(Json(JoinResponse {
        learner: id,
        token,
        name: req.name,
        credentials,
        credentials_error,
    }))
}

async fn events(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<BatchAck>, ApiError> {
    let Principal::Learner { id } = require(&state, &headers, &[Role::Learner])? else {
        return Err(err(StatusCode::FORBIDDEN, "only learners post events"));
    };
    let batch = protocol::parse_batch(&body).map_err(|e| err(StatusCode::BAD_REQUEST, e.0))?;
    if let Some(other) = batch.events.iter().find(|e| e.learner != id) {
        let msg = format!(
            "this token writes learner {id}'s events only, not {}'s",
            other.learner
        );
        return Err(err(StatusCode::FORBIDDEN, msg));
    }
    let acked = batch.events.iter().map(|e| e.seq).collect();
    let (reply, rx) = oneshot::channel();
    let job = Job::Events {
        learner: id,
        events: batch.events,
        reply,
    };
    let stored = submit(&state, job, rx)
        .await?
        .map_err(|e| err(StatusCode::SERVICE_UNAVAILABLE, e))?;
    Ok(Json(BatchAck { acked, stored }))
}

/// Hand a job to the writer thread and wait for its answer.
pub(crate) async fn submit<T>(
    state: &AppState,
    job: Job,
    rx: oneshot::Receiver<T>,
) -> Result<T, ApiError> {
    let gone = || err(StatusCode::SERVICE_UNAVAILABLE, "the room is shutting down");
    state.writer.send(job).await.map_err(|_| gone())?;
    rx.await.map_err(|_| gone())
}

/// Run `f` on the read connection with the model brought up to date, off
/// the async threads.
pub(crate) async fn read<T: Send + 'static>(
    state: &Shared,
    f: impl FnOnce(&Store, &RoomModel) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let state = state.clone();
    let work = move || {
        let mut guard = state.reader.lock().unwrap_or_else(|p| p.into_inner());
        let (store, model) = &mut *guard;
        model
            .refresh(store)
            .map_err(|e| err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        Ok(f(store, model))
    };
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| err(StatusCode::INTERNAL_SERVER_ERROR, "reader failed"))?
}

async fn me(State(state): State<Shared>, headers: HeaderMap) -> Result<Json<MeResponse>, ApiError> {
    let Principal::Learner { id } = require(&state, &headers, &[Role::Learner])? else {
        return Err(err(StatusCode::FORBIDDEN, "learners only"));
    };
    let r = read(&state, move |store, model| {
        let name = model
            .learners
            .get(&id)
            .map(|l| l.name.clone())
            .unwrap_or_default();
        store
            .learner_stats(id)
            .map(|(events, high_seq)| MeResponse {
                learner: id,
                name,
                events,
                high_seq,
            })
    })
    .await?;
    r.map(Json)
        .map_err(|e| err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn summary(State(state): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    require(&state, &headers, &[Role::Instructor, Role::Viewer])?;
    let (learners, units, steps) = read(&state, |_, model| {
        (
            model.learner_count(),
            model.unit_counts(),
            model.step_counts(),
        )
    })
    .await?;
    let body = serde_json::json!({"learners": learners, "units": units, "steps": steps});
    Ok(Json(body).into_response())
}

#[derive(Deserialize)]
struct ViewQuery {
    filter: Option<String>,
    stuck_after_secs: Option<u64>,
    stuck_hints: Option<usize>,
}

impl ViewQuery {
    fn options(self) -> ViewOptions {
        let d = ViewOptions::default();
        ViewOptions {
            stuck_after: self
                .stuck_after_secs
                .map_or(d.stuck_after, Duration::from_secs),
            stuck_hints: self.stuck_hints.unwrap_or(d.stuck_hints),
            filter: self.filter.unwrap_or_default(),
        }
    }
}

async fn view(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ViewQuery>,
) -> Result<Response, ApiError> {
    require(&state, &headers, &[Role::Instructor])?;
    let opts = q.options();
    let v = read(&state, move |_, model| model.view(crate::now_ms(), &opts)).await?;
    Ok(Json(v).into_response())
}

async fn learner_detail(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Query(q): Query<ViewQuery>,
) -> Result<Response, ApiError> {
    require(&state, &headers, &[Role::Instructor])?;
    let opts = q.options();
    let d = read(&state, move |_, model| {
        model.detail(id, crate::now_ms(), &opts)
    })
    .await?;
    d.map(|d| Json(d).into_response())
        .ok_or_else(|| err(StatusCode::NOT_FOUND, format!("no learner {id}")))
}

#[derive(Deserialize)]
struct ExportQuery {
    format: Option<String>,
}

async fn export(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    require(&state, &headers, &[Role::Instructor])?;
    let format: ExportFormat = q
        .format
        .as_deref()
        .unwrap_or("json")
        .parse()
        .map_err(|e: String| err(StatusCode::BAD_REQUEST, e))?;
    let text = read(&state, move |_, model| render(&model.gradebook(), format)).await?;
    let mime = match format {
        ExportFormat::Csv => "text/csv; charset=utf-8",
        ExportFormat::Json => "application/json",
    };
    Ok(([(header::CONTENT_TYPE, mime)], text).into_response())
}
