//! «Заявки» of the resident: `/api/v1/categories` and `/api/v1/requests…`, backed by
//! `domain::requests::api` (see there for the shapes). Filing and commenting take
//! multipart forms: a JSON part (`request` or `comment`) and up to `max_photos` files in
//! `photos`. Someone else's request answers 404, on every route.

use rocket::form::{Errors, Form, FromForm};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, post, State};
use time::OffsetDateTime;

use super::guard::Resident;
use crate::app::App;
use crate::domain::requests::api::{
    self, CommentBody, NewRequestBody, RateBody, ReopenBody, RequestList,
};
use crate::domain::requests::photos::Upload;
use crate::domain::requests::view::{CategoriesResponse, RequestCard};
use crate::domain::requests::Settings;
use crate::web::uploads::{form_error, read_photos, FilePart, PhotoResponse};
use crate::web::{ApiError, ApiResult};

#[derive(FromForm)]
pub struct NewRequestForm<'r> {
    pub request: Json<NewRequestBody>,
    pub photos: Vec<FilePart<'r>>,
}

#[derive(FromForm)]
pub struct CommentForm<'r> {
    pub comment: Json<CommentBody>,
    pub photos: Vec<FilePart<'r>>,
}

#[derive(FromForm)]
pub struct PhotosForm<'r> {
    pub photos: Vec<FilePart<'r>>,
}

/// Runs a request operation on a blocking thread with the УО settings and the clock, then
/// wakes the outbox for the bot notices it may have queued.
pub(crate) async fn in_store<T, E>(
    app: &App,
    op: impl FnOnce(&mut rusqlite::Connection, &Settings, OffsetDateTime) -> Result<T, E>
        + Send
        + 'static,
) -> ApiResult<T>
where
    T: Send + 'static,
    E: Send + 'static,
    ApiError: From<E>,
{
    let (settings, now) = (Settings::new(&app.config), app.now());
    let value = app
        .store
        .call(move |conn| Ok(op(conn, &settings, now)))
        .await??;
    app.wake_outbox();
    Ok(value)
}

async fn uploads(app: &App, parts: &[FilePart<'_>]) -> Result<Vec<Upload>, ApiError> {
    read_photos(parts, app.config.requests.max_photo_bytes).await
}

/// The category tree, or the problems that match `q` («течёт кран»).
#[get("/api/v1/categories?<q>")]
pub async fn categories(
    resident: Result<Resident, ApiError>,
    q: Option<&str>,
) -> ApiResult<Json<CategoriesResponse>> {
    resident?;
    Ok(Json(api::categories(q.filter(|q| !q.trim().is_empty()))))
}

#[get("/api/v1/requests")]
pub async fn list(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
) -> ApiResult<Json<RequestList>> {
    let person = resident?.person()?;
    let list = in_store(app, move |conn, _, now| api::list(conn, person, now)).await?;
    Ok(Json(list))
}

#[post("/api/v1/requests", data = "<form>")]
pub async fn file(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
    form: Result<Form<NewRequestForm<'_>>, Errors<'_>>,
) -> ApiResult<(Status, Json<RequestCard>)> {
    let person = resident?.person()?;
    let form = form.map_err(|e| form_error(&e))?;
    let photos = uploads(app, &form.photos).await?;
    let body = form.into_inner().request.into_inner();
    let card = in_store(app, move |conn, settings, now| {
        api::file(conn, settings, person, &body, &photos, now)
    })
    .await?;
    Ok((Status::Created, Json(card)))
}

#[get("/api/v1/requests/<id>")]
pub async fn card(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
    id: i64,
) -> ApiResult<Json<RequestCard>> {
    let person = resident?.person()?;
    let card = in_store(app, move |conn, settings, now| {
        api::card(conn, settings, person, id, now)
    })
    .await?;
    Ok(Json(card))
}

#[post("/api/v1/requests/<id>/comments", data = "<form>")]
pub async fn comment(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
    id: i64,
    form: Result<Form<CommentForm<'_>>, Errors<'_>>,
) -> ApiResult<Json<RequestCard>> {
    let person = resident?.person()?;
    let form = form.map_err(|e| form_error(&e))?;
    let photos = uploads(app, &form.photos).await?;
    let body = form.into_inner().comment.into_inner();
    let card = in_store(app, move |conn, settings, now| {
        api::comment(conn, settings, person, id, &body, &photos, now)
    })
    .await?;
    Ok(Json(card))
}

#[post("/api/v1/requests/<id>/photos", data = "<form>")]
pub async fn add_photos(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
    id: i64,
    form: Result<Form<PhotosForm<'_>>, Errors<'_>>,
) -> ApiResult<Json<RequestCard>> {
    let person = resident?.person()?;
    let form = form.map_err(|e| form_error(&e))?;
    let photos = uploads(app, &form.photos).await?;
    let card = in_store(app, move |conn, settings, now| {
        api::add_photos(conn, settings, person, id, &photos, now)
    })
    .await?;
    Ok(Json(card))
}

#[get("/api/v1/requests/<id>/photos/<photo_id>")]
pub async fn photo(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
    id: i64,
    photo_id: i64,
) -> ApiResult<PhotoResponse> {
    let person = resident?.person()?;
    let file = in_store(app, move |conn, settings, _| {
        api::photo(conn, settings, person, id, photo_id)
    })
    .await?;
    PhotoResponse::load(file).await
}

#[post("/api/v1/requests/<id>/reopen", data = "<body>")]
pub async fn reopen(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
    id: i64,
    body: Json<ReopenBody>,
) -> ApiResult<Json<RequestCard>> {
    let person = resident?.person()?;
    let body = body.into_inner();
    let card = in_store(app, move |conn, settings, now| {
        api::reopen(conn, settings, person, id, &body, now)
    })
    .await?;
    Ok(Json(card))
}

#[post("/api/v1/requests/<id>/rate", data = "<body>")]
pub async fn rate(
    app: &State<App>,
    resident: Result<Resident, ApiError>,
    id: i64,
    body: Json<RateBody>,
) -> ApiResult<Json<RequestCard>> {
    let person = resident?.person()?;
    let body = body.into_inner();
    let card = in_store(app, move |conn, settings, now| {
        api::rate(conn, settings, person, id, &body, now)
    })
    .await?;
    Ok(Json(card))
}
