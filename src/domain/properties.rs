//! A person's properties: linking them to premises (owners register, registry gateway, or a
//! proof with ЛС/ЕЛС plus premise number) and reading what the mini-app shows. Every read
//! takes the person's id: a premise that is not theirs is simply not found.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use time::OffsetDateTime;

use crate::connectors::registry::{Ownership, PremiseRef};
use crate::store::{self, parse_ts, ts};

/// Failed ownership proofs allowed within [`PROOF_WINDOW`] before a pause.
pub const PROOF_ATTEMPTS: usize = 5;
/// The window for counting failed proofs, and the pause after too many.
pub const PROOF_WINDOW: time::Duration = time::Duration::minutes(15);

/// Request statuses that are no longer open.
const CLOSED_STATUSES: &str = "'done','closed','completed','rejected','cancelled'";

/// Links the person to the premises the sources found; returns how many links are new
/// or were raised to `linked`.
pub fn link(
    tx: &Transaction<'_>,
    person_id: i64,
    found: &[Ownership],
    now: OffsetDateTime,
) -> store::Result<usize> {
    let at = ts(now);
    let mut changed = 0;
    for ownership in found {
        let Some(premise_id) = resolve_premise(tx, &ownership.premise)? else {
            continue;
        };
        changed += tx.execute(
            "INSERT INTO property_links (person_id, premise_id, share, proof, status, \
             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 'linked', ?5, ?5) \
             ON CONFLICT (person_id, premise_id) DO UPDATE SET status = 'linked', \
             proof = excluded.proof, share = excluded.share, updated_at = excluded.updated_at \
             WHERE property_links.status != 'linked'",
            params![person_id, premise_id, ownership.share, ownership.proof, at],
        )?;
    }
    if changed > 0 {
        tx.execute(
            "INSERT INTO usage_events (kind, person_id, day, created_at) \
             VALUES ('property_linked', ?1, ?2, ?3)",
            params![person_id, now.date().to_string(), at],
        )?;
    }
    Ok(changed)
}

fn resolve_premise(conn: &Connection, premise: &PremiseRef) -> store::Result<Option<i64>> {
    let found = match premise {
        PremiseRef::Id(id) => conn
            .query_row(
                "SELECT id FROM premises WHERE id = ?1 AND removed_at IS NULL",
                [id],
                |r| r.get(0),
            )
            .optional()?,
        PremiseRef::Cadastral(number) => conn
            .query_row(
                "SELECT id FROM premises WHERE cadastral_number = ?1 AND removed_at IS NULL",
                [number],
                |r| r.get(0),
            )
            .optional()?,
        PremiseRef::HouseAndNumber { house_guid, number } => conn
            .query_row(
                "SELECT p.id FROM premises p JOIN houses h ON h.id = p.house_id \
                 WHERE (h.fias_guid = ?1 OR h.gis_guid = ?1) AND p.number = ?2 \
                 AND p.removed_at IS NULL AND h.removed_at IS NULL",
                params![house_guid, number],
                |r| r.get(0),
            )
            .optional()?,
    };
    Ok(found)
}

/// One line of «Мои объекты».
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PropertySummary {
    /// The premise id.
    pub id: i64,
    pub house_id: i64,
    pub address: String,
    pub number: String,
    pub kind: String,
    pub area: Option<String>,
    pub share: Option<String>,
    pub organisation: String,
    /// `linked`, or `pending` while the УО checks a proof by account.
    pub status: String,
    pub proof: String,
    /// The house chat's invite link: only for a `linked` property of a house with a bound
    /// chat whose link is known.
    pub house_chat_link: Option<String>,
}

const SUMMARY_SELECT: &str = "SELECT p.id, h.id, h.address, p.number, p.kind, p.area, \
     COALESCE(l.share, (SELECT o.share FROM owners o WHERE o.premise_id = p.id LIMIT 1)), \
     org.name, l.status, l.proof, \
     CASE WHEN l.status = 'linked' THEN (SELECT c.link FROM max_chats c \
       WHERE c.chat_id = h.max_chat_id AND c.status = 'active') END \
     FROM property_links l JOIN premises p ON p.id = l.premise_id \
     JOIN houses h ON h.id = p.house_id JOIN organisations org ON org.id = h.organisation_id \
     WHERE l.person_id = ?1 AND p.removed_at IS NULL";

fn summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<PropertySummary> {
    Ok(PropertySummary {
        id: r.get(0)?,
        house_id: r.get(1)?,
        address: r.get(2)?,
        number: r.get(3)?,
        kind: r.get(4)?,
        area: r.get(5)?,
        share: r.get(6)?,
        organisation: r.get(7)?,
        status: r.get(8)?,
        proof: r.get(9)?,
        house_chat_link: r.get(10)?,
    })
}

