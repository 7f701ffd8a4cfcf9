//! The live connections of one server process, above the services: the [`Hub`] (who is
//! connected here, each connection's bounded queue ([`Items`], empty-handed while idle),
//! the fan-out of bus events to them) and
//! [`delivery::Orderer`], the seq order each connection writes messages in. The socket
//! itself (axum's WebSocket, the client frames) is `dialtone-api`'s `routes/ws.rs`, which
//! calls the services directly for what a client does (send, ack, typing) and the hub for
//! what it is sent.
//!
//! The hub reads and writes nothing itself: presence goes through the social service,
//! messages and where each device stands through the messaging service.

pub mod delivery;
mod hub;
mod queue;

pub use hub::{
    CONNECTION_QUEUE, CloseReason, Connected, Connection, Heartbeat, Hub, Outgoing, encode,
};
pub use queue::Items;
