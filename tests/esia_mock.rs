//! The real ЕСИА client against a mock ЕСИА on 127.0.0.1: GOST-signed requests checked with
//! openssl and the gost engine, an RS256 token, `/rs/prns/{oid}`; then the person's
//! premises from the owners register. Needs `openssl` with Debian's gost engine
//! (libengine-gost-openssl).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::*;
use gosdom::config::SignerKind;
use rocket::http::Status;
use serde_json::{json, Value};

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

struct Keys {
    gost_key: PathBuf,
    gost_cert: PathBuf,
    gost_pub: PathBuf,
    cert_hash: String,
    rsa_private: Vec<u8>,
    rsa_public: PathBuf,
}

fn make_keys(dir: &Path) -> Keys {
    let p = |name: &str| dir.join(name);
    let s = |path: &PathBuf| path.to_str().unwrap().to_string();
    let (gost_key, gost_cert, gost_pub, cert_der) =
        (p("esia.key"), p("esia.crt"), p("esia.pub"), p("esia.der"));
    openssl(&[
        "genpkey",
        "-engine",
        "gost",
        "-algorithm",
        "gost2012_256",
        "-pkeyopt",
        "paramset:A",
        "-out",
        &s(&gost_key),
    ]);
    openssl(&[
        "req",
        "-engine",
        "gost",
        "-new",
        "-x509",
        "-key",
        &s(&gost_key),
        "-out",
        &s(&gost_cert),
        "-subj",
        "/CN=gosdom test",
        "-days",
        "30",
        "-md_gost12_256",
    ]);
    let public = openssl(&[
        "x509",
        "-engine",
        "gost",
        "-in",
        &s(&gost_cert),
        "-pubkey",
        "-noout",
    ]);
    std::fs::write(&gost_pub, public).unwrap();
    openssl(&[
        "x509",
        "-in",
        &s(&gost_cert),
        "-outform",
        "DER",
        "-out",
        &s(&cert_der),
    ]);
    let digest = String::from_utf8(openssl(&[
        "dgst",
        "-engine",
        "gost",
        "-md_gost12_256",
        "-r",
        &s(&cert_der),
    ]))
    .unwrap();
    let cert_hash = digest.split_whitespace().next().unwrap().to_string();

    let rsa = p("jwt.key");
    let rsa_public = p("jwt.pub");
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        &s(&rsa),
    ]);
    openssl(&["pkey", "-in", &s(&rsa), "-pubout", "-out", &s(&rsa_public)]);
    Keys {
        gost_key,
        gost_cert,
        gost_pub,
        cert_hash,
        rsa_private: std::fs::read(&rsa).unwrap(),
        rsa_public,
    }
}

