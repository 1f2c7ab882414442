//! What the commands print on stdout. A reader that goes away early (`gosdom ... | head`)
//! ends the command quietly with exit code 0: writes here return the broken pipe as an
//! error instead of panicking like `println!`, and `main` recognises it with
//! [`is_broken_pipe`].

use std::io::{self, Write};

/// Writes one line to stdout.
pub fn line(text: impl std::fmt::Display) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()
}

/// Whether `error` (or anything it was caused by) is a write to a closed pipe.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            return io.kind() == io::ErrorKind::BrokenPipe;
        }
        if let Some(csv) = cause.downcast_ref::<csv::Error>() {
            return matches!(csv.kind(), csv::ErrorKind::Io(e) if e.kind() == io::ErrorKind::BrokenPipe);
        }
        false
    })
}
