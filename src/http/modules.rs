//! The module API: collections and citizen records, authenticated with a
//! DPoP-bound access token (`Authorization: DPoP …` and a `DPoP` proof), or
//! a static module API key where those are still allowed.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::client::Client;
use super::error::{ApiError, ErrorBody};
use super::json::Body;
use super::routes::Routes;
use crate::app::AppState;
use crate::modules::ModuleError;
use crate::modules::collection::{self, Collection, FieldDef, Owned};
use crate::modules::records::{self, RecordOut, RecordRef, RecordWrite};

/// The module API: authenticated by the module's bearer key, never by a
/// browser session (so it needs no Origin or CSRF check).
pub fn routes() -> Routes {
    const RECORD: &str = "/api/collections/{collection}/records/{citizen}/{record}";
    Routes::new()
        .put("/api/collections/{collection}", define)
        .get("/api/collections/{collection}", describe)
        .put("/api/collections/{collection}/records", write_batch)
        .post("/api/collections/{collection}/records/read", read_batch)
        .post("/api/collections/{collection}/records/delete", delete_batch)
        .get(RECORD, read_one)
        .put(RECORD, write_one)
        .delete(RECORD, delete_one)
}

impl From<ModuleError> for ApiError {
    fn from(e: ModuleError) -> Self {
        let status = match e {
            ModuleError::Name
            | ModuleError::Definition(_)
            | ModuleError::Purpose
            | ModuleError::Batch
            | ModuleError::Invalid(_) => StatusCode::BAD_REQUEST,
            ModuleError::Exists | ModuleError::Conflict(_) => StatusCode::CONFLICT,
            ModuleError::NoCollection | ModuleError::NoCitizen(_) => StatusCode::NOT_FOUND,
            ModuleError::OtherModule | ModuleError::Refused { .. } => StatusCode::FORBIDDEN,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            return ApiError::internal(e);
        }
        ApiError::new(status, e.code(), e.to_string())
    }
}

pub use super::module_auth::Caller;

async fn owned(state: &AppState, caller: &Caller, client: &Client, name: &str) -> Result<Owned, ApiError> {
    Ok(collection::owned(&state.db, &state.writer, &caller.0, name, &client.ctx).await?)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Definition {
    fields: Vec<FieldDef>,
}

/// Define a collection
///
/// Creates the caller's collection or adds fields to it.
#[utoipa::path(put, path = "/api/collections/{collection}", tag = "modules", security(("module_key" = [])),
    params(("collection" = String, Path, description = "<module>.<name>")), request_body = Definition,
    responses(
        (status = 200, description = "The collection as now defined", body = Collection),
        (status = 400, description = "Invalid name or definition (the message says which rule)", body = ErrorBody),
        (status = 403, description = "The collection belongs to another module, or the purpose catalog does not allow this purpose, module or field (purpose_not_allowed)", body = ErrorBody),
        (status = 409, description = "An existing field would be removed or reclassified", body = ErrorBody),
    ))]
pub(super) async fn define(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    Path(name): Path<String>,
    Body(body): Body<Definition>,
) -> Result<Json<Collection>, ApiError> {
    caller.needs(crate::oauth::COLLECTIONS_SCOPE)?;
    Ok(Json(
        collection::define(&state.db, &state.writer, &caller.0, &name, body.fields, &client.ctx).await?,
    ))
}

/// Describe a collection
#[utoipa::path(get, path = "/api/collections/{collection}", tag = "modules", security(("module_key" = [])),
    params(("collection" = String, Path, description = "<module>.<name>")),
    responses(
        (status = 200, description = "The collection", body = Collection),
        (status = 403, description = "The collection belongs to another module, or the purpose catalog does not allow this purpose, module or field (purpose_not_allowed)", body = ErrorBody),
        (status = 404, description = "No such collection", body = ErrorBody),
    ))]
pub(super) async fn describe(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    Path(name): Path<String>,
) -> Result<Json<Collection>, ApiError> {
    caller.needs(crate::oauth::COLLECTIONS_SCOPE)?;
    Ok(Json(owned(&state, &caller, &client, &name).await?.collection().clone()))
}

/// `Debug` (derived) shows record and field names only: `RecordWrite` hides values.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct WriteBatch {
    records: Vec<RecordWrite>,
    /// Why the module writes: a purpose of the catalog that lists this
    /// module and covers every field written. Required.
    purpose: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Written {
    written: usize,
}

