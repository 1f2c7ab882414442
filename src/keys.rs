//! Keys the appliance makes for itself on first start and keeps in the data directory
//! (mode 0600) when the config does not provide them.

use std::fs;
use std::io::Write;
use std::path::Path;

use base64::Engine;

use crate::config::Secret;

/// The configured secret, or the one kept in `<data_dir>/<name>`, created when missing.
pub fn load_or_create(configured: &Secret, data_dir: &Path, name: &str) -> std::io::Result<Secret> {
    if !configured.is_empty() {
        return Ok(configured.clone());
    }
    let path = data_dir.join(name);
    match fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(Secret::new(text.trim())),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let bytes: [u8; 64] = rand::random();
    let text = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(Secret::new(text))
}
