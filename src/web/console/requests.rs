//! «Заявки» of the console under [`super::API_BASE`], backed by
//! `domain::requests::staff` (see there for the shapes). Every route passes the staff
//! member's УО from `staff.scope()`: a request of another УО answers 404. Requests are
//! worked by a УО's staff; a regional admin, who belongs to no УО, is refused with 403.

use rocket::form::{Errors, Form, FromForm};
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};

use super::guard::Staff;
use crate::app::App;
use crate::domain::console::Scope;
use crate::domain::requests::staff::{
    self, AssignBody, DeadlineBody, Queue, QueueFilter, StaffCommentBody, StaffMember, StatusBody,
};
use crate::domain::requests::view::{CategoriesResponse, RequestCard};
use crate::domain::requests::Settings;
use crate::web::api::requests::in_store;
use crate::web::uploads::{form_error, read_photos, FilePart, PhotoResponse};
use crate::web::{ApiError, ApiResult};

/// The routes of this file, to mount at [`super::API_BASE`].
pub fn routes() -> Vec<Route> {
    routes![
        queue,
        categories,
        card,
        change_status,
        assign,
        comment,
        set_deadline,
        photo
    ]
}

/// The member as the request rules know them, or 403 for someone of no УО.
fn member(staff: &Staff) -> Result<StaffMember, ApiError> {
    match staff.scope() {
        Scope::Organisation(organisation_id) => Ok(StaffMember {
            user_id: staff.member.id,
            organisation_id,
        }),
        Scope::Region => Err(ApiError::new(
            rocket::http::Status::Forbidden,
            "organisation_required",
            "Заявки ведёт персонал управляющей организации. Войдите под её учётной записью.",
        )),
    }
}

/// `GET /requests?status=new,in_work&category=water&house_id=1&overdue=true&emergency=true
/// &source=gis&limit=100&offset=0`: the УО's queue, soonest deadline first.
#[get("/requests?<filter..>")]
pub async fn queue(
    app: &State<App>,
    staff: Staff,
    filter: QueueFilterForm,
) -> ApiResult<Json<Queue>> {
    let who = member(&staff)?;
    let filter = filter.into_filter();
    let now = app.now();
    let queue = app
        .store
        .call(move |conn| Ok(staff::queue(conn, who.organisation_id, &filter, now)))
        .await??;
    Ok(Json(queue))
}

/// The query string of [`queue`].
#[derive(FromForm, Default)]
pub struct QueueFilterForm {
    status: Option<String>,
    category: Option<String>,
    house_id: Option<i64>,
    overdue: Option<bool>,
    emergency: Option<bool>,
    source: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

impl QueueFilterForm {
    fn into_filter(self) -> QueueFilter {
        QueueFilter {
            status: self.status,
            category: self.category,
            house_id: self.house_id,
            overdue: self.overdue,
            emergency: self.emergency,
            source: self.source,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

/// `GET /requests/categories`: the category tree, for the queue's category filter.
#[get("/requests/categories")]
pub async fn categories(staff: Staff) -> ApiResult<Json<CategoriesResponse>> {
    member(&staff)?;
    Ok(Json(crate::domain::requests::view::categories(None)))
}

#[get("/requests/<id>")]
pub async fn card(app: &State<App>, staff: Staff, id: i64) -> ApiResult<Json<RequestCard>> {
    let who = member(&staff)?;
    let (settings, now) = (Settings::new(&app.config), app.now());
    let card = app
        .store
        .call(move |conn| Ok(staff::card(conn, &settings, who.organisation_id, id, now)))
        .await??;
    Ok(Json(card))
}

/// `POST /requests/<id>/status` `{"status", "reason", "deferred_until"}`.
#[post("/requests/<id>/status", data = "<body>")]
pub async fn change_status(
    app: &State<App>,
    staff: Staff,
    id: i64,
    body: Json<StatusBody>,
) -> ApiResult<Json<RequestCard>> {
    let who = member(&staff)?;
    let body = body.into_inner();
    let card = in_store(app, move |conn, settings, now| {
        staff::change_status(conn, settings, who, id, &body, now)
    })
    .await?;
    tracing::info!(
        request = id,
        staff = who.user_id,
        "console: request status changed"
    );
    Ok(Json(card))
}

/// `POST /requests/<id>/assign` `{"assignee"}`.
#[post("/requests/<id>/assign", data = "<body>")]
pub async fn assign(
    app: &State<App>,
    staff: Staff,
    id: i64,
    body: Json<AssignBody>,
) -> ApiResult<Json<RequestCard>> {
    let who = member(&staff)?;
    let body = body.into_inner();
    let card = in_store(app, move |conn, settings, now| {
        staff::assign(conn, settings, who, id, &body, now)
    })
    .await?;
    Ok(Json(card))
}

#[derive(FromForm)]
pub struct StaffCommentForm<'r> {
    pub comment: Json<StaffCommentBody>,
    pub photos: Vec<FilePart<'r>>,
}

/// `POST /requests/<id>/comments` (multipart: `comment` JSON + `photos`).
#[post("/requests/<id>/comments", data = "<form>")]
pub async fn comment(
    app: &State<App>,
    staff: Staff,
    id: i64,
    form: Result<Form<StaffCommentForm<'_>>, Errors<'_>>,
) -> ApiResult<Json<RequestCard>> {
    let who = member(&staff)?;
    let form = form.map_err(|e| form_error(&e))?;
    let photos = read_photos(&form.photos, app.config.requests.max_photo_bytes).await?;
    let body = form.into_inner().comment.into_inner();
    let card = in_store(app, move |conn, settings, now| {
        staff::comment(conn, settings, who, id, &body, &photos, now)
    })
    .await?;
    Ok(Json(card))
}

/// `POST /requests/<id>/deadline` `{"deadline_at", "reason"}`.
#[post("/requests/<id>/deadline", data = "<body>")]
pub async fn set_deadline(
    app: &State<App>,
    staff: Staff,
    id: i64,
    body: Json<DeadlineBody>,
) -> ApiResult<Json<RequestCard>> {
    let who = member(&staff)?;
    let body = body.into_inner();
    let card = in_store(app, move |conn, settings, now| {
        staff::set_deadline(conn, settings, who, id, &body, now)
    })
    .await?;
    Ok(Json(card))
}

#[get("/requests/<id>/photos/<photo_id>")]
pub async fn photo(
    app: &State<App>,
    staff: Staff,
    id: i64,
    photo_id: i64,
) -> ApiResult<PhotoResponse> {
    let who = member(&staff)?;
    let settings = Settings::new(&app.config);
    let file = app
        .store
        .call(move |conn| {
            Ok(staff::photo(
                conn,
                &settings,
                who.organisation_id,
                id,
                photo_id,
            ))
        })
        .await??;
    PhotoResponse::load(file).await
}
