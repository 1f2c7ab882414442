//! The sandbox ГИС ЖКХ: an in-process SOAP endpoint under `/dev/gis/...` that speaks the
//! same protocol as the real one. It validates every request element against the official
//! XSDs (by running `xmllint --schema`, when the integration package and xmllint are on
//! this machine), answers with an Ack, and gives the result to `getState` after a delay.
//! Exports serve the demo УО's data from the store; imports are accepted item by item.
//! `POST /dev/gis/fault` with a code makes the next send fail with that SOAP Fault;
//! `GET /dev/gis` shows what arrived and what it answered as a page (each request's body
//! element included), `GET /dev/gis/received.json` the same as JSON.
//! Appeals are placed in it through [`super::gis_appeals`].

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rocket::form::Form;
use rocket::http::{ContentType, Status};
use rocket::request::{FromRequest, Outcome, Request as HttpRequest};
use rocket::response::content::RawHtml;
use rocket::serde::json::Json;
use rocket::{get, post, routes, FromForm, Route, State};
use uuid::Uuid;

use super::gis_xml::{self, AccountRow, Item, MeterRow};
use crate::app::App;
use crate::connectors::gis::envelope::body_element;
use crate::connectors::gis::services::Service;
use crate::connectors::gis::xml::{self, Node};

/// Where the sandbox is mounted; the client appends the WSDL service paths.
pub const MOUNT: &str = "/dev/gis";
/// The demo УО's orgPPAGUID (see `sandbox::demo`).
pub const SANDBOX_ORG_PPA_GUID: &str = "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
/// The demo УО's employee who answers appeals (AnswererGUID).
pub const SANDBOX_ANSWERER_GUID: &str = "7c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
/// Where the integration package is looked for.
pub const XSD_ROOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/gis-zhkh/xsd-14.4.0.1"
);

/// One request the sandbox received.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Received {
    pub operation: String,
    /// When it arrived (RFC 3339, UTC).
    pub at: String,
    pub message_guid: Option<String>,
    pub valid: Option<bool>,
    pub problem: Option<String>,
    pub answer: String,
    /// The request element (the SOAP Body's child) of every request; `None` only when
    /// the envelope had no body element.
    pub body: Option<String>,
}

struct Pending {
    service: Service,
    ready: Instant,
    content: String,
}

/// The sandbox's memory (lost on restart, as a sandbox may).
pub struct SandboxGis {
    received: Mutex<VecDeque<Received>>,
    pending: Mutex<HashMap<String, Pending>>,
    fault: Mutex<Option<String>>,
    delay: Duration,
    pub(crate) appeals: super::gis_appeals::Appeals,
}

impl Default for SandboxGis {
    fn default() -> Self {
        SandboxGis {
            received: Mutex::new(VecDeque::new()),
            pending: Mutex::new(HashMap::new()),
            fault: Mutex::new(None),
            delay: Duration::from_secs(2),
            appeals: Default::default(),
        }
    }
}

/// The routes, mounted at [`MOUNT`] in sandbox mode.
pub fn routes() -> Vec<Route> {
    routes![
        soap,
        overview,
        received_json,
        inject_fault,
        super::gis_appeals::place_appeal,
        super::gis_appeals::list_appeals,
        super::gis_appeals::appeal_page
    ]
}

pub struct SoapAction(String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SoapAction {
    type Error = ();
    async fn from_request(req: &'r HttpRequest<'_>) -> Outcome<Self, ()> {
        let action = req.headers().get_one("SOAPAction").unwrap_or("");
        let action = action.trim_matches('"').trim_start_matches("urn:");
        Outcome::Success(SoapAction(action.to_string()))
    }
}

/// Validates a request element against the service's types XSD with xmllint. None: the
/// package or xmllint is not on this machine.
pub fn validate(service: Service, element: &str) -> Option<Result<(), String>> {
    let xsd = PathBuf::from(XSD_ROOT).join(service.types_xsd());
    if !xsd.exists() {
        return None;
    }
    let dir = tempfile_dir()?;
    let file = dir.join(format!("{}.xml", Uuid::new_v4()));
    std::fs::write(&file, element).ok()?;
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(&file)
        .output();
    let _ = std::fs::remove_file(&file);
    let out = out.ok()?;
    if out.status.success() {
        Some(Ok(()))
    } else {
        let text = String::from_utf8_lossy(&out.stderr);
        Some(Err(text
            .lines()
            .filter(|l| !l.contains("fails to validate"))
            .take(3)
            .collect::<Vec<_>>()
            .join("; ")))
    }
}

fn tempfile_dir() -> Option<PathBuf> {
    let dir = std::env::temp_dir().join("gosdom-sandbox-gis");
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir)
}

