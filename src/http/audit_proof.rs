//! The audit log's proofs: the latest signed checkpoint (public, a C2SP
//! signed note), and for security officers an event's inclusion proof and
//! the consistency proof between two tree sizes (RFC 9162 §2.1; the JSON
//! names of RFC 6962 §4.4–4.5). Hashes are standard base64.
//!
//! The proofs carry no personal data (hashes only) and are not audited;
//! the event they are about is read through the audited detail.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::console::Security;
use super::error::{ApiError, ErrorBody};
use super::routes::Routes;
use crate::app::AppState;
use crate::audit::merkle::Hash;
use crate::audit::proof::{self, ProofError};
use crate::store::Db;
use crate::store::audit as stored;

pub fn routes() -> Routes {
    Routes::new()
        .get("/api/audit/checkpoint", checkpoint)
        .get("/api/security/audit/consistency", consistency)
        .get("/api/security/audit/{seq}/proof", inclusion)
}

impl From<ProofError> for ApiError {
    fn from(e: ProofError) -> Self {
        match e {
            ProofError::OutOfRange => no_proof(),
            ProofError::Incomplete => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "proof_unavailable",
                "Bukti belum tersedia: pohon log audit sedang dilengkapi. Coba lagi nanti. \
                 (The proof is not available yet: the audit tree is being completed. Try again later.)",
            )
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("60")),
            ProofError::Store(e) => ApiError::internal(e),
        }
    }
}

fn no_proof() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_proof",
        "Tidak ada bukti untuk kejadian atau ukuran pohon ini. \
         (No proof for this event or tree size.)",
    )
}

fn no_checkpoint() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_checkpoint",
        "Log audit belum memiliki checkpoint bertanda tangan. (The audit log has no signed checkpoint yet.)",
    )
}

fn encode(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

/// The latest signed tip: its size and note.
async fn tip(db: &Db) -> Result<Option<(u64, String)>, ApiError> {
    let tip = stored::tip(db).await.map_err(ApiError::internal)?;
    Ok(tip.and_then(|t| Some((u64::try_from(t.tree_size).ok()?, t.note))))
}

/// The signed note for a tree size, if one was signed for exactly it.
async fn note_at(db: &Db, size: u64, tip: &(u64, String)) -> Result<Option<String>, ApiError> {
    if size == tip.0 {
        return Ok(Some(tip.1.clone()));
    }
    let Ok(size) = i64::try_from(size) else {
        return Ok(None);
    };
    let row = stored::checkpoint_at(db, size).await.map_err(ApiError::internal)?;
    Ok(row.map(|r| r.note))
}

/// A tree size or leaf index in a query or path: decimal digits.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The latest signed checkpoint
///
/// Public: the C2SP signed note of the audit log's latest tree (origin,
/// size, root hash), signed with the log's Ed25519 key. Verify it with the
/// key `jaga audit public-key` prints.
#[utoipa::path(get, path = "/api/audit/checkpoint", tag = "audit",
    responses(
        (status = 200, description = "The signed note", body = String, content_type = "text/plain"),
        (status = 404, description = "No checkpoint yet (no_checkpoint)", body = ErrorBody),
    ))]
pub(super) async fn checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (_, note) = tip(&state.db).await?.ok_or_else(no_checkpoint)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        note,
    )
        .into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct InclusionQuery {
    /// The tree size to prove inclusion in (default: the latest checkpoint's).
    #[param(pattern = "^[0-9]{1,19}$")]
    size: Option<String>,
}

/// An inclusion proof.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct InclusionProof {
    /// The event's sequence number: its leaf index.
    leaf_index: u64,
    tree_size: u64,
    /// The event's leaf hash as stored (check it against the event's
    /// canonical bytes).
    leaf_hash: String,
    /// RFC 9162 §2.1.3 audit path, bottom first.
    audit_path: Vec<String>,
    /// The signed note of `tree_size`, when one was signed for it.
    checkpoint: Option<String>,
}

/// An event's inclusion proof
///
/// Security officers only. Proves that the event is leaf `seq` of the
/// tree of `size` events, whose root a signed checkpoint names.
#[utoipa::path(get, path = "/api/security/audit/{seq}/proof", tag = "security", security(("session" = [])),
    params(("seq" = String, Path, description = "The event's sequence number"), InclusionQuery),
    responses(
        (status = 200, description = "The proof", body = InclusionProof),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a security officer", body = ErrorBody),
        (status = 404, description = "No such event in a tree of that size (no_proof)", body = ErrorBody),
        (status = 503, description = "The stored tree is still being completed (proof_unavailable)", body = ErrorBody),
    ))]
pub(super) async fn inclusion(
    State(state): State<AppState>,
    _: Security,
    Path(seq): Path<String>,
    Query(q): Query<InclusionQuery>,
) -> Result<Json<InclusionProof>, ApiError> {
    let index = number(&seq).ok_or_else(no_proof)?;
    let tip = tip(&state.db).await?.ok_or_else(no_proof)?;
    let size = match q.size.as_deref() {
        None => tip.0,
        Some(text) => number(text).filter(|s| *s <= tip.0).ok_or_else(no_proof)?,
    };
    if index >= size {
        return Err(no_proof());
    }
    let path = proof::inclusion(&state.db, index, size).await?;
    let leaf = proof::leaf(&state.db, index).await?;
    Ok(Json(InclusionProof {
        leaf_index: index,
        tree_size: size,
        leaf_hash: B64.encode(leaf),
        audit_path: encode(&path),
        checkpoint: note_at(&state.db, size, &tip).await?,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ConsistencyQuery {
    /// The older tree size.
    #[param(pattern = "^[0-9]{1,19}$")]
    first: String,
    /// The newer tree size (at most the latest checkpoint's).
    #[param(pattern = "^[0-9]{1,19}$")]
    second: String,
}

/// A consistency proof.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ConsistencyProof {
    first: u64,
    second: u64,
    /// RFC 9162 §2.1.4 consistency proof.
    consistency: Vec<String>,
    /// The signed notes of the two sizes, when they were signed.
    first_checkpoint: Option<String>,
    second_checkpoint: Option<String>,
}

/// A consistency proof between two tree sizes
///
/// Security officers only. Proves that the tree of `first` events is a
/// prefix of the tree of `second` events: nothing signed before was
/// changed or removed since.
#[utoipa::path(get, path = "/api/security/audit/consistency", tag = "security", security(("session" = [])),
    params(ConsistencyQuery),
    responses(
        (status = 200, description = "The proof", body = ConsistencyProof),
        (status = 400, description = "A missing or unknown parameter (invalid_query)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a security officer", body = ErrorBody),
        (status = 404, description = "Sizes out of order or beyond the log (no_proof)", body = ErrorBody),
        (status = 503, description = "The stored tree is still being completed (proof_unavailable)", body = ErrorBody),
    ))]
pub(super) async fn consistency(
    State(state): State<AppState>,
    _: Security,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let tip = tip(&state.db).await?.ok_or_else(no_proof)?;
    let (Some(first), Some(second)) = (number(&q.first), number(&q.second)) else {
        return Err(no_proof());
    };
    if first > second || second > tip.0 {
        return Err(no_proof());
    }
    let path = proof::consistency(&state.db, first, second).await?;
    Ok(Json(ConsistencyProof {
        first,
        second,
        consistency: encode(&path),
        first_checkpoint: note_at(&state.db, first, &tip).await?,
        second_checkpoint: note_at(&state.db, second, &tip).await?,
    }))
}
