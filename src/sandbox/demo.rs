//! The demo dataset created on the first start in sandbox mode: one УО, three houses,
//! about 150 premises with accounts, owners and meters of every kind, and a year of
//! readings. Everything is marked as demo data (`organisations.demo = 1`).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::{params, OptionalExtension, Transaction};
use time::{Date, Month, OffsetDateTime};

use crate::config::Secret;
use crate::domain::people::{name_birth_hash, snils_hash};
use crate::store::{self, ts};

const SEEDED_KEY: &str = "sandbox.demo_seeded";

/// The demo УО takes readings on any day, so that they can be tried in the sandbox
/// whatever the date; the production default window (20th–25th) is unchanged.
pub const DEMO_ORGANISATION_SETTINGS: &str = r#"{"readings": {"any_day": true}}"#;

/// A demo person of the sandbox ЕСИА.
pub struct DemoPerson {
    pub oid: &'static str,
    pub name: &'static str,
    pub birth_date: &'static str,
    pub snils: &'static str,
    /// Confirmed Gosuslugi account.
    pub trusted: bool,
    /// (house index, premise number) the person owns.
    pub owns: &'static [(usize, &'static str)],
}

/// People of the sandbox ЕСИА; their СНИЛС checksums are valid.
pub const DEMO_PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        oid: "1000000001",
        name: "Смирнова Анна Викторовна",
        birth_date: "1985-04-12",
        snils: "112-233-445 95",
        trusted: true,
        owns: &[(0, "12"), (2, "5")],
    },
    DemoPerson {
        oid: "1000000002",
        name: "Кузнецов Пётр Ильич",
        birth_date: "1962-11-03",
        snils: "127-405-219 36",
        trusted: true,
        owns: &[(1, "31")],
    },
    DemoPerson {
        oid: "1000000003",
        name: "Иванов Олег Сергеевич",
        birth_date: "1990-07-21",
        snils: "156-981-342 06",
        trusted: false,
        owns: &[(0, "40")],
    },
];

struct DemoHouse {
    address: &'static str,
    fias: &'static str,
    flats: u32,
    gas: bool,
    heat_meters: bool,
}

const HOUSES: [DemoHouse; 3] = [
    DemoHouse {
        address: "г. Казань, ул. Баумана, д. 44",
        fias: "6f0ae8b5-3d1c-4b8e-9c2a-1d5f7e9a0b11",
        flats: 60,
        gas: true,
        heat_meters: false,
    },
    DemoHouse {
        address: "г. Казань, пр-кт Победы, д. 139, корп. 2",
        fias: "a3c9d2e1-7b4f-4e6a-8d1c-2f9b0e3a5c22",
        flats: 48,
        gas: false,
        heat_meters: true,
    },
    DemoHouse {
        address: "г. Казань, ул. Чистопольская, д. 19А",
        fias: "c7e1f4a2-9d3b-4c5e-a6f8-3b2d1e0f7a33",
        flats: 42,
        gas: false,
        heat_meters: true,
    },
];

/// The FIAS GUID of demo house `index` (0–2), for the sandbox gateway.
pub fn house_fias(index: usize) -> Option<&'static str> {
    HOUSES.get(index).map(|h| h.fias)
}

const SURNAMES: [&str; 12] = [
    "Петров",
    "Соколов",
    "Морозов",
    "Волков",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Павлов",
    "Семёнов",
    "Голубев",
    "Виноградов",
    "Богданов",
];
const GIVEN: [&str; 10] = [
    "Алексей",
    "Мария",
    "Дмитрий",
    "Елена",
    "Сергей",
    "Ольга",
    "Андрей",
    "Наталья",
    "Игорь",
    "Татьяна",
];

/// Creates the demo dataset once; a second call does nothing. Returns whether it seeded.
pub fn seed(tx: &Transaction<'_>, snils_key: &Secret, now: OffsetDateTime) -> store::Result<bool> {
    let done: Option<String> = tx
        .query_row("SELECT value FROM kv WHERE key = ?1", [SEEDED_KEY], |r| {
            r.get(0)
        })
        .optional()?;
    if done.is_some() {
        return Ok(false);
    }
    let at = ts(now);
    let mut rng = StdRng::seed_from_u64(20261203);
    tx.execute(
        "INSERT INTO organisations (name, inn, ogrn, org_ppa_guid, demo, settings, created_at, \
         updated_at) VALUES ('ООО «УК Демо-Дом» (демонстрационные данные)', '1655000000', \
         '1021602800000', '5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e', 1, ?2, ?1, ?1)",
        params![at, DEMO_ORGANISATION_SETTINGS],
    )?;
    let org = tx.last_insert_rowid();
    let mut account_seq = 0u32;
    for house in &HOUSES {
        tx.execute(
            "INSERT INTO houses (organisation_id, fias_guid, gis_guid, address, created_at, \
             updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![org, house.fias, guid(&mut rng), house.address, at],
        )?;
        let house_id = tx.last_insert_rowid();
        for flat in 1..=house.flats {
            account_seq += 1;
            let premise = add_premise(tx, &mut rng, house_id, flat, &at)?;
            add_account(tx, &mut rng, premise, account_seq, &at)?;
            add_owner(tx, &mut rng, snils_key, premise, &at)?;
            add_meters(tx, &mut rng, premise, house, flat, now)?;
        }
    }
    add_demo_people(tx, snils_key, &at)?;
    tx.execute(
        "INSERT INTO kv (key, value, updated_at) VALUES (?1, '1', ?2)",
        params![SEEDED_KEY, at],
    )?;
    Ok(true)
}

