//! CSV import into the local register: `gosdom import houses|accounts|owners|meters FILE`.
//!
//! Every row is checked and written inside one transaction; if any row is wrong, every
//! error is reported with its line number and nothing is written. The formats are in
//! `docs/import.md`, with a sample of each under `docs/samples/`.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use time::OffsetDateTime;

use crate::config::Secret;
use crate::domain::people::{name_birth_hash, normalise_snils, snils_checksum_ok, snils_hash};
use crate::store::{ts, Store, StoreError};

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Houses,
    Accounts,
    Owners,
    Meters,
}

/// One wrong row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {0}")]
    Read(String),
    #[error("{0}")]
    Header(String),
    #[error("nothing was imported: {} row(s) have errors", .0.len())]
    Rows(Vec<RowError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ImportError {
    fn from(e: rusqlite::Error) -> Self {
        ImportError::Store(e.into())
    }
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
}

struct Row {
    line: u64,
    fields: HashMap<String, String>,
}

impl Row {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn need(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .ok_or_else(|| format!("не заполнено поле `{name}`"))
    }
}

fn columns(kind: Kind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        Kind::Houses => (
            &["organisation_inn", "address"],
            &[
                "organisation_name",
                "organisation_ogrn",
                "fias_guid",
                "gis_guid",
            ],
        ),
        Kind::Accounts => (
            &["house_fias_guid", "premise_number", "account_number"],
            &[
                "unified_number",
                "service_id",
                "gis_guid",
                "premise_kind",
                "area",
                "cadastral_number",
            ],
        ),
        Kind::Owners => (
            &["house_fias_guid", "premise_number", "full_name"],
            &["birth_date", "snils", "share"],
        ),
        Kind::Meters => (
            &[
                "house_fias_guid",
                "premise_number",
                "serial",
                "resource",
                "unit",
            ],
            &["tariffs", "digits", "next_verification", "root_guid"],
        ),
    }
}

fn read_rows(kind: Kind, text: &str) -> Result<Vec<Row>, ImportError> {
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or("");
    let delimiter = if first.contains(';') { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|_| {
            ImportError::Header(
                "line 1: заголовок не читается как CSV: проверьте кавычки и разделитель (; или ,)"
                    .into(),
            )
        })?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let (required, optional) = columns(kind);
    for name in required {
        if !headers.iter().any(|h| h == name) {
            return Err(ImportError::Header(format!(
                "line 1: в заголовке нет столбца `{name}`; в файле {} нужны столбцы {} \
                 (необязательные: {})",
                kind_label(kind),
                required.join(", "),
                optional.join(", ")
            )));
        }
    }
    for h in &headers {
        if !required.contains(&h.as_str()) && !optional.contains(&h.as_str()) {
            return Err(ImportError::Header(format!(
                "line 1: неизвестный столбец `{h}`"
            )));
        }
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line());
                if record.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                if record.len() != headers.len() {
                    errors.push(RowError {
                        line,
                        reason: format!(
                            "полей в строке: {}, а в заголовке: {}",
                            record.len(),
                            headers.len()
                        ),
                    });
                    continue;
                }
                let fields = headers
                    .iter()
                    .cloned()
                    .zip(record.iter().map(str::to_string))
                    .collect();
                rows.push(Row { line, fields });
            }
            Err(e) => errors.push(RowError {
                line: e.position().map_or(0, |p| p.line()),
                reason: "строка не читается как CSV: проверьте кавычки".into(),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    Ok(rows)
}

/// Imports `file` of `kind` into the store, all or nothing.
pub fn import_file(
    store: &Store,
    kind: Kind,
    file: &Path,
    snils_key: &Secret,
    now: OffsetDateTime,
) -> Result<Report, ImportError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| ImportError::Read(format!("{}: {e}", file.display())))?;
    import_text(store, kind, &text, snils_key, now)
}

/// Imports CSV `text` of `kind`, all or nothing.
pub fn import_text(
    store: &Store,
    kind: Kind,
    text: &str,
    snils_key: &Secret,
    now: OffsetDateTime,
) -> Result<Report, ImportError> {
    import_text_for(store, kind, text, snils_key, now, None)
}

/// How a reason names a kind of file: «в файле собственников».
fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::Houses => "домов",
        Kind::Accounts => "лицевых счетов",
        Kind::Owners => "собственников",
        Kind::Meters => "счётчиков",
    }
}

