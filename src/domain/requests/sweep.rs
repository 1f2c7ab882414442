//! Closing done requests whose reopen window has passed, so the queue and the resident's
//! list show them finished. Run hourly by the `requests.close_done` job.

use rusqlite::Connection;
use time::{Duration, OffsetDateTime};

use super::lifecycle::apply_status;
use super::records::{self, REQUEST_COLUMNS};
use super::status::{Actor, Status};
use super::{in_write_tx, Result, Settings};
use crate::store::ts;

/// Closes done requests whose `reopen_days` (the УО's own, if set) ran out before `now`;
/// the resident is told like for any status change. Returns the closed ids.
pub fn close_expired(
    conn: &mut Connection,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<Vec<i64>> {
    in_write_tx(conn, settings, &[], |tx| {
        // The longest window any УО could have is not known here: take candidates done
        // at least a day ago and check each against its УО's window.
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE status = 'done' AND done_at < ?1 \
             ORDER BY id LIMIT 1000"
        );
        let mut stmt = tx.prepare(&sql)?;
        let candidates = stmt
            .query_map([ts(now - Duration::DAY)], records::request_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut closed = Vec::new();
        for request in candidates {
            let own = settings.for_organisation(tx, request.organisation_id)?;
            let window = Duration::days(i64::from(own.requests.reopen_days));
            if request.done_at.is_some_and(|done| done + window < now) {
                let text = "Закрыта: срок, в который заявку можно было возобновить, прошёл.";
                apply_status(
                    tx,
                    &request,
                    Status::Closed,
                    Some(text),
                    None,
                    &Actor::System,
                    now,
                )?;
                closed.push(request.id);
            }
        }
        Ok(closed)
    })
}