/// Write records
///
/// Writes 1 to 100 records, all or nothing.
#[utoipa::path(put, path = "/api/collections/{collection}/records", tag = "modules", security(("module_key" = [])),
    params(("collection" = String, Path, description = "<module>.<name>")), request_body = WriteBatch,
    responses(
        (status = 200, description = "All written", body = Written),
        (status = 400, description = "Invalid batch, record id, field or value; or missing or invalid purpose", body = ErrorBody),
        (status = 403, description = "The collection belongs to another module, or the purpose catalog does not allow this purpose, module or field (purpose_not_allowed)", body = ErrorBody),
        (status = 404, description = "No such collection, or no such citizen", body = ErrorBody),
    ))]
pub(super) async fn write_batch(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    Path(name): Path<String>,
    Body(body): Body<WriteBatch>,
) -> Result<Json<Written>, ApiError> {
    let collection = owned(&state, &caller, &client, &name).await?;
    let purpose = caller.purpose(body.purpose.as_deref())?;
    let written = records::write(&state.modules, &collection, body.records, &purpose, &client.ctx).await?;
    Ok(Json(Written { written }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReadBatch {
    /// Why the module reads: a purpose of the catalog (`policies/purposes.toml`)
    /// that lists this module, such as `antrian.call`. Required. The read
    /// returns the fields it covers, each at most at its reveal level.
    purpose: Option<String>,
    records: Vec<RecordRef>,
    /// Only these fields, each covered by the purpose (default: every
    /// field the purpose covers).
    fields: Option<Vec<String>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Read {
    records: Vec<RecordOut>,
}

/// Read records
///
/// Reads 1 to 100 records for a stated purpose; a record that does not
/// exist comes back with `values: null`.
#[utoipa::path(post, path = "/api/collections/{collection}/records/read", tag = "modules", security(("module_key" = [])),
    params(("collection" = String, Path, description = "<module>.<name>")), request_body = ReadBatch,
    responses(
        (status = 200, description = "The records, in the order asked", body = Read),
        (status = 400, description = "Missing or invalid purpose, invalid batch, record id or field", body = ErrorBody),
        (status = 403, description = "The collection belongs to another module, or the purpose catalog does not allow this purpose, module or field (purpose_not_allowed)", body = ErrorBody),
        (status = 404, description = "No such collection, or no such citizen", body = ErrorBody),
    ))]
pub(super) async fn read_batch(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    Path(name): Path<String>,
    Body(body): Body<ReadBatch>,
) -> Result<Json<Read>, ApiError> {
    let purpose = caller.purpose(body.purpose.as_deref())?;
    let collection = owned(&state, &caller, &client, &name).await?;
    let records = records::read(
        &state.modules,
        &collection,
        body.records,
        body.fields.as_deref(),
        &purpose,
        &client.ctx,
    )
    .await?;
    Ok(Json(Read { records }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DeleteBatch {
    records: Vec<RecordRef>,
    /// Why the module deletes: a purpose of the catalog covering the
    /// collection. Required.
    purpose: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Deleted {
    deleted: u64,
}

/// Delete records
///
/// Deletes 1 to 100 records, all or nothing.
#[utoipa::path(post, path = "/api/collections/{collection}/records/delete", tag = "modules", security(("module_key" = [])),
    params(("collection" = String, Path, description = "<module>.<name>")), request_body = DeleteBatch,
    responses(
        (status = 200, description = "How many records existed and were deleted", body = Deleted),
        (status = 400, description = "Invalid batch or record id; or missing or invalid purpose", body = ErrorBody),
        (status = 403, description = "The collection belongs to another module, or the purpose catalog does not allow this purpose, module or field (purpose_not_allowed)", body = ErrorBody),
        (status = 404, description = "No such collection, or no such citizen", body = ErrorBody),
    ))]
pub(super) async fn delete_batch(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    Path(name): Path<String>,
    Body(body): Body<DeleteBatch>,
) -> Result<Json<Deleted>, ApiError> {
    let collection = owned(&state, &caller, &client, &name).await?;
    let purpose = caller.purpose(body.purpose.as_deref())?;
    let deleted = records::delete(&state.modules, &collection, body.records, &purpose, &client.ctx).await?;
    Ok(Json(Deleted { deleted }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ReadQuery {
    /// Why the module reads. Required.
    purpose: Option<String>,
    /// Comma-separated field names (default: all).
    fields: Option<String>,
}

/// Read a record
///
/// Reads one record for a stated purpose (`?purpose=`); 404 if it does not exist.
#[utoipa::path(get, path = "/api/collections/{collection}/records/{citizen}/{record}", tag = "modules", security(("module_key" = [])),
    params(
        ("collection" = String, Path, description = "<module>.<name>"),
        ("citizen" = String, Path, description = "The citizen's pseudonym"),
        ("record" = String, Path, description = "The module's record id: 1 to 64 letters, digits, `-` or `_`"),
        ReadQuery,
    ),
    responses(
        (status = 200, description = "The record", body = RecordOut),
        (status = 400, description = "Missing or invalid purpose, invalid record id or field", body = ErrorBody),
        (status = 403, description = "The collection belongs to another module, or the purpose catalog does not allow this purpose, module or field (purpose_not_allowed)", body = ErrorBody),
        (status = 404, description = "No such collection, citizen or record", body = ErrorBody),
    ))]
pub(super) async fn read_one(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    Path((name, citizen, record)): Path<(String, String, String)>,
    Query(query): Query<ReadQuery>,
) -> Result<Json<RecordOut>, ApiError> {
    let purpose = caller.purpose(query.purpose.as_deref())?;
    let collection = owned(&state, &caller, &client, &name).await?;
    let fields: Option<Vec<String>> = query.fields.map(|f| {
        f.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let mut out = records::read(
        &state.modules,
        &collection,
        vec![RecordRef { citizen, record }],
        fields.as_deref(),
        &purpose,
        &client.ctx,
    )
    .await?;
    match out.pop() {
        Some(RecordOut { refused: Some(why), .. }) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "purpose_not_allowed",
            format!("the purpose's lawful basis does not hold for this citizen now ({why})"),
        )),
        Some(r) if r.values.is_some() => Ok(Json(r)),
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "no_record", "No such record.")),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct WriteOne {
    values: std::collections::BTreeMap<String, Option<String>>,
    /// Why the module writes: a purpose of the catalog that lists this
    /// module and covers every field written. Required.
    purpose: Option<String>,
}

impl std::fmt::Debug for WriteOne {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteOne")
            .field("fields", &self.values.keys().collect::<Vec<_>>())
            .field("purpose", &self.purpose)
            .finish()
    }
}

/// Write a record
///
/// Sets (or, with `null`, removes) fields of one record.
#[utoipa::path(put, path = "/api/collections/{collection}/records/{citizen}/{record}", tag = "modules", security(("module_key" = [])),
    params(
        ("collection" = String, Path, description = "<module>.<name>"),
        ("citizen" = String, Path, description = "The citizen's pseudonym"),
        ("record" = String, Path, description = "The module's record id: 1 to 64 letters, digits, `-` or `_`"),
    ),
    request_body = WriteOne,
    responses(
        (status = 204, description = "Written"),
        (status = 400, description = "Invalid record id, field or value; or missing or invalid purpose", body = ErrorBody),
        (status = 403, description = "The collection belongs to another module, or the purpose catalog does not allow this purpose, module or field (purpose_not_allowed)", body = ErrorBody),
        (status = 404, description = "No such collection or citizen", body = ErrorBody),
    ))]
pub(super) async fn write_one(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    Path((name, citizen, record)): Path<(String, String, String)>,
    Body(body): Body<WriteOne>,
) -> Result<StatusCode, ApiError> {
    let collection = owned(&state, &caller, &client, &name).await?;
    let purpose = caller.purpose(body.purpose.as_deref())?;
    let write = RecordWrite {
        citizen,
        record,
        values: body.values,
    };
    records::write(&state.modules, &collection, vec![write], &purpose, &client.ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PurposeQuery {
    /// Why the module deletes: a purpose of the catalog covering the
    /// collection. Required.
    purpose: Option<String>,
}

/// Delete a record
///
/// Deletes one record for a stated purpose (`?purpose=`); 404 if it did
/// not exist.
#[utoipa::path(delete, path = "/api/collections/{collection}/records/{citizen}/{record}", tag = "modules", security(("module_key" = [])),
    params(
        ("collection" = String, Path, description = "<module>.<name>"),
        ("citizen" = String, Path, description = "The citizen's pseudonym"),
        ("record" = String, Path, description = "The module's record id: 1 to 64 letters, digits, `-` or `_`"),
        PurposeQuery,
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Missing or invalid purpose, or invalid record id", body = ErrorBody),
        (status = 403, description = "The collection belongs to another module, or the purpose catalog does not allow this purpose, module or field (purpose_not_allowed)", body = ErrorBody),
        (status = 404, description = "No such collection, citizen or record", body = ErrorBody),
    ))]
pub(super) async fn delete_one(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    Path((name, citizen, record)): Path<(String, String, String)>,
    Query(query): Query<PurposeQuery>,
) -> Result<StatusCode, ApiError> {
    let collection = owned(&state, &caller, &client, &name).await?;
    let purpose = caller.purpose(query.purpose.as_deref())?;
    let gone = records::delete(
        &state.modules,
        &collection,
        vec![RecordRef { citizen, record }],
        &purpose,
        &client.ctx,
    )
    .await?;
    if gone == 0 {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "no_record", "No such record."));
    }
    Ok(StatusCode::NO_CONTENT)
}
