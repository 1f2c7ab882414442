//! Envelopes signed by the reference OpenSSL signer (GOST 2012-256 through Debian's gost
//! engine) verify with independent tools: xmllint's exclusive C14N and `openssl dgst`.
//! The key and a self-signed certificate are made here with openssl.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use gosdom::connectors::gis::envelope::body_element;
use gosdom::connectors::gis::ops::house;
use gosdom::connectors::gis::{xml, Client, ClientConfig};
use gosdom::connectors::signer::OpensslSigner;
use uuid::Uuid;

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Fails loudly, saying why, when the gost engine is missing.
fn require_gost_engine() {
    let out = Command::new("openssl").args(["engine", "gost"]).output();
    let ok = out.as_ref().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "the OpenSSL gost engine is not installed (Debian package libengine-gost-openssl); \
         GOST signatures cannot be checked: {:?}",
        out.map(|o| String::from_utf8_lossy(&o.stderr).to_string())
    );
}

fn make_key(dir: &Path) {
    run(Command::new("openssl").current_dir(dir).args([
        "genpkey",
        "-engine",
        "gost",
        "-algorithm",
        "gost2012_256",
        "-pkeyopt",
        "paramset:A",
        "-out",
        "key.pem",
    ]));
    run(Command::new("openssl").current_dir(dir).args([
        "req",
        "-engine",
        "gost",
        "-new",
        "-x509",
        "-md_gost12_256",
        "-key",
        "key.pem",
        "-out",
        "cert.pem",
        "-days",
        "30",
        "-subj",
        "/CN=gosdom test/O=УК Тест",
    ]));
    let pubkey = run(Command::new("openssl").current_dir(dir).args([
        "x509", "-engine", "gost", "-in", "cert.pem", "-pubkey", "-noout",
    ]));
    std::fs::write(dir.join("pub.pem"), pubkey).unwrap();
}

fn exc_c14n(dir: &Path, name: &str, xml: &str) -> Vec<u8> {
    let file = dir.join(name);
    std::fs::write(&file, xml).unwrap();
    run(Command::new("xmllint").arg("--exc-c14n").arg(&file))
}

fn gost_digest_b64(dir: &Path, name: &str, data: &[u8]) -> String {
    let file = dir.join(name);
    std::fs::write(&file, data).unwrap();
    let digest = run(Command::new("openssl")
        .args(["dgst", "-engine", "gost", "-md_gost12_256", "-binary"])
        .arg(&file));
    base64::engine::general_purpose::STANDARD.encode(digest)
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let s = text.find(start).unwrap();
    let e = text[s..].find(end).unwrap() + s + end.len();
    &text[s..e]
}

#[test]
fn a_signed_envelope_verifies_with_openssl_and_xmllint() {
    require_gost_engine();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    make_key(d);
    let signer = OpensslSigner {
        key: d.join("key.pem"),
        cert: d.join("cert.pem"),
    };
    let client = Client::new(
        ClientConfig {
            base_url: "http://127.0.0.1:9".into(),
            org_ppa_guid: "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e".into(),
            operator_signature: false,
            timeout: Duration::from_secs(5),
        },
        Some(Arc::new(signer)),
    );
    let request = house::export_house("6f0ae8b5-3d1c-4b8e-9c2a-1d5f7e9a0b11");
    let envelope = client
        .build(&request, Uuid::new_v4(), time::OffsetDateTime::now_utc())
        .unwrap();
    let element = body_element(&envelope).unwrap();

    // The signed element still validates, with the signature as its first child.
    common::xmllint_validate(request.service.types_xsd(), element).unwrap();
    let parsed = xml::parse(element.as_bytes()).unwrap();
    assert_eq!(parsed.children[0].name, "Signature");

    // Reference 1: the element without its signature (enveloped), canonicalised by xmllint.
    let signature = between(element, "<ds:Signature", "</ds:Signature>");
    let unsigned = element.replacen(signature, "", 1);
    let canonical = exc_c14n(d, "body.xml", &unsigned);
    let digests: Vec<String> = parsed.children[0]
        .find("SignedInfo")
        .unwrap()
        .all("Reference")
        .map(|r| r.text_of("DigestValue").unwrap())
        .collect();
    assert_eq!(gost_digest_b64(d, "body.c14n", &canonical), digests[0]);

    // Reference 2: the XAdES signed properties, canonicalised in place by xmllint.
    let props_id = parsed.children[0]
        .find("SignedProperties")
        .unwrap()
        .attr("Id")
        .unwrap()
        .to_string();
    let props = between(
        element,
        "<xades:SignedProperties",
        "</xades:SignedProperties>",
    );
    let standalone = props.replacen(
        "<xades:SignedProperties",
        "<xades:SignedProperties xmlns:xades=\"http://uri.etsi.org/01903/v1.3.2#\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"",
        1,
    );
    assert!(standalone.contains(&props_id));
    let canonical_props = exc_c14n(d, "props.xml", &standalone);
    assert_eq!(
        gost_digest_b64(d, "props.c14n", &canonical_props),
        digests[1]
    );

    // The signature over the canonical SignedInfo, checked by openssl with the public key.
    let info = between(element, "<ds:SignedInfo", "</ds:SignedInfo>").replacen(
        "<ds:SignedInfo",
        "<ds:SignedInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"",
        1,
    );
    let canonical_info = exc_c14n(d, "info.xml", &info);
    std::fs::write(d.join("info.c14n"), &canonical_info).unwrap();
    let value = parsed.children[0].text_of("SignatureValue").unwrap();
    let sig = base64::engine::general_purpose::STANDARD
        .decode(value)
        .unwrap();
    std::fs::write(d.join("sig.bin"), &sig).unwrap();
    let out = run(Command::new("openssl").current_dir(d).args([
        "dgst",
        "-engine",
        "gost",
        "-md_gost12_256",
        "-verify",
        "pub.pem",
        "-signature",
        "sig.bin",
        "info.c14n",
    ]));
    assert!(String::from_utf8_lossy(&out).contains("Verified OK"));

    // A changed byte in the signed data no longer matches.
    let tampered = unsigned.replace("6f0ae8b5", "6f0ae8b6");
    let canonical = exc_c14n(d, "tampered.xml", &tampered);
    assert_ne!(gost_digest_b64(d, "tampered.c14n", &canonical), digests[0]);

    // getState goes unsigned.
    let state = gosdom::connectors::gis::envelope::Request::get_state(
        request.service,
        &Uuid::new_v4().to_string(),
    );
    let plain = client
        .build(&state, Uuid::new_v4(), time::OffsetDateTime::now_utc())
        .unwrap();
    assert!(!plain.contains("ds:Signature"));
}
