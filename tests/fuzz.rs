//! Property tests (proptest) on every input gosdom takes from outside: MAX webhook bodies,
//! mini-app launch data, CSV imports, typed meter values and ГИС ЖКХ SOAP answers. Each
//! holds for arbitrary input: no panic, an answer of the documented kind.
//! Cases per property: `GOSDOM_FUZZ_CASES` (default 64); the full run uses 5000:
//! `GOSDOM_FUZZ_CASES=5000 cargo test --release --test fuzz`.

mod common;

use gosdom::bot::update::Update;
use gosdom::config::{Secret, Synchronous};
use gosdom::connectors::gis::ops::{appeals, house, metering, nsi};
use gosdom::connectors::gis::xml;
use gosdom::connectors::max::launch;
use gosdom::connectors::registry::import::{self, ImportError, Kind};
use gosdom::domain::readings::Value as Reading;
use gosdom::store::{Options, Store};
use proptest::prelude::*;
use rocket::http::{ContentType, Header, Status};
use rocket::local::blocking::Client;
use serde_json::{json, Value};

fn cases() -> u32 {
    std::env::var("GOSDOM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Keys MAX updates use, so that generated objects reach the parser's branches.
const KEYS: &[&str] = &[
    "update_type",
    "timestamp",
    "message",
    "user",
    "user_id",
    "chat_id",
    "callback",
    "payload",
    "body",
    "text",
    "sender",
    "recipient",
    "chat_type",
    "first_name",
    "name",
    "is_bot",
    "inviter_id",
    "admin_id",
    "mid",
    "seq",
    "callback_id",
    "start_payload",
    "is_channel",
    "link",
    "attachments",
    "type",
    "username",
];
const UPDATE_TYPES: &[&str] = &[
    "bot_started",
    "bot_added",
    "bot_removed",
    "message_created",
    "message_callback",
    "user_added",
    "user_removed",
    "chat_title_changed",
    "message_edited",
    "",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(UPDATE_TYPES).prop_map(|s| json!(s)),
        ".{0,12}".prop_map(Value::String),
        any::<i64>().prop_map(|n| json!(n.to_string())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

/// A real update with one field replaced by something arbitrary.
fn mutated_fixture() -> impl Strategy<Value = Value> {
    let fixtures: Vec<Value> = common::all_fixtures()
        .into_iter()
        .map(|(_, body)| serde_json::from_str(&body).unwrap())
        .collect();
    (
        prop::sample::select(fixtures),
        any::<prop::sample::Index>(),
        json_value(),
    )
        .prop_map(|(mut update, at, replacement)| {
            let mut pointers = Vec::new();
            collect_pointers(&update, String::new(), &mut pointers);
            let pointer = at.get(&pointers).clone();
            if let Some(slot) = update.pointer_mut(&pointer) {
                *slot = replacement;
            }
            update
        })
}

fn collect_pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                collect_pointers(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_json_is_read_as_an_update_or_ignored(value in prop_oneof![json_value(), mutated_fixture()]) {
        if let Some(update) = Update::parse(&value) {
            let _ = update.dedup_key();
            let _ = update.in_dialog();
            prop_assert_eq!(Update::parse(&value).map(|u| u.dedup_key()), Some(update.dedup_key()));
        }
    }
}

fn webhook_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        mutated_fixture().prop_map(|v| v.to_string().into_bytes()),
        // A fresh timestamp, so that the update is not a duplicate and reaches the bot.
        (mutated_fixture(), any::<u32>()).prop_map(|(mut v, t)| {
            if let Some(stamp) = v.get_mut("timestamp") {
                *stamp = json!(1_775_000_000_000i64 + i64::from(t));
            }
            v.to_string().into_bytes()
        }),
        mutated_fixture().prop_map(|v| {
            let mut text = v.to_string().into_bytes();
            text.truncate(text.len() / 2);
            text
        }),
    ]
}

#[test]
fn the_webhook_answers_any_body_without_a_server_error() {
    let dir = tempfile::tempdir().unwrap();
    let closed = format!("http://127.0.0.1:{}", common::closed_port());
    let service = common::service(common::config(dir.path(), &closed));
    let client = Client::untracked(service.rocket()).unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(&webhook_body(), |body| {
            let status = client
                .post("/bot/webhook")
                .header(ContentType::JSON)
                .header(Header::new("X-Max-Bot-Api-Secret", common::SECRET))
                .body(body)
                .dispatch()
                .status();
            prop_assert!(
                status == Status::Ok || (400..500).contains(&status.code),
                "webhook answered {}",
                status
            );
            Ok(())
        })
        .unwrap();

    // The bot then handles what was stored: no update, however odd, breaks its job.
    let store = service.app.store.clone();
    let count = |state: &str| -> i64 {
        store
            .conn()
            .unwrap()
            .query_row(
                &format!(
                    "SELECT COUNT(*) FROM outbox WHERE kind = 'max.update' AND state IN ({state})"
                ),
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let worker = {
        let _inside = runtime.enter();
        service.jobs.clone().spawn()
    };
    let handled = common::wait_until(std::time::Duration::from_secs(60), || {
        count("'pending', 'running'") == 0
    });
    worker.abort();
    let failed: Vec<String> = store
        .conn()
        .unwrap()
        .prepare("SELECT last_error FROM outbox WHERE kind = 'max.update' AND state = 'failed'")
        .unwrap()
        .query_map([], |r| r.get::<_, Option<String>>(0))
        .unwrap()
        .map(|r| r.unwrap().unwrap_or_default())
        .collect();
    assert!(
        handled,
        "updates left unhandled: {}",
        count("'pending', 'running'")
    );
    assert!(failed.is_empty(), "update jobs failed: {failed:?}");
    eprintln!(
        "webhook fuzz: {} updates handled by the bot",
        count("'done'")
    );
    assert!(count("'done'") > 0, "no update reached the bot");
}

const BOT: &str = "fuzz-bot-token";

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_launch_data_is_refused_or_verified(raw in prop_oneof![
        ".{0,200}",
        "[a-z_]{1,10}=[^&]{0,30}(&[a-z_]{1,10}=[^&]{0,30}){0,5}",
    ]) {
        let _ = launch::verify(&raw, BOT, now(), time::Duration::hours(1));
    }

    #[test]
    fn signed_launch_data_verifies_and_any_change_to_it_is_refused(
        id in any::<i64>(),
        name in ".{0,20}",
        age in 0i64..3600,
        start in proptest::option::of("[a-zA-Z0-9_]{0,20}"),
        flip in any::<prop::sample::Index>(),
    ) {
        let mut pairs = vec![
            ("auth_date", (now().unix_timestamp() - age).to_string()),
            ("user", json!({"id": id, "first_name": name}).to_string()),
        ];
        if let Some(start) = &start {
            pairs.push(("start_param", start.clone()));
        }
        let raw = launch::sign(&pairs, BOT);
        let checked = launch::verify(&raw, BOT, now(), time::Duration::hours(1));
        prop_assert!(checked.is_ok(), "{:?}", checked.err());
        let checked = checked.unwrap();
        prop_assert_eq!(checked.user.id, id);
        prop_assert_eq!(checked.start_param, start);
        prop_assert!(launch::verify(&raw, "another-token", now(), time::Duration::hours(1)).is_err());

        // Changing one character of a value outside the hash is caught by the signature.
        let hash_at = raw.find("hash=").unwrap();
        let positions: Vec<usize> = raw
            .char_indices()
            .filter(|(i, c)| c.is_ascii_alphanumeric() && (*i < hash_at || *i > hash_at + 4 + 64))
            .map(|(i, _)| i)
            .collect();
        let at = *flip.get(&positions);
        let original = raw.as_bytes()[at];
        let replacement = if original == b'0' { b'1' } else { b'0' };
        let mut tampered = raw.clone().into_bytes();
        tampered[at] = replacement;
        let tampered = String::from_utf8(tampered).unwrap();
        prop_assert!(launch::verify(&tampered, BOT, now(), time::Duration::hours(1)).is_err());
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_typed_value_is_a_canonical_reading_or_refused(typed in prop_oneof![
        ".{0,30}",
        "[ 0-9.,+-eE]{0,30}",
    ]) {
        if let Ok(value) = Reading::parse(&typed) {
            let text = value.to_string();
            let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
            prop_assert!(!int.is_empty() && int.len() <= 15 && int.bytes().all(|b| b.is_ascii_digit()), "{}", text);
            prop_assert!(frac.len() <= 7 && frac.bytes().all(|b| b.is_ascii_digit()), "{}", text);
            prop_assert_eq!(Reading::parse(&text).ok(), Some(value));
        }
    }

    #[test]
    fn every_value_in_gis_format_is_accepted_exactly(
        int in "[0-9]{1,15}",
        frac in proptest::option::of("[0-9]{1,7}"),
        comma in any::<bool>(),
    ) {
        let sep = if comma { "," } else { "." };
        let typed = match &frac { Some(f) => format!("{int}{sep}{f}"), None => int.clone() };
        let value = Reading::parse(&typed);
        prop_assert!(value.is_ok(), "{} refused", typed);
        let exact: rust_decimal::Decimal = typed.replace(',', ".").parse().unwrap();
        prop_assert_eq!(value.unwrap().decimal(), exact);
    }
}

fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Options {
        data_dir: dir.path().to_path_buf(),
        synchronous: Synchronous::Normal,
        pool_size: 2,
    })
    .unwrap();
    (store, dir)
}

fn register_size(store: &Store) -> Vec<i64> {
    let conn = store.conn().unwrap();
    ["houses", "premises", "accounts", "owners", "meters"]
        .iter()
        .map(|t| {
            conn.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))
                .unwrap()
        })
        .collect()
}

