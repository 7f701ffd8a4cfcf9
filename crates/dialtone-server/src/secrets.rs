//! The server key, kept outside the database so a stolen database alone reveals nothing
//! it protects (verification codes now; address books later). It comes from configuration
//! (`secrets.key`, hex) or a key file, created with 256 random bits on first start.

use std::io::Write;

use rand::RngCore;
use rand::rngs::OsRng;

use crate::{Config, ServerError};

/// The key bytes, creating the key file if there is none.
pub fn load_or_create_key(config: &Config) -> Result<Vec<u8>, ServerError> {
    if let Some(hex_key) = &config.secrets.key {
        return decode(hex_key, "secrets.key");
    }
    let path = config.key_path();
    match std::fs::read_to_string(&path) {
        Ok(text) => decode(text.trim(), &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            OsRng.fill_bytes(&mut key);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&path).map_err(|e| {
                ServerError::Io(format!("cannot create key file {}: {e}", path.display()))
            })?;
            file.write_all(hex::encode(key).as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| ServerError::Io(format!("cannot write {}: {e}", path.display())))?;
            tracing::info!(path = %path.display(), "created a new server key");
            Ok(key.to_vec())
        }
        Err(e) => Err(ServerError::Io(format!(
            "cannot read key file {}: {e}",
            path.display()
        ))),
    }
}

fn decode(hex_key: &str, origin: &str) -> Result<Vec<u8>, ServerError> {
    match hex::decode(hex_key) {
        Ok(key) if key.len() >= 32 => Ok(key),
        _ => Err(ServerError::Io(format!(
            "{origin}: the key must be at least 64 hex digits (256 bits)"
        ))),
    }
}
