//! `GET /api/v1/me`: who is signed in, and the address hint from ЕСИА.

use rocket::serde::json::Json;
use rocket::{get, State};
use rusqlite::OptionalExtension;
use serde_json::{json, Value};

use super::guard::Resident;
use crate::app::App;
use crate::web::{ApiError, ApiResult};

#[get("/api/v1/me")]
pub async fn me(app: &State<App>, resident: Result<Resident, ApiError>) -> ApiResult<Json<Value>> {
    profile(app, resident?).await.map(Json)
}

/// The `me` document for a resident.
pub async fn profile(app: &App, resident: Resident) -> ApiResult<Value> {
    let Some(person_id) = resident.person_id else {
        return Ok(json!({
            "first_name": resident.first_name,
            "signed_in": false,
            "person": null,
        }));
    };
    let person = app
        .store
        .call(move |conn| {
            let row: Option<(String, bool, Option<String>, Option<String>)> = conn
                .query_row(
                    "SELECT name, trusted, address_house_guid, address_flat FROM people \
                     WHERE id = ?1",
                    [person_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let Some((name, trusted, house_guid, flat)) = row else {
                return Ok(None);
            };
            let house: Option<(i64, String)> = match house_guid {
                Some(guid) => conn
                    .query_row(
                        "SELECT id, address FROM houses WHERE (fias_guid = ?1 OR gis_guid = ?1) \
                         AND removed_at IS NULL LIMIT 1",
                        [guid],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?,
                None => None,
            };
            let properties: i64 = conn.query_row(
                "SELECT COUNT(*) FROM property_links WHERE person_id = ?1",
                [person_id],
                |r| r.get(0),
            )?;
            Ok(Some((name, trusted, house, flat, properties)))
        })
        .await?;
    let Some((name, trusted, house, flat, properties)) = person else {
        return Ok(json!({"first_name": resident.first_name, "signed_in": false, "person": null}));
    };
    Ok(json!({
        "first_name": resident.first_name,
        "signed_in": true,
        "person": {
            "name": name,
            "trusted": trusted,
            "properties": properties,
            // From the ЕСИА address: pre-fills the ownership-proof form.
            "address_hint": house.map(|(id, address)| json!({
                "house_id": id,
                "address": address,
                "premise_number": flat,
            })),
        },
    }))
}