const FIAS: &str = "0c5b2444-70a0-4932-980c-b4dc0d3f02b5";

/// One owners row of the sample register: mostly plausible fields, some arbitrary.
fn owners_row() -> impl Strategy<Value = String> {
    let garbage = prop_oneof![".{0,10}", Just(String::new()), Just("\"a;b\"".to_string())];
    (
        prop_oneof![3 => Just(FIAS.to_string()), 1 => garbage.clone()],
        prop_oneof![3 => "[1-3]", 1 => garbage.clone()],
        prop_oneof![3 => "[А-Я][а-я]{2,8} [А-Я][а-я]{2,8}", 1 => garbage.clone()],
        prop_oneof![
            "(19|20)[0-9]{2}-[01][0-9]-[0-3][0-9]",
            "[0-3][0-9]\\.[01][0-9]\\.19[0-9]{2}",
            garbage.clone()
        ],
        prop_oneof![
            "[0-9]{3}-[0-9]{3}-[0-9]{3} [0-9]{2}",
            Just(String::new()),
            garbage.clone()
        ],
        prop_oneof!["1/[1-4]", "0[.,][0-9]", Just(String::new()), garbage],
        0usize..3,
    )
        .prop_map(|(a, b, c, d, e, f, drop)| {
            let mut fields = vec![a, b, c, d, e, f];
            fields.truncate(6 - drop);
            fields.join(";")
        })
}

