//! Requests as residents and staff meet them, over a real SQLite store and data dir:
//! filing with photos, the lifecycle and its notifications, who may see what, upload
//! refusals that leave nothing behind, anti-spam, numbers under racing writers, and
//! ГИС ЖКХ appeals.

use std::path::Path;

use gosdom::config::Config;
use gosdom::domain::requests::api::{self, CommentBody, NewRequestBody, RateBody, ReopenBody};
use gosdom::domain::requests::gis::{self, PulledAppeal};
use gosdom::domain::requests::notify::{GisAnswer, NotifyRequest};
use gosdom::domain::requests::photos::Upload;
use gosdom::domain::requests::staff::{
    self, QueueFilter, StaffCommentBody, StaffMember, StatusBody,
};
use gosdom::domain::requests::{RequestError, Settings, Status};
use gosdom::store::{self, Store};
use rusqlite::{params, Connection};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-12-03 10:00 UTC);
const FIAS: &str = "6f0ae8b5-3d1c-4b8e-9c2a-1d5f7e9a0b11";

struct World {
    _dir: tempfile::TempDir,
    store: Store,
    settings: Settings,
    org: i64,
    other_org: i64,
    house: i64,
    flat: i64,
    anna: i64,
    petr: i64,
}

fn world_with(config: impl FnOnce(&mut Config)) -> World {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config::default();
    cfg.storage.data_dir = dir.path().join("data");
    config(&mut cfg);
    let store = Store::open(&gosdom::server::store_options(&cfg)).unwrap();
    let conn = store.conn().unwrap();
    let t = store::ts(NOW);
    let main_org = org(&conn, "1655000001", &t);
    let other_org = org(&conn, "1655000002", &t);
    conn.execute(
        "INSERT INTO houses (organisation_id, fias_guid, address, created_at, updated_at) \
         VALUES (?1, ?2, 'г. Казань, ул. Баумана, д. 44', ?3, ?3)",
        params![main_org, FIAS, t],
    )
    .unwrap();
    let house = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO premises (house_id, number, created_at, updated_at) VALUES (?1, '12', ?2, ?2)",
        params![house, t],
    )
    .unwrap();
    let flat = conn.last_insert_rowid();
    let mut people = Vec::new();
    for oid in ["1", "2"] {
        conn.execute(
            "INSERT INTO people (esia_oid, trusted, created_at, updated_at) VALUES (?1, 1, ?2, ?2)",
            params![oid, t],
        )
        .unwrap();
        people.push(conn.last_insert_rowid());
    }
    conn.execute(
        "INSERT INTO property_links (person_id, premise_id, proof, created_at, updated_at) \
         VALUES (?1, ?2, 'owners_register', ?3, ?3)",
        params![people[0], flat, t],
    )
    .unwrap();
    drop(conn);
    World {
        settings: Settings::new(&cfg),
        _dir: dir,
        store,
        org: main_org,
        other_org,
        house,
        flat,
        anna: people[0],
        petr: people[1],
    }
}

fn world() -> World {
    world_with(|_| {})
}

fn org(conn: &Connection, inn: &str, t: &str) -> i64 {
    conn.execute(
        "INSERT INTO organisations (name, inn, ogrn, created_at, updated_at) \
         VALUES ('УК', ?1, '1', ?2, ?2)",
        params![inn, t],
    )
    .unwrap();
    conn.last_insert_rowid()
}

