//! The error shape of the contract: an HTTP status and
//! `{"error": {"code": "stable_snake_case", "message": "..."}}` (the code an [`ErrorCode`]), with `Retry-After` on 429.
//! Service errors map here and nowhere else.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
pub use dialtone_protocol::ErrorCode;
use dialtone_service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error response of the API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    retry_after: Option<u64>,
    /// Another header the status calls for (`Content-Range` on 416).
    header: Option<(header::HeaderName, String)>,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// A stable code for programs and a message for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, such as `invalid_code`.
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// An error with a status, a stable code and a message.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            header: None,
        }
    }

    /// The same error with a header its status calls for.
    pub fn with_header(mut self, name: header::HeaderName, value: String) -> Self {
        self.header = Some((name, value));
        self
    }

    /// 400 with a code.
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human text.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// 401.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "a valid bearer token is required",
        )
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        use ServiceError as E;
        let message = e.to_string();
        let (status, code) = match &e {
            E::InvalidPhone(_) => (StatusCode::BAD_REQUEST, ErrorCode::InvalidPhone),
            E::PhoneCannotReceiveSms(_) => {
                (StatusCode::BAD_REQUEST, ErrorCode::PhoneCannotReceiveSms)
            }
            E::InvalidRegion => (StatusCode::BAD_REQUEST, ErrorCode::InvalidRegion),
            E::RateLimited { retry_after_secs } => {
                return Self {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    code: ErrorCode::RateLimited,
                    message,
                    retry_after: Some(*retry_after_secs),
                    header: None,
                };
            }
            E::VerificationNotFound => (StatusCode::NOT_FOUND, ErrorCode::VerificationNotFound),
            E::VerificationExpired => (StatusCode::GONE, ErrorCode::VerificationExpired),
            E::InvalidCode => (StatusCode::BAD_REQUEST, ErrorCode::InvalidCode),
            E::RegistrationLocked => (StatusCode::LOCKED, ErrorCode::RegistrationLocked),
            E::InvalidCredentials => (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials),
            E::Unauthorized => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
            E::CurrentPasswordRequired => {
                (StatusCode::FORBIDDEN, ErrorCode::CurrentPasswordRequired)
            }
            E::WrongPassword => (StatusCode::FORBIDDEN, ErrorCode::WrongPassword),
            E::WeakPassword(_) => (StatusCode::BAD_REQUEST, ErrorCode::WeakPassword),
            E::PasswordRequired => (StatusCode::CONFLICT, ErrorCode::PasswordRequired),
            E::InvalidInput(_) => (StatusCode::BAD_REQUEST, ErrorCode::InvalidInput),
            E::DeviceNotFound => (StatusCode::NOT_FOUND, ErrorCode::DeviceNotFound),
            E::SmsUnavailable => (StatusCode::BAD_GATEWAY, ErrorCode::SmsUnavailable),
            E::TooManyContacts(_) => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooManyContacts),
            E::ContactNotFound => (StatusCode::NOT_FOUND, ErrorCode::ContactNotFound),
            E::GroupNotFound => (StatusCode::NOT_FOUND, ErrorCode::GroupNotFound),
            E::ConversationNotFound => (StatusCode::NOT_FOUND, ErrorCode::ConversationNotFound),
            E::UserNotFound => (StatusCode::NOT_FOUND, ErrorCode::UserNotFound),
            E::CallNotFound => (StatusCode::NOT_FOUND, ErrorCode::CallNotFound),
            E::NotAdmin => (StatusCode::FORBIDDEN, ErrorCode::NotAdmin),
            E::NotAGroup => (StatusCode::BAD_REQUEST, ErrorCode::NotAGroup),
            E::MemberNotFound => (StatusCode::NOT_FOUND, ErrorCode::MemberNotFound),
            E::TextTooLong(_) => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TextTooLong),
            E::AttachmentNotFound => (StatusCode::BAD_REQUEST, ErrorCode::AttachmentNotFound),
            E::MessageNotFound => (StatusCode::NOT_FOUND, ErrorCode::MessageNotFound),
            E::AttachmentTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::AttachmentTooLarge)
            }
            E::BadRange { size } => {
                return Self::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    ErrorCode::RangeNotSatisfiable,
                    message,
                )
                .with_header(header::CONTENT_RANGE, format!("bytes */{size}"));
            }
            E::WrongKind(_) => (StatusCode::BAD_REQUEST, ErrorCode::WrongKind),
            E::NotYourMessage => (StatusCode::FORBIDDEN, ErrorCode::NotYourMessage),
            E::ItemNotFound => (StatusCode::NOT_FOUND, ErrorCode::ItemNotFound),
            E::CommentNotFound => (StatusCode::NOT_FOUND, ErrorCode::CommentNotFound),
            E::NotYours => (StatusCode::FORBIDDEN, ErrorCode::NotYours),
            E::BadLink { code, .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::parse(code).unwrap_or(ErrorCode::InvalidLink),
            ),
            E::TooLate => (StatusCode::CONFLICT, ErrorCode::TooLate),
            E::Store { .. } | E::Internal(_) => {
                // The cause and where it surfaced go to the logs only; the client gets the
                // generic text below.
                tracing::error!(error = %e.report(), "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::InternalError)
            }
        };
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            "something went wrong on our side".to_owned()
        } else {
            message
        };
        Self::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some((name, value)) = self.header
            && let Ok(value) = HeaderValue::from_str(&value)
        {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// The fallback for unknown routes.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such route")
}

