//! Multipart uploads shared by the resident API and the console: the photos of a form
//! become [`Upload`]s, a form Rocket could not read becomes the JSON error shape, and a
//! stored photo goes back out with its type, a private cache and its hash as the ETag.

use rocket::form::{self, Errors};
use rocket::fs::TempFile;
use rocket::http::{ContentType, Header, Status};
use rocket::response::{self, Responder};
use rocket::tokio::io::AsyncReadExt;
use rocket::{Request, Response};

use crate::domain::requests::photos::{PhotoFile, Upload};
use crate::web::ApiError;

/// One file field of a form, with whether it arrived whole (under the `file` limit).
pub type FilePart<'r> = rocket::data::Capped<TempFile<'r>>;

/// Reads the form's files into memory; a file cut off at the size limit is refused.
pub async fn read_photos(parts: &[FilePart<'_>], max_bytes: u64) -> Result<Vec<Upload>, ApiError> {
    let mut uploads = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        // A browser sends an empty part when no file was picked.
        if part.is_empty() && part.raw_name().is_none() {
            continue;
        }
        if !part.is_complete() {
            let mb = max_bytes / (1024 * 1024);
            return Err(ApiError::unprocessable(
                "photo_too_large",
                format!(
                    "Фотография № {} больше {mb} МБ. Выберите фото поменьше.",
                    i + 1
                ),
            ));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(part.len()).unwrap_or(0));
        part.open()
            .await
            .map_err(ApiError::internal)?
            .read_to_end(&mut bytes)
            .await
            .map_err(ApiError::internal)?;
        let file_name = part
            .raw_name()
            .map(|n| n.dangerous_unsafe_unsanitized_raw().as_str().to_string());
        uploads.push(Upload { file_name, bytes });
    }
    Ok(uploads)
}

/// The JSON error for a form Rocket could not read (too large, missing or malformed part).
pub fn form_error(errors: &Errors<'_>) -> ApiError {
    let too_large = errors.iter().any(|e| {
        matches!(e.kind, form::error::ErrorKind::Io(_)) || e.status() == Status::PayloadTooLarge
    });
    if too_large {
        return ApiError::new(
            Status::PayloadTooLarge,
            "upload_too_large",
            "Файлы слишком большие. Прикрепите меньше фотографий или фото поменьше.",
        );
    }
    let field = errors
        .iter()
        .find_map(|e| e.name.as_ref().map(|n| n.to_string()))
        .unwrap_or_default();
    tracing::info!(field = %field, "upload form refused");
    ApiError::unprocessable(
        "bad_form",
        "Не удалось прочитать форму. Проверьте, что всё заполнено, и отправьте ещё раз.",
    )
}

/// A stored photo as a response.
pub struct PhotoResponse {
    pub file: PhotoFile,
    pub bytes: Vec<u8>,
}

impl PhotoResponse {
    pub async fn load(file: PhotoFile) -> Result<Self, ApiError> {
        let bytes = rocket::tokio::fs::read(&file.path)
            .await
            .map_err(ApiError::internal)?;
        Ok(PhotoResponse { file, bytes })
    }
}

impl<'r> Responder<'r, 'static> for PhotoResponse {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let content_type =
            ContentType::parse_flexible(&self.file.mime).unwrap_or(ContentType::Binary);
        Response::build()
            .header(content_type)
            .header(Header::new("Cache-Control", "private, max-age=86400"))
            .header(Header::new("ETag", format!("\"{}\"", self.file.sha256)))
            .header(Header::new("X-Content-Type-Options", "nosniff"))
            .sized_body(self.bytes.len(), std::io::Cursor::new(self.bytes))
            .ok()
    }
}
