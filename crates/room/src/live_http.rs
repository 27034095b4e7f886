//! The live routes (#13), under `/api/v1/live`:
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET /live/stream` | anyone with a token (header or `?token=`) | server-sent events: the live view cut for the caller, at once and on every change |
//! | `GET /live` | anyone with a token | the same view, once |
//! | `POST /live` | instructor | a [`Command`]: activity clock, poll, picked note |
//! | `POST /live/answer` | learner | a [`PollAnswer`] to the open poll |
//! | `GET /live/notes?activity=` | instructor | the notes learners saved, with ids to pick |
//!
//! Every change is saved in the room database before it is answered or
//! pushed, so a restarted server carries on where it was.

use crate::auth::Principal;
use crate::live::{Audience, Command, LiveState, PollAnswer};
use crate::server::{ApiError, Shared, err, read};
use crate::writer::Job;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

#[derive(Deserialize)]
pub(crate) struct TokenQuery {
    token: Option<String>,
}

/// The caller, from the Authorization header or `?token=`.
fn caller(state: &Shared, headers: &HeaderMap, q: &TokenQuery) -> Result<Audience, ApiError> {
    let principal = match &q.token {
        Some(t) => state.auth.check_token(t),
        None => state.auth.check(headers),
    };
    match principal {
        Some(Principal::Instructor) => Ok(Audience::Instructor),
        Some(Principal::Viewer) => Ok(Audience::Projector),
        Some(Principal::Learner { id }) => Ok(Audience::Learner(id)),
        None => Err(err(StatusCode::UNAUTHORIZED, "missing or unknown token")),
    }
}

/// 401 without a token, 403 for anyone but the instructor.
fn instructor_only(state: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    match caller(state, headers, &TokenQuery { token: None })? {
        Audience::Instructor => Ok(()),
        _ => Err(err(
            StatusCode::FORBIDDEN,
            "only the instructor runs the room live",
        )),
    }
}

pub(crate) async fn stream(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let who = caller(&state, &headers, &q)?;
    let feed = (state.live_tx.subscribe(), state.stopping.clone(), true);
    let events = futures_util::stream::unfold(feed, move |(mut rx, mut stop, first)| async move {
        if !first {
            tokio::select! {
                r = rx.changed() => r.ok()?,
                _ = stop.wait_for(|s| *s) => return None,
            }
        }
        let view = rx.borrow_and_update().view(who, crate::now_ms());
        let data = serde_json::to_string(&view).unwrap_or_default();
        Some((
            Ok(Event::default().event("live").data(data)),
            (rx, stop, false),
        ))
    });
    let keep = KeepAlive::new().interval(Duration::from_secs(15));
    Ok(Sse::new(events).keep_alive(keep))
}

pub(crate) async fn current(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Result<Response, ApiError> {
    let who = caller(&state, &headers, &q)?;
    let view = state.live_tx.borrow().view(who, crate::now_ms());
    Ok(Json(view).into_response())
}

pub(crate) async fn command(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let q = TokenQuery { token: None };
    if caller(&state, &headers, &q)? != Audience::Instructor {
        return Err(err(
            StatusCode::FORBIDDEN,
            "only the instructor runs the room",
        ));
    }
    let cmd: Command = serde_json::from_slice(&body)
        .map_err(|e| err(StatusCode::BAD_REQUEST, format!("not a live command: {e}")))?;
    let picked = match &cmd {
        Command::PickNote { id } => Some(find_note(&state, *id).await?),
        _ => None,
    };
    let now = crate::now_ms();
    let view = change(&state, move |live| match picked {
        Some(note) => {
            live.pick(note);
            Ok(())
        }
        None => live.apply(cmd, now),
    })
    .await?;
    Ok(Json(view.view(Audience::Instructor, now)).into_response())
}

async fn find_note(state: &Shared, id: i64) -> Result<crate::live::PickedNote, ApiError> {
    let notes = read(state, |store, _| store.notes("")).await?;
    let notes = notes.map_err(|e| err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let note = notes.into_iter().find(|n| n.id == id);
    note.ok_or_else(|| err(StatusCode::NOT_FOUND, format!("no note {id}")))
}

pub(crate) async fn answer(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let q = TokenQuery { token: None };
    let Audience::Learner(id) = caller(&state, &headers, &q)? else {
        return Err(err(StatusCode::FORBIDDEN, "only learners answer polls"));
    };
    let a: PollAnswer = serde_json::from_slice(&body)
        .map_err(|e| err(StatusCode::BAD_REQUEST, format!("not a poll answer: {e}")))?;
    let live = change(&state, move |live| live.answer(id, a)).await?;
    Ok(Json(live.view(Audience::Learner(id), crate::now_ms())).into_response())
}

#[derive(Deserialize)]
pub(crate) struct NotesQuery {
    activity: Option<String>,
}

pub(crate) async fn notes(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<NotesQuery>,
) -> Result<Response, ApiError> {
    instructor_only(&state, &headers)?;
    let activity = q.activity.unwrap_or_default();
    let notes = read(&state, move |store, _| store.notes(&activity)).await?;
    let notes = notes.map_err(|e| err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(notes).into_response())
}

/// Change the live state: apply `f` to a copy, save the copy, and only
/// then make it current and push it. A refused change (`Err`) is a 409
/// with the reason; a failed save is a 503, and nothing changes.
async fn change(
    state: &Shared,
    f: impl FnOnce(&mut LiveState) -> Result<(), String>,
) -> Result<Arc<LiveState>, ApiError> {
    let _one_at_a_time = state.live_lock.lock().await;
    let mut next = LiveState::clone(&state.live_tx.borrow());
    f(&mut next).map_err(|e| err(StatusCode::CONFLICT, e))?;
    next.version += 1;
    let next = Arc::new(next);
    let (reply, rx) = oneshot::channel();
    let job = Job::Live {
        state: next.clone(),
        reply,
    };
    let saved = crate::server::submit(state, job, rx).await?;
    saved.map_err(|e| err(StatusCode::SERVICE_UNAVAILABLE, e))?;
    state.live_tx.send_replace(next.clone());
    Ok(next)
}

/// The live state's channel, starting from what the store holds.
pub(crate) fn channel(saved: LiveState) -> watch::Sender<Arc<LiveState>> {
    watch::Sender::new(Arc::new(saved))
}
