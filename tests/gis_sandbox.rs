//! The sandbox ГИС ЖКХ inside the service (sandbox mode): it validates what it gets against
//! the XSDs, answers Ack and later the result, injects faults, and shows what it received.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use gosdom::clock::SystemClock;
use gosdom::config::Config;
use gosdom::connectors::gis::envelope::Request;
use gosdom::connectors::gis::ops::{house, metering};
use gosdom::connectors::gis::{xml, Client, ClientConfig, Service};
use gosdom::server::Service as GosdomService;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client as Local;
use uuid::Uuid;

const ORG: &str = "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";

fn envelope(request: &Request) -> String {
    Client::new(
        ClientConfig {
            base_url: String::new(),
            org_ppa_guid: ORG.into(),
            operator_signature: false,
            timeout: Duration::from_secs(5),
        },
        None,
    )
    .build(request, Uuid::new_v4(), time::OffsetDateTime::now_utc())
    .unwrap()
}

async fn post(client: &Local, service: Service, action: &str, body: String) -> (Status, xml::Node) {
    let response = client
        .post(format!("/dev/gis{}", service.path()))
        .header(ContentType::XML)
        .header(Header::new("SOAPAction", format!("\"urn:{action}\"")))
        .body(body)
        .dispatch()
        .await;
    let status = response.status();
    let text = response.into_string().await.unwrap();
    (status, xml::parse(text.as_bytes()).unwrap())
}

#[rocket::async_test]
async fn the_sandbox_answers_like_gis_zhkh() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    let service = GosdomService::prepare_with_clock(config, Arc::new(SystemClock)).unwrap();
    let client = Local::tracked(service.rocket()).await.unwrap();

    // A valid export of a demo house: Ack now, the demo data after a short delay.
    let fias = "6f0ae8b5-3d1c-4b8e-9c2a-1d5f7e9a0b11";
    let (status, ack) = post(
        &client,
        Service::HouseManagement,
        "exportHouseData",
        envelope(&house::export_house(fias)),
    )
    .await;
    assert_eq!(status, Status::Ok);
    let ack_guid = ack.find("Ack").unwrap().text_of("MessageGUID").unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let result = loop {
        let poll = envelope(&Request::get_state(Service::HouseManagement, &ack_guid));
        let (_, answer) = post(&client, Service::HouseManagement, "getState", poll).await;
        let state = answer.find("getStateResult").unwrap().clone();
        if state.text_of("RequestState").as_deref() == Some("3") {
            break state;
        }
        assert!(Instant::now() < deadline, "no result from the sandbox");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let data = gosdom::connectors::gis::ops::house::house_data(&result).unwrap();
    assert_eq!(data.fias_guid, fias);
    assert!(!data.premises.is_empty());

    // An invalid request (a value with an exponent smuggled in) is refused as FMT.
    let mut bad = metering::import_values(&[metering::MeterValue {
        transport_guid: Uuid::new_v4(),
        meter_root_guid: Uuid::new_v4().to_string(),
        kind: metering::ValueKind::Electric,
        t1: "1".into(),
        t2: None,
        t3: None,
        taken_on: time::macros::date!(2026 - 11 - 23),
    }])
    .unwrap();
    bad.body = bad.body.leaf("dm:Unexpected", "1e5");
    let (status, fault) = post(
        &client,
        Service::DeviceMetering,
        "importMeteringDeviceValues",
        envelope(&bad),
    )
    .await;
    assert_eq!(status, Status::InternalServerError);
    assert_eq!(
        fault
            .find("Fault")
            .unwrap()
            .find("Fault")
            .unwrap()
            .text_of("ErrorCode")
            .unwrap(),
        "FMT001300"
    );

    // An injected fault answers the next send.
    let injected = client
        .post("/dev/gis/fault")
        .header(ContentType::Form)
        .body("code=EXP001000")
        .dispatch()
        .await;
    assert_eq!(injected.status(), Status::NoContent);
    let (status, fault) = post(
        &client,
        Service::HouseManagement,
        "exportHouseData",
        envelope(&house::export_house(fias)),
    )
    .await;
    assert_eq!(status, Status::InternalServerError);
    assert!(format!("{fault:?}").contains("EXP001000"));

    // /dev/gis/received.json has what arrived, newest first, each with its body.
    let seen = client
        .get("/dev/gis/received.json")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    let seen: serde_json::Value = serde_json::from_str(&seen).unwrap();
    assert_eq!(seen[0]["answer"], "fault EXP001000");
    assert_eq!(seen[1]["valid"], false);
    assert!(seen
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["operation"] == "getState"));
    for r in seen.as_array().unwrap() {
        assert!(r["body"].is_string(), "every request keeps its body: {r}");
        assert!(r["at"].is_string(), "{r}");
    }
    assert!(seen[0]["body"]
        .as_str()
        .unwrap()
        .contains("exportHouseRequest"));

    // /dev/gis is a page: the same, with each body escaped in a <pre>.
    let page = client.get("/dev/gis").dispatch().await;
    assert_eq!(page.status(), Status::Ok);
    assert_eq!(page.content_type(), Some(ContentType::HTML));
    let page = page.into_string().await.unwrap();
    assert!(page.contains("<h2>exportHouseData</h2>"), "{page}");
    assert!(page.contains("<pre>&lt;"), "{page}");
    assert!(page.contains("не прошёл проверку по XSD"), "{page}");
}
