//! Enrolment, sign-in, sign-out and the session list, as JSON for the
//! portal's script.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::client::Client;
use super::error::{ApiError, ErrorBody};
use super::json::Body;
use super::routes::Routes;
use super::session::{SignedIn, clear_cookie, session_cookie};
use crate::app::AppState;
use crate::identity::enrol::{self, EnrolError};
use crate::identity::registration::{self, Registered};
use crate::sessions::signin::{self, SignInError};
use crate::sessions::{self, Issued};

pub fn routes(state: &AppState) -> Routes {
    use crate::ratelimit::{CODE_IP, ENROL_IP, RECOVERY_IP, SIGN_IN_IP};
    let sign_in = Routes::new()
        .post("/api/signin/start", signin_start)
        .post("/api/signin/finish", signin_finish);
    let enrol = Routes::new()
        .post("/api/enrol/start", enrol_start)
        .post("/api/enrol/finish", enrol_finish);
    let code = Routes::new().post("/api/enrol/code/start", code_start);
    let recover = Routes::new().post("/api/recover/start", recover_start);
    Routes::new()
        .post("/api/signout", signout)
        .get("/api/me", me)
        .get("/api/sessions", list_sessions)
        .delete("/api/sessions/{id}", revoke_session)
        .merge(super::limits::limited(state, sign_in, SIGN_IN_IP))
        .merge(super::limits::limited(state, enrol, ENROL_IP))
        .merge(super::limits::limited(state, code, CODE_IP))
        .merge(super::limits::limited(state, recover, RECOVERY_IP))
        .layered(|r| super::session::origin_checked(state, r))
}

impl From<EnrolError> for ApiError {
    fn from(e: EnrolError) -> Self {
        match e {
            EnrolError::Nik(n) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_nik",
                format!("{}. ({n}.)", n.message_id()),
            ),
            EnrolError::Unit => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_unit",
                "Unit harus 1 sampai 100 karakter. (The unit must be 1 to 100 characters.)",
            ),
            EnrolError::UnitMissing => ApiError::new(
                StatusCode::FORBIDDEN,
                "unit_missing",
                "Satuan kerja Anda belum tercatat; minta administrator menjalankan `jaga officers set-unit`. \
                 (Your unit is not recorded; ask an administrator to run `jaga officers set-unit`.)",
            ),
            EnrolError::OfficerSession => ApiError::new(
                StatusCode::FORBIDDEN,
                "officer_session",
                "Kode dari loket harus dipakai di perangkat warga, bukan di browser yang masuk sebagai petugas. \
                 (A code from the counter must be used on the citizen's own device, not in a browser signed in \
                 as an officer.)",
            ),
            EnrolError::Name => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_name",
                "Nama harus 1 sampai 100 karakter. (The name must be 1 to 100 characters.)",
            ),
            EnrolError::NikTaken => ApiError::new(
                StatusCode::CONFLICT,
                "nik_taken",
                "NIK ini sudah terdaftar. Jika ini NIK Anda, datanglah ke loket layanan dengan KTP. \
                 (This NIK is already enrolled. If it is yours, visit a service counter with your KTP.)",
            ),
            EnrolError::UnknownCeremony => ApiError::new(
                StatusCode::BAD_REQUEST,
                "ceremony_expired",
                "Pendaftaran kedaluwarsa atau sudah dipakai; silakan mulai lagi. \
                 (The enrolment expired or was already used; please start again.)",
            ),
            EnrolError::Limited(d) => super::limits::too_many(&d),
            EnrolError::RecoveryFailed => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "recovery_failed",
                "NIK atau kode pemulihan tidak cocok, atau kode sudah dipakai. \
                 (The NIK or recovery code does not match, or the code was already used.)",
            ),
            EnrolError::CodeInvalid => ApiError::new(
                StatusCode::BAD_REQUEST,
                "code_invalid",
                "Kode pendaftaran tidak dikenal, sudah dipakai, atau kedaluwarsa. Mintalah kode baru di loket. \
                 (The enrolment code is unknown, used or expired. Ask for a new one at the counter.)",
            ),
            EnrolError::AlreadyVerified => ApiError::new(
                StatusCode::CONFLICT,
                "already_verified",
                "NIK ini sudah terdaftar dan terverifikasi; gunakan pemulihan akun. \
                 (This NIK is already enrolled and verified; use account recovery.)",
            ),
            EnrolError::NoAccount => ApiError::new(
                StatusCode::NOT_FOUND,
                "no_account",
                "Belum ada akun untuk NIK ini. (There is no account for this NIK yet.)",
            ),
            EnrolError::VerificationFailed => ApiError::new(
                StatusCode::BAD_REQUEST,
                "verification_failed",
                "Kode verifikasi tidak cocok atau kedaluwarsa. (The verification code does not match or expired.)",
            ),
            EnrolError::Passkey(crate::passkeys::PasskeyError::Malformed) => {
                ApiError::bad_request("Respons passkey tidak valid. (The passkey response is malformed.)")
            }
            internal @ EnrolError::Passkey(crate::passkeys::PasskeyError::Internal(_)) => ApiError::internal(internal),
            EnrolError::Passkey(_) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "passkey_rejected",
                "Passkey tidak dapat diterima; silakan coba lagi. (The passkey was not accepted; please try again.)",
            ),
            other => ApiError::internal(other),
        }
    }
}