/// A JPEG whose EXIF carries a GPS position; `seed` makes each one different.
fn jpeg(seed: u8) -> Vec<u8> {
    let seg = |marker: u8, body: &[u8]| {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
        s.extend_from_slice(body);
        s
    };
    let mut b = vec![0xFF, 0xD8];
    b.extend(seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    b.extend(seg(0xE1, b"Exif\0\0GPSLatitude=55.7558"));
    b.extend(seg(0xDB, &[seed; 65]));
    b.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
    b.extend_from_slice(&[0x12, seed, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9]);
    b
}

fn photo(name: &str, bytes: Vec<u8>) -> Upload {
    Upload {
        file_name: Some(name.into()),
        bytes,
    }
}

fn leak(w: &World) -> NewRequestBody {
    NewRequestBody {
        place: "flat".into(),
        problem: "water.leak".into(),
        text: "Течёт труба под раковиной".into(),
        premise_id: Some(w.flat),
        house_id: None,
    }
}

fn jobs(conn: &Connection, kind: &str) -> Vec<serde_json::Value> {
    let mut stmt = conn
        .prepare("SELECT payload FROM outbox WHERE kind = ?1 ORDER BY id")
        .unwrap();
    stmt.query_map([kind], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|p| serde_json::from_str(&p.unwrap()).unwrap())
        .collect()
}

fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// Files under `<data>/attachments`, the temporary directory included.
fn stored_files(dir: &Path) -> usize {
    fn walk(p: &Path) -> usize {
        std::fs::read_dir(p).map_or(0, |entries| {
            entries
                .map(|e| e.unwrap().path())
                .map(|p| if p.is_dir() { walk(&p) } else { 1 })
                .sum()
        })
    }
    walk(&dir.join("attachments"))
}

fn who(w: &World, user_id: i64) -> StaffMember {
    StaffMember {
        user_id,
        organisation_id: w.org,
    }
}

fn code(e: RequestError) -> &'static str {
    e.code()
}

fn status(to: Status, reason: Option<&str>) -> StatusBody {
    StatusBody {
        status: to,
        reason: reason.map(str::to_string),
        deferred_until: None,
    }
}

#[test]
fn a_request_moves_through_its_lifecycle_and_the_resident_hears_of_each_change() {
    let w = world();
    let mut conn = w.store.conn().unwrap();
    let photos = [photo("IMG_1.jpg", jpeg(1)), photo("IMG_2.jpg", jpeg(2))];
    let card = api::file(&mut conn, &w.settings, w.anna, &leak(&w), &photos, NOW).unwrap();
    assert_eq!(card.number, "2026-000001");
    assert_eq!(card.status, Status::New);
    assert!(card.emergency);
    assert_eq!(card.deadline_at, Some(NOW + Duration::minutes(30)));
    assert_eq!(card.photos.len(), 2);
    assert_eq!(card.address, "г. Казань, ул. Баумана, д. 44");

    // The stored photos carry no location.
    for p in &card.photos {
        let file = api::photo(&conn, &w.settings, w.anna, card.id, p.id).unwrap();
        let bytes = std::fs::read(&file.path).unwrap();
        assert!(!bytes.windows(3).any(|x| x == b"GPS"));
        assert_eq!(file.mime, "image/jpeg");
    }

    let id = card.id;
    let at = NOW + Duration::minutes(5);
    staff::change_status(
        &mut conn,
        &w.settings,
        who(&w, 7),
        id,
        &status(Status::InWork, None),
        at,
    )
    .unwrap();
    let internal = StaffCommentBody {
        text: "Сантехник Иванов".into(),
        visible: false,
    };
    staff::comment(&mut conn, &w.settings, who(&w, 7), id, &internal, &[], at).unwrap();
    let visible = StaffCommentBody {
        text: "Мастер придёт до 12:00".into(),
        visible: true,
    };
    staff::comment(&mut conn, &w.settings, who(&w, 7), id, &visible, &[], at).unwrap();
    let own = CommentBody {
        text: "Жду".into()
    };
    api::comment(&mut conn, &w.settings, w.anna, id, &own, &[], at).unwrap();

    // Illegal: refused with a code, nothing written.
    let events_before = count(&conn, "request_events");
    let e = staff::change_status(
        &mut conn,
        &w.settings,
        who(&w, 7),
        id,
        &status(Status::Closed, None),
        at,
    )
    .unwrap_err();
    assert_eq!(code(e), "illegal_transition");
    assert_eq!(count(&conn, "request_events"), events_before);

    let done = staff::change_status(
        &mut conn,
        &w.settings,
        who(&w, 7),
        id,
        &status(Status::Done, Some("Заменили прокладку")),
        at,
    )
    .unwrap();
    assert_eq!(done.status, Status::Done);

    let sent: Vec<NotifyRequest> = jobs(&conn, "max.notify_request")
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
    let what: Vec<(&str, &str)> = sent
        .iter()
        .map(|n| (n.event.as_str(), n.status.as_str()))
        .collect();
    assert_eq!(
        what,
        [
            ("status", "in_work"),
            ("comment", "in_work"),
            ("status", "done")
        ],
        "one message per status change and per visible staff comment"
    );
    assert!(sent.iter().all(|n| n.person_id == w.anna));
    assert_eq!(sent[0].open_path, format!("/app/#/requests/{id}"));
    assert_eq!(sent[0].start_param, format!("request_{id}"));
    assert!(sent[2].message.contains("2026-000001"));
    assert!(sent[2].message.contains("Выполнена"));
    assert!(sent[2].message.contains("Заменили прокладку"));

    // The resident sees no internal note and no staff identity; staff see both.
    let mine = api::card(&conn, &w.settings, w.anna, id, at).unwrap();
    assert!(mine.events.iter().all(|e| e.visible && e.author.is_none()));
    assert!(!mine
        .events
        .iter()
        .any(|e| e.text.as_deref() == Some("Сантехник Иванов")));
    assert!(mine.can_reopen && mine.can_rate);
    let theirs = staff::card(&conn, &w.settings, w.org, id, at).unwrap();
    assert!(theirs
        .events
        .iter()
        .any(|e| e.author.as_deref() == Some("staff:7") && !e.visible));

    let rated = api::rate(
        &mut conn,
        &w.settings,
        w.anna,
        id,
        &RateBody {
            rating: 5,
            comment: None,
        },
        at,
    )
    .unwrap();
    assert_eq!(rated.rating, Some(5));
    let e = api::rate(
        &mut conn,
        &w.settings,
        w.anna,
        id,
        &RateBody {
            rating: 4,
            comment: None,
        },
        at,
    )
    .unwrap_err();
    assert_eq!(code(e), "already_rated");
}