/// The person's properties, by address and premise number.
pub fn of_person(conn: &Connection, person_id: i64) -> store::Result<Vec<PropertySummary>> {
    let mut stmt = conn.prepare_cached(&format!("{SUMMARY_SELECT} ORDER BY h.address, p.id"))?;
    let rows = stmt.query_map([person_id], summary)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One of the person's properties; `None` when it is not theirs.
pub fn one_of_person(
    conn: &Connection,
    person_id: i64,
    premise_id: i64,
) -> store::Result<Option<PropertySummary>> {
    Ok(conn
        .query_row(
            &format!("{SUMMARY_SELECT} AND p.id = ?2"),
            params![person_id, premise_id],
            summary,
        )
        .optional()?)
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Account {
    pub number: String,
    pub unified_number: Option<String>,
    pub service_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LastReading {
    pub t1: String,
    pub t2: Option<String>,
    pub t3: Option<String>,
    pub taken_on: String,
    pub status: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Meter {
    pub id: i64,
    pub resource: String,
    pub serial: String,
    pub unit: String,
    pub tariffs: i64,
    pub digits: i64,
    pub automatic: bool,
    pub next_verification: Option<String>,
    pub last_reading: Option<LastReading>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HouseChat {
    pub chat_id: i64,
    /// A join link, when one is known; `null` otherwise.
    pub link: Option<String>,
    pub title: Option<String>,
}

/// The object card.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PropertyCard {
    #[serde(flatten)]
    pub summary: PropertySummary,
    pub cadastral_number: Option<String>,
    pub premises_guid: Option<String>,
    pub accounts: Vec<Account>,
    pub meters: Vec<Meter>,
    pub open_requests: i64,
    /// The house's chat: only for a `linked` property.
    pub house_chat: Option<HouseChat>,
    /// The person told the УО that the house needs a chat.
    pub house_chat_requested: bool,
}

/// The card of one of the person's properties; `None` when it is not theirs.
pub fn card(
    conn: &Connection,
    person_id: i64,
    premise_id: i64,
) -> store::Result<Option<PropertyCard>> {
    let Some(summary) = one_of_person(conn, person_id, premise_id)? else {
        return Ok(None);
    };
    let (cadastral_number, premises_guid, chat_id): (Option<String>, Option<String>, Option<i64>) =
        conn.query_row(
            "SELECT p.cadastral_number, p.premises_guid, h.max_chat_id \
             FROM premises p JOIN houses h ON h.id = p.house_id WHERE p.id = ?1",
            [premise_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
    let mut stmt = conn.prepare_cached(
        "SELECT number, unified_number, service_id FROM accounts \
         WHERE premise_id = ?1 AND removed_at IS NULL ORDER BY id",
    )?;
    let accounts = stmt
        .query_map([premise_id], |r| {
            Ok(Account {
                number: r.get(0)?,
                unified_number: r.get(1)?,
                service_id: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let open_requests = conn.query_row(
        &format!(
            "SELECT COUNT(*) FROM requests WHERE premise_id = ?1 AND person_id = ?2 \
             AND status NOT IN ({CLOSED_STATUSES})"
        ),
        params![premise_id, person_id],
        |r| r.get(0),
    )?;
    Ok(Some(PropertyCard {
        cadastral_number,
        premises_guid,
        accounts,
        meters: meters_of_premise(conn, premise_id)?,
        house_chat: match chat_id.filter(|_| summary.status == "linked") {
            Some(chat_id) => Some(house_chat(conn, chat_id)?),
            None => None,
        },
        house_chat_requested: crate::domain::chats::wished(conn, summary.house_id, person_id)?,
        summary,
        open_requests,
    }))
}

fn house_chat(conn: &Connection, chat_id: i64) -> store::Result<HouseChat> {
    let known: Option<(Option<String>, String)> = conn
        .query_row(
            "SELECT link, title FROM max_chats WHERE chat_id = ?1 AND status = 'active'",
            [chat_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (link, title) = known.unwrap_or((None, String::new()));
    Ok(HouseChat {
        chat_id,
        link,
        title: Some(title).filter(|t| !t.is_empty()),
    })
}

/// The meters of one of the person's properties; `None` when it is not theirs.
pub fn meters_of_property(
    conn: &Connection,
    person_id: i64,
    premise_id: i64,
) -> store::Result<Option<Vec<Meter>>> {
    if one_of_person(conn, person_id, premise_id)?.is_none() {
        return Ok(None);
    }
    meters_of_premise(conn, premise_id).map(Some)
}

/// Working meters of a premise with their last reading.
fn meters_of_premise(conn: &Connection, premise_id: i64) -> store::Result<Vec<Meter>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.resource, m.serial, m.unit, m.tariffs, m.digits, m.automatic, \
         m.next_verification, r.t1, r.t2, r.t3, r.taken_on, r.status \
         FROM meters m LEFT JOIN readings r ON r.id = ( \
           SELECT r2.id FROM readings r2 WHERE r2.meter_id = m.id \
           AND r2.status NOT IN ('rejected', 'replaced') \
           ORDER BY r2.taken_on DESC, r2.id DESC LIMIT 1) \
         WHERE m.premise_id = ?1 AND m.archived_at IS NULL ORDER BY m.id",
    )?;
    let rows = stmt.query_map([premise_id], |r| {
        let t1: Option<String> = r.get(8)?;
        let last_reading = match t1 {
            Some(t1) => Some(LastReading {
                t1,
                t2: r.get(9)?,
                t3: r.get(10)?,
                taken_on: r.get(11)?,
                status: r.get(12)?,
            }),
            None => None,
        };
        Ok(Meter {
            id: r.get(0)?,
            resource: r.get(1)?,
            serial: r.get(2)?,
            unit: r.get(3)?,
            tariffs: r.get(4)?,
            digits: r.get(5)?,
            automatic: r.get::<_, i64>(6)? != 0,
            next_verification: r.get(7)?,
            last_reading,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What became of an ownership proof by account.
#[derive(Debug, PartialEq, Eq)]
pub enum ProofOutcome {
    /// Linked, awaiting the УО's check.
    Pending { premise_id: i64 },
    /// The person already has this premise.
    AlreadyLinked { premise_id: i64 },
    /// No such account with that premise number.
    NoMatch { attempts_left: usize },
    /// Too many failed attempts: try again after `until`.
    Paused { until: OffsetDateTime },
}

/// ЛС/ЕЛС as people type them: spaces and dashes dropped, letters in upper case.
fn normalise_account(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// Proves ownership with an account number (ЛС or ЕЛС) and the premise number; a few
/// failed attempts, then a pause of [`PROOF_WINDOW`].
pub fn prove_by_account(
    tx: &Transaction<'_>,
    person_id: i64,
    account: &str,
    premise_number: &str,
    house_id: Option<i64>,
    now: OffsetDateTime,
) -> store::Result<ProofOutcome> {
    let since = now - PROOF_WINDOW;
    let mut failures: Vec<OffsetDateTime> = {
        let mut stmt = tx.prepare_cached(
            "SELECT created_at FROM ownership_attempts WHERE person_id = ?1 AND succeeded = 0 \
             ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![person_id, PROOF_ATTEMPTS as i64], |r| {
            r.get::<_, String>(0)
        })?;
        rows.filter_map(|r| r.ok().and_then(|t| parse_ts(&t)))
            .filter(|at| *at > since)
            .collect()
    };
    if failures.len() >= PROOF_ATTEMPTS {
        failures.sort();
        let latest = failures.last().copied().unwrap_or(now);
        return Ok(ProofOutcome::Paused {
            until: latest + PROOF_WINDOW,
        });
    }

    let account = normalise_account(account);
    let number = premise_number.trim().to_lowercase();
    let premise: Option<i64> = if account.is_empty() || number.is_empty() {
        None
    } else {
        tx.query_row(
            "SELECT p.id FROM accounts a JOIN premises p ON p.id = a.premise_id \
             WHERE (a.number = ?1 OR a.unified_number = ?1) AND lower(p.number) = ?2 \
             AND (?3 IS NULL OR p.house_id = ?3) \
             AND a.removed_at IS NULL AND p.removed_at IS NULL LIMIT 1",
            params![account, number, house_id],
            |r| r.get(0),
        )
        .optional()?
    };
    tx.execute(
        "INSERT INTO ownership_attempts (person_id, succeeded, created_at) VALUES (?1, ?2, ?3)",
        params![person_id, premise.is_some(), ts(now)],
    )?;
    let Some(premise_id) = premise else {
        return Ok(ProofOutcome::NoMatch {
            attempts_left: PROOF_ATTEMPTS - failures.len() - 1,
        });
    };
    let inserted = tx.execute(
        "INSERT INTO property_links (person_id, premise_id, proof, status, created_at, \
         updated_at) VALUES (?1, ?2, 'account', 'pending', ?3, ?3) \
         ON CONFLICT (person_id, premise_id) DO NOTHING",
        params![person_id, premise_id, ts(now)],
    )?;
    Ok(if inserted == 0 {
        ProofOutcome::AlreadyLinked { premise_id }
    } else {
        ProofOutcome::Pending { premise_id }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Secret, Synchronous};
    use crate::connectors::registry::local::LocalRegister;
    use crate::connectors::registry::{PersonKeys, Registry};
    use crate::domain::people::{name_birth_hash, snils_hash};
    use crate::store::{Options, Store};

    fn seeded() -> (tempfile::TempDir, Store, Secret, OffsetDateTime) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Options {
            data_dir: dir.path().to_path_buf(),
            synchronous: Synchronous::Normal,
            pool_size: 2,
        })
        .unwrap();
        let key = Secret::new("k");
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        store
            .write_blocking(|tx| crate::sandbox::demo::seed(tx, &key, now))
            .unwrap();
        (dir, store, key, now)
    }

    fn person(store: &Store) -> i64 {
        store
            .write_blocking(|tx| {
                tx.execute(
                    "INSERT INTO people (esia_oid, created_at, updated_at) VALUES ('x', 'a', 'a')",
                    [],
                )?;
                Ok(tx.last_insert_rowid())
            })
            .unwrap()
    }

    #[test]
    fn snils_finds_the_owned_premises_and_name_alone_finds_nothing() {
        let (_dir, store, key, now) = seeded();
        let conn = store.conn().unwrap();
        let by_snils = PersonKeys {
            snils_hash: snils_hash(&key, "112-233-445 95"),
            ..Default::default()
        };
        let found = LocalRegister.owned_premises(&conn, &by_snils).unwrap();
        assert_eq!(found.len(), 2, "Смирнова owns two premises");

        let wrong_birth = PersonKeys {
            name_birth_hash: Some(name_birth_hash(
                &key,
                "Смирнова Анна Викторовна",
                "1985-04-13",
            )),
            ..Default::default()
        };
        assert!(LocalRegister
            .owned_premises(&conn, &wrong_birth)
            .unwrap()
            .is_empty());

        let id = person(&store);
        let linked = store
            .write_blocking(|tx| link(tx, id, &found, now))
            .unwrap();
        assert_eq!(linked, 2);
        let again = store
            .write_blocking(|tx| link(tx, id, &found, now))
            .unwrap();
        assert_eq!(again, 0);
        let list = of_person(&conn, id).unwrap();
        assert_eq!(list.len(), 2);
        assert!(list
            .iter()
            .all(|p| p.status == "linked" && p.share.as_deref() == Some("1/2")));
    }

    #[test]
    fn a_register_row_with_snils_is_not_matched_by_name_and_birth() {
        let (_dir, store, key, _now) = seeded();
        let conn = store.conn().unwrap();
        // Same name and birth date as a demo person, but another СНИЛС.
        let other = PersonKeys {
            snils_hash: snils_hash(&key, "000-000-000 00"),
            name_birth_hash: Some(name_birth_hash(
                &key,
                "Смирнова Анна Викторовна",
                "1985-04-12",
            )),
            ..Default::default()
        };
        assert!(LocalRegister
            .owned_premises(&conn, &other)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn account_proofs_pause_after_a_few_failures() {
        let (_dir, store, _key, now) = seeded();
        let id = person(&store);
        let (account, number): (String, String) = store
            .conn()
            .unwrap()
            .query_row(
                "SELECT a.unified_number, p.number FROM accounts a \
                 JOIN premises p ON p.id = a.premise_id LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        for left in (0..PROOF_ATTEMPTS).rev() {
            let outcome = store
                .write_blocking(|tx| prove_by_account(tx, id, &account, "999", None, now))
                .unwrap();
            assert_eq!(
                outcome,
                ProofOutcome::NoMatch {
                    attempts_left: left
                }
            );
        }
        let paused = store
            .write_blocking(|tx| prove_by_account(tx, id, &account, &number, None, now))
            .unwrap();
        assert_eq!(
            paused,
            ProofOutcome::Paused {
                until: now + PROOF_WINDOW
            }
        );
        let later = now + PROOF_WINDOW + time::Duration::seconds(1);
        let lower = account.to_lowercase();
        let outcome = store
            .write_blocking(|tx| prove_by_account(tx, id, &lower, &number, None, later))
            .unwrap();
        assert!(
            matches!(outcome, ProofOutcome::Pending { .. }),
            "{outcome:?}"
        );
        let list = of_person(&store.conn().unwrap(), id).unwrap();
        assert_eq!(list[0].status, "pending");
    }
}
