//! End-to-end tests: each starts the real server on port 0 with a fresh data directory (or
//! a fresh PostgreSQL database) and talks to it over HTTP exactly as a client does. Time
//! moves by a manual clock, never by sleeping.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod attachments;
mod audience;
mod bad_input;
mod blog;
mod broken_input;
mod calls;
mod community;
mod community_matrix;
mod conference;
mod delivery;
mod group_changes;
mod harness;
mod hidden;
mod import;
mod limits;
mod messages;
mod pages;
mod push;
mod realtime;
mod search;
mod server;
mod social;
mod ws_send;
