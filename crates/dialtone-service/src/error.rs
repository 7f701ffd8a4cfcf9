//! The errors of the services. Each variant is one outcome a client can act on; the API
//! edge maps each to an HTTP status and a stable code.

use std::error::Error as StdError;
use std::fmt;
use std::panic::Location;

use dialtone_core::PhoneError;
use dialtone_store::StoreError;

/// What a use case can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The phone number could not be read.
    #[error("invalid phone number: {0}")]
    InvalidPhone(#[from] PhoneError),
    /// The number exists but cannot receive SMS (premium-rate, toll-free, ...).
    #[error("this number cannot receive SMS ({0})")]
    PhoneCannotReceiveSms(String),
    /// An unknown region code.
    #[error("unknown region code")]
    InvalidRegion,
    /// Too many requests; retry after this many seconds.
    #[error("too many requests, retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// No verification with that id.
    #[error("no such verification")]
    VerificationNotFound,
    /// The verification expired, was used, or ran out of attempts.
    #[error("this verification has expired; start a new one")]
    VerificationExpired,
    /// The code is wrong.
    #[error("wrong code")]
    InvalidCode,
    /// Registration lock is on and no right password came with the code.
    #[error("this account has registration lock on: the password is needed too")]
    RegistrationLocked,
    /// Wrong number or password at login.
    #[error("wrong phone number or password")]
    InvalidCredentials,
    /// No valid session token.
    #[error("missing or invalid token")]
    Unauthorized,
    /// Changing the password needs the current one.
    #[error("the current password is required")]
    CurrentPasswordRequired,
    /// The current password given is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// A new password does not meet the rules.
    #[error("{0}")]
    WeakPassword(String),
    /// Registration lock needs a password first.
    #[error("set a password before turning on registration lock")]
    PasswordRequired,
    /// A field is out of bounds.
    #[error("{0}")]
    InvalidInput(String),
    /// No such device of this user.
    #[error("no such device")]
    DeviceNotFound,
    /// An address-book request has too many entries.
    #[error("at most {0} contacts per request; upload larger books in parts with POST")]
    TooManyContacts(usize),
    /// No such entry in the caller's address book.
    #[error("no such contact")]
    ContactNotFound,
    /// No such contact group of the caller.
    #[error("no such contact group")]
    GroupNotFound,
    /// No such conversation, or the caller is not a member.
    #[error("no such conversation")]
    ConversationNotFound,
    /// No such call, or not one this device is a party of (the same answer).
    #[error("no such call")]
    CallNotFound,
    /// The number is not a user the caller may reach.
    #[error("no dialtone user has this number")]
    UserNotFound,
    /// Only group admins may do this.
    #[error("only the group's admins may do this")]
    NotAdmin,
    /// Not a group conversation.
    #[error("this is not a group")]
    NotAGroup,
    /// No such member.
    #[error("no such member")]
    MemberNotFound,
    /// A text message over the size limit.
    #[error("a text message has at most {0} bytes")]
    TextTooLong(usize),
    /// No such message in the conversation.
    #[error("no such message")]
    MessageNotFound,
    /// Only the sender may change a message.
    #[error("only its sender may change a message")]
    NotYourMessage,
    /// The edit or delete window has passed.
    #[error("too late to change this message")]
    TooLate,
    /// An upload over the size limit.
    #[error("an attachment has at most {0} bytes")]
    AttachmentTooLarge(u64),
    /// A byte range that cannot be served, for a file of `size` bytes.
    #[error("the range is outside the file of {size} bytes")]
    BadRange {
        /// The whole file's size (for `Content-Range: bytes */<size>`).
        size: u64,
    },
    /// The attachment's type does not fit the message kind.
    #[error("{0}")]
    WrongKind(String),
    /// No such attachment of the caller's.
    #[error("no such attachment")]
    AttachmentNotFound,
    /// No such community item, or one the caller may not see.
    #[error("no such item")]
    ItemNotFound,
    /// No such comment, or one the caller may not see.
    #[error("no such comment")]
    CommentNotFound,
    /// Only the owner (or author) may do this.
    #[error("only its owner may do this")]
    NotYours,
    /// The link of a post could not be previewed for a reason the client can act on.
    #[error("{message}")]
    BadLink {
        /// Stable code of the reason.
        code: &'static str,
        /// Human text.
        message: String,
    },
    /// The SMS gateway failed; nothing was created.
    #[error("the SMS could not be sent; try again later")]
    SmsUnavailable,
    /// Storage failed: the cause, and where in the services it surfaced (the `?` that
    /// turned it into a service error), for the logs. Clients only ever see
    /// `internal_error`.
    #[error("storage failure: {source}")]
    Store {
        /// What the store said.
        source: StoreError,
        /// The line that met the failure.
        at: &'static Location<'static>,
    },
    /// Something internal failed (a hashing task died).
    #[error("internal failure: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    /// Records the caller: `?` goes through `FromResidual::from_residual`, which is
    /// `#[track_caller]`, so the location is the line of the `?` (tested below).
    #[track_caller]
    fn from(source: StoreError) -> Self {
        Self::Store {
            source,
            at: Location::caller(),
        }
    }
}

impl ServiceError {
    /// Where a storage failure surfaced, if this is one.
    pub fn location(&self) -> Option<&'static Location<'static>> {
        match self {
            Self::Store { at, .. } => Some(at),
            _ => None,
        }
    }

    /// The error for the logs: every cause in its chain, and where it surfaced.
    pub fn report(&self) -> Report<'_> {
        Report {
            error: self,
            at: self.location(),
        }
    }
}

/// An error written for the logs: its message, each cause not already part of it, and the
/// location it surfaced at, if known. Never for clients: causes can name tables, queries or
/// paths.
pub struct Report<'a> {
    error: &'a (dyn StdError + 'static),
    at: Option<&'static Location<'static>>,
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut written = self.error.to_string();
        let mut cause = self.error.source();
        while let Some(e) = cause {
            // Many errors repeat their source in their own message (`"...: {0}"`); such a
            // cause is already written.
            let text = e.to_string();
            if !written.ends_with(&text) {
                written.push_str(": ");
                written.push_str(&text);
            }
            cause = e.source();
        }
        f.write_str(&written)?;
        if let Some(at) = self.at {
            write!(f, " (at {at})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storage_failure_records_the_line_of_its_question_mark() {
        let service = |r: Result<(), StoreError>| -> Result<(), ServiceError> {
            r?;
            Ok(())
        };
        let expected = line!() - 3;
        let e = service(Err(StoreError::Corrupt("kind 'x'".into()))).unwrap_err();
        assert_eq!(
            e.location().map(|at| (at.file(), at.line())),
            Some((file!(), expected))
        );
    }

    #[tokio::test]
    async fn in_an_async_fn_too() {
        async fn read() -> Result<(), StoreError> {
            Err(StoreError::Conflict)
        }
        async fn service() -> Result<(), ServiceError> {
            read().await?;
            Ok(())
        }
        let expected = line!() - 3;
        let e = service().await.unwrap_err();
        assert_eq!(
            e.location().map(|at| (at.file(), at.line())),
            Some((file!(), expected))
        );
    }

    #[test]
    fn the_report_has_the_cause_once_and_the_location() {
        let e = ServiceError::from(StoreError::Corrupt("role 'owner'".into()));
        let line = line!() - 1;
        let report = e.report().to_string();
        assert_eq!(
            report,
            format!(
                "storage failure: corrupt stored value: role 'owner' (at {}:{line}:17)",
                file!()
            )
        );
    }
}
