//! Extractors that turn every kind of bad request into the contract's error shape:
//! JSON bodies (bounded, any content type, clear 400 on bad JSON), bearer tokens, client IP.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use dialtone_service::Authenticated;
use serde::de::DeserializeOwned;

use crate::error::ErrorCode;
use crate::{ApiError, AppState};

/// A JSON body. The body size limit of the route applies (413 beyond it); malformed JSON,
/// wrong types and missing fields are a 400 `invalid_json` naming the problem.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::PayloadTooLarge,
                    "the body is larger than this route accepts",
                )
            } else {
                ApiError::bad_request(ErrorCode::InvalidBody, rejection.body_text())
            }
        })?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidJson,
                "a JSON body is required",
            ));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            ApiError::bad_request(ErrorCode::InvalidJson, format!("invalid JSON body: {e}"))
        })
    }
}

/// The user and device of a request, from `Authorization: Bearer <token>`.
pub struct Auth(pub Authenticated);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        state
            .accounts
            .authenticate(&token)
            .await
            .map(Auth)
            .map_err(ApiError::from)
    }
}

/// The user of a request if it carries a token, else a visitor (public community pages and
/// items). A token that is given but not valid is still a 401.
pub struct MaybeAuth(pub Option<Authenticated>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if parts.headers.get(header::AUTHORIZATION).is_none() {
            return Ok(MaybeAuth(None));
        }
        Auth::from_request_parts(parts, state)
            .await
            .map(|Auth(a)| MaybeAuth(Some(a)))
    }
}

/// The bearer token of a request, from the `Authorization` header.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// The client's IP address, for per-IP rate limits.
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".to_owned());
        Ok(ClientIp(ip))
    }
}
