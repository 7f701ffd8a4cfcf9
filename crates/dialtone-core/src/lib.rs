//! The domain core of dialtone.
//!
//! Everything here is pure: no network, no disk, no database. Types in this crate can only
//! hold valid values (a [`PhoneNumber`] is always a valid E.164 number), so the layers
//! above never re-check them.

pub mod clock;
pub mod ids;
pub mod kinds;
pub mod phone;
pub mod presence;
pub mod privacy;
pub mod text;
pub mod verification;

pub use clock::{Clock, ManualClock, SystemClock};
pub use ids::{ConversationId, UserId};
pub use kinds::{ConversationKind, MessageKind, Role, UnknownWord};
pub use phone::{NumberKind, ParsedPhone, PhoneError, PhoneNumber, Region};
