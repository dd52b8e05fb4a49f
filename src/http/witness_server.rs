//! The HTTP face of `jaga witness serve`: C2SP tlog-witness
//! `POST /add-checkpoint`, and nothing else.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::witness::state::{Refusal, Witness};

/// A request is an old size, at most 63 hashes and a checkpoint note.
const MAX_BODY: usize = 16 * 1024;

pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(witness)
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return text(
            StatusCode::BAD_REQUEST,
            "text/plain; charset=utf-8",
            "not UTF-8\n".into(),
        );
    };
    let answer = tokio::task::spawn_blocking(move || witness.add_checkpoint(&body)).await;
    let refusal = match answer {
        Ok(Ok(cosignature)) => return text(StatusCode::OK, "text/plain; charset=utf-8", cosignature),
        Ok(Err(refusal)) => refusal,
        Err(e) => Refusal::Storage(e.to_string()),
    };
    let status = match &refusal {
        Refusal::Malformed(_) => StatusCode::BAD_REQUEST,
        Refusal::Unsigned => StatusCode::FORBIDDEN,
        Refusal::UnknownLog(_) => StatusCode::NOT_FOUND,
        Refusal::Conflict(size) => return text(StatusCode::CONFLICT, "text/x.tlog.size", format!("{size}\n")),
        Refusal::Inconsistent { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        Refusal::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    text(status, "text/plain; charset=utf-8", format!("{refusal}\n"))
}