fn owners_csv() -> impl Strategy<Value = String> {
    let header = prop_oneof![
        4 => Just("house_fias_guid;premise_number;full_name;birth_date;snils;share".to_string()),
        1 => Just("house_fias_guid;premise_number;snils".to_string()),
        1 => ".{0,40}",
    ];
    (header, prop::collection::vec(owners_row(), 0..8))
        .prop_map(|(h, rows)| format!("{h}\n{}", rows.join("\n")))
}

fn sample(kind: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/docs/samples/{kind}.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn an_owners_import_is_whole_or_a_line_numbered_refusal(
        text in prop_oneof![owners_csv(), ".{0,300}"],
        kind in prop_oneof![4 => Just(Kind::Owners), 1 => prop::sample::select(vec![Kind::Houses, Kind::Accounts, Kind::Meters])],
    ) {
        let (store, _dir) = store();
        for (kind, name) in [(Kind::Houses, "houses"), (Kind::Accounts, "accounts")] {
            import::import_text(&store, kind, &sample(name), &Secret::new("k"), now()).unwrap();
        }
        let before = register_size(&store);
        match import::import_text(&store, kind, &text, &Secret::new("k"), now()) {
            Ok(report) => prop_assert!(report.rows <= text.lines().count()),
            Err(ImportError::Rows(errors)) => {
                prop_assert!(!errors.is_empty());
                let lines = text.lines().count() as u64 + 1;
                for e in &errors {
                    prop_assert!(e.line >= 1 && e.line <= lines, "line {} of {}", e.line, lines);
                }
                prop_assert_eq!(register_size(&store), before, "a refused file imported something");
            }
            Err(ImportError::Header(message)) => {
                prop_assert!(message.starts_with("line 1"), "{}", message);
                prop_assert_eq!(register_size(&store), before);
            }
            Err(other) => prop_assert!(false, "unexpected {}", other),
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_file_of_arbitrary_bytes_is_imported_whole_or_refused_with_a_reason(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..400),
            owners_csv().prop_map(|text| {
                // Valid UTF-8 with a few bytes flipped: often no longer UTF-8.
                let mut b = text.into_bytes();
                for i in (7..b.len()).step_by(13) {
                    b[i] ^= 0x80;
                }
                b
            }),
        ],
    ) {
        let (store, dir) = store();
        for (kind, name) in [(Kind::Houses, "houses"), (Kind::Accounts, "accounts")] {
            import::import_text(&store, kind, &sample(name), &Secret::new("k"), now()).unwrap();
        }
        let before = register_size(&store);
        let file = dir.path().join("owners.csv");
        std::fs::write(&file, &bytes).unwrap();
        match import::import_file(&store, Kind::Owners, &file, &Secret::new("k"), now()) {
            Ok(_) => prop_assert!(std::str::from_utf8(&bytes).is_ok()),
            Err(ImportError::Read(reason)) => {
                prop_assert!(!reason.is_empty());
                prop_assert_eq!(register_size(&store), before);
            }
            Err(ImportError::Rows(errors)) => {
                prop_assert!(errors.iter().all(|e| e.line >= 1));
                prop_assert_eq!(register_size(&store), before);
            }
            Err(ImportError::Header(message)) => {
                prop_assert!(message.starts_with("line 1"), "{}", message);
                prop_assert_eq!(register_size(&store), before);
            }
            Err(other) => prop_assert!(false, "unexpected {}", other),
        }
    }
}