/// Whether `signature` (base64url) is the GOST signature of `data` under the test key.
fn gost_verifies(dir: &Path, public: &Path, data: &str, signature: &str) -> bool {
    use base64::Engine;
    let clean = signature.trim_end_matches('=');
    let Ok(raw) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(clean) else {
        return false;
    };
    let data_file = dir.join(format!("data-{}", uuid::Uuid::new_v4()));
    let sig_file = dir.join(format!("sig-{}", uuid::Uuid::new_v4()));
    std::fs::write(&data_file, data).unwrap();
    std::fs::write(&sig_file, raw).unwrap();
    Command::new("openssl")
        .args(["dgst", "-engine", "gost", "-md_gost12_256", "-verify"])
        .arg(public)
        .arg("-signature")
        .arg(&sig_file)
        .arg(&data_file)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[derive(Default)]
struct Seen {
    ac_state: Option<String>,
    te_state: Option<String>,
    problems: Vec<String>,
}

struct Mock {
    url: String,
    seen: Arc<Mutex<Seen>>,
}

const CLIENT_ID: &str = "GOSDOM";
const SCOPE: &str = "openid fullname birthdate snils addresses";
const CODE: &str = "mock-code-1";

fn form(text: &str) -> std::collections::HashMap<String, String> {
    form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

fn check_timestamp(value: &str) -> bool {
    let b = value.as_bytes();
    value.len() == 25
        && value.ends_with(" +0300")
        && b[4] == b'.'
        && b[7] == b'.'
        && b[10] == b' '
        && b[13] == b':'
        && b[16] == b':'
}

/// A mock ЕСИА whose person is `person` (the `/rs/prns` document).
fn mock_esia(dir: PathBuf, keys: &Keys, person: Value) -> Mock {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (public, cert_hash, rsa) = (
        keys.gost_pub.clone(),
        keys.cert_hash.clone(),
        keys.rsa_private.clone(),
    );
    let issuer = "http://127.0.0.1/".to_string();
    let seen_in = seen.clone();
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let full = request.url().to_string();
            let (path, query) = full.split_once('?').unwrap_or((&full, ""));
            let mut problems = Vec::new();
            let response = if path == "/aas/oauth2/v2/ac" {
                let q = form(query);
                let get = |k: &str| q.get(k).cloned().unwrap_or_default();
                let signed = format!(
                    "{}{}{}{}{}{}",
                    get("client_id"),
                    get("scope"),
                    "",
                    get("timestamp"),
                    get("state"),
                    get("redirect_uri")
                );
                if !gost_verifies(&dir, &public, &signed, &get("client_secret")) {
                    problems.push("ac: bad client_secret".to_string());
                }
                if !get("client_certificate_hash").eq_ignore_ascii_case(&cert_hash) {
                    problems.push("ac: bad certificate hash".into());
                }
                if !check_timestamp(&get("timestamp")) {
                    problems.push(format!("ac: timestamp {}", get("timestamp")));
                }
                if get("response_type") != "code"
                    || get("client_id") != CLIENT_ID
                    || get("scope") != SCOPE
                {
                    problems.push("ac: params".into());
                }
                if uuid::Uuid::parse_str(&get("state")).is_err() {
                    problems.push("ac: state is not a UUID".into());
                }
                seen_in.lock().unwrap().ac_state = Some(get("state"));
                let back = format!("{}?code={CODE}&state={}", get("redirect_uri"), get("state"));
                tiny_http::Response::from_string("")
                    .with_status_code(302)
                    .with_header(tiny_http::Header::from_bytes("Location", back).unwrap())
            } else if path == "/aas/oauth2/v3/te" {
                let mut body = String::new();
                request.as_reader().read_to_string(&mut body).unwrap();
                let q = form(&body);
                let get = |k: &str| q.get(k).cloned().unwrap_or_default();
                let signed = format!(
                    "{}{}{}{}{}{}{}",
                    get("client_id"),
                    get("scope"),
                    "",
                    get("timestamp"),
                    get("state"),
                    get("redirect_uri"),
                    get("code")
                );
                if !gost_verifies(&dir, &public, &signed, &get("client_secret")) {
                    problems.push("te: bad client_secret".into());
                }
                if !get("client_certificate_hash").eq_ignore_ascii_case(&cert_hash) {
                    problems.push("te: bad certificate hash".into());
                }
                if get("grant_type") != "authorization_code"
                    || get("code") != CODE
                    || get("token_type") != "Bearer"
                {
                    problems.push("te: params".into());
                }
                if !check_timestamp(&get("timestamp")) {
                    problems.push("te: timestamp".into());
                }
                seen_in.lock().unwrap().te_state = Some(get("state"));
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let claims = json!({
                    "iss": issuer, "client_id": CLIENT_ID, "urn:esia:sbj_id": 1000000001_i64,
                    "exp": now + 3600, "nbf": now - 10, "iat": now, "scope": SCOPE,
                });
                let token = jsonwebtoken::encode(
                    &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
                    &claims,
                    &jsonwebtoken::EncodingKey::from_rsa_pem(&rsa).unwrap(),
                )
                .unwrap();
                let answer = json!({"access_token": token, "id_token": "x", "state": get("state"), "token_type": "Bearer", "expires_in": 3600});
                tiny_http::Response::from_string(answer.to_string())
            } else if path == "/rs/prns/1000000001" {
                tiny_http::Response::from_string(person.to_string())
            } else if path == "/rs/prns/1000000001/addrs" {
                let addrs = json!({"elements": [{"type": "PRG", "fiasCode": "6f0ae8b5-3d1c-4b8e-9c2a-1d5f7e9a0b11", "flat": "12"}]});
                tiny_http::Response::from_string(addrs.to_string())
            } else {
                tiny_http::Response::from_string("{}").with_status_code(404)
            };
            let authorised = request
                .headers()
                .iter()
                .any(|h| h.field.equiv("Authorization"));
            if path.starts_with("/rs/") && !authorised {
                problems.push("rs: no bearer token".into());
            }
            seen_in.lock().unwrap().problems.extend(problems);
            let _ = request.respond(response);
        }
    });
    Mock { url, seen }
}

