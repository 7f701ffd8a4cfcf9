//! The crate's one integration-test binary: previews fetched from real local HTTP servers
//! on 127.0.0.1, which the tests allow by [`AddressPolicy::AllowList`]; and links the
//! default policy must refuse before any connection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod images;
mod limits;
mod pages;
mod redirects;
mod refusals;
mod server;