#[test]
fn reopening_works_only_within_the_window() {
    let w = world();
    let mut conn = w.store.conn().unwrap();
    let body = NewRequestBody {
        problem: "intercom.broken".into(),
        text: "Домофон молчит".into(),
        ..leak(&w)
    };
    let id = api::file(&mut conn, &w.settings, w.anna, &body, &[], NOW)
        .unwrap()
        .id;
    let reopen = ReopenBody {
        reason: "Снова не работает".into(),
    };
    let e = api::reopen(&mut conn, &w.settings, w.anna, id, &reopen, NOW).unwrap_err();
    assert_eq!(code(e), "illegal_transition");

    staff::change_status(
        &mut conn,
        &w.settings,
        who(&w, 1),
        id,
        &status(Status::Done, None),
        NOW,
    )
    .unwrap();
    let late = NOW + Duration::days(14) + Duration::minutes(1);
    let e = api::reopen(&mut conn, &w.settings, w.anna, id, &reopen, late).unwrap_err();
    assert_eq!(code(e), "reopen_window_passed");

    let card = api::reopen(
        &mut conn,
        &w.settings,
        w.anna,
        id,
        &reopen,
        NOW + Duration::days(13),
    )
    .unwrap();
    assert_eq!(card.status, Status::Reopened);
    let last = card.events.last().unwrap();
    assert_eq!(last.author_role, "resident");
    assert_eq!(last.text.as_deref(), Some("Снова не работает"));
    assert_eq!(jobs(&conn, "max.notify_request").len(), 2);
}

