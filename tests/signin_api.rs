//! The mini-app's sign-in through the HTTP API, in sandbox mode (demo data, sandbox ЕСИА):
//! launch data → session → ЕСИА → person → properties, and the refusals around it.

mod common;

use common::*;
use rocket::http::{ContentType, Status};
use serde_json::{json, Value};
use time::OffsetDateTime;

const VECTOR_HASH: &str = "f982406d90b118d8e90e26b33c5cec0cadd3fc30354f2955c75ff8e3d14d130d";
const VECTOR_USER: &str = r#"{"language_code":"ru","first_name":"Вася","last_name":"","photo_url":null,"username":null,"id":400}"#;

fn vector() -> String {
    format!(
        "auth_date=1733485316394&query_id=158b120b-7aa3-4a0f-a198-52ace06d0658&user={VECTOR_USER}&hash={VECTOR_HASH}"
    )
}

fn vector_time() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_733_485_316).unwrap() + time::Duration::minutes(5)
}

#[rocket::async_test]
async fn the_published_test_vector_opens_a_session_and_bad_launch_data_gets_401() {
    let h = harness_with(|_| {}, vector_time()).await;

    let (status, body) = h.post_session(&vector()).await;
    assert_eq!(status, Status::Ok, "{body}");
    let token = body["token"].as_str().unwrap();
    assert!(token.len() >= 40);
    assert_eq!(body["signed_in"], false);
    let (status, me) = h.get("/api/v1/me", token).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(me["first_name"], "Вася");

    let encoded: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("auth_date", "1733485316394")
        .append_pair("query_id", "158b120b-7aa3-4a0f-a198-52ace06d0658")
        .append_pair("user", VECTOR_USER)
        .append_pair("hash", VECTOR_HASH)
        .finish();
    assert_eq!(h.post_session(&encoded).await.0, Status::Ok);

    let cases = [
        (vector().replace("Вася", "Петя"), "init_data_bad_signature"),
        (
            vector().replace("\"id\":400", "\"id\":401"),
            "init_data_bad_signature",
        ),
        (
            format!("{}&query_id=other", vector()),
            "init_data_duplicate_key",
        ),
        (
            format!("{}&auth_date=1733485316394", vector()),
            "init_data_duplicate_key",
        ),
        (String::new(), "init_data_malformed"),
    ];
    for (data, code) in cases {
        let (status, body) = h.post_session(&data).await;
        assert_eq!(status, Status::Unauthorized, "{data}");
        assert_eq!(body["error"]["code"], code, "{data}");
        assert!(body["error"]["message"].as_str().unwrap().contains("MAX"));
    }

    h.clock.set(vector_time() + time::Duration::hours(2));
    let (status, body) = h.post_session(&vector()).await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(body["error"]["code"], "init_data_expired");

    h.clock.set(vector_time() - time::Duration::hours(1));
    let (status, body) = h.post_session(&vector()).await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(body["error"]["code"], "init_data_from_future");
}

#[rocket::async_test]
async fn the_freshness_window_is_configurable() {
    let h = harness_with(|c| c.max.launch_max_age_seconds = 60, now()).await;
    let data = launch_data(5, now() - time::Duration::minutes(2));
    let (status, body) = h.post_session(&data).await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(body["error"]["code"], "init_data_expired");
}

#[rocket::async_test]
async fn without_a_valid_session_the_api_answers_401() {
    let h = harness().await;
    for path in ["/api/v1/me", "/api/v1/properties", "/api/v1/properties/1"] {
        let res = h.client.get(path).dispatch().await;
        assert_eq!(res.status(), Status::Unauthorized, "{path}");
        let body: Value = res.into_json().await.unwrap();
        assert_eq!(body["error"]["code"], "session_missing");
        let (status, body) = h.get(path, "made-up").await;
        assert_eq!(status, Status::Unauthorized);
        assert_eq!(body["error"]["code"], "session_invalid");
    }
    let token = h.session(1).await;
    h.clock.advance(time::Duration::hours(13));
    let (status, body) = h.get("/api/v1/me", &token).await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(body["error"]["code"], "session_expired");
}

/// Runs the browser's part of the sandbox ЕСИА for `oid`; returns the callback response's
/// status and either the completion code or the error page.
async fn sandbox_esia(h: &Harness, token: &str, oid: &str) -> (Status, String) {
    let start = h.esia_start_link(token).await;
    let res = h.client.get(start).dispatch().await;
    let login = location(&res);
    assert!(login.starts_with("/dev/esia/login?"), "{login}");
    let state = query_value(&login, "state").unwrap();

    let page = h.client.get(login).dispatch().await;
    assert_eq!(page.status(), Status::Ok);
    let html = page.into_string().await.unwrap();
    assert!(html.contains("Смирнова Анна Викторовна") && html.contains("не подтверждена"));

    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("state", &state)
        .append_pair("oid", oid)
        .append_pair("decision", "allow")
        .finish();
    let res = h
        .client
        .post("/dev/esia/login")
        .header(ContentType::Form)
        .body(form)
        .dispatch()
        .await;
    let callback = location(&res);
    assert!(callback.starts_with("/auth/esia/callback?"), "{callback}");
    let res = h.client.get(callback).dispatch().await;
    let status = res.status();
    if status.class().is_redirection() {
        let back = location(&res);
        assert!(back.starts_with("/app/?esia="), "{back}");
        (status, query_value(&back, "esia").unwrap())
    } else {
        (status, res.into_string().await.unwrap_or_default())
    }
}

