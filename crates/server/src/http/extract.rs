//! Request extractors whose rejections are [`ApiError`]s: JSON bodies and bearer sessions.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::auth;
use crate::state::AppState;
use crate::storage::{AdminRole, SessionSubject, blocking, now};

/// A JSON body; malformed JSON → 400, wrong shape → 422, wrong content type → 415,
/// too large → 413, all as JSON errors.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// Reads a JSON body of at most `limit` bytes (the limit is enforced while reading) with
/// the same errors as [`JsonBody`]: for routes whose limit depends on the request (a
/// ballot's size follows its election's questions).
pub async fn json_with_limit<T: DeserializeOwned>(
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
    limit: usize,
) -> Result<T, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected Content-Type: application/json",
        ));
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body too large: at most {limit} bytes here"),
        )
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        if e.classify() == serde_json::error::Category::Data {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                format!("Failed to deserialize the JSON body into the target type: {e}"),
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("Failed to parse the request body as JSON: {e}"),
            )
        }
    })
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.body_text())
        }
        JsonRejection::JsonDataError(e) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            e.body_text(),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected Content-Type: application/json",
        ),
        other => {
            let status = other.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "request body too large".to_owned()
            } else {
                other.body_text()
            };
            ApiError::new(status, ApiError::code_for(status), message)
        }
    }
}

/// The bearer token of a request, if well-formed.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn subject(parts: &Parts, state: &AppState) -> Result<SessionSubject, ApiError> {
    let token = bearer_token(parts)
        .ok_or_else(ApiError::unauthorized)?
        .to_owned();
    let found = blocking(&state.storage, move |s| {
        auth::authenticate(s, &token, now()).map_err(|e| match e {
            auth::AuthError::Storage(se) => se,
            other => crate::storage::StorageError::Backend(other.to_string()),
        })
    })
    .await?;
    found.ok_or_else(ApiError::unauthorized)
}

/// An authenticated administrator: a server administrator or an election official.
/// Which elections they may act on is checked for every `/api/admin/elections/{id}…`
/// route by [`crate::http::middleware::election_owners`].
#[derive(Debug, Clone)]
pub struct AdminAuth {
    /// User name.
    pub username: String,
    /// The bearer token (for logout).
    pub token: String,
    /// What the account may do.
    pub role: AdminRole,
}

impl AdminAuth {
    /// Refuses (403) an official where only a server administrator may act.
    pub fn require_server(&self) -> Result<(), ApiError> {
        match self.role {
            AdminRole::Server => Ok(()),
            AdminRole::Official => Err(ApiError::forbidden(
                "only a server administrator may do this",
            )),
        }
    }
}

/// The role of the live admin session `token`, or `None` (no session, a voter's session,
/// or an account that no longer exists).
pub async fn admin_of(
    state: &AppState,
    token: &str,
) -> Result<Option<(String, AdminRole)>, ApiError> {
    let token = token.to_owned();
    let found = blocking(&state.storage, move |s| {
        let subject = auth::authenticate(s, &token, now()).map_err(|e| match e {
            auth::AuthError::Storage(se) => se,
            other => crate::storage::StorageError::Backend(other.to_string()),
        })?;
        let Some(SessionSubject::Admin { username }) = subject else {
            return Ok(None);
        };
        Ok(s.admin(&username)?.map(|a| (a.username, a.role)))
    })
    .await?;
    Ok(found)
}

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match subject(parts, state).await? {
            SessionSubject::Admin { username } => {
                let name = username.clone();
                let account = blocking(&state.storage, move |s| s.admin(&name)).await?;
                let account = account.ok_or_else(ApiError::unauthorized)?;
                Ok(Self {
                    username,
                    token: bearer_token(parts).unwrap_or_default().to_owned(),
                    role: account.role,
                })
            }
            SessionSubject::Voter { .. } => Err(ApiError::forbidden("admin session required")),
        }
    }
}

/// An authenticated voter of one election. Handlers must check that `election` is the one
/// in the path.
#[derive(Debug, Clone)]
pub struct VoterAuth {
    /// Election the session is for.
    pub election: String,
    /// Voter login.
    pub login: String,
    /// The bearer token (for logout).
    pub token: String,
}

impl VoterAuth {
    /// Refuses (403) a session of another election than `election`.
    pub fn require_election(&self, election: &str) -> Result<(), ApiError> {
        if self.election == election {
            Ok(())
        } else {
            Err(ApiError::forbidden("this session is for another election"))
        }
    }
}

impl FromRequestParts<AppState> for VoterAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match subject(parts, state).await? {
            SessionSubject::Voter { election, login } => Ok(Self {
                election,
                login,
                token: bearer_token(parts).unwrap_or_default().to_owned(),
            }),
            SessionSubject::Admin { .. } => Err(ApiError::forbidden("voter session required")),
        }
    }
}
