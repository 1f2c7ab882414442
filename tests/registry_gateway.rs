//! The registry's HTTP gateway back-end against a mock gateway on 127.0.0.1, and the
//! sandbox gateway.

use gosdom::config::{Config, Secret, Synchronous};
use gosdom::connectors::registry::{self, PersonKeys, PremiseRef};
use gosdom::domain::properties;
use gosdom::store::{Options, Store};
use serde_json::{json, Value};

fn seeded() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Options {
        data_dir: dir.path().to_path_buf(),
        synchronous: Synchronous::Normal,
        pool_size: 2,
    })
    .unwrap();
    let now = time::OffsetDateTime::now_utc();
    store
        .write_blocking(|tx| gosdom::sandbox::demo::seed(tx, &Secret::new("k"), now))
        .unwrap();
    (dir, store)
}

fn person(store: &Store) -> i64 {
    store
        .write_blocking(|tx| {
            tx.execute(
                "INSERT INTO people (esia_oid, created_at, updated_at) VALUES ('9', 'a', 'a')",
                [],
            )?;
            Ok(tx.last_insert_rowid())
        })
        .unwrap()
}

#[test]
fn the_http_gateway_is_asked_and_its_premises_are_linked() {
    let (_dir, store) = seeded();
    let cadastral: String = store
        .conn()
        .unwrap()
        .query_row(
            "SELECT cadastral_number FROM premises WHERE id = 7",
            [],
            |r| r.get(0),
        )
        .unwrap();

    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let answer = json!({"premises": [{"cadastral_number": cadastral, "share": "1/3"}]});
    let handle = std::thread::spawn(move || {
        let mut request = server.recv().unwrap();
        let mut body = String::new();
        request.as_reader().read_to_string(&mut body).unwrap();
        let path = request.url().to_string();
        let _ = request.respond(tiny_http::Response::from_string(answer.to_string()));
        (path, serde_json::from_str::<Value>(&body).unwrap())
    });

    let mut config = Config::default();
    config.registry.kind = "http".into();
    config.registry.url = format!("http://127.0.0.1:{port}/");
    let sources = registry::sources(&config);
    assert_eq!(sources.len(), 2, "the local register, then the gateway");
    let keys = PersonKeys {
        snils: Some("11223344595".into()),
        full_name: "Смирнова Анна Викторовна".into(),
        birth_date: Some("1985-04-12".into()),
        ..Default::default()
    };
    let conn = store.conn().unwrap();
    let found = sources[1].owned_premises(&conn, &keys).unwrap();
    drop(conn);
    let (path, asked) = handle.join().unwrap();
    assert_eq!(path, "/owners/search");
    assert_eq!(asked["snils"], "11223344595");
    assert_eq!(asked["birth_date"], "1985-04-12");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].premise, PremiseRef::Cadastral(cadastral));

    let id = person(&store);
    let now = time::OffsetDateTime::now_utc();
    store
        .write_blocking(|tx| properties::link(tx, id, &found, now))
        .unwrap();
    let list = properties::of_person(&store.conn().unwrap(), id).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, 7);
    assert_eq!(list[0].share.as_deref(), Some("1/3"));
    assert_eq!(list[0].proof, "registry");
}

#[test]
fn the_sandbox_gateway_answers_for_demo_people() {
    let (_dir, store) = seeded();
    let mut config = Config::default();
    config.registry.kind = "http".into();
    let sources = registry::sources(&config);
    assert_eq!(sources.len(), 2);
    let keys = PersonKeys {
        snils: Some("127-405-219 36".into()),
        ..Default::default()
    };
    let conn = store.conn().unwrap();
    let found = sources[1].owned_premises(&conn, &keys).unwrap();
    drop(conn);
    let id = person(&store);
    let now = time::OffsetDateTime::now_utc();
    store
        .write_blocking(|tx| properties::link(tx, id, &found, now))
        .unwrap();
    let list = properties::of_person(&store.conn().unwrap(), id).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].number, "31");
}