async fn signed_in(h: &Harness, user: i64, oid: &str) -> String {
    let token = h.session(user).await;
    let (status, code) = sandbox_esia(h, &token, oid).await;
    assert!(status.class().is_redirection(), "{status}: {code}");
    let (status, me) = h
        .post(
            "/api/v1/session/esia/complete",
            &token,
            json!({ "code": code }),
        )
        .await;
    assert_eq!(status, Status::Ok, "{me}");
    assert_eq!(me["signed_in"], true);
    token
}

#[rocket::async_test]
async fn a_confirmed_owner_signs_in_and_sees_exactly_their_premises() {
    let h = harness().await;
    let token = signed_in(&h, 11, "1000000001").await;

    let (status, me) = h.get("/api/v1/me", &token).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(me["person"]["name"], "Смирнова Анна Викторовна");
    assert_eq!(me["person"]["address_hint"]["premise_number"], "12");

    let (status, list) = h.get("/api/v1/properties", &token).await;
    assert_eq!(status, Status::Ok, "{list}");
    let items = list["items"].as_array().unwrap();
    let mut seen: Vec<(String, String)> = items
        .iter()
        .map(|p| {
            (
                p["address"].as_str().unwrap().to_string(),
                p["number"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (
                "г. Казань, ул. Баумана, д. 44".to_string(),
                "12".to_string()
            ),
            (
                "г. Казань, ул. Чистопольская, д. 19А".to_string(),
                "5".to_string()
            ),
        ]
    );
    for p in items {
        assert_eq!(p["status"], "linked");
        assert_eq!(p["share"], "1/2");
        assert!(p["organisation"].as_str().unwrap().contains("Демо-Дом"));
        assert!(p["area"].as_str().is_some());
    }

    let id = items[0]["id"].as_i64().unwrap();
    let (status, card) = h.get(&format!("/api/v1/properties/{id}"), &token).await;
    assert_eq!(status, Status::Ok, "{card}");
    assert_eq!(card["accounts"].as_array().unwrap().len(), 1);
    let meters = card["meters"].as_array().unwrap();
    assert!(meters.len() >= 4);
    assert!(meters.iter().all(|m| m["last_reading"]["t1"].is_string()));
    assert_eq!(card["open_requests"], 0);
    assert!(card["house_chat"].is_null());

    let (status, listed) = h
        .get(&format!("/api/v1/properties/{id}/meters"), &token)
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(listed["items"].as_array().unwrap().len(), meters.len());

    // The MAX user stays signed in on the next launch.
    let again = h.session(11).await;
    let (_, me) = h.get("/api/v1/me", &again).await;
    assert_eq!(me["signed_in"], true);

    // Sign-out ends the session and unbinds the person.
    let res = h
        .client
        .delete("/api/v1/session")
        .header(bearer(&token))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::NoContent);
    let (status, _) = h.get("/api/v1/me", &token).await;
    assert_eq!(status, Status::Unauthorized);
    let (_, me) = h.get("/api/v1/me", &again).await;
    assert_eq!(me["signed_in"], false);
    let (status, body) = h.get("/api/v1/properties", &again).await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(body["error"]["code"], "sign_in_required");
}

#[rocket::async_test]
async fn an_unconfirmed_account_is_refused_and_told_how_to_confirm() {
    let h = harness().await;
    let token = h.session(12).await;
    let (status, page) = sandbox_esia(&h, &token, "1000000003").await;
    assert_eq!(status, Status::Forbidden);
    assert!(page.contains("не подтверждена"), "{page}");
    assert!(page.contains("Подтвердите личность"), "{page}");
    assert!(page.contains("МФЦ"), "{page}");
    let (_, me) = h.get("/api/v1/me", &token).await;
    assert_eq!(me["signed_in"], false);
}

#[rocket::async_test]
async fn a_used_or_unknown_state_is_refused() {
    let h = harness().await;
    let res = h
        .client
        .get("/auth/esia/callback?code=x&state=nope")
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::BadRequest);
    assert!(res.into_string().await.unwrap().contains("ещё раз"));
    let res = h.client.get("/auth/esia/start?state=nope").dispatch().await;
    assert_eq!(res.status(), Status::BadRequest);

    let token = h.session(13).await;
    let start = h.esia_start_link(&token).await;
    let state = query_value(&start, "state").unwrap();
    let denied = format!(
        "/auth/esia/callback?state={state}&error=access_denied&error_description=ESIA-007004%3A+denied"
    );
    let res = h.client.get(denied.clone()).dispatch().await;
    assert_eq!(res.status(), Status::Forbidden);
    assert!(res
        .into_string()
        .await
        .unwrap()
        .contains("разрешите доступ"));
    let res = h.client.get(denied).dispatch().await;
    assert_eq!(res.status(), Status::BadRequest, "a state is used once");
}