/// The body written when an error body cannot be encoded.
const FALLBACK_BODY: &[u8] =
    br#"{"error":{"code":"internal_error","message":"something went wrong on our side"}}"#;

/// Marks an error response whose body is its own (a public HTML page's "not found"), not
/// to be replaced by the JSON error shape.
#[derive(Debug, Clone, Copy)]
pub struct OwnBody;

/// Gives every error response that is not already in the contract's shape (405 from the
/// router, 413 from a body limit, ...) the contract's body.
pub async fn normalize(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || response.extensions().get::<OwnBody>().is_some() {
        return response;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "this route does not take that method",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::PayloadTooLarge,
            "the body is larger than this route accepts",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            (ErrorCode::UnsupportedMediaType, "unsupported content type")
        }
        StatusCode::UNAUTHORIZED => (ErrorCode::Unauthorized, "a valid bearer token is required"),
        s if s.is_server_error() => (ErrorCode::InternalError, "something went wrong on our side"),
        _ => (ErrorCode::BadRequest, "the request could not be understood"),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = ErrorBody {
        error: ErrorDetail {
            code,
            message: message.to_owned(),
        },
    };
    let bytes = match serde_json::to_vec(&body) {
        Ok(bytes) => Bytes::from(bytes),
        Err(e) => {
            // A code and a fixed text cannot fail to encode; if that ever changes, the
            // client still gets the contract's shape.
            tracing::error!(error = %e, "error body not encoded");
            Bytes::from_static(FALLBACK_BODY)
        }
    };
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use dialtone_store::StoreError;

    use super::*;
    use crate::test_logs::Captured;

    #[test]
    fn a_storage_failure_is_logged_with_its_cause_and_place_but_not_answered_with_them() {
        let failure = ServiceError::from(StoreError::Corrupt("message kind 'gif'".into()));
        let line = line!() - 1;
        let (error, logs) = Captured::logs(|| ApiError::from(failure));
        assert!(logs.contains("internal error"), "{logs}");
        assert!(
            logs.contains("corrupt stored value: message kind 'gif'"),
            "{logs}"
        );
        assert!(logs.contains(&format!("{}:{line}:", file!())), "{logs}");
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(error.code(), ErrorCode::InternalError);
        assert_eq!(error.message(), "something went wrong on our side");
    }

    #[test]
    fn the_fallback_body_is_the_contracts_shape() {
        let body: serde_json::Value = serde_json::from_slice(FALLBACK_BODY).unwrap();
        assert_eq!(body["error"]["code"], "internal_error");
    }
}
