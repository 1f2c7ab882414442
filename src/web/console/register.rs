//! «Реестр собственников» of the console under [`super::API_BASE`], for admins: register
//! figures per house, the imports made here, and a new import of a register CSV (the
//! formats of `gosdom import`, docs/import.md), all rows or none.
//!
//! The file travels as the request body (`Content-Type: text/csv`, UTF-8) with the kind
//! and the file's name in the query. A УО's admin imports into the УО's houses only.

use rocket::data::{Data, ToByteUnit};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};
use serde_json::{json, Value};

use super::guard::Admin;
use crate::app::App;
use crate::connectors::registry::import::{import_text_for, Kind};
use crate::domain::console::audit;
use crate::domain::console::register::{self, NewImport};
use crate::web::error::{ApiError, ApiResult};

/// The routes of this file, to mount at [`super::API_BASE`].
pub fn routes() -> Vec<Route> {
    routes![register_state, import_register]
}

/// Imports listed at most.
const IMPORTS_SHOWN: u32 = 50;
/// The largest register file accepted, in MiB.
const MAX_FILE_MIB: u64 = 20;

/// `GET /register`: per house, premises with owners on record and linked by residents;
/// the latest imports.
#[get("/register")]
pub async fn register_state(app: &State<App>, admin: Admin) -> ApiResult<Json<Value>> {
    let scope = admin.0.scope();
    let (houses, imports) = app
        .store
        .call(move |conn| {
            Ok((
                register::houses(scope, conn)?,
                register::imports(scope, conn, IMPORTS_SHOWN)?,
            ))
        })
        .await?;
    Ok(Json(json!({ "houses": houses, "imports": imports })))
}

fn kind_of(text: &str) -> Option<Kind> {
    match text {
        "houses" => Some(Kind::Houses),
        "accounts" => Some(Kind::Accounts),
        "owners" => Some(Kind::Owners),
        "meters" => Some(Kind::Meters),
        _ => None,
    }
}

/// `POST /register/imports?kind=owners&file_name=owners.csv` with the CSV as the body.
/// 200 with the import when every row was written; 422 with the error shape and the
/// import (its wrong lines) when nothing was.
#[post("/register/imports?<kind>&<file_name>", data = "<body>")]
pub async fn import_register(
    app: &State<App>,
    admin: Admin,
    kind: Option<&str>,
    file_name: Option<&str>,
    body: Data<'_>,
) -> ApiResult<(Status, Json<Value>)> {
    let Some(kind) = kind.and_then(kind_of) else {
        return Err(ApiError::unprocessable(
            "invalid_kind",
            "Выберите, что загружается: дома, лицевые счета, собственники или счётчики.",
        ));
    };
    let capped = body
        .open(MAX_FILE_MIB.mebibytes())
        .into_bytes()
        .await
        .map_err(ApiError::internal)?;
    if !capped.is_complete() {
        return Err(ApiError::new(
            Status::PayloadTooLarge,
            "file_too_large",
            format!("Файл больше {MAX_FILE_MIB} МБ: разделите его на части."),
        ));
    }
    let text = String::from_utf8(capped.into_inner()).map_err(|_| {
        ApiError::unprocessable(
            "not_utf8",
            "Файл должен быть в кодировке UTF-8: в Excel выберите «CSV UTF-8» при сохранении.",
        )
    })?;
    // A byte order mark alone (Excel's «CSV UTF-8» of an empty sheet) is an empty file too.
    if text.trim_start_matches('\u{feff}').trim().is_empty() {
        return Err(ApiError::unprocessable("empty_file", "Файл пустой."));
    }

    let scope = admin.0.scope();
    let organisation = scope.organisation();
    let (store, key, now) = (
        app.store.clone(),
        app.config.registry.snils_key.clone(),
        app.now(),
    );
    let (text, outcome) = tokio::task::spawn_blocking(move || {
        let outcome = import_text_for(&store, kind, &text, &key, now, organisation);
        (text, outcome)
    })
    .await
    .map_err(ApiError::internal)?;
    let import = NewImport::from_outcome(
        organisation,
        kind,
        admin.0.actor(),
        file_name.unwrap_or(""),
        &text,
        &outcome,
    )
    .ok_or_else(|| match outcome {
        Err(e) => ApiError::internal(e),
        Ok(_) => ApiError::internal("an import without a record"),
    })?;
    let (kind_name, lines) = (import.kind, import.lines);

    let recorded = import.clone();
    let id = app
        .store
        .write(move |tx| {
            let id = register::record(tx, &recorded, now)?;
            let detail = json!({
                "kind": recorded.kind,
                "done": recorded.done,
                "lines": recorded.lines,
                "errors": recorded.errors.len(),
            });
            let object = format!("register_import:{id}");
            audit::record(tx, &recorded.actor, "register.import", &object, detail, now)?;
            Ok(id)
        })
        .await?;
    tracing::info!(
        import = id,
        staff = admin.0.member.id,
        kind = kind_name,
        done = import.done,
        lines,
        errors = import.errors.len(),
        "console: register imported"
    );
    let shown = json!({
        "id": id,
        "kind": kind_name,
        "file_name": import.file_name,
        "outcome": if import.done { "done" } else { "failed" },
        "lines": lines,
        "created": import.created,
        "updated": import.updated,
        "errors": import.errors,
    });
    if import.done {
        return Ok((Status::Ok, Json(json!({ "import": shown }))));
    }
    let message = format!(
        "Ничего не загружено: ошибок в строках — {}. Исправьте их и загрузите файл снова.",
        import.errors.len()
    );
    Ok((
        Status::UnprocessableEntity,
        Json(json!({
            "error": { "code": "import_rejected", "message": message },
            "import": shown,
        })),
    ))
}
