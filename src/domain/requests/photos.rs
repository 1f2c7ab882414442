//! Photos of requests and comments: checked, cleaned of location data, stored by content.
//!
//! An upload is taken only when its bytes are a whole JPEG, PNG, WebP or HEIC image (the
//! type is sniffed from the content with `infer`; the file name and the declared type are
//! never trusted) no larger than `max_photo_bytes`, and at most `max_photos` go with a
//! request or a comment. All photos of one upload are checked before anything is
//! written, so a bad one leaves nothing behind. Metadata is removed before the file is
//! written (see `photos_meta`), so no one ever receives the original's location.
//!
//! Files live at `<data_dir>/attachments/<first 2 hex of sha256>/<sha256>`: written to a
//! temporary file in `<data_dir>/attachments/tmp`, then renamed. Rows in `attachments`
//! are written in the caller's transaction after the files exist; if it fails, the files
//! this upload created are removed again ([`discard`]).
//!
//! Photos are served only to the request's resident (not those of internal comments) and
//! to staff of the request's УО: [`open_for`] answers not-found to anyone else.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::photos_meta::{self, Bad};
use super::{RequestError, Result};
use crate::config;
use crate::store::ts;

/// One uploaded file as the web layer received it.
#[derive(Clone, Debug)]
pub struct Upload {
    /// The name the client gave, only checked for sanity, never used for storage.
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

/// A checked and cleaned photo, ready to store.
#[derive(Debug)]
pub struct Prepared {
    pub sha256: String,
    pub mime: &'static str,
    pub bytes: Vec<u8>,
}

fn refused(code: &'static str, message: String) -> RequestError {
    RequestError::Refused { code, message }
}

/// Names with a path in them are not what a phone or a browser sends: refuse them rather
/// than guess.
fn name_ok(name: &str) -> bool {
    !name.contains(['/', '\\', '\0'])
        && !name.split('.').all(str::is_empty)
        && !name.contains("..")
        && !name.chars().any(char::is_control)
        && name.chars().count() <= 255
}

/// Refuses more than `max_photos` with one request or comment.
pub fn check_count(existing: usize, adding: usize, config: &config::Requests) -> Result<()> {
    let max = config.max_photos as usize;
    if existing + adding > max {
        return Err(refused(
            "too_many_photos",
            format!("Можно прикрепить не больше {max} фотографий."),
        ));
    }
    Ok(())
}

/// Checks and cleans `uploads`, given `existing` photos already with the same request or
/// comment. Nothing is written.
pub fn prepare(
    uploads: &[Upload],
    existing: usize,
    config: &config::Requests,
) -> Result<Vec<Prepared>> {
    check_count(existing, uploads.len(), config)?;
    let mut out = Vec::with_capacity(uploads.len());
    for (i, upload) in uploads.iter().enumerate() {
        let n = i + 1;
        if upload
            .file_name
            .as_deref()
            .is_some_and(|name| !name_ok(name))
        {
            return Err(refused(
                "bad_file_name",
                format!("У фотографии № {n} недопустимое имя файла. Переименуйте её."),
            ));
        }
        if upload.bytes.len() as u64 > config.max_photo_bytes {
            let mb = config.max_photo_bytes / (1024 * 1024);
            return Err(refused(
                "photo_too_large",
                format!("Фотография № {n} больше {mb} МБ. Выберите фото поменьше."),
            ));
        }
        let Some(format) = photos_meta::sniff(&upload.bytes) else {
            return Err(refused(
                "unsupported_photo_type",
                format!(
                    "Файл № {n} — не фотография. Можно прикрепить снимки JPEG, PNG, WebP \
                     или HEIC."
                ),
            ));
        };
        let bytes = photos_meta::strip(format, &upload.bytes).map_err(|bad| match bad {
            Bad::Truncated => refused(
                "photo_truncated",
                format!("Фотография № {n} загрузилась не полностью. Прикрепите её ещё раз."),
            ),
            Bad::Malformed => refused(
                "photo_damaged",
                format!("Фотография № {n} повреждена. Выберите другой снимок."),
            ),
        })?;
        out.push(Prepared {
            sha256: hex::encode(Sha256::digest(&bytes)),
            mime: format.mime(),
            bytes,
        });
    }
    Ok(out)
}

/// Where a photo with this hash lives.
pub fn path_of(data_dir: &Path, sha256: &str) -> PathBuf {
    let prefix = sha256.get(..2).unwrap_or("00");
    data_dir.join("attachments").join(prefix).join(sha256)
}

/// Writes the files that are not stored yet; returns those it created.
pub fn save_files(data_dir: &Path, photos: &[Prepared]) -> std::io::Result<Vec<PathBuf>> {
    let tmp_dir = data_dir.join("attachments").join("tmp");
    fs::create_dir_all(&tmp_dir)?;
    let mut created = Vec::new();
    for photo in photos {
        let path = path_of(data_dir, &photo.sha256);
        if path.exists() {
            continue;
        }
        let written = (|| {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            let tmp = tmp_dir.join(format!("{}.part", uuid::Uuid::new_v4()));
            let mut file = fs::File::create(&tmp)?;
            file.write_all(&photo.bytes)?;
            file.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if let Err(e) = written {
            discard(&created);
            return Err(e);
        }
        created.push(path);
    }
    Ok(created)
}

/// Removes files an upload created, when its transaction did not commit.
pub fn discard(created: &[PathBuf]) {
    for path in created {
        let _ = fs::remove_file(path);
    }
}

/// Adds the rows for stored photos of a request (`event_id` none) or of a comment.
pub fn insert_rows(
    conn: &Connection,
    request_id: i64,
    event_id: Option<i64>,
    photos: &[Prepared],
    now: OffsetDateTime,
) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(photos.len());
    for photo in photos {
        conn.execute(
            "INSERT INTO attachments (request_id, event_id, sha256, mime, size, created_at, \
             metadata_stripped) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)",
            params![
                request_id,
                event_id,
                photo.sha256,
                photo.mime,
                photo.bytes.len() as i64,
                ts(now)
            ],
        )?;
        ids.push(conn.last_insert_rowid());
    }
    Ok(ids)
}

/// Photos already with a request itself (not its comments).
pub fn count_on_request(conn: &Connection, request_id: i64) -> Result<usize> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM attachments WHERE request_id = ?1 AND event_id IS NULL",
        [request_id],
        |r| r.get(0),
    )?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Who asks for a photo.
#[derive(Clone, Copy, Debug)]
pub enum Viewer {
    Resident { person_id: i64 },
    Staff { organisation_id: i64 },
}

/// A photo the viewer may receive.
#[derive(Clone, Debug)]
pub struct PhotoFile {
    pub path: PathBuf,
    pub mime: String,
    pub size: i64,
    /// The content hash: a strong ETag.
    pub sha256: String,
}

/// The photo, if `viewer` may see it; anyone else gets [`RequestError::NotFound`].
pub fn open_for(
    conn: &Connection,
    data_dir: &Path,
    viewer: Viewer,
    attachment_id: i64,
) -> Result<PhotoFile> {
    let row: Option<(String, String, i64, i64, Option<i64>, bool)> = conn
        .query_row(
            "SELECT a.sha256, a.mime, a.size, r.organisation_id, r.person_id, \
             COALESCE(e.visible, 1) FROM attachments a \
             JOIN requests r ON r.id = a.request_id \
             LEFT JOIN request_events e ON e.id = a.event_id WHERE a.id = ?1",
            [attachment_id],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .optional()?;
    let Some((sha256, mime, size, organisation_id, person_id, visible)) = row else {
        return Err(RequestError::NotFound);
    };
    let allowed = match viewer {
        Viewer::Resident { person_id: p } => person_id == Some(p) && visible,
        Viewer::Staff { organisation_id: o } => organisation_id == o,
    };
    if !allowed {
        return Err(RequestError::NotFound);
    }
    Ok(PhotoFile {
        path: path_of(data_dir, &sha256),
        mime,
        size,
        sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_paths_are_refused() {
        for bad in [
            "../../etc/passwd",
            "a/b.jpg",
            "..\\win.jpg",
            "..",
            "x\0.jpg",
            "a\nb",
        ] {
            assert!(!name_ok(bad), "{bad:?}");
        }
        for good in ["IMG_0001.JPG", "фото двора.heic", "photo.2026.12.03.jpg"] {
            assert!(name_ok(good), "{good:?}");
        }
    }
}
