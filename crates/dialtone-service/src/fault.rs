//! Fault injection for crash tests: the process dies at a chosen point, as `kill -9` would,
//! so a test can prove what survives it. Off unless an environment variable names the
//! point; nothing in a deployment sets it.

use std::sync::OnceLock;

/// `DIALTONE_FAULT_ABORT_AFTER_COMMIT=<client_id>`: the process aborts right after the
/// message with this client id is committed, before its event is published (the window in
/// which a node's death once lost messages for other nodes' devices).
const ABORT_AFTER_COMMIT: &str = "DIALTONE_FAULT_ABORT_AFTER_COMMIT";

/// Dies here if the message just committed is the one named for it.
pub(crate) fn after_commit(client_id: &str) {
    static NAMED: OnceLock<Option<String>> = OnceLock::new();
    let named = NAMED.get_or_init(|| std::env::var(ABORT_AFTER_COMMIT).ok());
    if named.as_deref() == Some(client_id) {
        tracing::error!(client_id, "fault injection: aborting after the commit");
        std::process::abort();
    }
}