#[rocket::async_test]
async fn a_forwarded_sign_in_cannot_bind_someone_else() {
    let h = harness().await;
    let attacker = h.session(21).await;
    let victim = h.session(22).await;
    // The attacker's start link, completed by the victim's ЕСИА login...
    let (status, code) = sandbox_esia(&h, &attacker, "1000000002").await;
    assert!(status.class().is_redirection());
    // ...lands in the victim's app, whose session is another MAX user: refused.
    let (status, body) = h
        .post(
            "/api/v1/session/esia/complete",
            &victim,
            json!({ "code": code }),
        )
        .await;
    assert_eq!(status, Status::NotFound, "{body}");
    let (_, me) = h.get("/api/v1/me", &victim).await;
    assert_eq!(me["signed_in"], false);
}

#[rocket::async_test]
async fn someone_elses_ids_answer_404_on_every_route() {
    let h = harness().await;
    let anna = signed_in(&h, 31, "1000000001").await;
    let petr = signed_in(&h, 32, "1000000002").await;

    let (_, list) = h.get("/api/v1/properties", &petr).await;
    let petr_ids: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(petr_ids.len(), 1);
    let not_owned_by_anyone = 3;

    for id in petr_ids
        .iter()
        .copied()
        .chain([not_owned_by_anyone, 999_999])
    {
        for path in [
            format!("/api/v1/properties/{id}"),
            format!("/api/v1/properties/{id}/meters"),
        ] {
            let (status, body) = h.get(&path, &anna).await;
            assert_eq!(status, Status::NotFound, "{path}: {body}");
            assert_eq!(body["error"]["code"], "not_found");
        }
    }
    // Petr sees his own.
    let (status, _) = h
        .get(&format!("/api/v1/properties/{}", petr_ids[0]), &petr)
        .await;
    assert_eq!(status, Status::Ok);
}

#[rocket::async_test]
async fn ownership_is_proven_with_an_account_and_premise_number() {
    let h = harness().await;
    let anna = signed_in(&h, 41, "1000000001").await;
    let (account, number): (String, String) = {
        let store = gosdom::store::Store::open(&gosdom::store::Options {
            data_dir: h.dir.path().to_path_buf(),
            synchronous: gosdom::config::Synchronous::Normal,
            pool_size: 1,
        })
        .unwrap();
        let conn = store.conn().unwrap();
        conn.query_row(
            "SELECT a.number, p.number FROM accounts a JOIN premises p ON p.id = a.premise_id \
             JOIN houses h ON h.id = p.house_id WHERE h.address LIKE '%Победы%' AND p.number = '7'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let (status, body) = h
        .post(
            "/api/v1/properties/claim",
            &anna,
            json!({"account": account, "premise_number": "8"}),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Осталось попыток: 4"));
    let (status, body) = h
        .post(
            "/api/v1/properties/claim",
            &anna,
            json!({"account": account, "premise_number": number}),
        )
        .await;
    assert_eq!(status, Status::Created, "{body}");
    let (_, list) = h.get("/api/v1/properties", &anna).await;
    let pending: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "pending")
        .collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["number"], "7");
}

#[rocket::async_test]
async fn the_object_card_shows_the_house_chat_when_one_is_bound() {
    let h = harness().await;
    let token = signed_in(&h, 51, "1000000002").await;
    let (_, list) = h.get("/api/v1/properties", &token).await;
    let property = &list["items"][0];
    let store = gosdom::store::Store::open(&gosdom::store::Options {
        data_dir: h.dir.path().to_path_buf(),
        synchronous: gosdom::config::Synchronous::Normal,
        pool_size: 1,
    })
    .unwrap();
    let house = property["house_id"].as_i64().unwrap();
    store
        .write_blocking(|tx| {
            tx.execute(
                "UPDATE houses SET max_chat_id = -7001 WHERE id = ?1",
                [house],
            )?;
            Ok(())
        })
        .unwrap();
    let (status, card) = h
        .get(&format!("/api/v1/properties/{}", property["id"]), &token)
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(card["house_chat"]["chat_id"], -7001);
    assert!(card["house_chat"]["link"].is_null());
}
