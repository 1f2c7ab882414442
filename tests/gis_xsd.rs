//! Every request the ГИС ЖКХ client can produce validates against the official XSD of its
//! service (xmllint --schema), as it would travel in the envelope.

mod common;

use std::time::Duration;

use gosdom::connectors::gis::envelope::{body_element, Request};
use gosdom::connectors::gis::ops::appeals::{self, Answer};
use gosdom::connectors::gis::ops::metering::{self, MeterValue, ValueKind};
use gosdom::connectors::gis::ops::{house, nsi, NsiRef};
use gosdom::connectors::gis::{Client, ClientConfig};
use time::macros::{date, datetime};
use uuid::Uuid;

const FIAS: &str = "6f0ae8b5-3d1c-4b8e-9c2a-1d5f7e9a0b11";

fn client() -> Client {
    Client::new(
        ClientConfig {
            base_url: "http://127.0.0.1:9".into(),
            org_ppa_guid: "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e".into(),
            operator_signature: false,
            timeout: Duration::from_secs(5),
        },
        None,
    )
}

fn values() -> Vec<MeterValue> {
    vec![
        MeterValue {
            transport_guid: Uuid::new_v4(),
            meter_root_guid: Uuid::new_v4().to_string(),
            kind: ValueKind::OneRate {
                resource: NsiRef {
                    code: "1".into(),
                    guid: "a3c9d2e1-0000-4000-8000-000000000001".into(),
                    name: None,
                },
            },
            t1: "00123,4560".into(),
            t2: None,
            t3: None,
            taken_on: date!(2026 - 11 - 23),
        },
        MeterValue {
            transport_guid: Uuid::new_v4(),
            meter_root_guid: Uuid::new_v4().to_string(),
            kind: ValueKind::Electric,
            t1: "4521.5".into(),
            t2: Some("1200".into()),
            t3: Some("0.0000001".into()),
            taken_on: date!(2026 - 11 - 23),
        },
    ]
}

fn requests() -> Vec<Request> {
    vec![
        nsi::export_item(2),
        nsi::export_item(27),
        house::export_house(FIAS),
        house::export_accounts(FIAS),
        house::export_meters(FIAS),
        metering::import_values(&values()).unwrap(),
        metering::export_history(
            FIAS,
            &[Uuid::new_v4().to_string()],
            Some(date!(2026 - 01 - 01)),
        )
        .unwrap(),
        appeals::export_appeals(date!(2026 - 11 - 01), date!(2026 - 11 - 30), &[FIAS.into()]),
        appeals::export_appeals_by_guid(&[Uuid::new_v4().to_string()]).unwrap(),
        appeals::import_answers(
            &[Answer {
                transport_guid: Uuid::new_v4(),
                appeal_guid: Uuid::new_v4().to_string(),
                answerer_guid: Uuid::new_v4().to_string(),
                text: "Работы выполнены <10.12> & проверены".into(),
                send: true,
            }],
            &[],
        )
        .unwrap(),
        appeals::import_answers(
            &[Answer {
                transport_guid: Uuid::new_v4(),
                appeal_guid: Uuid::new_v4().to_string(),
                answerer_guid: Uuid::new_v4().to_string(),
                text: "Промежуточный ответ".into(),
                send: false,
            }],
            &[
                appeal_action(appeals::AppealStep::Performer),
                appeal_action(appeals::AppealStep::Executed),
                appeal_action(appeals::AppealStep::RollOver {
                    until: date!(2026 - 12 - 20),
                    comment: "Ждём поставку".into(),
                }),
                appeal_action(appeals::AppealStep::NotRequired {
                    cause: "Повтор".into(),
                }),
            ],
        )
        .unwrap(),
        Request::get_state(
            gosdom::connectors::gis::Service::DeviceMetering,
            &Uuid::new_v4().to_string(),
        ),
    ]
}

fn appeal_action(step: appeals::AppealStep) -> appeals::Action {
    appeals::Action {
        transport_guid: Uuid::new_v4(),
        appeal_guid: Uuid::new_v4().to_string(),
        answerer_guid: Uuid::new_v4().to_string(),
        step,
    }
}

#[test]
fn every_request_validates_against_its_services_xsd() {
    let at = datetime!(2026-12-03 10:00 UTC);
    let mut failures = Vec::new();
    for request in requests() {
        let envelope = client().build(&request, Uuid::new_v4(), at).unwrap();
        let element = body_element(&envelope).unwrap();
        if request.signed {
            assert!(
                element.contains("Id=\"signed-data-container\""),
                "{}",
                request.operation
            );
            assert!(element.contains("base:version=\""), "{}", request.operation);
        }
        if let Err(e) = common::xmllint_validate(request.service.types_xsd(), element) {
            failures.push(format!("{}: {e}\n{element}", request.operation));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_value_with_a_comma_goes_out_with_a_point() {
    let request = metering::import_values(&values()).unwrap();
    let xml = request.body.to_xml();
    assert!(
        xml.contains(">123.456<") && xml.contains(">0.0000001<"),
        "{xml}"
    );
    assert!(!xml.contains(','));
}

#[test]
fn a_thousand_and_one_devices_go_in_two_messages_that_each_validate() {
    let all: Vec<MeterValue> = (0..1001)
        .map(|_| {
            let mut v = values().remove(1);
            v.transport_guid = Uuid::new_v4();
            v.meter_root_guid = Uuid::new_v4().to_string();
            v
        })
        .collect();
    let batches = metering::batches(&all);
    assert_eq!(batches.len(), 2);
    assert!(
        metering::import_values(&all).is_err(),
        "1001 devices never go in one message"
    );
    for batch in batches {
        let xml = metering::import_values(&batch).unwrap().body.to_xml();
        common::xmllint_validate("device-metering/hcs-device-metering-types.xsd", &xml).unwrap();
    }
}
