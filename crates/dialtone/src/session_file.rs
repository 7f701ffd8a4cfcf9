//! The CLI's login, kept in `<config dir>/dialtone/session.json` (readable by the user
//! only). `DIALTONE_CONFIG_DIR` points elsewhere, for several identities or tests.

use std::path::PathBuf;

use anyhow::{Context, anyhow};
use serde::{Deserialize, Serialize};

/// What the CLI remembers after a login.
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedSession {
    /// The server it belongs to.
    pub server: String,
    /// The bearer token.
    pub token: String,
    /// The account's number.
    pub phone: String,
    /// The account's id.
    pub user_id: String,
}

fn path() -> anyhow::Result<PathBuf> {
    let dir = match std::env::var_os("DIALTONE_CONFIG_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => dirs::config_dir()
            .ok_or_else(|| anyhow!("no configuration directory; set DIALTONE_CONFIG_DIR"))?
            .join("dialtone"),
    };
    Ok(dir.join("session.json"))
}

/// Saves a login.
pub fn save(session: &SavedSession) -> anyhow::Result<()> {
    let path = path()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    serde_json::to_writer_pretty(file, session)?;
    Ok(())
}

/// The saved login, if any.
pub fn load() -> anyhow::Result<SavedSession> {
    let path = path()?;
    let text = std::fs::read_to_string(&path)
        .map_err(|_| anyhow!("not logged in: run `dialtone register` or `dialtone login`"))?;
    serde_json::from_str(&text).with_context(|| format!("{} is damaged", path.display()))
}

/// Forgets the login.
pub fn remove() -> anyhow::Result<()> {
    let path = path()?;
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}