#[test]
fn another_resident_or_another_uo_cannot_see_or_touch_a_request() {
    let w = world();
    let mut conn = w.store.conn().unwrap();
    let card = api::file(
        &mut conn,
        &w.settings,
        w.anna,
        &leak(&w),
        &[photo("a.jpg", jpeg(1))],
        NOW,
    )
    .unwrap();
    let photo_id = card.photos[0].id;

    let e = api::card(&conn, &w.settings, w.petr, card.id, NOW).unwrap_err();
    assert!(matches!(e, RequestError::NotFound));
    let comment = CommentBody {
        text: "чужой".into(),
    };
    let e = api::comment(&mut conn, &w.settings, w.petr, card.id, &comment, &[], NOW).unwrap_err();
    assert!(matches!(e, RequestError::NotFound));
    let e = api::photo(&conn, &w.settings, w.petr, card.id, photo_id).unwrap_err();
    assert!(matches!(e, RequestError::NotFound));
    assert!(api::list(&conn, w.petr, NOW).unwrap().requests.is_empty());

    let e = staff::card(&conn, &w.settings, w.other_org, card.id, NOW).unwrap_err();
    assert!(matches!(e, RequestError::NotFound));
    let e = staff::photo(&conn, &w.settings, w.other_org, card.id, photo_id).unwrap_err();
    assert!(matches!(e, RequestError::NotFound));
    assert!(staff::photo(&conn, &w.settings, w.org, card.id, photo_id).is_ok());

    // A photo of an internal staff note stays with staff.
    let note = StaffCommentBody {
        text: "Фото щитка для мастера".into(),
        visible: false,
    };
    let staff_card = staff::comment(
        &mut conn,
        &w.settings,
        who(&w, 4),
        card.id,
        &note,
        &[photo("shield.jpg", jpeg(7))],
        NOW,
    )
    .unwrap();
    let internal_photo = staff_card.photos.last().unwrap().id;
    assert_ne!(internal_photo, photo_id);
    let e = api::photo(&conn, &w.settings, w.anna, card.id, internal_photo).unwrap_err();
    assert!(matches!(e, RequestError::NotFound));
    let mine = api::card(&conn, &w.settings, w.anna, card.id, NOW).unwrap();
    assert_eq!(
        mine.photos.iter().map(|p| p.id).collect::<Vec<_>>(),
        [photo_id]
    );
    assert!(staff::photo(&conn, &w.settings, w.org, card.id, internal_photo).is_ok());

    // Filing for a premise one is not linked to is not-found as well.
    let e = api::file(&mut conn, &w.settings, w.petr, &leak(&w), &[], NOW).unwrap_err();
    assert!(matches!(e, RequestError::NotFound));
}

#[test]
fn bad_uploads_are_refused_and_leave_nothing_behind() {
    let w = world_with(|c| c.requests.max_photo_bytes = 200);
    let mut conn = w.store.conn().unwrap();
    let data = w.settings.data_dir.clone();
    let mut big = jpeg(1);
    big.splice(
        2..2,
        vec![0xFF, 0xE0, 0, 200].into_iter().chain(vec![0; 198]),
    );
    let cut = jpeg(1)[..40].to_vec();
    let cases: Vec<(Vec<Upload>, &str)> = vec![
        (vec![photo("big.jpg", big)], "photo_too_large"),
        (
            vec![photo("scan.jpg", b"%PDF-1.7\n1 0 obj".to_vec())],
            "unsupported_photo_type",
        ),
        (vec![photo("cut.jpg", cut)], "photo_truncated"),
        (
            (0..6).map(|i| photo("p.jpg", jpeg(i))).collect(),
            "too_many_photos",
        ),
        (
            vec![photo("../../etc/passwd.jpg", jpeg(1))],
            "bad_file_name",
        ),
        (
            vec![photo("ok.jpg", jpeg(1)), photo("..\\evil.jpg", jpeg(2))],
            "bad_file_name",
        ),
    ];
    for (uploads, expected) in cases {
        let e = api::file(&mut conn, &w.settings, w.anna, &leak(&w), &uploads, NOW).unwrap_err();
        assert_eq!(code(e), expected);
        assert_eq!(count(&conn, "requests"), 0, "{expected}: no request");
        assert_eq!(count(&conn, "attachments"), 0, "{expected}: no row");
        assert_eq!(stored_files(&data), 0, "{expected}: no file");
    }
    assert!(!data.parent().unwrap().join("etc").exists());

    // Five photos, then a sixth on its own.
    let five: Vec<Upload> = (0..5).map(|i| photo("p.jpg", jpeg(i))).collect();
    let card = api::file(&mut conn, &w.settings, w.anna, &leak(&w), &five, NOW).unwrap();
    assert_eq!(stored_files(&data), 5);
    let e = api::add_photos(
        &mut conn,
        &w.settings,
        w.anna,
        card.id,
        &[photo("6.jpg", jpeg(9))],
        NOW,
    )
    .unwrap_err();
    assert_eq!(code(e), "too_many_photos");
    assert_eq!(count(&conn, "attachments"), 5);
    assert_eq!(stored_files(&data), 5);
}