fn answer(status: Status, body: String) -> (Status, (ContentType, String)) {
    (status, (ContentType::XML, body))
}

#[post("/<_path..>", data = "<body>")]
async fn soap(
    _path: PathBuf,
    action: SoapAction,
    body: String,
    uri: &rocket::http::uri::Origin<'_>,
    app: &State<App>,
    gis: &State<SandboxGis>,
) -> (Status, (ContentType, String)) {
    let Some(service) = Service::from_path(uri.path().as_str()) else {
        return answer(
            Status::NotFound,
            gis_xml::fault("INT000404", "no such service"),
        );
    };
    let envelope = xml::parse(body.as_bytes()).ok();
    let message_guid = envelope
        .as_ref()
        .and_then(|e| e.find("MessageGUID"))
        .map(|n| n.text.clone());
    let mut record = Received {
        operation: action.0.clone(),
        at: crate::store::ts(app.now()),
        message_guid: message_guid.clone(),
        valid: None,
        problem: None,
        answer: String::new(),
        body: body_element(&body).map(str::to_string),
    };

    let response = if action.0 == "getState" {
        let ack = envelope
            .as_ref()
            .and_then(|e| e.find("getStateRequest"))
            .and_then(|n| n.text_of("MessageGUID"))
            .unwrap_or_default();
        let pending = gis.pending.lock().ok().and_then(|mut p| match p.get(&ack) {
            None => None,
            Some(x) if x.ready <= Instant::now() => p.remove(&ack).map(Some),
            Some(_) => Some(None),
        });
        match pending {
            Some(Some(p)) => {
                record.answer = "result".into();
                answer(Status::Ok, gis_xml::state(p.service, &ack, 3, &p.content))
            }
            Some(None) => {
                record.answer = "in progress".into();
                answer(Status::Ok, gis_xml::state(service, &ack, 2, ""))
            }
            None => {
                record.answer = "unknown MessageGUID".into();
                answer(
                    Status::Ok,
                    gis_xml::state(
                        service,
                        &ack,
                        3,
                        &gis_xml::error_message("INT002000", "Сообщение не найдено"),
                    ),
                )
            }
        }
    } else {
        let element = body_element(&body).unwrap_or_default().to_string();
        let checked = {
            let element = element.clone();
            tokio::task::spawn_blocking(move || validate(service, &element))
                .await
                .ok()
                .flatten()
        };
        let injected = gis.fault.lock().ok().and_then(|mut f| f.take());
        match (checked, injected) {
            (_, Some(code)) => {
                record.answer = format!("fault {code}");
                answer(
                    Status::InternalServerError,
                    gis_xml::fault(&code, "Ошибка, заданная в песочнице"),
                )
            }
            (Some(Err(problem)), None) => {
                record.valid = Some(false);
                record.problem = Some(problem.clone());
                record.answer = "fault FMT001300".into();
                answer(
                    Status::InternalServerError,
                    gis_xml::fault("FMT001300", &format!("Нарушена структура: {problem}")),
                )
            }
            (checked, None) => {
                record.valid = checked.map(|c| c.is_ok());
                let element = xml::parse(element.as_bytes()).ok();
                let content = result_for(app, gis, &action.0, element).await;
                let ack = Uuid::new_v4().to_string();
                if let Ok(mut p) = gis.pending.lock() {
                    p.insert(
                        ack.clone(),
                        Pending {
                            service,
                            ready: Instant::now() + gis.delay,
                            content,
                        },
                    );
                }
                record.answer = format!("ack {ack}");
                answer(
                    Status::Ok,
                    gis_xml::ack(&ack, message_guid.as_deref().unwrap_or_default()),
                )
            }
        }
    };
    if let Ok(mut log) = gis.received.lock() {
        log.push_front(record);
        log.truncate(200);
    }
    response
}

