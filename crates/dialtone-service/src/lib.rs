//! dialtone's services: the use cases behind the API, written against the repository
//! traits of `dialtone-store` and the SMS gateway trait of `dialtone-sms`. No HTTP, no SQL.

pub mod accounts;
pub mod attachments;
pub mod calls;
pub mod community;
pub mod config;
mod crypto;
mod error;
mod fault;
pub mod limits;
pub mod messaging;
pub mod notify;
pub mod passwords;
pub mod search;
mod session_cache;
pub mod social;
pub mod stickers;
pub mod verification;

pub use accounts::{AccountDeps, AccountService, AccountUpdate, Authenticated, Device, LoggedIn};
pub use config::{AccountPolicy, SmsPolicy};
pub use error::{Report, ServiceError};
pub use verification::{CodeAccepted, VerificationStarted};

/// Shorthand for service results.
pub type ServiceResult<T> = Result<T, ServiceError>;
