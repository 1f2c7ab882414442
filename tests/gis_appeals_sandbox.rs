//! Appeals end to end in sandbox mode (issue #7): an appeal placed in the sandbox ГИС ЖКХ
//! is pulled with exportAppeal into the console queue, marked as from ГИС ЖКХ; pulling it
//! again changes nothing, a changed text updates it; staff work it through the staff API
//! and every step goes back as an XSD-valid importAnswer that the sandbox records; a
//! refusal by ГИС ЖКХ shows in the exchange screen as a failed job with the reason.

mod common;
#[path = "common/gisflow.rs"]
mod gisflow;

use common::xmllint_validate;
use gosdom::domain::console::Role;
use rocket::http::Status;
use serde_json::json;
use time::Duration;

const APPEALS_XSD: &str = "appeals/hcs-appeals-types.xsd";

#[rocket::async_test]
async fn an_appeal_from_gis_is_worked_in_the_console_and_answered_back() {
    let live = gisflow::start(common::now(), |_| {}).await;
    let org = live.demo_organisation();
    let csrf = live.staff("dispatcher", Role::Operator).await;

    // A resident files an appeal in ГИС ЖКХ.
    let placed = live
        .dev_post(
            "/dev/gis/appeals",
            &[
                ("topic", "Освещение"),
                ("text", "В третьем подъезде не горит свет на лестнице"),
            ],
        )
        .await;
    let guid = placed["guid"].as_str().unwrap().to_string();

    // The scheduled pull brings it into the queue, marked as from ГИС ЖКХ.
    let q = || async {
        let (status, queue) = live.staff_get("/requests?source=gis").await;
        assert_eq!(status, Status::Ok, "{queue}");
        queue["requests"].as_array().unwrap().clone()
    };
    live.advance_until(
        "the appeal in the queue",
        Duration::seconds(30),
        60,
        || async { !q().await.is_empty() },
    )
    .await;
    let queue = q().await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["source"], "gis");
    assert_eq!(queue[0]["status"], "new");
    let id = queue[0]["id"].as_i64().unwrap();
    let (_, card) = live.staff_get(&format!("/requests/{id}")).await;
    assert!(
        card.to_string().contains("не горит свет"),
        "the card shows the appeal's text: {card}"
    );

    // Later pulls ask only from the watermark on, and change nothing.
    let pulls = || {
        live.count(
            "SELECT COUNT(*) FROM gis_messages WHERE operation = 'exportAppeal' \
             AND state = 'done' AND consumer_ref NOT LIKE '%:open'",
        )
    };
    let first = pulls();
    live.advance_until("two more pulls", Duration::minutes(5), 60, || async {
        pulls() >= first + 2
    })
    .await;
    assert_eq!(q().await.len(), 1, "pulling again adds nothing");
    assert_eq!(
        live.count(&format!(
            "SELECT COUNT(*) FROM request_events WHERE request_id = {id}"
        )),
        1,
        "pulling again writes no event"
    );
    let exports = live.received("exportAppeal").await;
    assert!(exports.iter().all(|e| e["valid"] == true), "{exports:?}");
    let watermark: String = live
        .store
        .conn()
        .unwrap()
        .query_row(
            "SELECT pulled_to FROM gis_appeal_pulls WHERE organisation_id = ?1",
            [org],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(watermark, "2027-01-15");

    // The resident changes the text in ГИС ЖКХ: the open request follows.
    live.dev_post(
        "/dev/gis/appeals",
        &[
            ("guid", &guid),
            (
                "text",
                "В третьем подъезде не горит свет на лестнице и у лифта",
            ),
        ],
    )
    .await;
    live.advance_until("the changed text", Duration::minutes(5), 60, || async {
        let (_, card) = live.staff_get(&format!("/requests/{id}")).await;
        card.to_string().contains("у лифта")
    })
    .await;
    assert_eq!(q().await.len(), 1);

    // Staff take it into work and finish it; each step goes back to ГИС ЖКХ.
    let (status, body) = live
        .staff_post(
            &format!("/requests/{id}/status"),
            &csrf,
            json!({"status": "in_work"}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    let answers = || async { live.received("importAnswer").await };
    live.advance_until(
        "the first importAnswer",
        Duration::seconds(30),
        60,
        || async { !answers().await.is_empty() },
    )
    .await;
    let (status, body) = live
        .staff_post(
            &format!("/requests/{id}/status"),
            &csrf,
            json!({"status": "done", "reason": "Лампы заменены, свет есть."}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    live.advance_until(
        "both answers accepted",
        Duration::seconds(30),
        60,
        || async {
            live.count(
                "SELECT COUNT(*) FROM outbox WHERE kind = 'gis.import_answer' AND state = 'done'",
            ) >= 2
        },
    )
    .await;
    let answers = answers().await;
    assert_eq!(answers.len(), 2, "{answers:?}");
    for answer in &answers {
        assert_eq!(answer["valid"], true, "{answer}");
        let body = answer["body"].as_str().unwrap();
        xmllint_validate(APPEALS_XSD, body).unwrap();
        assert!(body.contains(&guid));
    }
    let performer = answers[0]["body"].as_str().unwrap();
    assert!(performer.contains("Performer"), "{performer}");
    let done = answers[1]["body"].as_str().unwrap();
    assert!(done.contains("Лампы заменены, свет есть."), "{done}");
    assert!(done.contains("SendAnswer"), "{done}");
}

#[rocket::async_test]
async fn a_refused_answer_shows_in_the_exchange_screen_with_the_reason() {
    let live = gisflow::start(common::now(), |_| {}).await;
    let csrf = live.staff("dispatcher", Role::Operator).await;
    live.dev_post(
        "/dev/gis/appeals",
        &[("text", "Протекает крыша над последним этажом")],
    )
    .await;
    live.advance_until(
        "the appeal in the queue",
        Duration::seconds(30),
        60,
        || async { live.count("SELECT COUNT(*) FROM requests WHERE source = 'gis'") == 1 },
    )
    .await;
    let id = live.count("SELECT id FROM requests WHERE source = 'gis'");
    // Nothing else is due now: the next send is the answer, and ГИС ЖКХ refuses it.
    let now = gosdom::store::ts(live.now());
    live.wait_until("a quiet exchange", 30, || async {
        live.count("SELECT COUNT(*) FROM gis_messages WHERE state NOT IN ('done', 'failed')") == 0
            && live.count(&format!(
                "SELECT COUNT(*) FROM outbox WHERE kind LIKE 'gis.%' \
                 AND (state = 'running' OR (state = 'pending' AND run_at <= '{now}'))"
            )) == 0
    })
    .await;
    live.dev_post("/dev/gis/fault", &[("code", "AUT011003")])
        .await;
    let (status, body) = live
        .staff_post(
            &format!("/requests/{id}/status"),
            &csrf,
            json!({"status": "deferred", "reason": "Ждём подрядчика",
                   "deferred_until": "2027-02-01"}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    live.wait_until("the refused message", 30, || async {
        live.count(
            "SELECT COUNT(*) FROM gis_messages WHERE operation = 'importAnswer' \
             AND state = 'failed'",
        ) == 1
    })
    .await;
    live.advance_until(
        "the failed answer job",
        Duration::seconds(30),
        60,
        || async {
            live.count(
                "SELECT COUNT(*) FROM outbox WHERE kind = 'gis.import_answer' AND state = 'failed'",
            ) == 1
        },
    )
    .await;

    // The УО's admin (signing in replaces the dispatcher's session) reads the exchange.
    live.staff("admin", Role::Admin).await;
    let (status, exchange) = live.staff_get("/exchange").await;
    assert_eq!(status, Status::Ok, "{exchange}");
    let failed = exchange["failed"].as_array().unwrap();
    let job = failed
        .iter()
        .find(|j| j["kind"] == "gis.import_answer")
        .unwrap_or_else(|| panic!("{exchange}"));
    let reason = job["reason"].as_str().unwrap();
    assert!(reason.contains("AUT011003"), "{reason}");
}
