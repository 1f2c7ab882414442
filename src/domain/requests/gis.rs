//! Appeals residents filed in ГИС ЖКХ (or the state app) join the УО's queue.
//!
//! The ГИС ЖКХ connector pulls them with `exportAppeal`, turns each `Appeal` of the
//! result into a [`PulledAppeal`] and calls [`upsert_appeals`]. They become requests with
//! `source = 'gis'`, found again by their AppealGUID, so pulling the same appeal twice
//! changes nothing. When staff change such a request's status or write a comment the
//! resident may see, [`super::notify`] enqueues a `gis.import_answer` job with a
//! [`super::notify::GisAnswer`] payload; the connector's handler sends `importAnswer`.
//! Requests filed in the mini-app stay in the УО's own journal: the organisation API has
//! no operation to create an appeal on a resident's behalf.

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::lifecycle::{self, Draft};
use super::records;
use super::status::{Actor, Status};
use super::{in_write_tx, Result, Settings};

/// One appeal of an `exportAppealResult`, as the connector read it. No applicant's name,
/// phone or e-mail is taken: the УО answers through ГИС ЖКХ.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PulledAppeal {
    /// The УО whose `orgPPAGUID` the export ran for.
    pub organisation_id: i64,
    /// AppealGUID.
    pub appeal_guid: String,
    /// AppealNumber.
    pub appeal_number: Option<String>,
    /// AppealCreateDate.
    pub created_on: Option<Date>,
    /// FIASHouseGuid: matched to `houses.fias_guid` of the УО.
    pub fias_house_guid: Option<String>,
    /// ApplicantInfo/ApartmentNumber, matched to a premise of the house when given.
    pub apartment_number: Option<String>,
    /// AppealTopic's name (or AnotherTopic's text).
    pub topic: Option<String>,
    /// AppealText.
    pub text: String,
    /// AppealWithdrawn is present: the applicant withdrew it.
    pub withdrawn: bool,
}

/// What [`upsert_appeals`] did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct UpsertReport {
    /// Request ids created now.
    pub created: Vec<i64>,
    /// Request ids already known (withdrawn ones were declined now).
    pub known: Vec<i64>,
    /// Known request ids whose text changed in ГИС ЖКХ and was updated now.
    pub updated: Vec<i64>,
    /// AppealGUIDs that could not be placed, and why (`unknown_house`, `empty_text`,
    /// `other_organisation`).
    pub skipped: Vec<(String, String)>,
}

/// Adds new appeals to the queue and declines those the applicant withdrew, in one
/// transaction.
pub fn upsert_appeals(
    conn: &mut Connection,
    settings: &Settings,
    appeals: &[PulledAppeal],
    now: OffsetDateTime,
) -> Result<UpsertReport> {
    in_write_tx(conn, settings, &[], |tx| {
        upsert_appeals_in(tx, settings, appeals, now)
    })
}

/// [`upsert_appeals`] inside the caller's transaction (the ГИС ЖКХ connector records the
/// export's result in the same one).
pub fn upsert_appeals_in(
    tx: &Connection,
    settings: &Settings,
    appeals: &[PulledAppeal],
    now: OffsetDateTime,
) -> Result<UpsertReport> {
    let mut report = UpsertReport::default();
    for appeal in appeals {
        upsert_one(tx, settings, appeal, now, &mut report)?;
    }
    Ok(report)
}

/// The request text of an appeal: its topic, then its text, within the request limit.
fn request_text(appeal: &PulledAppeal) -> String {
    let text = match appeal
        .topic
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(topic) => format!("Тема: {topic}\n\n{}", appeal.text.trim()),
        None => appeal.text.trim().to_string(),
    };
    text.chars().take(lifecycle::MAX_TEXT).collect()
}