/// [`import_text`] limited to one УО's houses when `organisation` is given (the console):
/// a row about another УО's house (or, in a houses file, another УО's ИНН) is a wrong row.
pub fn import_text_for(
    store: &Store,
    kind: Kind,
    text: &str,
    snils_key: &Secret,
    now: OffsetDateTime,
    organisation: Option<i64>,
) -> Result<Report, ImportError> {
    let rows = read_rows(kind, text)?;
    let mut conn = store.conn()?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let at = ts(now);
    let mut report = Report::default();
    let mut errors = Vec::new();
    let mut cleared = std::collections::HashSet::new();
    for row in &rows {
        let result = match kind {
            Kind::Houses => house(&tx, row, &at, organisation),
            Kind::Accounts => account(&tx, row, &at, organisation),
            Kind::Owners => owner(&tx, row, snils_key, &at, &mut cleared, organisation),
            Kind::Meters => meter(&tx, row, &at, organisation),
        };
        match result {
            Ok(true) => report.created += 1,
            Ok(false) => report.updated += 1,
            Err(reason) => errors.push(RowError {
                line: row.line,
                reason,
            }),
        }
    }
    if !errors.is_empty() {
        tx.rollback()?;
        return Err(ImportError::Rows(errors));
    }
    tx.commit()?;
    report.rows = rows.len();
    Ok(report)
}

fn db(e: rusqlite::Error) -> String {
    format!("база данных не приняла строку: {e}")
}

fn guid(text: &str, column: &str) -> Result<String, String> {
    uuid::Uuid::parse_str(text)
        .map(|u| u.to_string())
        .map_err(|_| {
            format!("`{column}` {text:?} — не GUID (вида 6f0ae8b5-3d1c-4b8e-9c2a-1d5f7e9a0b11)")
        })
}

fn decimal(text: &str, column: &str) -> Result<String, String> {
    let t = text.replace(',', ".");
    let ok = t.split_once('.').map_or_else(
        || !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()),
        |(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.chars().all(|c| c.is_ascii_digit())
                && b.chars().all(|c| c.is_ascii_digit())
        },
    );
    ok.then_some(t)
        .ok_or_else(|| format!("`{column}` {text:?} — не число вида 54.3"))
}

/// `YYYY-MM-DD` or `DD.MM.YYYY` → `YYYY-MM-DD`.
fn date(text: &str, column: &str) -> Result<String, String> {
    let iso = if text.contains('.') {
        let parts: Vec<&str> = text.split('.').collect();
        match parts.as_slice() {
            [d, m, y] => format!("{y}-{m}-{d}"),
            _ => String::new(),
        }
    } else {
        text.to_string()
    };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(&iso, format)
        .map(|d| d.to_string())
        .map_err(|_| format!("`{column}` {text:?} — не дата (ГГГГ-ММ-ДД или ДД.ММ.ГГГГ)"))
}

fn house_id(tx: &Transaction<'_>, row: &Row, organisation: Option<i64>) -> Result<i64, String> {
    let fias = guid(row.need("house_fias_guid")?, "house_fias_guid")?;
    tx.query_row(
        "SELECT id FROM houses WHERE fias_guid = ?1 AND removed_at IS NULL \
         AND (?2 IS NULL OR organisation_id = ?2)",
        params![fias, organisation],
        |r| r.get(0),
    )
    .optional()
    .map_err(db)?
    .ok_or_else(|| format!("нет дома с ФИАС GUID {fias}: сначала загрузите файл домов"))
}

fn premise_id(tx: &Transaction<'_>, row: &Row, organisation: Option<i64>) -> Result<i64, String> {
    let house = house_id(tx, row, organisation)?;
    let number = row.need("premise_number")?;
    tx.query_row(
        "SELECT id FROM premises WHERE house_id = ?1 AND number = ?2 AND removed_at IS NULL",
        params![house, number],
        |r| r.get(0),
    )
    .optional()
    .map_err(db)?
    .ok_or_else(|| format!("в доме нет помещения {number}: сначала загрузите его лицевой счёт"))
}

