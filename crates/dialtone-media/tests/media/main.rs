//! The crate's one integration-test binary: blob store, sniffing, image processing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod images;
mod sniffing;
mod store;