impl From<SignInError> for ApiError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::Limited(d) => super::limits::too_many(&d),
            SignInError::Failed => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "signin_failed",
                "Gagal masuk. Silakan coba lagi. (Sign-in failed. Please try again.)",
            ),
            other => ApiError::internal(other),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EnrolStart {
    nik: String,
    name: String,
}

/// Start self-enrolment
///
/// Checks the NIK and name and starts a passkey registration for a new,
/// unverified citizen account.
#[utoipa::path(post, path = "/api/enrol/start", tag = "enrolment", request_body = EnrolStart,
    responses(
        (status = 200, description = "Passkey creation options", body = ref("#/components/schemas/PasskeyOptions")),
        (status = 400, description = "Invalid NIK or name; the message says which rule", body = ErrorBody),
        (status = 409, description = "The NIK is already enrolled", body = ErrorBody),
        (status = 429, description = "Rate limited (enrol-ip)", body = ErrorBody),
    ))]
pub(super) async fn enrol_start(
    State(state): State<AppState>,
    client: Client,
    Body(body): Body<EnrolStart>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(
        enrol::start(&state.identity, &body.nik, &body.name, &client.ctx).await?,
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Enrolled {
    account: String,
    verified: bool,
    /// Shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    recovery_codes: Option<Vec<String>>,
    signed_in: bool,
}

/// Finish a registration
///
/// Finishes any registration that is not adding a passkey to a signed-in
/// account: self-enrolment, recovery, enrolment by code. A browser that
/// holds an officer's session is told so (an officer-issued code is for
/// the citizen's own device).
#[utoipa::path(post, path = "/api/enrol/finish", tag = "enrolment",
    request_body(content = ref("#/components/schemas/RegistrationResponse"), content_type = "application/json"),
    responses(
        (status = 201, description = "Registered; recovery codes shown once; a session cookie when signed in", body = Enrolled),
        (status = 400, description = "Malformed or refused passkey response, expired ceremony or used code", body = ErrorBody),
        (status = 401, description = "Recovery failed (the code was used meanwhile)", body = ErrorBody),
        (status = 403, description = "A counter code used in a browser signed in as an officer", body = ErrorBody),
        (status = 409, description = "The NIK was enrolled or verified meanwhile", body = ErrorBody),
        (status = 429, description = "Rate limited (enrol-ip)", body = ErrorBody),
    ))]
pub(super) async fn enrol_finish(
    State(state): State<AppState>,
    client: Client,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let officer = super::session::officer_present(&state, &headers).await?;
    let registered =
        registration::finish(&state.identity, &body, &client.user_agent, &client.ctx, None, officer).await?;
    registered_response(&state, registered)
}

pub(super) fn registered_response(state: &AppState, registered: Registered) -> Result<Response, ApiError> {
    let body = Enrolled {
        account: registered.pseudonym,
        verified: registered.verified,
        recovery_codes: registered.recovery_codes,
        signed_in: registered.session.is_some(),
    };
    match &registered.session {
        Some(issued) => with_session(state, StatusCode::CREATED, issued, Json(body)),
        None => Ok((StatusCode::CREATED, Json(body)).into_response()),
    }
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SignInStart {
    #[serde(default)]
    conditional: bool,
}

/// Start sign-in
///
/// Passkey request options for a discoverable credential (no user name).
#[utoipa::path(post, path = "/api/signin/start", tag = "sign-in", request_body = SignInStart,
    responses(
        (status = 200, description = "Passkey request options (`mediation: conditional` for autofill)", body = ref("#/components/schemas/PasskeyOptions")),
        (status = 429, description = "Rate limited (signin-ip)", body = ErrorBody),
    ))]
pub(super) async fn signin_start(
    State(state): State<AppState>,
    Body(body): Body<SignInStart>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let conditional = body.conditional;
    Ok(Json(signin::start(&state.sessions, conditional).await?))
}

/// Finish sign-in
///
/// Checks the assertion; on success sets the session cookie. Every
/// failure, a malformed body included, gets the same 401.
#[utoipa::path(post, path = "/api/signin/finish", tag = "sign-in",
    request_body(content = ref("#/components/schemas/AssertionResponse"), content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in; sets the session cookie", body = ref("#/components/schemas/SignedIn")),
        (status = 401, description = "Sign-in failed (one answer for every cause)", body = ErrorBody),
        (status = 429, description = "Rate limited (signin-ip, or signin-account after failures)", body = ErrorBody),
    ))]
pub(super) async fn signin_finish(
    State(state): State<AppState>,
    client: Client,
    body: Bytes,
) -> Result<Response, ApiError> {
    let issued = signin::finish(&state.sessions, &body, &client.user_agent, &client.ctx).await?;
    with_session(
        &state,
        StatusCode::OK,
        &issued,
        Json(serde_json::json!({ "status": "signed_in" })),
    )
}