fn house(
    tx: &Transaction<'_>,
    row: &Row,
    at: &str,
    organisation: Option<i64>,
) -> Result<bool, String> {
    let inn = row.need("organisation_inn")?;
    if !(inn.len() == 10 || inn.len() == 12) || !inn.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "`organisation_inn` {inn:?} — не ИНН (10 или 12 цифр)"
        ));
    }
    let address = row.need("address")?;
    let fias = row
        .get("fias_guid")
        .map(|g| guid(g, "fias_guid"))
        .transpose()?;
    let gis = row
        .get("gis_guid")
        .map(|g| guid(g, "gis_guid"))
        .transpose()?;
    let org: Option<i64> = tx
        .query_row("SELECT id FROM organisations WHERE inn = ?1", [inn], |r| {
            r.get(0)
        })
        .optional()
        .map_err(db)?;
    let org = match (org, organisation) {
        (Some(id), Some(only)) if id != only => {
            return Err(format!("ИНН {inn} принадлежит другой организации"))
        }
        (None, Some(_)) => return Err(format!("ИНН {inn} — не ИНН этой организации")),
        (Some(id), _) => id,
        (None, None) => {
            let name = row
                .get("organisation_name")
                .ok_or("для новой организации нужен столбец `organisation_name`")?;
            let ogrn = row.get("organisation_ogrn").unwrap_or("");
            tx.execute(
                "INSERT INTO organisations (name, inn, ogrn, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![name, inn, ogrn, at],
            )
            .map_err(db)?;
            tx.last_insert_rowid()
        }
    };
    let existing: Option<i64> = match &fias {
        Some(fias) => tx
            .query_row(
                "SELECT id FROM houses WHERE organisation_id = ?1 AND fias_guid = ?2",
                params![org, fias],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?,
        None => None,
    };
    match existing {
        Some(id) => {
            tx.execute(
                "UPDATE houses SET address = ?1, gis_guid = COALESCE(?2, gis_guid), \
                 updated_at = ?3 WHERE id = ?4",
                params![address, gis, at, id],
            )
            .map_err(db)?;
            Ok(false)
        }
        None => {
            tx.execute(
                "INSERT INTO houses (organisation_id, fias_guid, gis_guid, address, created_at, \
                 updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![org, fias, gis, address, at],
            )
            .map_err(db)?;
            Ok(true)
        }
    }
}

fn account(
    tx: &Transaction<'_>,
    row: &Row,
    at: &str,
    organisation: Option<i64>,
) -> Result<bool, String> {
    let house = house_id(tx, row, organisation)?;
    let number = row.need("premise_number")?;
    let account = row.need("account_number")?;
    let area = row.get("area").map(|a| decimal(a, "area")).transpose()?;
    let kind = row.get("premise_kind").unwrap_or("flat");
    if !["flat", "room", "nonresidential"].contains(&kind) {
        return Err(format!(
            "`premise_kind` {kind:?} — не flat, room или nonresidential"
        ));
    }
    let unified = row.get("unified_number").map(|u| u.to_uppercase());
    tx.execute(
        "INSERT INTO premises (house_id, number, kind, cadastral_number, area, created_at, \
         updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) \
         ON CONFLICT (house_id, number) DO UPDATE SET kind = excluded.kind, \
         cadastral_number = COALESCE(excluded.cadastral_number, cadastral_number), \
         area = COALESCE(excluded.area, area), updated_at = excluded.updated_at",
        params![house, number, kind, row.get("cadastral_number"), area, at],
    )
    .map_err(db)?;
    let premise: i64 = tx
        .query_row(
            "SELECT id FROM premises WHERE house_id = ?1 AND number = ?2",
            params![house, number],
            |r| r.get(0),
        )
        .map_err(db)?;
    let existing: Option<(i64, i64)> = tx
        .query_row(
            "SELECT id, premise_id FROM accounts WHERE number = ?1 AND removed_at IS NULL",
            [account],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db)?;
    match existing {
        Some((_, other)) if other != premise => Err(format!(
            "лицевой счёт {account} уже относится к другому помещению"
        )),
        Some((id, _)) => {
            tx.execute(
                "UPDATE accounts SET unified_number = ?1, service_id = ?2, \
                 gis_guid = COALESCE(?3, gis_guid), updated_at = ?4 WHERE id = ?5",
                params![unified, row.get("service_id"), row.get("gis_guid"), at, id],
            )
            .map_err(db)?;
            Ok(false)
        }
        None => {
            tx.execute(
                "INSERT INTO accounts (premise_id, number, unified_number, service_id, gis_guid, \
                 created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![
                    premise,
                    account,
                    unified,
                    row.get("service_id"),
                    row.get("gis_guid"),
                    at
                ],
            )
            .map_err(db)?;
            Ok(true)
        }
    }
}