/// The result the sandbox will give for a request.
async fn result_for(
    app: &State<App>,
    gis: &SandboxGis,
    operation: &str,
    element: Option<Node>,
) -> String {
    let Some(element) = element else {
        return gis_xml::error_message("FMT001300", "Пустой запрос");
    };
    let fias = element.text_of("FIASHouseGuid").unwrap_or_default();
    match operation {
        "importMeteringDeviceValues" | "importAnswer" => {
            let mut guids = Vec::new();
            collect_transport(&element, &mut guids);
            let ids: Vec<String> = guids.iter().map(|_| Uuid::new_v4().to_string()).collect();
            let items: Vec<Item<'_>> = guids
                .iter()
                .zip(&ids)
                .map(|(t, g)| Item::Ok {
                    transport: t,
                    guid: g,
                })
                .collect();
            gis_xml::import_results(&items)
        }
        "exportAppeal" => gis
            .appeals
            .export(&element)
            .unwrap_or_else(|| gis_xml::error_message("INT002012", "Нет объектов для экспорта")),
        "exportNsiItem" => match element.text_of("RegistryNumber").as_deref() {
            Some("2") => gis_xml::nsi_item(2, &gis_xml::NSI_RESOURCES),
            Some("27") => gis_xml::nsi_item(27, &gis_xml::NSI_METER_TYPES),
            _ => gis_xml::error_message("INT002012", "Нет объектов для экспорта"),
        },
        "exportHouseData" | "exportAccountData" | "exportMeteringDeviceData" => {
            let op = operation.to_string();
            app.store
                .call(move |c| Ok(demo_export(c, &op, &fias)))
                .await
                .unwrap_or_else(|_| gis_xml::error_message("INT000000", "Внутренняя ошибка"))
        }
        _ => gis_xml::error_message("INT002012", "Нет объектов для экспорта"),
    }
}

fn collect_transport(node: &Node, out: &mut Vec<String>) {
    for c in &node.children {
        if c.name == "TransportGUID" {
            out.push(c.text.trim().to_string());
        } else if c.name != "Answer" {
            collect_transport(c, out);
        }
    }
}

/// The store's data for a house, as ГИС ЖКХ would export it.
fn demo_export(conn: &rusqlite::Connection, operation: &str, fias: &str) -> String {
    let none = || gis_xml::error_message("INT002012", "Нет объектов для экспорта");
    let rows = |sql: &str| -> Vec<Vec<String>> {
        let Ok(mut stmt) = conn.prepare(sql) else {
            return Vec::new();
        };
        let n = stmt.column_count();
        stmt.query_map([fias], |r| {
            (0..n)
                .map(|i| r.get::<_, Option<String>>(i).map(|v| v.unwrap_or_default()))
                .collect()
        })
        .map(|it| it.filter_map(Result::ok).collect())
        .unwrap_or_default()
    };
    match operation {
        "exportHouseData" => {
            let premises: Vec<(String, String)> = rows(
                "SELECT p.premises_guid, p.number FROM premises p JOIN houses h ON h.id = p.house_id \
                 WHERE h.fias_guid = ?1 AND p.premises_guid IS NOT NULL AND p.removed_at IS NULL",
            )
            .into_iter()
            .map(|r| (r[0].clone(), r[1].clone()))
            .collect();
            gis_xml::house_result(fias, "", &premises)
        }
        "exportAccountData" => {
            let accounts: Vec<AccountRow> = rows(
                "SELECT a.gis_guid, a.number, a.unified_number, p.premises_guid, a.service_id \
                 FROM accounts a \
                 JOIN premises p ON p.id = a.premise_id JOIN houses h ON h.id = p.house_id \
                 WHERE h.fias_guid = ?1 AND a.gis_guid IS NOT NULL AND a.removed_at IS NULL",
            )
            .into_iter()
            .map(|r| AccountRow {
                guid: r[0].clone(),
                number: r[1].clone(),
                unified_number: r[2].clone(),
                premise_guid: r[3].clone(),
                service_id: r[4].clone(),
            })
            .collect();
            if accounts.is_empty() {
                return none();
            }
            gis_xml::accounts_result(&accounts)
        }
        _ => {
            let meters: Vec<MeterRow> = rows(
                "SELECT m.root_guid, m.serial, p.premises_guid, m.resource, \
                 CAST(m.tariffs AS TEXT) FROM meters m JOIN premises p ON p.id = m.premise_id \
                 JOIN houses h ON h.id = p.house_id \
                 WHERE h.fias_guid = ?1 AND m.root_guid IS NOT NULL AND m.archived_at IS NULL",
            )
            .into_iter()
            .map(|r| MeterRow {
                root_guid: r[0].clone(),
                serial: r[1].clone(),
                premise_guid: r[2].clone(),
                resource_code: match r[3].as_str() {
                    "cold_water" => Some("1".into()),
                    "hot_water" => Some("2".into()),
                    "gas" => Some("4".into()),
                    "heat" => Some("5".into()),
                    _ => None,
                },
                tariffs: r[4].parse().unwrap_or(1),
            })
            .collect();
            if meters.is_empty() {
                return none();
            }
            gis_xml::meters_result(&meters)
        }
    }
}

