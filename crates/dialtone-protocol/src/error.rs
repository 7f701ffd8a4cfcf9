//! Every stable error code of the API: the `code` of HTTP error bodies and of `error`
//! frames, listed as one string enum in the OpenAPI document.

use serde::{Deserialize, Serialize};

/// Declares [`ErrorCode`] with each variant's wire string next to it.
macro_rules! error_codes {
    ($($(#[doc = $doc:expr])+ $variant:ident = $code:literal,)+) => {
        /// A stable error code (snake_case on the wire). New codes may be added; none is
        /// renamed or removed.
        ///
        /// Each variant's wire string is its name in snake_case (the tests check it is the
        /// string written next to it).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The code as it is written on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)+
                }
            }

            /// The code written `code` on the wire, if there is one.
            pub fn parse(code: &str) -> Option<Self> {
                match code {
                    $($code => Some(ErrorCode::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    // Requests.
    /// The body is not JSON, or not the JSON this route takes.
    InvalidJson = "invalid_json",
    /// The body broke off or was malformed on the wire.
    InvalidBody = "invalid_body",
    /// A query parameter could not be read.
    InvalidQuery = "invalid_query",
    /// A field's value is out of its range or shape.
    InvalidInput = "invalid_input",
    /// The request could not be understood.
    BadRequest = "bad_request",
    /// No such route.
    NotFound = "not_found",
    /// The route does not take that method.
    MethodNotAllowed = "method_not_allowed",
    /// The body is larger than the route accepts.
    PayloadTooLarge = "payload_too_large",
    /// The content type is not one the route takes.
    UnsupportedMediaType = "unsupported_media_type",
    /// Too many requests; `Retry-After` says when to try again.
    RateLimited = "rate_limited",
    /// Something went wrong on the server's side.
    InternalError = "internal_error",
    // Accounts.
    /// A valid bearer token is required.
    Unauthorized = "unauthorized",
    /// Not a phone number that can be read.
    InvalidPhone = "invalid_phone",
    /// A number that cannot receive SMS (premium-rate, shared-cost, ...).
    PhoneCannotReceiveSms = "phone_cannot_receive_sms",
    /// Not a region code.
    InvalidRegion = "invalid_region",
    /// No such verification.
    VerificationNotFound = "verification_not_found",
    /// The verification expired.
    VerificationExpired = "verification_expired",
    /// The code is wrong.
    InvalidCode = "invalid_code",
    /// Too many wrong codes: registration of this number is locked for a while.
    RegistrationLocked = "registration_locked",
    /// Wrong number or password.
    InvalidCredentials = "invalid_credentials",
    /// Changing the password needs the current one.
    CurrentPasswordRequired = "current_password_required",
    /// The current password is wrong.
    WrongPassword = "wrong_password",
    /// The password breaks the password rules.
    WeakPassword = "weak_password",
    /// The account has no password yet.
    PasswordRequired = "password_required",
    /// No such device.
    DeviceNotFound = "device_not_found",
    /// The SMS provider could not be reached.
    SmsUnavailable = "sms_unavailable",
    // Contacts.
    /// An address book over the limit.
    TooManyContacts = "too_many_contacts",
    /// Too many numbers in one request.
    TooManyPhones = "too_many_phones",
    /// Not in the address book.
    ContactNotFound = "contact_not_found",
    /// No such contact group.
    GroupNotFound = "group_not_found",
    /// No such user.
    UserNotFound = "user_not_found",
    // Conversations and messages.
    /// No such conversation, or not a member.
    ConversationNotFound = "conversation_not_found",
    /// Only admins may do that.
    NotAdmin = "not_admin",
    /// Only groups have that.
    NotAGroup = "not_a_group",
    /// Not a member.
    MemberNotFound = "member_not_found",
    /// Text over the limit.
    TextTooLong = "text_too_long",
    /// No such message.
    MessageNotFound = "message_not_found",
    /// Only the sender may do that.
    NotYourMessage = "not_your_message",
    /// Past the edit or delete window.
    TooLate = "too_late",
    /// No such sticker.
    StickerNotFound = "sticker_not_found",
    // Attachments.
    /// No such attachment (or not the sender's).
    AttachmentNotFound = "attachment_not_found",
    /// An upload over the limit.
    AttachmentTooLarge = "attachment_too_large",
    /// A range past the end (`Content-Range: bytes */size` says the size).
    RangeNotSatisfiable = "range_not_satisfiable",
    /// The attachment's content is not of the message's kind.
    WrongKind = "wrong_kind",
    // Address-book files.
    /// The file is empty.
    Empty = "empty",
    /// The file is over the size limit.
    TooLarge = "too_large",
    /// Not an address-book format that can be read.
    UnknownFormat = "unknown_format",
    /// A text encoding that cannot be read.
    UnknownEncoding = "unknown_encoding",
    /// The file ends early.
    Truncated = "truncated",
    /// A line or record that cannot be read (the message names it).
    Malformed = "malformed",
    /// A row with too many columns.
    TooManyColumns = "too_many_columns",
    /// Too many entries in the file.
    TooManyEntries = "too_many_entries",
    /// A field over the length limit.
    FieldTooLong = "field_too_long",
    /// A spreadsheet over the size limit.
    SheetTooLarge = "sheet_too_large",
    // The live connection.
    /// A frame that is not a JSON object of a known shape.
    MalformedFrame = "malformed_frame",
    /// A frame of a type the server does not know.
    UnknownFrame = "unknown_frame",
    /// A binary frame (frames are JSON text).
    BinaryFrame = "binary_frame",
    // Calls.
    /// No such call, or not one this device is a party of (the same answer).
    CallNotFound = "call_not_found",
    // The community.
    /// No such item, or one the caller may not see (the same answer).
    ItemNotFound = "item_not_found",
    /// No such comment, or one the caller may not see.
    CommentNotFound = "comment_not_found",
    /// Only the owner (or the author) may do this.
    NotYours = "not_yours",
    /// The link is not an http(s) URL that can be shared.
    InvalidLink = "invalid_link",
    /// The link's address is not a public one (the server fetches no private address).
    ForbiddenLink = "forbidden_link",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_is_written_once_in_snake_case_and_reads_back() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{s}"
            );
            assert_eq!(
                serde_json::to_value(code).ok(),
                Some(serde_json::Value::from(s))
            );
            assert_eq!(ErrorCode::parse(s), Some(code));
            assert_eq!(serde_json::from_value(s.into()).ok(), Some(code));
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }
}