fn owner(
    tx: &Transaction<'_>,
    row: &Row,
    key: &Secret,
    at: &str,
    cleared: &mut std::collections::HashSet<i64>,
    organisation: Option<i64>,
) -> Result<bool, String> {
    let premise = premise_id(tx, row, organisation)?;
    let name = row.need("full_name")?;
    let birth = row
        .get("birth_date")
        .map(|b| date(b, "birth_date"))
        .transpose()?;
    let snils = match row.get("snils") {
        Some(text) => {
            let digits = normalise_snils(text).ok_or("`snils`: нужно 11 цифр")?;
            if !snils_checksum_ok(&digits) {
                return Err("`snils`: неверное контрольное число".into());
            }
            Some(digits)
        }
        None => None,
    };
    if snils.is_none() && birth.is_none() {
        return Err(
            "укажите `snils` или `birth_date`: одного ФИО мало, чтобы подтвердить собственника"
                .into(),
        );
    }
    let share = row.get("share").unwrap_or("1");
    let share_ok = share.split_once('/').map_or_else(
        || decimal(share, "share").is_ok(),
        |(a, b)| decimal(a, "share").is_ok() && decimal(b, "share").is_ok() && b != "0",
    );
    if !share_ok {
        return Err(format!("`share` {share:?} — не доля вида 1, 1/2 или 0.25"));
    }
    // A re-import replaces the earlier imported owners of the premise.
    if cleared.insert(premise) {
        tx.execute(
            "DELETE FROM owners WHERE premise_id = ?1 AND source = 'import'",
            [premise],
        )
        .map_err(db)?;
    }
    tx.execute(
        "INSERT INTO owners (premise_id, share, snils_hash, name_birth_hash, display_name, \
         source, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 'import', ?6, ?6)",
        params![
            premise,
            share,
            snils.as_deref().and_then(|s| snils_hash(key, s)),
            birth.as_deref().map(|b| name_birth_hash(key, name, b)),
            name,
            at
        ],
    )
    .map_err(db)?;
    Ok(true)
}

const RESOURCES: [&str; 5] = ["cold_water", "hot_water", "electricity", "gas", "heat"];

fn meter(
    tx: &Transaction<'_>,
    row: &Row,
    at: &str,
    organisation: Option<i64>,
) -> Result<bool, String> {
    let premise = premise_id(tx, row, organisation)?;
    let serial = row.need("serial")?;
    let resource = row.need("resource")?;
    if !RESOURCES.contains(&resource) {
        return Err(format!(
            "`resource` {resource:?} — не одно из: {}",
            RESOURCES.join(", ")
        ));
    }
    let unit = row.need("unit")?;
    let small = |name: &str, default: i64, range: std::ops::RangeInclusive<i64>| {
        row.get(name).map_or(Ok(default), |v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    format!(
                        "`{name}` {v:?}: нужно от {} до {}",
                        range.start(),
                        range.end()
                    )
                })
        })
    };
    let tariffs = small("tariffs", 1, 1..=3)?;
    let digits = small("digits", 8, 1..=15)?;
    let verification = row
        .get("next_verification")
        .map(|d| date(d, "next_verification"))
        .transpose()?;
    let root = row
        .get("root_guid")
        .map(|g| guid(g, "root_guid"))
        .transpose()?;
    let existing: Option<i64> = tx
        .query_row(
            "SELECT id FROM meters WHERE premise_id = ?1 AND serial = ?2 AND resource = ?3",
            params![premise, serial, resource],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?;
    match existing {
        Some(id) => {
            tx.execute(
                "UPDATE meters SET unit = ?1, tariffs = ?2, digits = ?3, next_verification = ?4, \
                 root_guid = COALESCE(?5, root_guid), updated_at = ?6 WHERE id = ?7",
                params![unit, tariffs, digits, verification, root, at, id],
            )
            .map_err(db)?;
            Ok(false)
        }
        None => {
            tx.execute(
                "INSERT INTO meters (premise_id, root_guid, serial, resource, tariffs, unit, \
                 digits, next_verification, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
                params![
                    premise,
                    root,
                    serial,
                    resource,
                    tariffs,
                    unit,
                    digits,
                    verification,
                    at
                ],
            )
            .map_err(db)?;
            Ok(true)
        }
    }
}