fn received(gis: &SandboxGis) -> Vec<Received> {
    gis.received
        .lock()
        .map(|l| l.iter().cloned().collect())
        .unwrap_or_default()
}

/// What the sandbox received, newest first, as JSON.
#[get("/received.json")]
fn received_json(gis: &State<SandboxGis>) -> Json<Vec<Received>> {
    Json(received(gis))
}

/// What the sandbox received and answered, newest first, as a page.
#[get("/")]
fn overview(gis: &State<SandboxGis>) -> RawHtml<String> {
    RawHtml(overview_page(&received(gis)))
}

fn overview_page(records: &[Received]) -> String {
    let esc = crate::bot::texts::escape_html;
    let mut rows = String::new();
    for r in records {
        let valid = match r.valid {
            Some(true) => "прошёл проверку по XSD".to_string(),
            Some(false) => format!(
                "не прошёл проверку по XSD: {}",
                esc(r.problem.as_deref().unwrap_or(""))
            ),
            None => "не проверялся (нет XSD или xmllint)".to_string(),
        };
        rows.push_str(&format!(
            "<section class=\"card\"><h2>{op}</h2><p class=\"note\">{at} · {valid} · \
             ответ: {answer}</p><pre>{body}</pre></section>",
            op = esc(&r.operation),
            at = esc(&r.at),
            answer = esc(&r.answer),
            body = esc(r.body.as_deref().unwrap_or("(тело запроса пустое)")),
        ));
    }
    if rows.is_empty() {
        rows.push_str("<p class=\"note\">Пока ничего не приходило.</p>");
    }
    format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Песочница ГИС ЖКХ — gosdom</title><style>body{{font:15px/1.4 system-ui,\
         sans-serif;margin:0;background:#f4f6f9}}main{{max-width:960px;margin:0 auto;\
         padding:16px}}.card{{background:#fff;border-radius:10px;padding:12px 16px;\
         margin:10px 0}}h2{{font-size:16px;margin:0 0 4px}}.note{{color:#5b6472;\
         font-size:13px}}pre{{white-space:pre-wrap;word-break:break-all;font-size:12px;\
         background:#f1f3f6;padding:8px;border-radius:6px;max-height:320px;overflow:auto}}\
         </style></head><body><main><h1>Песочница ГИС ЖКХ</h1><p class=\"note\">Что \
         получила песочница и что ответила, новые сверху (последние 200, до перезапуска). \
         <a href=\"/dev/gis/received.json\">JSON</a> · <a href=\"/dev/gis/appeal\">подать \
         обращение</a> · <a href=\"/dev/\">песочница</a></p>{rows}</main></body></html>"
    )
}

#[derive(FromForm)]
struct FaultForm {
    code: String,
}

/// Makes the next send fail with this SOAP Fault code (e.g. EXP001000, AUT011003).
#[post("/fault", data = "<form>")]
fn inject_fault(form: Form<FaultForm>, gis: &State<SandboxGis>) -> Status {
    if let Ok(mut f) = gis.fault.lock() {
        *f = Some(form.code.clone());
    }
    Status::NoContent
}
