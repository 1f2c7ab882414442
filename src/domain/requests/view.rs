//! The JSON shapes of requests as the mini-app and the console receive them.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use time::OffsetDateTime;

use super::categories::{self, Kind};
use super::records::{self, Attachment, Request};
use super::status::Status;
use super::Result;

/// A line of the «Заявки» list.
#[derive(Clone, Debug, Serialize)]
pub struct RequestSummary {
    pub id: i64,
    pub number: String,
    pub status: Status,
    pub status_label: &'static str,
    pub problem: String,
    pub problem_title: String,
    pub emergency: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub deadline_at: Option<OffsetDateTime>,
    /// Open and past its deadline.
    pub overdue: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// An event on the request's timeline.
#[derive(Clone, Debug, Serialize)]
pub struct EventView {
    pub id: i64,
    /// `created`, `status`, `comment`, `assigned`, `deadline`, `rated`.
    pub kind: String,
    pub status: Option<Status>,
    pub status_label: Option<&'static str>,
    pub text: Option<String>,
    /// `resident`, `staff`, `system` or `gis`; staff also see who (`staff:12`).
    pub author_role: String,
    /// The full author, for staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Who, for people, staff only: «Житель» (no name), the staff member's login,
    /// «ГИС ЖКХ» or «Система».
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// False for internal staff notes (staff only ever see those).
    pub visible: bool,
    /// Ids of photos that came with this event.
    pub photos: Vec<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug, Serialize)]
pub struct PhotoView {
    pub id: i64,
    pub mime: String,
    pub size: i64,
    /// Photos of comments carry the comment's event id.
    pub event_id: Option<i64>,
}