fn guid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string()
}

fn add_premise(
    tx: &Transaction<'_>,
    rng: &mut StdRng,
    house: i64,
    flat: u32,
    at: &str,
) -> store::Result<i64> {
    let area = format!("{}.{}", rng.random_range(28..96), rng.random_range(0..10));
    tx.execute(
        "INSERT INTO premises (house_id, number, kind, premises_guid, cadastral_number, area, \
         created_at, updated_at) VALUES (?1, ?2, 'flat', ?3, ?4, ?5, ?6, ?6)",
        params![
            house,
            flat.to_string(),
            guid(rng),
            format!("16:50:{:06}:{}", 10000 + house * 100, 1000 + flat),
            area,
            at
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

const ELS_LETTERS: [char; 8] = ['А', 'Б', 'В', 'Г', 'Д', 'Е', 'К', 'М'];

fn add_account(
    tx: &Transaction<'_>,
    rng: &mut StdRng,
    premise: i64,
    seq: u32,
    at: &str,
) -> store::Result<()> {
    let unified = format!(
        "{:02}{}{}{:06}",
        rng.random_range(10..99),
        ELS_LETTERS[rng.random_range(0..ELS_LETTERS.len())],
        ELS_LETTERS[rng.random_range(0..ELS_LETTERS.len())],
        rng.random_range(0..1_000_000)
    );
    tx.execute(
        "INSERT INTO accounts (premise_id, number, unified_number, service_id, gis_guid, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![
            premise,
            format!("{:010}", 1_600_000_000u64 + u64::from(seq)),
            unified,
            format!("{unified}-01"),
            guid(rng),
            at
        ],
    )?;
    Ok(())
}

fn add_owner(
    tx: &Transaction<'_>,
    rng: &mut StdRng,
    key: &Secret,
    premise: i64,
    at: &str,
) -> store::Result<()> {
    let surname = SURNAMES[rng.random_range(0..SURNAMES.len())];
    let given = GIVEN[rng.random_range(0..GIVEN.len())];
    let name = format!("{surname} {given}");
    let birth = format!(
        "{}-{:02}-{:02}",
        rng.random_range(1950..2000),
        rng.random_range(1..13),
        rng.random_range(1..29)
    );
    tx.execute(
        "INSERT INTO owners (premise_id, share, name_birth_hash, display_name, source, \
         created_at, updated_at) VALUES (?1, '1', ?2, ?3, 'demo', ?4, ?4)",
        params![premise, name_birth_hash(key, &name, &birth), name, at],
    )?;
    Ok(())
}

/// (resource, unit, tariffs) of the meters a flat gets.
fn meter_kinds(house: &DemoHouse, flat: u32) -> Vec<(&'static str, &'static str, u8)> {
    let mut kinds = vec![("cold_water", "m3", 1), ("hot_water", "m3", 1)];
    kinds.push(("electricity", "kWh", (flat % 3 + 1) as u8));
    if house.gas {
        kinds.push(("gas", "m3", 1));
    }
    if house.heat_meters {
        kinds.push(("heat", "Gcal", 1));
    }
    kinds
}

/// Typical monthly use in thousandths of the unit, per resource.
fn monthly_use(resource: &str) -> u64 {
    match resource {
        "cold_water" => 4_500,
        "hot_water" => 3_000,
        "electricity" => 180_000,
        "gas" => 12_000,
        _ => 450,
    }
}

fn add_meters(
    tx: &Transaction<'_>,
    rng: &mut StdRng,
    premise: i64,
    house: &DemoHouse,
    flat: u32,
    now: OffsetDateTime,
) -> store::Result<()> {
    let at = ts(now);
    for (resource, unit, tariffs) in meter_kinds(house, flat) {
        // Every 17th meter's verification is overdue, so the rule can be seen in the demo.
        let verification = if flat % 17 == 0 && resource == "hot_water" {
            now.date() - time::Duration::days(20)
        } else {
            now.date() + time::Duration::days(rng.random_range(200..2000))
        };
        tx.execute(
            "INSERT INTO meters (premise_id, root_guid, serial, resource, tariffs, unit, digits, \
             next_verification, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
            params![
                premise,
                guid(rng),
                format!("{}", rng.random_range(10_000_000u64..99_999_999)),
                resource,
                tariffs,
                unit,
                if resource == "electricity" { 6 } else { 5 },
                verification.to_string(),
                at
            ],
        )?;
        let meter = tx.last_insert_rowid();
        add_history(tx, rng, meter, resource, tariffs, now)?;
    }
    Ok(())
}

/// Twelve monthly readings, on the 22nd of each past month, confirmed by ГИС ЖКХ.
fn add_history(
    tx: &Transaction<'_>,
    rng: &mut StdRng,
    meter: i64,
    resource: &str,
    tariffs: u8,
    now: OffsetDateTime,
) -> store::Result<()> {
    let per_month = monthly_use(resource);
    let mut totals: Vec<u64> = (0..tariffs)
        .map(|_| rng.random_range(per_month * 10..per_month * 60))
        .collect();
    let mut stmt = tx.prepare_cached(
        "INSERT INTO readings (meter_id, t1, t2, t3, taken_on, source, status, created_at, \
         updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 'demo', 'confirmed', ?6, ?6)",
    )?;
    for back in (1..=12).rev() {
        for total in totals.iter_mut() {
            *total += rng.random_range(per_month / 2..per_month * 3 / 2 + 1);
        }
        let day = months_back(now.date(), back);
        let value = |i: usize| {
            totals
                .get(i)
                .map(|t| format!("{}.{:03}", t / 1000, t % 1000))
        };
        stmt.execute(params![
            meter,
            value(0),
            value(1),
            value(2),
            day.to_string(),
            ts(now)
        ])?;
    }
    Ok(())
}

fn months_back(today: Date, back: i32) -> Date {
    let index = today.year() * 12 + i32::from(u8::from(today.month())) - 1 - back;
    let year = index.div_euclid(12);
    let month = Month::try_from((index.rem_euclid(12) + 1) as u8).unwrap_or(Month::January);
    Date::from_calendar_date(year, month, 22).unwrap_or(today)
}

/// The sandbox ЕСИА's people in the owners register, matched by СНИЛС.
fn add_demo_people(tx: &Transaction<'_>, key: &Secret, at: &str) -> store::Result<()> {
    for person in DEMO_PEOPLE {
        for (house, number) in person.owns {
            let premise: i64 = tx.query_row(
                "SELECT p.id FROM premises p JOIN houses h ON h.id = p.house_id \
                 WHERE h.fias_guid = ?1 AND p.number = ?2",
                params![HOUSES[*house].fias, number],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO owners (premise_id, share, snils_hash, name_birth_hash, \
                 display_name, source, created_at, updated_at) \
                 VALUES (?1, '1/2', ?2, ?3, ?4, 'demo', ?5, ?5)",
                params![
                    premise,
                    snils_hash(key, person.snils),
                    name_birth_hash(key, person.name, person.birth_date),
                    person.name,
                    at
                ],
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Synchronous;
    use crate::store::{Options, Store};

    #[test]
    fn demo_data_has_every_kind_of_meter_and_is_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Options {
            data_dir: dir.path().to_path_buf(),
            synchronous: Synchronous::Normal,
            pool_size: 2,
        })
        .unwrap();
        let key = Secret::new("k");
        let now = OffsetDateTime::now_utc();
        assert!(store.write_blocking(|tx| seed(tx, &key, now)).unwrap());
        assert!(!store.write_blocking(|tx| seed(tx, &key, now)).unwrap());

        let conn = store.conn().unwrap();
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(count("SELECT COUNT(*) FROM houses"), 3);
        assert_eq!(count("SELECT COUNT(*) FROM premises"), 150);
        assert_eq!(count("SELECT COUNT(*) FROM accounts"), 150);
        assert_eq!(
            count("SELECT COUNT(DISTINCT resource || tariffs) FROM meters"),
            7,
            "cold and hot water, 1-2-3 tariff electricity, gas, heat"
        );
        let els: Vec<String> = conn
            .prepare("SELECT unified_number FROM accounts")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for value in els {
            let chars: Vec<char> = value.chars().collect();
            assert_eq!(chars.len(), 10, "{value}");
            assert!(chars[..2].iter().all(char::is_ascii_digit), "{value}");
            assert!(
                chars[2..4].iter().all(|c| ('А'..='Я').contains(c)),
                "{value}"
            );
            assert!(chars[4..].iter().all(char::is_ascii_digit), "{value}");
        }
        let months = count("SELECT COUNT(DISTINCT substr(taken_on, 1, 7)) FROM readings");
        assert_eq!(months, 12);
        let bad_values =
            count("SELECT COUNT(*) FROM readings WHERE t1 NOT GLOB '[0-9]*.[0-9][0-9][0-9]'");
        assert_eq!(bad_values, 0);
    }
}
