//! Common НСИ registries (`exportNsiItem`, nsi-common service, ISRequestHeader): 2 —
//! municipal resources, 27 — meter types. Kept in `gis_nsi` and refreshed by the sync.

use rusqlite::{params, Connection, OptionalExtension};
use time::OffsetDateTime;

use super::NsiRef;
use crate::connectors::gis::envelope::{request_element, Request};
use crate::connectors::gis::services::Service;
use crate::connectors::gis::xml::Node;
use crate::store::{self, ts};

/// НСИ 2: kinds of municipal resource.
pub const RESOURCES: u32 = 2;
/// НСИ 27: kinds of meter.
pub const METER_TYPES: u32 = 27;

/// `exportNsiItemRequest` for a common registry.
pub fn export_item(registry: u32) -> Request {
    let body = request_element(Service::NsiCommon, "exportNsiItemRequest", "10.0.1.2", &[])
        .leaf("nsi-common:RegistryNumber", registry.to_string())
        .leaf("nsi-base:ListGroup", "NSI");
    Request::signed("exportNsiItem", Service::NsiCommon, body)
}

/// One registry entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NsiEntry {
    pub code: String,
    pub guid: String,
    pub name: String,
    pub actual: bool,
}

/// The entries of an `NsiItem` result; the name is the first string field's value.
pub fn entries(result: &Node) -> Vec<NsiEntry> {
    let Some(item) = result
        .child("NsiItem")
        .or_else(|| result.child("NsiPagingItem"))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for el in item.all("NsiElement") {
        let (Some(code), Some(guid)) = (el.text_of("Code"), el.text_of("GUID")) else {
            continue;
        };
        let name = el
            .all("NsiElementField")
            .find_map(|f| f.text_of("Value"))
            .unwrap_or_default();
        out.push(NsiEntry {
            code,
            guid,
            name,
            actual: el.text_of("IsActual").as_deref() != Some("false"),
        });
    }
    out
}

/// Replaces the cached registry.
pub fn store(
    tx: &Connection,
    registry: u32,
    entries: &[NsiEntry],
    now: OffsetDateTime,
) -> store::Result<usize> {
    tx.execute("DELETE FROM gis_nsi WHERE registry = ?1", [registry])?;
    let mut stmt = tx.prepare_cached(
        "INSERT OR REPLACE INTO gis_nsi (registry, code, guid, name, actual, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for e in entries {
        stmt.execute(params![registry, e.code, e.guid, e.name, e.actual, ts(now)])?;
    }
    Ok(entries.len())
}

/// Words in an НСИ 2 name that identify gosdom's resource kinds.
fn resource_words(resource: &str) -> &'static [&'static str] {
    match resource {
        "cold_water" => &["холодн"],
        "hot_water" => &["горяч"],
        "electricity" => &["электр"],
        "gas" => &["газ"],
        "heat" => &["теплов"],
        _ => &[],
    }
}

/// The cached НСИ 2 reference for a gosdom resource kind (`cold_water`, `electricity`, ...).
pub fn resource_ref(conn: &Connection, resource: &str) -> store::Result<Option<NsiRef>> {
    let words = resource_words(resource);
    let mut stmt = conn.prepare_cached(
        "SELECT code, guid, name FROM gis_nsi WHERE registry = ?1 AND actual = 1 \
         ORDER BY length(code), code",
    )?;
    let rows = stmt.query_map([RESOURCES], |r| {
        Ok(NsiRef {
            code: r.get(0)?,
            guid: r.get(1)?,
            name: Some(r.get(2)?),
        })
    })?;
    for row in rows {
        let nsi = row?;
        let name = nsi.name.clone().unwrap_or_default().to_lowercase();
        if words.iter().any(|w| name.contains(w)) && !name.contains("баллон") {
            return Ok(Some(nsi));
        }
    }
    Ok(None)
}

/// The gosdom resource kind of an НСИ 2 entry, by its cached name.
pub fn resource_kind(conn: &Connection, code: &str) -> store::Result<Option<&'static str>> {
    let name: Option<String> = conn
        .query_row(
            "SELECT name FROM gis_nsi WHERE registry = ?1 AND code = ?2",
            params![RESOURCES, code],
            |r| r.get(0),
        )
        .optional()?;
    let name = name.unwrap_or_default().to_lowercase();
    Ok(["cold_water", "hot_water", "electricity", "heat", "gas"]
        .into_iter()
        .find(|k| resource_words(k).iter().any(|w| name.contains(w))))
}

/// When the registry was last stored.
pub fn cached_at(conn: &Connection, registry: u32) -> store::Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT MAX(updated_at) FROM gis_nsi WHERE registry = ?1",
            [registry],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}
