//! Static files compiled into the binary: the landing page, the mini-app, the console.
//! ETag is the file's sha256; `index.html` is revalidated every time, files asked for
//! with a `?v=` version are cached for a year.

use std::path::PathBuf;

use rocket::http::{ContentType, Header, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::response::{self, Responder};
use rocket::{get, Request, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// The request's `If-None-Match` and whether it asked for a versioned URL.
pub struct CacheInfo {
    if_none_match: Option<String>,
    versioned: bool,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CacheInfo {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        Outcome::Success(CacheInfo {
            if_none_match: req.headers().get_one("If-None-Match").map(str::to_string),
            versioned: req.query_value::<&str>("v").is_some(),
        })
    }
}

pub struct Asset {
    body: Option<std::borrow::Cow<'static, [u8]>>,
    etag: String,
    content_type: ContentType,
    cache: &'static str,
}

impl<'r> Responder<'r, 'static> for Asset {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut res = Response::build();
        res.header(Header::new("ETag", self.etag))
            .header(Header::new("Cache-Control", self.cache));
        match self.body {
            Some(body) => res
                .header(self.content_type)
                .sized_body(body.len(), std::io::Cursor::new(body)),
            None => res.status(Status::NotModified),
        };
        res.ok()
    }
}

/// The embedded file at `path`, honouring `If-None-Match`.
pub fn asset(path: &str, cache: &CacheInfo) -> Option<Asset> {
    let file = Assets::get(path)?;
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let content_type = PathBuf::from(path)
        .extension()
        .and_then(|e| e.to_str())
        .and_then(ContentType::from_extension)
        .unwrap_or(ContentType::Binary);
    let cache_control = if cache.versioned && !path.ends_with("index.html") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let fresh = cache.if_none_match.as_deref() == Some(etag.as_str());
    Some(Asset {
        body: (!fresh).then_some(file.data),
        etag,
        content_type,
        cache: cache_control,
    })
}

/// A file of a single-page app under `root`; extension-less paths get its `index.html`.
pub fn spa_file(root: &str, path: &std::path::Path, cache: &CacheInfo) -> Option<Asset> {
    let rel = path.to_string_lossy();
    if rel.is_empty() {
        return asset(&format!("{root}/index.html"), cache);
    }
    if let Some(found) = asset(&format!("{root}/{rel}"), cache) {
        return Some(found);
    }
    if path.extension().is_none() {
        return asset(&format!("{root}/index.html"), cache);
    }
    None
}

#[get("/")]
pub fn landing(cache: CacheInfo) -> Option<Asset> {
    asset("index.html", &cache)
}

/// `/app`, `/app/` and everything under it (zero segments match too).
#[get("/app/<path..>", rank = 20)]
pub fn app_file(path: PathBuf, cache: CacheInfo) -> Option<Asset> {
    spa_file("app", &path, &cache)
}

/// The browser's tab icon (a house on the service's blue).
#[get("/favicon.ico")]
pub fn favicon(cache: CacheInfo) -> Option<Asset> {
    asset("shared/favicon.ico", &cache)
}

#[get("/assets/<path..>", rank = 20)]
pub fn shared_file(path: PathBuf, cache: CacheInfo) -> Option<Asset> {
    asset(&format!("shared/{}", path.to_string_lossy()), &cache)
}
