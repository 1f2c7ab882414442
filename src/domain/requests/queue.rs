//! The УО's queue of requests with the console's filters, soonest deadline first.

use rusqlite::types::Value;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::records::{self, Request};
use super::status::Status;
use super::view;
use super::{RequestError, Result};
use crate::store::ts;

/// Filters of the queue; all optional. Without `status`, open requests are listed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct QueueFilter {
    /// Comma-separated statuses, or `all`.
    pub status: Option<String>,
    /// A category (`water`) or a problem code (`water.leak`).
    pub category: Option<String>,
    pub house_id: Option<i64>,
    /// Only open requests past their deadline.
    pub overdue: Option<bool>,
    pub emergency: Option<bool>,
    /// `app`, `gis` or `operator`.
    pub source: Option<String>,
    /// At most 500; 100 by default.
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct QueueItem {
    pub id: i64,
    pub number: String,
    pub status: Status,
    pub status_label: &'static str,
    pub problem: String,
    pub problem_title: String,
    pub place_title: String,
    pub emergency: bool,
    pub source: String,
    pub house_id: i64,
    pub address: String,
    pub premise_number: Option<String>,
    pub assignee: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub deadline_at: Option<OffsetDateTime>,
    pub overdue: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug, Serialize)]
pub struct Queue {
    pub requests: Vec<QueueItem>,
}

pub fn queue(
    conn: &Connection,
    organisation_id: i64,
    filter: &QueueFilter,
    now: OffsetDateTime,
) -> Result<Queue> {
    let mut sql = format!(
        "SELECT {}, h.address, p.number FROM requests r \
         JOIN houses h ON h.id = r.house_id LEFT JOIN premises p ON p.id = r.premise_id \
         WHERE r.organisation_id = ?",
        records::REQUEST_COLUMNS
            .split(", ")
            .map(|c| format!("r.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut args: Vec<Value> = vec![organisation_id.into()];

    let statuses: Vec<Status> = match filter.status.as_deref().map(str::trim) {
        Some("all") => Vec::new(),
        Some(list) if !list.is_empty() => list
            .split(',')
            .map(|s| {
                Status::parse(s.trim()).ok_or_else(|| {
                    RequestError::refused("unknown_status", format!("Нет статуса «{s}»."))
                })
            })
            .collect::<Result<_>>()?,
        _ => Status::ALL.into_iter().filter(|s| s.is_open()).collect(),
    };
    if !statuses.is_empty() {
        sql += &format!(
            " AND r.status IN ({})",
            vec!["?"; statuses.len()].join(", ")
        );
        args.extend(statuses.iter().map(|s| Value::from(s.as_str().to_string())));
    }
    if let Some(category) = filter.category.as_deref().filter(|c| !c.is_empty()) {
        sql += " AND (r.category = ? OR r.category LIKE ? || '.%')";
        args.push(category.to_string().into());
        args.push(category.to_string().into());
    }
    if let Some(house) = filter.house_id {
        sql += " AND r.house_id = ?";
        args.push(house.into());
    }
    if filter.overdue == Some(true) {
        sql += " AND r.status IN ('new', 'in_work', 'deferred', 'reopened') AND r.deadline_at < ?";
        args.push(ts(now).into());
    }
    if let Some(emergency) = filter.emergency {
        sql += " AND r.emergency = ?";
        args.push(emergency.into());
    }
    if let Some(source) = filter.source.as_deref().filter(|s| !s.is_empty()) {
        sql += " AND r.source = ?";
        args.push(source.to_string().into());
    }
    sql += " ORDER BY r.deadline_at ASC NULLS LAST, r.id ASC LIMIT ? OFFSET ?";
    args.push(i64::from(filter.limit.unwrap_or(100).min(500)).into());
    args.push(i64::from(filter.offset.unwrap_or(0)).into());

    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |row| {
        Ok((
            records::request_from_row(row)?,
            row.get::<_, String>(22)?,
            row.get(23)?,
        ))
    })?;
    let mut requests = Vec::new();
    for row in rows {
        let (r, address, premise_number): (Request, String, Option<String>) = row?;
        let (place_title, _, problem_title) = view::titles(&r.category, &r.place);
        requests.push(QueueItem {
            overdue: view::overdue(&r, now),
            id: r.id,
            number: r.number,
            status: r.status,
            status_label: r.status.label(),
            problem: r.category,
            problem_title,
            place_title,
            emergency: r.emergency,
            source: r.source,
            house_id: r.house_id,
            address,
            premise_number,
            assignee: r.assignee,
            deadline_at: r.deadline_at,
            created_at: r.created_at,
        });
    }
    Ok(Queue { requests })
}
