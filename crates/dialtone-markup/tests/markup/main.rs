//! The crate's one integration-test binary: rendering tables of ordinary Markdown and of
//! XSS vectors, the limits, and properties over generated input, every output judged by
//! an independent oracle (`oracle.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cases;
mod limits;
mod oracle;
mod oracle_self_test;
mod properties;
mod xss;
