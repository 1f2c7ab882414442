//! GOST R 34.10-2012 (256) signatures for ЕСИА and ГИС ЖКХ, through a pluggable back-end:
//! OpenSSL with Debian's gost engine, an external command (CryptoPro tools fit here), or an
//! HTTP signing service. Callers get raw signature bytes and the signer's certificate.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;

use crate::config::{Signer as SignerConfig, SignerKind};

#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error("signer is not configured (kind = \"none\"); set {section}.kind")]
    NotConfigured { section: String },
    #[error("signer command failed: {0}")]
    Command(String),
    #[error("signing service failed: {0}")]
    Http(String),
    #[error("signer certificate: {0}")]
    Certificate(String),
}

/// Something that signs bytes with the organisation's GOST key.
pub trait Signer: Send + Sync {
    /// The signature of `data` (GOST R 34.10-2012 with GOST R 34.11-2012-256), raw bytes
    /// as the back-end returns them.
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, SignerError>;

    /// The signer's certificate, DER.
    fn certificate_der(&self) -> Result<Vec<u8>, SignerError>;
}

/// Builds the configured signer; `section` (`esia.signer`, `gis.signer`) names it in errors.
pub fn from_config(config: &SignerConfig, section: &str) -> Result<Arc<dyn Signer>, SignerError> {
    match config.kind {
        SignerKind::None => Err(SignerError::NotConfigured {
            section: section.into(),
        }),
        SignerKind::Openssl => {
            let key = config
                .key_file
                .clone()
                .ok_or_else(|| SignerError::Certificate(format!("set {section}.key_file")))?;
            let cert = config
                .cert_file
                .clone()
                .ok_or_else(|| SignerError::Certificate(format!("set {section}.cert_file")))?;
            Ok(Arc::new(OpensslSigner { key, cert }))
        }
        SignerKind::Command => {
            if config.command.is_empty() {
                return Err(SignerError::Command(format!("set {section}.command")));
            }
            Ok(Arc::new(CommandSigner {
                argv: config.command.clone(),
                cert: config.cert_file.clone(),
            }))
        }
        SignerKind::Http => Ok(Arc::new(HttpSigner {
            url: config.url.trim_end_matches('/').to_string(),
        })),
    }
}

fn run(argv: &[String], stdin: &[u8]) -> Result<Vec<u8>, SignerError> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| SignerError::Command("empty command".into()))?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| SignerError::Command(format!("cannot start {program}: {e}")))?;
    if let Some(mut input) = child.stdin.take() {
        // A program that exits without reading its input is judged by its exit status.
        match input.write_all(stdin) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                return Err(SignerError::Command(e.to_string()))
            }
            _ => {}
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| SignerError::Command(e.to_string()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(SignerError::Command(format!(
            "{program} exited with {}: {}",
            out.status,
            err.lines().next().unwrap_or("")
        )));
    }
    Ok(out.stdout)
}

/// OpenSSL with the gost engine: `openssl dgst -md_gost12_256 -sign <key>`.
pub struct OpensslSigner {
    pub key: PathBuf,
    pub cert: PathBuf,
}

impl Signer for OpensslSigner {
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, SignerError> {
        let argv = [
            "openssl",
            "dgst",
            "-engine",
            "gost",
            "-md_gost12_256",
            "-sign",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([self.key.to_string_lossy().to_string()])
        .collect::<Vec<_>>();
        run(&argv, data)
    }

    fn certificate_der(&self) -> Result<Vec<u8>, SignerError> {
        let argv: Vec<String> = ["openssl", "x509", "-outform", "DER", "-in"]
            .iter()
            .map(|s| s.to_string())
            .chain([self.cert.to_string_lossy().to_string()])
            .collect();
        run(&argv, b"").map_err(|e| SignerError::Certificate(e.to_string()))
    }
}

/// An external program: data on stdin, the signature on stdout (raw, or base64 text).
pub struct CommandSigner {
    pub argv: Vec<String>,
    pub cert: Option<PathBuf>,
}

fn raw_or_base64(out: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8_lossy(&out);
    let trimmed = text.trim();
    if !trimmed.is_empty()
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=_-\n\r".contains(c))
    {
        let b64 = base64::engine::general_purpose::STANDARD;
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let clean: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
        if let Ok(bytes) = b64
            .decode(&clean)
            .or_else(|_| url.decode(clean.trim_end_matches('=')))
        {
            return bytes;
        }
    }
    out
}

impl Signer for CommandSigner {
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, SignerError> {
        run(&self.argv, data).map(raw_or_base64)
    }

    fn certificate_der(&self) -> Result<Vec<u8>, SignerError> {
        let path = self.cert.as_ref().ok_or_else(|| {
            SignerError::Certificate("set cert_file for the command signer".into())
        })?;
        let pem = std::fs::read(path).map_err(|e| SignerError::Certificate(e.to_string()))?;
        pem_to_der(&pem)
    }
}

/// PEM (or DER passed through) to DER.
pub fn pem_to_der(pem: &[u8]) -> Result<Vec<u8>, SignerError> {
    let text = String::from_utf8_lossy(pem);
    if !text.contains("-----BEGIN") {
        return Ok(pem.to_vec());
    }
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|e| SignerError::Certificate(format!("bad PEM: {e}")))
}

/// A signing service: `POST <url>/sign` with the data as the body answers the signature
/// (raw or base64); `GET <url>/certificate` answers the certificate (PEM or DER).
pub struct HttpSigner {
    pub url: String,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into()
}

impl HttpSigner {
    fn call(&self, path: &str, body: Option<&[u8]>) -> Result<Vec<u8>, SignerError> {
        let url = format!("{}{path}", self.url);
        let response = match body {
            Some(data) => agent()
                .post(&url)
                .header("Content-Type", "application/octet-stream")
                .send(data),
            None => agent().get(&url).call(),
        }
        .map_err(|e| SignerError::Http(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .read_to_vec()
            .map_err(|e| SignerError::Http(e.to_string()))?;
        if status != 200 {
            return Err(SignerError::Http(format!("{url} answered {status}")));
        }
        Ok(bytes)
    }
}

impl Signer for HttpSigner {
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.call("/sign", Some(data)).map(raw_or_base64)
    }

    fn certificate_der(&self) -> Result<Vec<u8>, SignerError> {
        pem_to_der(&self.call("/certificate", None)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_signer_gets_the_data_on_stdin() {
        // `base64` stands in for a signing tool: its output is base64 of the input.
        let signer = CommandSigner {
            argv: vec!["base64".into(), "-w0".into()],
            cert: None,
        };
        assert_eq!(signer.sign(b"hello").unwrap(), b"hello");
    }

    #[test]
    fn a_failing_command_is_a_clear_error() {
        let signer = CommandSigner {
            argv: vec!["false".into()],
            cert: None,
        };
        let err = signer.sign(b"x").unwrap_err().to_string();
        assert!(err.contains("false exited"), "{err}");
        let missing = CommandSigner {
            argv: vec!["/nonexistent/signer".into()],
            cert: None,
        };
        assert!(missing
            .sign(b"x")
            .unwrap_err()
            .to_string()
            .contains("cannot start"));
    }

    #[test]
    fn none_is_not_configured() {
        let err = from_config(&SignerConfig::default(), "gis.signer")
            .err()
            .unwrap();
        assert!(err.to_string().contains("gis.signer.kind"), "{err}");
    }
}