/// An appeal pulled again with another text: the open request takes the new text, with
/// an internal event that says so. Returns whether it changed.
fn update_text(
    conn: &Connection,
    request: &records::Request,
    appeal: &PulledAppeal,
    now: OffsetDateTime,
) -> Result<bool> {
    let text = request_text(appeal);
    if appeal.text.trim().is_empty() || text == request.text || !request.status.is_open() {
        return Ok(false);
    }
    conn.execute(
        "UPDATE requests SET text = ?2, updated_at = ?3 WHERE id = ?1",
        rusqlite::params![request.id, text, crate::store::ts(now)],
    )?;
    records::add_event(
        conn,
        request.id,
        &records::NewEvent {
            kind: "comment",
            status: None,
            text: Some("Текст обращения изменён в ГИС ЖКХ."),
            visible: false,
        },
        &Actor::Gis,
        now,
    )?;
    Ok(true)
}

fn upsert_one(
    conn: &Connection,
    settings: &Settings,
    appeal: &PulledAppeal,
    now: OffsetDateTime,
    report: &mut UpsertReport,
) -> Result<()> {
    // A GUID is one appeal whatever the case of its letters.
    let known: Option<(i64, i64)> = conn
        .query_row(
            "SELECT id, organisation_id FROM requests \
             WHERE appeal_guid IN (?1, lower(?1), upper(?1)) ORDER BY id LIMIT 1",
            [&appeal.appeal_guid],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((_, organisation)) = known.filter(|(_, o)| *o != appeal.organisation_id) {
        // Another УО's appeal (redirected to this one in ГИС ЖКХ, say): never touched from
        // this УО's export.
        tracing::warn!(
            organisation = appeal.organisation_id,
            owner = organisation,
            "ГИС ЖКХ appeal already in another organisation's queue, skipped"
        );
        report
            .skipped
            .push((appeal.appeal_guid.clone(), "other_organisation".into()));
        return Ok(());
    }
    if let Some((id, _)) = known {
        if let Some(request) = records::load(conn, id)? {
            if appeal.withdrawn && request.status.is_open() {
                lifecycle::apply_status(
                    conn,
                    &request,
                    Status::Declined,
                    Some("Обращение отозвано заявителем в ГИС ЖКХ."),
                    None,
                    &Actor::Gis,
                    now,
                )?;
            } else if update_text(conn, &request, appeal, now)? {
                report.updated.push(id);
            }
        }
        report.known.push(id);
        return Ok(());
    }
    if appeal.withdrawn {
        return Ok(());
    }

    let house: Option<i64> = match &appeal.fias_house_guid {
        Some(guid) => conn
            .query_row(
                "SELECT id FROM houses WHERE organisation_id = ?1 AND lower(fias_guid) = \
                 lower(?2) AND removed_at IS NULL",
                rusqlite::params![appeal.organisation_id, guid],
                |r| r.get(0),
            )
            .optional()?,
        None => None,
    };
    let Some(house_id) = house else {
        report
            .skipped
            .push((appeal.appeal_guid.clone(), "unknown_house".into()));
        return Ok(());
    };
    let premise_id: Option<i64> = match &appeal.apartment_number {
        Some(number) => conn
            .query_row(
                "SELECT id FROM premises WHERE house_id = ?1 AND number = ?2",
                rusqlite::params![house_id, number.trim()],
                |r| r.get(0),
            )
            .optional()?,
        None => None,
    };
    if appeal.text.trim().is_empty() {
        report
            .skipped
            .push((appeal.appeal_guid.clone(), "empty_text".into()));
        return Ok(());
    }
    let text = request_text(appeal);
    let settings = settings.for_organisation(conn, appeal.organisation_id)?;
    let draft = Draft {
        organisation_id: appeal.organisation_id,
        house_id,
        premise_id,
        person_id: None,
        place: if premise_id.is_some() {
            "flat"
        } else {
            "entrance"
        },
        problem: "other.other",
        text: &text,
        source: "gis",
        appeal_guid: Some(&appeal.appeal_guid),
        gis_number: appeal.appeal_number.as_deref(),
    };
    let request = lifecycle::create(conn, &settings, &draft, &Actor::Gis, now)?;
    tracing::info!(request = request.id, "ГИС ЖКХ appeal joined the queue");
    report.created.push(request.id);
    Ok(())
}