/// The request card with its timeline.
#[derive(Clone, Debug, Serialize)]
pub struct RequestCard {
    pub id: i64,
    pub number: String,
    pub status: Status,
    pub status_label: &'static str,
    pub place: String,
    pub place_title: String,
    pub category: String,
    pub category_title: String,
    pub problem: String,
    pub problem_title: String,
    pub text: String,
    pub emergency: bool,
    /// `emergency`, `ordinary` or `query`: which deadline rule applied.
    pub kind: Kind,
    #[serde(with = "time::serde::rfc3339::option")]
    pub deadline_at: Option<OffsetDateTime>,
    pub overdue: bool,
    /// `YYYY-MM-DD` while deferred.
    pub deferred_until: Option<String>,
    /// `app`, `gis` or `operator`.
    pub source: String,
    pub house_id: i64,
    pub address: String,
    pub premise_id: Option<i64>,
    pub premise_number: Option<String>,
    pub rating: Option<i64>,
    /// The resident may reopen it now.
    pub can_reopen: bool,
    /// The resident may rate it now.
    pub can_rate: bool,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Staff only: the statuses staff may move the request to from its current status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<StatusAction>>,
    pub photos: Vec<PhotoView>,
    pub events: Vec<EventView>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

pub fn overdue(request: &Request, now: OffsetDateTime) -> bool {
    request.status.is_open() && request.deadline_at.is_some_and(|d| d < now)
}

pub fn titles(problem: &str, place: &str) -> (String, String, String) {
    let place_title = categories::place(place).map_or(place, |p| p.title);
    match categories::problem(problem) {
        Some((c, p)) => (place_title.into(), c.title.into(), p.title.into()),
        None => (place_title.into(), String::new(), problem.into()),
    }
}

pub fn summary(request: &Request, now: OffsetDateTime) -> RequestSummary {
    let (_, _, problem_title) = titles(&request.category, &request.place);
    RequestSummary {
        id: request.id,
        number: request.number.clone(),
        status: request.status,
        status_label: request.status.label(),
        problem: request.category.clone(),
        problem_title,
        emergency: request.emergency,
        deadline_at: request.deadline_at,
        overdue: overdue(request, now),
        created_at: request.created_at,
        updated_at: request.updated_at,
    }
}

fn role(author: &str) -> String {
    author.split(':').next().unwrap_or(author).to_string()
}

/// A status staff may set now, with its label.
#[derive(Clone, Debug, Serialize)]
pub struct StatusAction {
    pub status: Status,
    pub label: &'static str,
}

/// How staff see an event's author: residents stay nameless, staff by their login.
fn author_name(conn: &Connection, author: &str) -> Result<String> {
    let (role, id) = author.split_once(':').unwrap_or((author, ""));
    Ok(match role {
        "resident" => "Житель".to_string(),
        "gis" => "ГИС ЖКХ".to_string(),
        "system" => "Система".to_string(),
        "staff" => {
            let login: Option<String> = match id.parse::<i64>() {
                Ok(id) => conn
                    .query_row("SELECT login FROM console_users WHERE id = ?1", [id], |r| {
                        r.get(0)
                    })
                    .optional()?,
                Err(_) => None,
            };
            login.unwrap_or_else(|| "Сотрудник УО".to_string())
        }
        _ => author.to_string(),
    })
}

/// The card; `staff` adds internal events, internal photos, authors and the assignee.
pub fn card(
    conn: &Connection,
    request: &Request,
    staff: bool,
    reopen_days: u32,
    now: OffsetDateTime,
) -> Result<RequestCard> {
    let (address, premise_number): (String, Option<String>) = conn
        .query_row(
            "SELECT h.address, p.number FROM houses h LEFT JOIN premises p ON p.id = ?2 \
             WHERE h.id = ?1",
            rusqlite::params![request.house_id, request.premise_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or_default();
    let photos: Vec<Attachment> = records::attachments(conn, request.id, staff)?;
    let events = records::events(conn, request.id, staff)?
        .into_iter()
        .map(|e| {
            let status = e.status.as_deref().and_then(Status::parse);
            let author_name = if staff {
                Some(author_name(conn, &e.author)?)
            } else {
                None
            };
            Ok(EventView {
                author_name,
                id: e.id,
                status,
                status_label: status.map(Status::label),
                author_role: role(&e.author),
                author: staff.then(|| e.author.clone()),
                photos: photos
                    .iter()
                    .filter(|p| p.event_id == Some(e.id))
                    .map(|p| p.id)
                    .collect(),
                kind: e.kind,
                text: e.text,
                visible: e.visible,
                created_at: e.created_at,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (place_title, category_title, problem_title) = titles(&request.category, &request.place);
    let reopen_open = request
        .done_at
        .is_some_and(|d| now <= d + time::Duration::days(i64::from(reopen_days)));
    Ok(RequestCard {
        id: request.id,
        number: request.number.clone(),
        status: request.status,
        status_label: request.status.label(),
        place: request.place.clone(),
        place_title,
        category: categories::category_of(&request.category).to_string(),
        category_title,
        problem: request.category.clone(),
        problem_title,
        text: request.text.clone(),
        emergency: request.emergency,
        kind: request.kind,
        deadline_at: request.deadline_at,
        overdue: overdue(request, now),
        deferred_until: request.deferred_until.clone(),
        source: request.source.clone(),
        house_id: request.house_id,
        address,
        premise_id: request.premise_id,
        premise_number,
        rating: request.rating,
        can_reopen: request.status == Status::Done && reopen_open,
        can_rate: matches!(request.status, Status::Done | Status::Closed)
            && request.rating.is_none(),
        assignee: if staff {
            request.assignee.clone()
        } else {
            None
        },
        actions: staff.then(|| {
            request
                .status
                .staff_targets()
                .iter()
                .map(|&status| StatusAction {
                    status,
                    label: status.label(),
                })
                .collect()
        }),
        photos: photos
            .into_iter()
            .map(|p| PhotoView {
                id: p.id,
                mime: p.mime,
                size: p.size,
                event_id: p.event_id,
            })
            .collect(),
        events,
        created_at: request.created_at,
        updated_at: request.updated_at,
    })
}

/// The category tree, with search hits when a query was given.
#[derive(Clone, Debug, Serialize)]
pub struct CategoriesResponse {
    pub places: Vec<PlaceView>,
    pub hits: Vec<categories::Hit>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlaceView {
    pub code: &'static str,
    pub title: &'static str,
    /// The place is the resident's premise (a premise must be chosen).
    pub premise: bool,
    pub categories: Vec<CategoryView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CategoryView {
    pub code: &'static str,
    pub title: &'static str,
    pub problems: Vec<ProblemView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProblemView {
    pub code: &'static str,
    pub title: &'static str,
    pub emergency: bool,
}

/// The tree and, for `q`, the problems that match it.
pub fn categories(q: Option<&str>) -> CategoriesResponse {
    let places = categories::PLACES
        .iter()
        .map(|p| PlaceView {
            code: p.code,
            title: p.title,
            premise: p.premise,
            categories: p
                .categories
                .iter()
                .map(|c| CategoryView {
                    code: c.code,
                    title: c.title,
                    problems: c
                        .problems
                        .iter()
                        .map(|pr| ProblemView {
                            code: pr.code,
                            title: pr.title,
                            emergency: pr.kind == categories::Kind::Emergency,
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    CategoriesResponse {
        places,
        hits: q.map(categories::search).unwrap_or_default(),
    }
}
