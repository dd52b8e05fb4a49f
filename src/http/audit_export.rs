//! `GET /api/security/audit/export`: a time window of the audit log,
//! streamed as JSON Lines or CSV, cut at a signed checkpoint. Security
//! officers only; the export is audited before the first byte is sent.

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::Deserialize;

use super::client::Client;
use super::console::officer;
use super::error::{ApiError, ErrorBody};
use super::session::SignedIn;
use crate::app::AppState;
use crate::audit::csv;
use crate::audit::export::{self, Cut, ExportError};
use crate::console::export::{Asked, Format, StartError, start};
use crate::console::search::SearchError;
use crate::store::Db;

/// The response header that carries a CSV export's manifest (base64url JSON).
pub const MANIFEST_HEADER: &str = "jaga-export-manifest";

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ExportQuery {
    /// From this instant (RFC 3339), included. Required.
    from: Option<String>,
    /// Until this instant (RFC 3339), excluded. Required.
    to: Option<String>,
    /// jsonl (default) or csv.
    format: Option<String>,
}

impl From<StartError> for ApiError {
    fn from(e: StartError) -> Self {
        match e {
            StartError::Bad(b) => SearchError::Bad(b).into(),
            StartError::Export(ExportError::NoCheckpoint) => ApiError::new(
                StatusCode::CONFLICT,
                "no_checkpoint",
                "Log audit belum memiliki checkpoint bertanda tangan; coba lagi sebentar lagi. \
                 (The audit log has no signed checkpoint yet; try again shortly.)",
            ),
            other => ApiError::internal(other),
        }
    }
}

/// What the stream still has to send.
struct Sending {
    db: Db,
    cut: Cut,
    next: u64,
    format: Format,
    head: Option<String>,
}

async fn chunk(mut s: Sending) -> Result<Option<(Bytes, Sending)>, std::io::Error> {
    if let Some(head) = s.head.take() {
        return Ok(Some((Bytes::from(head), s)));
    }
    if s.next >= s.cut.end {
        return Ok(None);
    }
    let lines = export::lines(&s.db, &s.cut, s.next)
        .await
        .map_err(std::io::Error::other)?;
    let Some(last) = lines.last() else {
        return Err(std::io::Error::other(ExportError::Unreadable(
            i64::try_from(s.next).unwrap_or(i64::MAX),
        )));
    };
    s.next = last.seq + 1;
    let mut out = String::with_capacity(lines.len() * 300);
    for line in &lines {
        match s.format {
            Format::Jsonl => {
                out.push_str(&serde_json::to_string(line).map_err(std::io::Error::other)?);
                out.push('\n');
            }
            Format::Csv => out.push_str(&csv::row(line)),
        }
    }
    Ok(Some((Bytes::from(out), s)))
}

/// Export the audit log
///
/// Security officers only. The events from the first at or after `from`
/// to the last before `to` (one unbroken stretch of the log), streamed.
/// JSON Lines: the first line is the manifest (the signed checkpoint the
/// export was cut at, and the hashes that tie the events to it), then one
/// event per line. CSV: a header row, then one event per line; the
/// manifest is in the `Jaga-Export-Manifest` header (base64url JSON).
/// `jaga audit verify --export` checks either offline with the log's
/// public key. The export is audited.
#[utoipa::path(get, path = "/api/security/audit/export", tag = "security", security(("session" = [])),
    params(ExportQuery),
    responses(
        (status = 200, description = "The export (application/x-ndjson or text/csv), streamed",
            content_type = "application/x-ndjson", body = export::Manifest),
        (status = 400, description = "A window or format that is not valid (invalid_query)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a security officer", body = ErrorBody),
        (status = 409, description = "The log has no signed checkpoint yet (no_checkpoint)", body = ErrorBody),
    ))]
pub(super) async fn audit_export(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let permit = officer(&state, &who).await?;
    let asked = Asked {
        from: q.from,
        to: q.to,
        format: q.format,
    };
    let window = asked.check().map_err(SearchError::Bad)?;
    let origin = &state.config.audit.origin;
    let cut = start(&state.db, &state.writer, origin, permit.actor(), window, &client.ctx).await?;
    let manifest = serde_json::to_string(&cut.manifest).map_err(ApiError::internal)?;
    let (content_type, head) = match window.format {
        Format::Jsonl => ("application/x-ndjson", format!("{manifest}\n")),
        Format::Csv => ("text/csv; charset=utf-8", format!("{}\r\n", csv::HEADER)),
    };
    let filename = format!(
        "attachment; filename=\"jaga-audit-{}-{}.{}\"",
        cut.first(),
        cut.end,
        window.format.as_str()
    );
    let sending = Sending {
        db: state.db.clone(),
        next: cut.first(),
        cut,
        format: window.format,
        head: Some(head),
    };
    let body = Body::from_stream(futures_util::stream::try_unfold(sending, chunk));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&filename) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if window.format == Format::Csv {
        let encoded = HeaderValue::from_str(&B64URL.encode(manifest)).map_err(ApiError::internal)?;
        headers.insert(MANIFEST_HEADER, encoded);
    }
    Ok(response)
}
