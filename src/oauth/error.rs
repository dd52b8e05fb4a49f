//! OAuth errors as RFC 6749 §5.2, RFC 7009, RFC 7662 and RFC 9449 name
//! them. The HTTP layer turns one into `{"error", "error_description"}`
//! with the status and `WWW-Authenticate` the RFCs ask for.

/// An OAuth error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    InvalidDpopProof,
    UseDpopNonce,
    /// At a resource: the access token is not (or no longer) good.
    InvalidToken,
    InsufficientScope,
    UnsupportedTokenType,
    UnsupportedResponseType,
    /// In an authorization response: the person (or Jaga for them) said no.
    AccessDenied,
    /// `prompt=none`, and nobody (fresh enough) is signed in.
    LoginRequired,
    /// `prompt=none`, and a consent is needed.
    ConsentRequired,
    ServerError,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidRequest => "invalid_request",
            Code::InvalidClient => "invalid_client",
            Code::InvalidGrant => "invalid_grant",
            Code::UnauthorizedClient => "unauthorized_client",
            Code::UnsupportedGrantType => "unsupported_grant_type",
            Code::InvalidScope => "invalid_scope",
            Code::InvalidDpopProof => "invalid_dpop_proof",
            Code::UseDpopNonce => "use_dpop_nonce",
            Code::InvalidToken => "invalid_token",
            Code::InsufficientScope => "insufficient_scope",
            Code::UnsupportedTokenType => "unsupported_token_type",
            Code::UnsupportedResponseType => "unsupported_response_type",
            Code::AccessDenied => "access_denied",
            Code::LoginRequired => "login_required",
            Code::ConsentRequired => "consent_required",
            Code::ServerError => "server_error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OauthError {
    pub code: Code,
    pub description: String,
}

impl OauthError {
    pub fn new(code: Code, description: impl Into<String>) -> Self {
        OauthError {
            code,
            description: description.into(),
        }
    }

    pub fn request(description: impl Into<String>) -> Self {
        Self::new(Code::InvalidRequest, description)
    }

    pub fn client(description: impl Into<String>) -> Self {
        Self::new(Code::InvalidClient, description)
    }

    pub fn server(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "OAuth request failed on our side");
        Self::new(Code::ServerError, "Something went wrong on our side.")
    }
}