#[test]
fn anti_spam_limits_per_day_and_per_text() {
    let w = world_with(|c| c.requests.max_per_day = 3);
    let mut conn = w.store.conn().unwrap();
    let body = |text: &str| NewRequestBody {
        problem: "water.pressure".into(),
        text: text.into(),
        ..leak(&w)
    };
    api::file(
        &mut conn,
        &w.settings,
        w.anna,
        &body("Слабый напор"),
        &[],
        NOW,
    )
    .unwrap();
    api::file(
        &mut conn,
        &w.settings,
        w.anna,
        &body("слабый  напор!"),
        &[],
        NOW,
    )
    .unwrap();
    let e = api::file(
        &mut conn,
        &w.settings,
        w.anna,
        &body("Слабый напор."),
        &[],
        NOW,
    )
    .unwrap_err();
    assert_eq!(code(e), "duplicate_request");
    api::file(&mut conn, &w.settings, w.anna, &body("Нет воды"), &[], NOW).unwrap();
    let e = api::file(
        &mut conn,
        &w.settings,
        w.anna,
        &body("Совсем другое"),
        &[],
        NOW,
    )
    .unwrap_err();
    assert_eq!(code(e), "daily_limit");
    if let RequestError::Limited { message, .. } =
        api::file(&mut conn, &w.settings, w.anna, &body("x"), &[], NOW).unwrap_err()
    {
        assert!(message.contains("Сегодня"), "{message}");
    }

    // Midnight in Moscow opens a new day.
    let tomorrow = datetime!(2026-12-03 21:00 UTC);
    api::file(
        &mut conn,
        &w.settings,
        w.anna,
        &body("Совсем другое"),
        &[],
        tomorrow,
    )
    .unwrap();
}

