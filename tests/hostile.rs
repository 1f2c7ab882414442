//! Hostile input against house chats, announcements, the console's owners register and
//! ГИС ЖКХ appeals: every bad input is a 4xx with the error shape and a Russian message,
//! nothing half-written, nothing of another УО touched.

#[path = "common/chats.rs"]
mod chats_common;
mod common;
#[path = "common/hostile.rs"]
mod hostile_common;

use std::time::Duration;

use chats_common::*;
use gosdom::domain::requests::gis::{upsert_appeals, PulledAppeal};
use gosdom::domain::requests::Settings;
use hostile_common::*;
use rocket::http::{ContentType, Status};
use serde_json::json;

const CHAT: i64 = -70801090403050;

fn chat_of(h: &Hostile, house: i64) -> Option<i64> {
    h.store
        .conn()
        .unwrap()
        .query_row(
            "SELECT max_chat_id FROM houses WHERE id = ?1",
            [house],
            |r| r.get(0),
        )
        .unwrap()
}

/// The texts the bot sent to chat `chat`, oldest first.
fn chat_answers(h: &Hostile, chat: i64) -> Vec<String> {
    h.mock
        .messages()
        .iter()
        .filter(|m| m.query("chat_id") == Some(&chat.to_string()))
        .map(|m| m.body["text"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Sends `text` in group chat `chat` and waits for the bot's answer there.
async fn say_in_chat(h: &Hostile, chat: i64, text: &str, n: i64) -> String {
    let before = chat_answers(h, chat).len();
    deliver(&h.client, &group_message(chat, text, n)).await;
    common::wait_for(std::time::Duration::from_secs(10), "the answer", || {
        chat_answers(h, chat).len() > before
    })
    .await;
    chat_answers(h, chat)[before].clone()
}

async fn make_code(h: &Hostile, csrf: &str, house: i64) -> String {
    let (status, made) = console_post(
        &h.client,
        &format!("/houses/{house}/chat/code"),
        Some(csrf),
        json!({}),
    )
    .await;
    assert_eq!(status, Status::Created, "{made}");
    made["code"].as_str().unwrap().to_string()
}

/// Cyrillic capitals that look like Latin ones, as a code retyped on a Russian layout.
fn in_cyrillic(code: &str) -> String {
    code.chars()
        .map(|c| match c {
            'A' => 'А',
            'B' => 'В',
            'E' => 'Е',
            'K' => 'К',
            'M' => 'М',
            'H' => 'Н',
            'P' => 'Р',
            'C' => 'С',
            'T' => 'Т',
            'X' => 'Х',
            'Y' => 'У',
            other => other,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_retyped_in_cyrillic_after_a_capitalised_command_binds_the_chat() {
    let h = hostile().await;
    let _worker = h.service.jobs.clone().spawn();
    deliver(&h.client, &common::fixture("bot_added")).await;
    let csrf = h.sign_in("admin.a").await;
    // Codes without a look-alike letter say nothing about the mapping: make another.
    let mut code = make_code(&h, &csrf, h.house_a).await;
    while in_cyrillic(&code) == code {
        code = make_code(&h, &csrf, h.house_a).await;
    }
    let typed = format!("/Bind {}", in_cyrillic(&code).to_lowercase());
    let said = say_in_chat(&h, CHAT, &typed, 1).await;
    assert!(said.contains("привязан к дому"), "{said}");
    assert_eq!(chat_of(&h, h.house_a), Some(CHAT));

    // Used once: the same code again is refused.
    let said = say_in_chat(&h, CHAT, &format!("/bind {code}"), 2).await;
    assert!(said.contains("Код не подошёл"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_bind_from_a_chat_the_bot_was_removed_from_binds_nothing() {
    let h = hostile().await;
    let _worker = h.service.jobs.clone().spawn();
    deliver(&h.client, &common::fixture("bot_added")).await;
    let csrf = h.sign_in("admin.a").await;
    let code = make_code(&h, &csrf, h.house_a).await;
    let said = say_in_chat(&h, CHAT, &format!("/bind {code}"), 1).await;
    assert!(said.contains("привязан к дому"), "{said}");
    deliver(&h.client, &common::fixture("bot_removed")).await;
    common::wait_for(Duration::from_secs(10), "the removal", || {
        chat_of(&h, h.house_a).is_none()
    })
    .await;

    // A /bind that reaches the bot after its removal (a late delivery).
    let fresh = make_code(&h, &csrf, h.house_a).await;
    deliver(
        &h.client,
        &group_message(CHAT, &format!("/bind {fresh}"), 2),
    )
    .await;
    common::wait_for(Duration::from_secs(10), "the update handled", || {
        h.count("SELECT COUNT(*) FROM max_updates WHERE state = 'received'") == 0
    })
    .await;
    assert_eq!(
        chat_of(&h, h.house_a),
        None,
        "not bound to a chat without the bot"
    );
    let (_, listed) = console_get(&h.client, "/houses").await;
    let house = listed["houses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == h.house_a)
        .unwrap()
        .clone();
    assert!(
        !house["chat_removed_at"].is_null(),
        "the console still says so: {house}"
    );
    assert!(
        house["code_expires_at"].is_string(),
        "the fresh code still works: {house}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_is_not_bound_and_its_code_still_works_in_the_group() {
    let h = hostile().await;
    let _worker = h.service.jobs.clone().spawn();
    let channel = CHAT - 1;
    let mut added = common::fixture("bot_added");
    added["chat_id"] = json!(channel);
    added["is_channel"] = json!(true);
    added["timestamp"] = json!(added["timestamp"].as_i64().unwrap() - 1000);
    deliver(&h.client, &added).await;
    deliver(&h.client, &common::fixture("bot_added")).await;
    let csrf = h.sign_in("admin.a").await;
    let code = make_code(&h, &csrf, h.house_a).await;

    let said = say_in_chat(&h, channel, &format!("/bind {code}"), 1).await;
    assert!(said.contains("Это канал"), "{said}");
    assert_eq!(chat_of(&h, h.house_a), None, "a channel is no house chat");

    let said = say_in_chat(&h, CHAT, &format!("/bind {code}"), 2).await;
    assert!(said.contains("привязан к дому"), "{said}");
    assert_eq!(chat_of(&h, h.house_a), Some(CHAT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_binding_checks_the_chat_itself_and_names_a_wrong_chat_id() {
    let h = hostile().await;
    // 250 chats the bot is in; the console lists the newest 200.
    h.store
        .write_blocking(|tx| {
            for i in 0..250i64 {
                tx.execute(
                    "INSERT INTO max_chats (chat_id, title, status, created_at, updated_at) \
                     VALUES (?1, 'Чат', 'active', ?2, ?2)",
                    rusqlite::params![
                        -1000 - i,
                        format!("2026-11-01T00:{:02}:{:02}Z", i / 60, i % 60)
                    ],
                )?;
            }
            Ok(())
        })
        .unwrap();
    let csrf = h.sign_in("admin.a").await;
    let path = format!("/houses/{}/chat", h.house_a);
    let (status, body) =
        console_post(&h.client, &path, Some(&csrf), json!({"chat_id": -1000})).await;
    assert_eq!(status, Status::Ok, "the oldest free chat binds: {body}");
    assert_eq!(chat_of(&h, h.house_a), Some(-1000));

    for bad in [r#"{"chat_id": "12"}"#, "{}", r#"{"chat_id": 1.5}"#, "nope"] {
        let (status, body) = h.raw_post(&path, &csrf, ContentType::JSON, bad).await;
        assert_error(status, &body, "invalid_chat_id");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("chat_id"));
    }
    assert_eq!(chat_of(&h, h.house_a), Some(-1000), "unchanged");

    // Another УО's house stays invisible.
    let path = format!("/houses/{}/chat", h.house_b);
    let (status, body) =
        console_post(&h.client, &path, Some(&csrf), json!({"chat_id": -1001})).await;
    assert_error(status, &body, "not_found");
}

fn draft(house: i64, title: &str, text: &str) -> String {
    json!({"kind": "general", "title": title, "text": text, "houses": [house]}).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_length_announcement_in_any_script_is_taken_and_a_huge_body_is_413() {
    let h = hostile().await;
    let csrf = h.sign_in("op.a").await;
    for (title, text) in [
        ("Эмодзи", "😀".repeat(3000)),
        ("Тире", "—".repeat(3000)),
        ("Кириллица", "Жильцы, ".repeat(375)),
    ] {
        let (status, body) = h
            .raw_post(
                "/announcements",
                &csrf,
                ContentType::JSON,
                draft(h.house_a, title, &text),
            )
            .await;
        assert_eq!(status, Status::Created, "{title}: {body}");
    }
    let (status, body) = h
        .raw_post(
            "/announcements",
            &csrf,
            ContentType::JSON,
            draft(h.house_a, "Много", &"x".repeat(2_000_000)),
        )
        .await;
    assert_error(status, &body, "too_large");
    let (status, body) = h
        .raw_post(
            "/announcements",
            &csrf,
            ContentType::JSON,
            b"\xff\xfe{".to_vec(),
        )
        .await;
    assert_error(status, &body, "invalid_body");
    assert_eq!(h.count("SELECT COUNT(*) FROM announcements"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_in_an_announcement_are_refused_with_the_field_named() {
    let h = hostile().await;
    let csrf = h.sign_in("op.a").await;
    for (title, text, code) in [
        ("Свет\u{0}", "Отключат.", "invalid_title"),
        ("Свет\nи вода", "Отключат.", "invalid_title"),
        ("Свет", "Отключат\u{7}\u{1b}[2J.", "invalid_text"),
        ("Свет", "Отключат\u{202e}.\u{85}", "invalid_text"),
    ] {
        let (status, body) = h
            .raw_post(
                "/announcements",
                &csrf,
                ContentType::JSON,
                draft(h.house_a, title, text),
            )
            .await;
        assert_error(status, &body, code);
    }
    assert_eq!(
        h.count("SELECT COUNT(*) FROM announcements"),
        0,
        "nothing written"
    );
    // Lines and tabs are text.
    let (status, body) = h
        .raw_post(
            "/announcements",
            &csrf,
            ContentType::JSON,
            draft(h.house_a, "Свет", "Во вторник:\r\n\t10:00–12:00"),
        )
        .await;
    assert_eq!(status, Status::Created, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_click_makes_one_announcement_and_a_second_cancel_says_it_is_cancelled() {
    let h = hostile().await;
    let csrf = h.sign_in("op.a").await;
    let later = (time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let body = json!({"kind": "emergency", "title": "Прорыв трубы", "text": "Вода отключена.",
        "houses": [h.house_a], "send_at": later})
    .to_string();
    let (status, first) = h
        .raw_post("/announcements", &csrf, ContentType::JSON, body.clone())
        .await;
    assert_eq!(status, Status::Created, "{first}");
    let (status, second) = h
        .raw_post("/announcements", &csrf, ContentType::JSON, body.clone())
        .await;
    assert_error(status, &second, "repeated");
    assert_eq!(h.count("SELECT COUNT(*) FROM announcements"), 1);
    assert_eq!(
        h.count("SELECT COUNT(*) FROM outbox WHERE kind = 'announcements.fan_out'"),
        1
    );

    // The same text to other houses is another announcement.
    let other_house: i64 = h
        .store
        .conn()
        .unwrap()
        .query_row(
            "SELECT MAX(id) FROM houses WHERE organisation_id = ?1",
            [h.org_a],
            |r| r.get(0),
        )
        .unwrap();
    assert_ne!(other_house, h.house_a);
    let elsewhere = json!({"kind": "emergency", "title": "Прорыв трубы", "text": "Вода отключена.",
        "houses": [other_house], "send_at": later})
    .to_string();
    let (status, made) = h
        .raw_post("/announcements", &csrf, ContentType::JSON, elsewhere)
        .await;
    assert_eq!(status, Status::Created, "{made}");

    let path = format!("/announcements/{}/cancel", first["id"]);
    let (status, _) = console_post(&h.client, &path, Some(&csrf), json!({})).await;
    assert_eq!(status, Status::Ok);
    let (status, again) = console_post(&h.client, &path, Some(&csrf), json!({})).await;
    assert_error(status, &again, "already_cancelled");
    assert_eq!(
        h.count("SELECT COUNT(*) FROM audit_log WHERE action = 'announcement.cancel'"),
        1
    );
    // Once cancelled, writing it again is allowed.
    let (status, made) = h
        .raw_post("/announcements", &csrf, ContentType::JSON, body)
        .await;
    assert_eq!(status, Status::Created, "{made}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_register_file_of_only_a_byte_order_mark_is_empty() {
    let h = hostile().await;
    let csrf = h.sign_in("admin.a").await;
    let csv = ContentType::new("text", "csv");
    for body in ["\u{feff}", "\u{feff}\r\n\r\n", " \n"] {
        let (status, got) = h
            .raw_post("/register/imports?kind=owners", &csrf, csv.clone(), body)
            .await;
        assert_error(status, &got, "empty_file");
    }
    assert_eq!(h.count("SELECT COUNT(*) FROM register_imports"), 0);
}

fn appeal(organisation_id: i64, guid: &str, fias: &str, text: &str) -> PulledAppeal {
    PulledAppeal {
        organisation_id,
        appeal_guid: guid.into(),
        appeal_number: Some("63-2026-0001".into()),
        created_on: None,
        fias_house_guid: Some(fias.into()),
        apartment_number: None,
        topic: None,
        text: text.into(),
        withdrawn: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_appeal_guid_in_other_case_or_from_another_uo_never_duplicates_or_touches_a_request() {
    let h = hostile().await;
    let settings = Settings::new(&h.service.app.config);
    let fias_a = gosdom::sandbox::demo::house_fias(0).unwrap();
    let guid = "0D2F9A3E-1111-4C2B-9A7E-5B1C2D3E4F50";
    let now = time::OffsetDateTime::now_utc();
    let mut conn = h.store.conn().unwrap();
    let made = upsert_appeals(
        &mut conn,
        &settings,
        &[appeal(h.org_a, guid, fias_a, "Не горит свет")],
        now,
    )
    .unwrap();
    assert_eq!(made.created.len(), 1);
    let id = made.created[0];

    // The same appeal with its GUID in lower case: known, not a second request.
    let again = upsert_appeals(
        &mut conn,
        &settings,
        &[appeal(
            h.org_a,
            &guid.to_lowercase(),
            fias_a,
            "Не горит свет",
        )],
        now,
    )
    .unwrap();
    assert_eq!(again.known, vec![id]);
    assert_eq!(
        h.count("SELECT COUNT(*) FROM requests WHERE source = 'gis'"),
        1
    );

    // УО B's export with that GUID (withdrawn, other text) leaves УО A's request alone.
    let foreign = PulledAppeal {
        withdrawn: true,
        ..appeal(
            h.org_b,
            guid,
            "11111111-2222-3333-4444-555555555555",
            "Чужой текст",
        )
    };
    let report = upsert_appeals(&mut conn, &settings, std::slice::from_ref(&foreign), now).unwrap();
    assert_eq!(
        report.skipped,
        vec![(guid.to_string(), "other_organisation".to_string())]
    );
    let (status, text): (String, String) = conn
        .query_row(
            "SELECT status, text FROM requests WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(status, "new");
    assert!(text.contains("Не горит свет"), "{text}");
    let report = upsert_appeals(
        &mut conn,
        &settings,
        &[PulledAppeal {
            withdrawn: false,
            ..foreign
        }],
        now,
    )
    .unwrap();
    assert!(
        report.updated.is_empty() && report.known.is_empty(),
        "{report:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_errors_are_russian_and_name_the_column_and_the_fix() {
    let h = hostile().await;
    let csrf = h.sign_in("admin.a").await;
    let owners = h.count("SELECT COUNT(*) FROM owners");
    let csv = ContentType::new("text", "csv");
    let fias = gosdom::sandbox::demo::house_fias(0).unwrap();
    for (kind, body, wanted) in [
        ("owners", "a,b,c\r\n1,2,3\r\n".to_string(), "house_fias_guid"),
        ("owners", "house_fias_guid,premise_number,full_name,colour\n".to_string(), "colour"),
        (
            "owners",
            format!("house_fias_guid;premise_number;full_name;birth_date\r\nnot-a-guid;1;Иванов;\r\n{fias};9999;Петров;01.01.1980\r\n{fias};1;Сидоров;\r\n{fias};1\r\n\"unterminated"),
            "в заголовке",
        ),
        (
            "owners",
            format!("house_fias_guid;premise_number;full_name;birth_date\r\nnot-a-guid;1;Иванов;\r\n{fias};9999;Петров;01.01.1980\r\n{fias};1;Сидоров;\r\n"),
            "house_fias_guid",
        ),
        ("meters", format!("house_fias_guid,premise_number,serial,resource,unit,digits\n{fias},1,A1,plutonium,kg,99\n"), "resource"),
    ] {
        let (status, got) = h
            .raw_post(&format!("/register/imports?kind={kind}"), &csrf, csv.clone(), body)
            .await;
        assert_error(status, &got, "import_rejected");
        let errors = got["import"]["errors"].as_array().unwrap();
        assert!(!errors.is_empty(), "{got}");
        for e in errors {
            let reason = e["reason"].as_str().unwrap();
            assert!(
                reason.chars().any(|c| ('а'..='я').contains(&c)),
                "an English reason for operators: {reason}"
            );
        }
        assert!(got.to_string().contains(wanted), "{got}");
    }
    assert_eq!(
        h.count("SELECT COUNT(*) FROM owners"),
        owners,
        "nothing half-written"
    );
}

async fn place_appeal(h: &common::Harness, form: &str) -> (Status, serde_json::Value) {
    let res = h
        .client
        .post("/dev/gis/appeals")
        .header(ContentType::Form)
        .body(form)
        .dispatch()
        .await;
    let status = res.status();
    (status, res.into_json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_appeals_refuse_bad_input_with_the_error_shape_and_place_nothing() {
    let h = common::harness().await;
    let (status, body) = place_appeal(&h, "text=%20%20").await;
    assert_error(status, &body, "text_required");
    let (status, body) = place_appeal(&h, "topic=x").await;
    assert_error(status, &body, "invalid_body");
    // Changing an appeal the sandbox never had places nothing.
    let (status, body) = place_appeal(
        &h,
        "guid=00000000-0000-0000-0000-000000000000&text=Новый%20текст&withdrawn=true",
    )
    .await;
    assert_error(status, &body, "appeal_not_found");
    let listed: serde_json::Value = h
        .client
        .get("/dev/gis/appeals")
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));

    // A placed appeal is changed by its GUID in any letter case, not placed twice.
    let (status, placed) = place_appeal(&h, "text=Не%20горит%20свет").await;
    assert_eq!(status, Status::Ok, "{placed}");
    let guid = placed["guid"].as_str().unwrap().to_uppercase();
    let (status, changed) = place_appeal(
        &h,
        &format!("guid={guid}&text=Свет%20не%20горит%20третий%20день"),
    )
    .await;
    assert_eq!(status, Status::Ok, "{changed}");
    assert_eq!(changed["guid"], placed["guid"]);
    let listed: serde_json::Value = h
        .client
        .get("/dev/gis/appeals")
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_time_well_past_or_an_outage_already_over_is_refused() {
    let h = hostile().await;
    let csrf = h.sign_in("op.a").await;
    let now = time::OffsetDateTime::now_utc();
    let hours = |n: i64| rfc3339(now + time::Duration::hours(n));
    for (body, code) in [
        (
            json!({"kind": "general", "title": "Собрание", "text": "В субботу.",
                "houses": [h.house_a], "send_at": "2025-12-03T09:00:00Z"}),
            "invalid_send_at",
        ),
        (
            json!({"kind": "outage", "title": "Вода", "text": "Ремонт.", "houses": [h.house_a],
                "starts_at": hours(-5), "ends_at": hours(-2)}),
            "invalid_period",
        ),
        (
            json!({"kind": "outage", "title": "Вода", "text": "Ремонт.", "houses": [h.house_a],
                "starts_at": hours(2), "ends_at": hours(4), "send_at": hours(6)}),
            "invalid_period",
        ),
    ] {
        let (status, got) = console_post(&h.client, "/announcements", Some(&csrf), body).await;
        assert_error(status, &got, code);
    }
    assert_eq!(h.count("SELECT COUNT(*) FROM announcements"), 0);

    // A minute late is still "now"; an outage under way is still news.
    for body in [
        json!({"kind": "general", "title": "Собрание", "text": "В субботу.",
            "houses": [h.house_a], "send_at": rfc3339(now - time::Duration::minutes(1))}),
        json!({"kind": "outage", "title": "Вода", "text": "Ремонт.", "houses": [h.house_a],
            "starts_at": hours(-1), "ends_at": hours(3)}),
    ] {
        let (status, got) = console_post(&h.client, "/announcements", Some(&csrf), body).await;
        assert_eq!(status, Status::Created, "{got}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_simultaneous_identical_announcements_make_one() {
    let h = hostile().await;
    let csrf = h.sign_in("op.a").await;
    let body = json!({"kind": "emergency", "title": "Прорыв трубы", "text": "Вода отключена.",
        "houses": [h.house_a]})
    .to_string();
    let (a, b) = tokio::join!(
        h.raw_post("/announcements", &csrf, ContentType::JSON, body.clone()),
        h.raw_post("/announcements", &csrf, ContentType::JSON, body.clone()),
    );
    let mut statuses = [a.0.code, b.0.code];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{a:?} {b:?}");
    assert_eq!(h.count("SELECT COUNT(*) FROM announcements"), 1);
}
