//! Appeals in the sandbox ГИС ЖКХ: a resident's appeal is placed here (the form at
//! `/dev/gis/appeal`, or `POST /dev/gis/appeals` from tests), `exportAppeal` answers with
//! them, and `GET /dev/gis/appeals` lists them. Placing one again with its `guid` changes
//! it (text, withdrawal), as a resident could in ГИС ЖКХ.

use std::sync::Mutex;

use rocket::form::Form;
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::serde::json::Json;
use rocket::{get, post, FromForm, State};
use serde::Serialize;
use time::{Date, UtcOffset};
use uuid::Uuid;

use super::gis::SandboxGis;
use crate::app::App;
use crate::connectors::gis::xml::{El, Node};
use crate::web::{ApiError, ApiResult};

/// One appeal as the sandbox keeps it.
#[derive(Clone, Debug, Serialize)]
pub struct SandboxAppeal {
    pub guid: String,
    pub number: String,
    pub created_on: Date,
    pub fias_house_guid: String,
    pub apartment: Option<String>,
    pub topic: String,
    pub text: String,
    pub withdrawn: bool,
}

/// The sandbox's appeals (lost on restart, as a sandbox may).
#[derive(Default)]
pub struct Appeals {
    list: Mutex<Vec<SandboxAppeal>>,
}

impl Appeals {
    pub fn all(&self) -> Vec<SandboxAppeal> {
        self.list.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The `exportAppeal` result for a request element: by AppealGUID, or by creation
    /// date and house. `None`: nothing to export.
    pub fn export(&self, request: &Node) -> Option<String> {
        let guids: Vec<String> = request
            .all("AppealGUID")
            .map(|n| n.text.trim().to_string())
            .collect();
        let houses: Vec<String> = request
            .all("FIASHouseGuid")
            .map(|n| n.text.trim().to_lowercase())
            .collect();
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date = |name: &str| {
            request
                .text_of(name)
                .and_then(|d| Date::parse(&d, &format).ok())
        };
        let (from, to) = (date("StartDate"), date("EndDate"));
        let found: Vec<SandboxAppeal> = self
            .all()
            .into_iter()
            .filter(|a| {
                if !guids.is_empty() {
                    return guids.contains(&a.guid);
                }
                from.is_none_or(|f| a.created_on >= f)
                    && to.is_none_or(|t| a.created_on <= t)
                    && (houses.is_empty() || houses.contains(&a.fias_house_guid.to_lowercase()))
            })
            .collect();
        if found.is_empty() {
            return None;
        }
        Some(found.iter().map(appeal_xml).collect())
    }
}

/// An appeal as `getStateResult/ExportAppealResult` (exportAppealResultType).
fn appeal_xml(a: &SandboxAppeal) -> String {
    let applicant = El::new("t:ApplicantInfo")
        .child(
            El::new("t:Person")
                .leaf("t:Surname", "Демо")
                .leaf("t:FirstName", "Житель"),
        )
        .opt(
            a.apartment
                .as_ref()
                .map(|n| El::new("t:ApartmentNumber").text(n.clone())),
        );
    El::new("t:ExportAppealResult")
        .leaf("t:AppealGUID", a.guid.clone())
        .child(applicant)
        .leaf("t:AppealNumber", a.number.clone())
        .leaf("t:AppealCreateDate", a.created_on.to_string())
        .leaf("t:AnotherTopic", a.topic.clone())
        .leaf("t:FIASHouseGuid", a.fias_house_guid.clone())
        .child(El::new("t:OKTMO").leaf("base:code", "45000000"))
        .leaf("t:AppealText", a.text.clone())
        .leaf(
            "t:AppealStatus",
            if a.withdrawn { "Withdrawn" } else { "Send" },
        )
        .opt(a.withdrawn.then(|| El::new("t:AppealWithdrawn")))
        .to_xml()
}

#[derive(FromForm)]
pub struct AppealForm {
    /// Empty: the first demo house.
    fias_house_guid: Option<String>,
    apartment: Option<String>,
    topic: Option<String>,
    text: String,
    /// An appeal placed before: change it.
    guid: Option<String>,
    withdrawn: Option<bool>,
}

fn filled(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// `POST /dev/gis/appeals`: places (or changes) an appeal; answers with it.
#[post("/appeals", data = "<form>")]
pub async fn place_appeal(
    form: Form<AppealForm>,
    app: &State<App>,
    gis: &State<SandboxGis>,
) -> ApiResult<Json<SandboxAppeal>> {
    let house = match filled(&form.fias_house_guid) {
        Some(h) => h,
        None => app
            .store
            .call(|c| {
                Ok(c.query_row(
                    "SELECT h.fias_guid FROM houses h JOIN organisations o \
                     ON o.id = h.organisation_id WHERE o.demo = 1 AND h.fias_guid IS NOT NULL \
                     ORDER BY h.id LIMIT 1",
                    [],
                    |r| r.get::<_, String>(0),
                )
                .unwrap_or_default())
            })
            .await
            .unwrap_or_default(),
    };
    let text = form.text.trim().to_string();
    if text.is_empty() || house.is_empty() {
        return Err(ApiError::unprocessable(
            "text_required",
            "Нужны текст обращения (text) и дом (fias_house_guid или демо-дом).",
        ));
    }
    let msk = UtcOffset::from_hms(3, 0, 0).unwrap_or(UtcOffset::UTC);
    let today = app.now().to_offset(msk).date();
    let appeals = &gis.appeals;
    let mut list = appeals
        .list
        .lock()
        .map_err(|_| ApiError::internal("the sandbox appeals lock is poisoned"))?;
    let existing = match filled(&form.guid) {
        None => None,
        // Changing an appeal the sandbox never had must not place a new one instead.
        Some(g) => Some(
            list.iter()
                .position(|a| a.guid.eq_ignore_ascii_case(&g))
                .ok_or_else(|| {
                    ApiError::new(
                        Status::NotFound,
                        "appeal_not_found",
                        "Обращения с таким guid в песочнице нет.",
                    )
                })?,
        ),
    };
    let appeal = match existing {
        Some(i) => {
            let a = &mut list[i];
            a.text = text;
            if let Some(topic) = filled(&form.topic) {
                a.topic = topic;
            }
            a.withdrawn = form.withdrawn.unwrap_or(a.withdrawn);
            a.clone()
        }
        None => {
            let appeal = SandboxAppeal {
                guid: Uuid::new_v4().to_string(),
                number: format!("ПЕС-{:06}", list.len() + 1),
                created_on: today,
                fias_house_guid: house,
                apartment: filled(&form.apartment),
                topic: filled(&form.topic).unwrap_or_else(|| "Содержание дома".into()),
                text,
                withdrawn: form.withdrawn.unwrap_or(false),
            };
            list.push(appeal.clone());
            appeal
        }
    };
    Ok(Json(appeal))
}

/// `GET /dev/gis/appeals`: the appeals placed in the sandbox.
#[get("/appeals")]
pub fn list_appeals(gis: &State<SandboxGis>) -> Json<Vec<SandboxAppeal>> {
    Json(gis.appeals.all())
}

/// `GET /dev/gis/appeal`: the form that places an appeal.
#[get("/appeal")]
pub fn appeal_page() -> RawHtml<&'static str> {
    RawHtml(include_str!("../../assets/dev/gis-appeal.html"))
}