fn anna(trusted: bool) -> Value {
    json!({
        "firstName": "Анна", "lastName": "Смирнова", "middleName": "Викторовна",
        "birthDate": "12.04.1985", "snils": "112-233-445 95", "trusted": trusted,
    })
}

async fn run_flow(trusted: bool) -> (Harness, Mock, Status, String, String) {
    let keys_dir = tempfile::tempdir().unwrap();
    let keys = make_keys(keys_dir.path());
    let mock = mock_esia(keys_dir.path().to_path_buf(), &keys, anna(trusted));
    let base = mock.url.clone();
    let (key, cert, jwt_pub) = (
        keys.gost_key.clone(),
        keys.gost_cert.clone(),
        keys.rsa_public.clone(),
    );
    let h = harness_with(
        move |c| {
            c.esia.base_url = base;
            c.esia.client_id = CLIENT_ID.into();
            c.esia.scopes = SCOPE.into();
            c.esia.signer.kind = SignerKind::Openssl;
            c.esia.signer.key_file = Some(key);
            c.esia.signer.cert_file = Some(cert);
            c.esia.token_key_files = vec![jwt_pub];
            c.esia.token_issuer = "http://127.0.0.1/".into();
        },
        time::OffsetDateTime::now_utc(),
    )
    .await;
    let token = h.session(77).await;
    let start = h.esia_start_link(&token).await;
    let to_esia = {
        let res = h.client.get(start).dispatch().await;
        location(&res)
    };
    assert!(
        to_esia.starts_with(&format!("{}/aas/oauth2/v2/ac?", mock.url)),
        "{to_esia}"
    );

    // The browser at ЕСИА: the mock answers with a redirect to our callback.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let answer = agent.get(&to_esia).call().unwrap();
    let back = answer
        .headers()
        .get("Location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let callback = back
        .split_once("/auth/esia/callback")
        .map(|(_, rest)| format!("/auth/esia/callback{rest}"))
        .unwrap();
    let (status, body) = {
        let res = h.client.get(callback).dispatch().await;
        let status = res.status();
        if status.class().is_redirection() {
            (status, location(&res))
        } else {
            (status, res.into_string().await.unwrap_or_default())
        }
    };
    drop(keys_dir);
    (h, mock, status, token, body)
}

#[rocket::async_test]
async fn a_confirmed_person_signs_in_through_the_real_client_and_sees_their_premises() {
    let (h, mock, status, token, back) = run_flow(true).await;
    {
        let seen = mock.seen.lock().unwrap();
        assert!(seen.problems.is_empty(), "{:?}", seen.problems);
        assert_ne!(
            seen.ac_state, seen.te_state,
            "each request has a fresh state"
        );
        assert!(seen
            .te_state
            .as_deref()
            .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok()));
    }
    assert!(status.class().is_redirection(), "{status}: {back}");
    let code = query_value(&back, "esia").unwrap();
    let (status, me) = h
        .post(
            "/api/v1/session/esia/complete",
            &token,
            json!({"code": code}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{me}");
    assert_eq!(me["person"]["name"], "Смирнова Анна Викторовна");
    assert_eq!(me["person"]["address_hint"]["premise_number"], "12");

    let (_, list) = h.get("/api/v1/properties", &token).await;
    let mut numbers: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_str().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, ["12", "5"], "exactly her two premises");
}

#[rocket::async_test]
async fn an_unconfirmed_person_is_refused_with_what_to_do() {
    let (h, mock, status, token, page) = run_flow(false).await;
    assert!(mock.seen.lock().unwrap().problems.is_empty());
    assert_eq!(status, Status::Forbidden);
    assert!(
        page.contains("не подтверждена") && page.contains("Подтвердите личность"),
        "{page}"
    );
    let (_, me) = h.get("/api/v1/me", &token).await;
    assert_eq!(me["signed_in"], false);
}

#[test]
fn streebog_agrees_with_openssl_on_the_certificate_hash() {
    let dir = tempfile::tempdir().unwrap();
    let keys = make_keys(dir.path());
    let der =
        gosdom::connectors::signer::pem_to_der(&std::fs::read(&keys.gost_cert).unwrap()).unwrap();
    assert!(gosdom::connectors::esia::client::certificate_hash(&der)
        .eq_ignore_ascii_case(&keys.cert_hash));
}
