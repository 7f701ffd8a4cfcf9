//! The error shape of the contract: an HTTP status and
//! `{"error": {"code": "stable_snake_case", "message": "..."}}`, with `Retry-After` on 429.
//! Service errors map here and nowhere else.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dialtone_service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error response of the API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
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
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// An error with a status, a stable code and a message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
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
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
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
            "unauthorized",
            "a valid bearer token is required",
        )
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        use ServiceError as E;
        let message = e.to_string();
        let (status, code) = match &e {
            E::InvalidPhone(_) => (StatusCode::BAD_REQUEST, "invalid_phone"),
            E::PhoneCannotReceiveSms(_) => (StatusCode::BAD_REQUEST, "phone_cannot_receive_sms"),
            E::InvalidRegion => (StatusCode::BAD_REQUEST, "invalid_region"),
            E::RateLimited { retry_after_secs } => {
                return Self {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    code: "rate_limited",
                    message,
                    retry_after: Some(*retry_after_secs),
                    header: None,
                };
            }
            E::VerificationNotFound => (StatusCode::NOT_FOUND, "verification_not_found"),
            E::VerificationExpired => (StatusCode::GONE, "verification_expired"),
            E::InvalidCode => (StatusCode::BAD_REQUEST, "invalid_code"),
            E::RegistrationLocked => (StatusCode::LOCKED, "registration_locked"),
            E::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            E::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            E::CurrentPasswordRequired => (StatusCode::FORBIDDEN, "current_password_required"),
            E::WrongPassword => (StatusCode::FORBIDDEN, "wrong_password"),
            E::WeakPassword(_) => (StatusCode::BAD_REQUEST, "weak_password"),
            E::PasswordRequired => (StatusCode::CONFLICT, "password_required"),
            E::InvalidInput(_) => (StatusCode::BAD_REQUEST, "invalid_input"),
            E::DeviceNotFound => (StatusCode::NOT_FOUND, "device_not_found"),
            E::SmsUnavailable => (StatusCode::BAD_GATEWAY, "sms_unavailable"),
            E::TooManyContacts(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_many_contacts"),
            E::ContactNotFound => (StatusCode::NOT_FOUND, "contact_not_found"),
            E::GroupNotFound => (StatusCode::NOT_FOUND, "group_not_found"),
            E::ConversationNotFound => (StatusCode::NOT_FOUND, "conversation_not_found"),
            E::UserNotFound => (StatusCode::NOT_FOUND, "user_not_found"),
            E::NotAdmin => (StatusCode::FORBIDDEN, "not_admin"),
            E::NotAGroup => (StatusCode::BAD_REQUEST, "not_a_group"),
            E::MemberNotFound => (StatusCode::NOT_FOUND, "member_not_found"),
            E::TextTooLong(_) => (StatusCode::PAYLOAD_TOO_LARGE, "text_too_long"),
            E::AttachmentNotFound => (StatusCode::BAD_REQUEST, "attachment_not_found"),
            E::MessageNotFound => (StatusCode::NOT_FOUND, "message_not_found"),
            E::AttachmentTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "attachment_too_large"),
            E::BadRange { size } => {
                return Self::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "range_not_satisfiable",
                    message,
                )
                .with_header(header::CONTENT_RANGE, format!("bytes */{size}"));
            }
            E::WrongKind(_) => (StatusCode::BAD_REQUEST, "wrong_kind"),
            E::NotYourMessage => (StatusCode::FORBIDDEN, "not_your_message"),
            E::TooLate => (StatusCode::CONFLICT, "too_late"),
            E::Store(_) | E::Internal(_) => {
                tracing::error!(error = %e, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
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
                code: self.code.to_owned(),
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
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

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
    if is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "this route does not take that method")
        }
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "the body is larger than this route accepts",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "unsupported content type")
        }
        StatusCode::UNAUTHORIZED => ("unauthorized", "a valid bearer token is required"),
        s if s.is_server_error() => ("internal_error", "something went wrong on our side"),
        _ => ("bad_request", "the request could not be understood"),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message: message.to_owned(),
        },
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    Response::from_parts(parts, Body::from(bytes))
}