fn with_session(
    state: &AppState,
    status: StatusCode,
    issued: &Issued,
    body: impl IntoResponse,
) -> Result<Response, ApiError> {
    let cookie = session_cookie(state, sessions::expose(&issued.token))?;
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Sign out
#[utoipa::path(post, path = "/api/signout", tag = "sessions", security(("session" = [], "csrf" = [])),
    responses((status = 204, description = "Session ended, cookie cleared")))]
pub(super) async fn signout(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
) -> Result<Response, ApiError> {
    signin::end_session(
        &state.sessions,
        who.account(),
        &who.session().session_id,
        "session.end",
        &client.ctx,
    )
    .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, clear_cookie(&state));
    Ok(response)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Me {
    account: String,
    kind: String,
    status: String,
    verified: bool,
    csrf_token: String,
}

/// Who is signed in
///
/// The signed-in account and the session's CSRF token.
#[utoipa::path(get, path = "/api/me", tag = "sessions", security(("session" = [])),
    responses((status = 200, description = "The signed-in account", body = Me)))]
pub(super) async fn me(who: SignedIn) -> Json<Me> {
    Json(Me {
        account: who.account().pseudonym.clone(),
        kind: who.account().kind.as_str().to_owned(),
        status: who.account().status.as_str().to_owned(),
        verified: who.account().verified,
        csrf_token: who.session().csrf_token.clone(),
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SessionView {
    id: String,
    current: bool,
    device: String,
    ip: String,
    started_at: i64,
    last_seen_at: i64,
}

/// List my sessions
#[utoipa::path(get, path = "/api/sessions", tag = "sessions", security(("session" = [])),
    responses((status = 200, description = "The account's live sessions", body = [SessionView])))]
pub(super) async fn list_sessions(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let rows = sessions::live_of(&state.db, &who.account().account_id, now, &state.config.sessions)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(
        rows.into_iter()
            .map(|r| SessionView {
                current: r.session_id == who.session().session_id,
                id: r.session_id,
                device: sessions::device_name(&r.user_agent),
                ip: r.ip,
                started_at: r.created_at,
                last_seen_at: r.last_seen_at,
            })
            .collect(),
    ))
}

/// End a session
#[utoipa::path(delete, path = "/api/sessions/{id}", tag = "sessions", security(("session" = [], "csrf" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 204, description = "Ended"),
        (status = 404, description = "No such live session of this account", body = ErrorBody),
    ))]
pub(super) async fn revoke_session(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if signin::end_session(&state.sessions, who.account(), &id, "session.revoke", &client.ctx).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CodeStart {
    code: String,
    /// False when a security key is enrolled on the counter's computer:
    /// no session is opened there.
    #[serde(default = "yes")]
    sign_in: bool,
}

fn yes() -> bool {
    true
}

/// Start enrolment with a counter code
///
/// A one-time code from a counter officer starts a passkey registration
/// (enrolment, or the recovery the officer started).
#[utoipa::path(post, path = "/api/enrol/code/start", tag = "enrolment", request_body = CodeStart,
    responses(
        (status = 200, description = "Passkey creation options", body = ref("#/components/schemas/PasskeyOptions")),
        (status = 400, description = "Unknown, used or expired code", body = ErrorBody),
        (status = 403, description = "An officer-issued code used in a browser signed in as an officer", body = ErrorBody),
        (status = 409, description = "The NIK is already enrolled and verified", body = ErrorBody),
        (status = 429, description = "Rate limited (code-ip)", body = ErrorBody),
    ))]
pub(super) async fn code_start(
    State(state): State<AppState>,
    client: Client,
    headers: axum::http::HeaderMap,
    Body(body): Body<CodeStart>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let officer = super::session::officer_present(&state, &headers).await?;
    Ok(Json(
        crate::identity::counter::start_with_code(&state.identity, &body.code, body.sign_in, officer, &client.ctx)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RecoverStart {
    nik: String,
    code: String,
}

/// Start recovery with a recovery code
#[utoipa::path(post, path = "/api/recover/start", tag = "recovery", request_body = RecoverStart,
    responses(
        (status = 200, description = "Passkey creation options", body = ref("#/components/schemas/PasskeyOptions")),
        (status = 401, description = "Recovery failed (one answer for every cause, an invalid NIK included)", body = ErrorBody),
        (status = 429, description = "Rate limited (recovery-ip, or recovery-account after failures)", body = ErrorBody),
    ))]
pub(super) async fn recover_start(
    State(state): State<AppState>,
    client: Client,
    Body(body): Body<RecoverStart>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(
        crate::identity::recovery::start(&state.identity, &body.nik, &body.code, &client.ctx).await?,
    ))
}

impl std::fmt::Debug for EnrolStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnrolStart(<redacted: nik, name>)")
    }
}

impl std::fmt::Debug for RecoverStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoverStart(<redacted: nik, code>)")
    }
}

impl std::fmt::Debug for CodeStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeStart(<redacted: code>)")
    }
}