/// Element names of ГИС ЖКХ answers, so that generated trees reach the parsers' branches.
const NAMES: &[&str] = &[
    "Envelope",
    "Body",
    "Header",
    "Fault",
    "faultcode",
    "faultstring",
    "detail",
    "getStateResult",
    "RequestState",
    "MessageGUID",
    "ErrorMessage",
    "ErrorCode",
    "Description",
    "StackTrace",
    "ImportResult",
    "CommonResult",
    "TransportGUID",
    "GUID",
    "UpdateDate",
    "exportHouseResult",
    "ApartmentHouse",
    "BasicCharacteristicts",
    "FIASHouseGuid",
    "Premises",
    "ResidentialPremises",
    "PremisesNum",
    "PremisesGUID",
    "Account",
    "AccountGUID",
    "AccountNumber",
    "UnifiedAccountNumber",
    "ServiceID",
    "exportMeteringDeviceDataResult",
    "MeteringDevice",
    "MeteringDeviceRootGUID",
    "MeteringDeviceNumber",
    "MunicipalResource",
    "Code",
    "Name",
    "appeal",
    "AppealGUID",
    "AppealNumber",
    "AppealText",
    "NsiItem",
    "NsiElement",
    "IsActual",
    "Value",
    "MeteringValue",
    "DateValue",
    "exportMeteringDeviceHistoryResult",
    "AccountingPeriod",
];

fn xml_tree() -> impl Strategy<Value = String> {
    let leaf = (prop::sample::select(NAMES), "[-0-9a-zA-Zа-я .:]{0,16}")
        .prop_map(|(n, t)| format!("<ns:{n}>{t}</ns:{n}>"));
    leaf.prop_recursive(6, 64, 5, |inner| {
        (
            prop::sample::select(NAMES),
            prop::collection::vec(inner, 0..5),
        )
            .prop_map(|(n, kids)| format!("<ns:{n}>{}</ns:{n}>", kids.concat()))
    })
    .prop_map(|body| {
        format!(
            "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" \
             xmlns:ns=\"urn:x\"><soap:Body>{body}</soap:Body></soap:Envelope>"
        )
    })
}

fn read_everything(node: &xml::Node) {
    let _ = metering::import_results(node);
    let _ = metering::history_values(node);
    let _ = house::house_data(node);
    let _ = house::accounts(node);
    let _ = house::meters(node);
    let _ = appeals::appeals(node);
    let _ = nsi::entries(node);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_soap_answer_is_parsed_or_refused(bytes in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..600),
        xml_tree().prop_map(String::into_bytes),
        (xml_tree(), any::<prop::sample::Index>()).prop_map(|(x, cut)| {
            let mut b = x.into_bytes();
            b.truncate(cut.index(b.len() + 1));
            b
        }),
    ]) {
        if let Ok(doc) = xml::parse(&bytes) {
            read_everything(&doc);
            if let Some(result) = doc.find("Body") {
                read_everything(result);
            }
        }
    }
}

#[test]
fn a_deeply_nested_answer_is_refused_instead_of_overflowing_the_stack() {
    // A garbled or hostile answer: a million nested elements (a few MB, well under the
    // size limit of an answer). Walking or dropping such a tree recursively would abort
    // the whole process.
    let depth = 1_000_000;
    let mut doc = String::with_capacity(depth * 8);
    for _ in 0..depth {
        doc.push_str("<a>");
    }
    for _ in 0..depth {
        doc.push_str("</a>");
    }
    let parsed = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || xml::parse(doc.as_bytes()).map(|n| n.find("getStateResult").is_some()))
        .unwrap()
        .join()
        .expect("no stack overflow");
    assert!(parsed.is_err(), "refused as too deep");
}