#[test]
fn numbers_have_no_gaps_or_repeats_under_racing_writers() {
    let w = world_with(|c| c.requests.max_per_day = 1000);
    let per_thread = 25;
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let store = w.store.clone();
            let settings = w.settings.clone();
            let (anna, flat) = (w.anna, w.flat);
            std::thread::spawn(move || {
                let mut conn = store.conn().unwrap();
                (0..per_thread)
                    .map(|i| {
                        let body = NewRequestBody {
                            place: "flat".into(),
                            problem: "other.other".into(),
                            text: format!("поток {t} заявка {i}"),
                            premise_id: Some(flat),
                            house_id: None,
                        };
                        api::file(&mut conn, &settings, anna, &body, &[], NOW)
                            .unwrap()
                            .number
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut numbers: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=2 * per_thread)
        .map(|n| format!("2026-{n:06}"))
        .collect();
    assert_eq!(numbers, expected);

    // A new year starts again from 1; another УО has its own counter.
    let mut conn = w.store.conn().unwrap();
    let new_year = datetime!(2026-12-31 21:30 UTC);
    let card = api::file(&mut conn, &w.settings, w.anna, &leak(&w), &[], new_year).unwrap();
    assert_eq!(card.number, "2027-000001");
}

#[test]
fn the_queue_filters_and_sorts_by_deadline() {
    let w = world();
    let mut conn = w.store.conn().unwrap();
    let file = |conn: &mut Connection, problem: &str, text: &str| {
        let body = NewRequestBody {
            problem: problem.into(),
            text: text.into(),
            ..leak(&w)
        };
        api::file(conn, &w.settings, w.anna, &body, &[], NOW)
            .unwrap()
            .id
    };
    let ordinary = file(&mut conn, "water.pressure", "напор");
    let emergency = file(&mut conn, "water.leak", "течь");
    let query = file(&mut conn, "documents.certificate", "справка");

    let all = staff::queue(&conn, w.org, &QueueFilter::default(), NOW).unwrap();
    let ids: Vec<i64> = all.requests.iter().map(|r| r.id).collect();
    assert_eq!(ids, [emergency, ordinary, query], "soonest deadline first");

    let filter = QueueFilter {
        emergency: Some(true),
        ..QueueFilter::default()
    };
    assert_eq!(
        staff::queue(&conn, w.org, &filter, NOW)
            .unwrap()
            .requests
            .len(),
        1
    );
    let filter = QueueFilter {
        overdue: Some(true),
        ..QueueFilter::default()
    };
    let later = NOW + Duration::hours(1);
    let overdue = staff::queue(&conn, w.org, &filter, later).unwrap().requests;
    assert_eq!(
        overdue.iter().map(|r| r.id).collect::<Vec<_>>(),
        [emergency]
    );
    assert!(overdue[0].overdue);
    let filter = QueueFilter {
        category: Some("documents".into()),
        house_id: Some(w.house),
        source: Some("app".into()),
        ..QueueFilter::default()
    };
    let docs = staff::queue(&conn, w.org, &filter, NOW).unwrap().requests;
    assert_eq!(docs.iter().map(|r| r.id).collect::<Vec<_>>(), [query]);
    assert!(
        staff::queue(&conn, w.other_org, &QueueFilter::default(), NOW)
            .unwrap()
            .requests
            .is_empty()
    );

    // Deferring needs a date in the future and a reason, and shows the date to the
    // resident.
    let past = StatusBody {
        status: Status::Deferred,
        reason: Some("Ждём запчасть".into()),
        deferred_until: Some(date!(2026 - 12 - 03)),
    };
    let e =
        staff::change_status(&mut conn, &w.settings, who(&w, 3), ordinary, &past, NOW).unwrap_err();
    assert_eq!(code(e), "deferred_until_past");
    let defer = StatusBody {
        status: Status::Deferred,
        reason: Some("Ждём запчасть".into()),
        deferred_until: Some(date!(2026 - 12 - 20)),
    };
    let card =
        staff::change_status(&mut conn, &w.settings, who(&w, 3), ordinary, &defer, NOW).unwrap();
    assert_eq!(card.deferred_until.as_deref(), Some("2026-12-20"));
    assert!(card
        .events
        .last()
        .unwrap()
        .text
        .as_deref()
        .unwrap()
        .contains("20.12.2026"));
}

#[test]
fn gis_appeals_join_the_queue_once_and_answers_go_back() {
    let w = world();
    let mut conn = w.store.conn().unwrap();
    let appeal = PulledAppeal {
        organisation_id: w.org,
        appeal_guid: "0d2f9a3e-1111-4c2b-9a7e-5b1c2d3e4f50".into(),
        appeal_number: Some("63-2026-0042".into()),
        created_on: Some(date!(2026 - 12 - 02)),
        fias_house_guid: Some(FIAS.to_uppercase()),
        apartment_number: Some("12".into()),
        topic: Some("Содержание общего имущества".into()),
        text: "В подъезде не горит свет".into(),
        withdrawn: false,
    };
    let stray = PulledAppeal {
        appeal_guid: "0d2f9a3e-2222-4c2b-9a7e-5b1c2d3e4f50".into(),
        fias_house_guid: Some("00000000-0000-0000-0000-000000000000".into()),
        ..appeal.clone()
    };
    let report =
        gis::upsert_appeals(&mut conn, &w.settings, &[appeal.clone(), stray], NOW).unwrap();
    assert_eq!(report.created.len(), 1);
    assert_eq!(report.skipped[0].1, "unknown_house");
    let again =
        gis::upsert_appeals(&mut conn, &w.settings, std::slice::from_ref(&appeal), NOW).unwrap();
    assert_eq!(again.known, report.created);
    assert_eq!(count(&conn, "requests"), 1);

    let id = report.created[0];
    let filter = QueueFilter {
        source: Some("gis".into()),
        ..QueueFilter::default()
    };
    assert_eq!(
        staff::queue(&conn, w.org, &filter, NOW).unwrap().requests[0].id,
        id
    );

    staff::change_status(
        &mut conn,
        &w.settings,
        who(&w, 2),
        id,
        &status(Status::InWork, None),
        NOW,
    )
    .unwrap();
    staff::change_status(
        &mut conn,
        &w.settings,
        who(&w, 2),
        id,
        &status(Status::Done, Some("Лампы заменены")),
        NOW,
    )
    .unwrap();
    let answers: Vec<GisAnswer> = jobs(&conn, "gis.import_answer")
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[1].appeal_guid, appeal.appeal_guid);
    assert_eq!(answers[1].appeal_number.as_deref(), Some("63-2026-0042"));
    assert_eq!(answers[1].answer_text.as_deref(), Some("Лампы заменены"));
    assert!(answers[1].send_answer && !answers[0].send_answer);
    assert!(
        jobs(&conn, "max.notify_request").is_empty(),
        "no resident in MAX to tell"
    );

    // Withdrawn in ГИС ЖКХ while open: declined, without answering ГИС ЖКХ back.
    let second = PulledAppeal {
        appeal_guid: "0d2f9a3e-3333-4c2b-9a7e-5b1c2d3e4f50".into(),
        ..appeal.clone()
    };
    let id2 = gis::upsert_appeals(&mut conn, &w.settings, std::slice::from_ref(&second), NOW)
        .unwrap()
        .created[0];
    let withdrawn = PulledAppeal {
        withdrawn: true,
        ..second
    };
    gis::upsert_appeals(&mut conn, &w.settings, &[withdrawn], NOW).unwrap();
    let card = staff::card(&conn, &w.settings, w.org, id2, NOW).unwrap();
    assert_eq!(card.status, Status::Declined);
    assert_eq!(jobs(&conn, "gis.import_answer").len(), 2);
}

#[test]
fn done_requests_close_once_the_reopen_window_passes_and_uo_settings_apply() {
    let w = world();
    let mut conn = w.store.conn().unwrap();
    conn.execute(
        "UPDATE organisations SET settings = ?2 WHERE id = ?1",
        params![
            w.org,
            r#"{"requests": {"reopen_days": 3, "deadline_days": 2}}"#
        ],
    )
    .unwrap();
    let body = NewRequestBody {
        problem: "intercom.key".into(),
        text: "Нужен ключ".into(),
        ..leak(&w)
    };
    let card = api::file(&mut conn, &w.settings, w.anna, &body, &[], NOW).unwrap();
    // Thursday 3 Dec + 2 working days of this УО → Monday 7 Dec.
    assert_eq!(card.deadline_at, Some(datetime!(2026-12-07 23:59:59 +3)));
    let done = status(Status::Done, None);
    staff::change_status(&mut conn, &w.settings, who(&w, 1), card.id, &done, NOW).unwrap();

    let sweep = gosdom::domain::requests::sweep::close_expired;
    assert!(sweep(&mut conn, &w.settings, NOW + Duration::days(2))
        .unwrap()
        .is_empty());
    let closed = sweep(
        &mut conn,
        &w.settings,
        NOW + Duration::days(3) + Duration::hours(1),
    )
    .unwrap();
    assert_eq!(closed, [card.id]);
    let card = api::card(&conn, &w.settings, w.anna, card.id, NOW).unwrap();
    assert_eq!(card.status, Status::Closed);
    assert!(!card.can_reopen);
    assert_eq!(jobs(&conn, "max.notify_request").len(), 2);
}

#[test]
fn a_bad_extra_holiday_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[requests]\nextra_holidays = [\"2027-13-01\"]\n").unwrap();
    let err = gosdom::config::load(Some(&file), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("requests.extra_holidays"), "{err}");
    assert!(err.contains("YYYY-MM-DD"), "{err}");
    std::fs::write(&file, "[requests]\nextra_holidays = [\"2027-11-05\"]\n").unwrap();
    let loaded = gosdom::config::load(Some(&file), &[]).unwrap();
    let calendar = gosdom::domain::requests::Calendar::new(&loaded.config.requests);
    assert!(!calendar.is_working_day(date!(2027 - 11 - 05)));
}

#[test]
fn the_category_tree_and_its_search_as_the_mini_app_gets_them() {
    let tree = api::categories(None);
    let places: Vec<&str> = tree.places.iter().map(|p| p.code).collect();
    assert_eq!(
        places,
        ["flat", "entrance", "yard", "roof", "basement", "lift"]
    );
    assert!(tree.places[0].premise && !tree.places[1].premise);
    assert!(tree.hits.is_empty());
    let json = serde_json::to_value(api::categories(Some("пахнет газом"))).unwrap();
    assert_eq!(json["hits"][0]["problem"], "gas.smell");
    assert_eq!(json["hits"][0]["emergency"], true);
}
