//! Answers as ГИС ЖКХ writes them (Ack, getState results, SOAP Faults), for the sandbox
//! ГИС ЖКХ and for mock servers in tests.

use crate::connectors::gis::services::{Service, NS_BASE, NS_NSI_BASE, NS_SOAP};
use crate::connectors::gis::xml::El;

fn wrap(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <soap:Envelope xmlns:soap=\"{NS_SOAP}\" xmlns:base=\"{NS_BASE}\" \
         xmlns:nsi-base=\"{NS_NSI_BASE}\"><soap:Header><base:ResultHeader>\
         <base:Date>2026-01-01T00:00:00Z</base:Date>\
         <base:MessageGUID>00000000-0000-0000-0000-000000000000</base:MessageGUID>\
         </base:ResultHeader></soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
    )
}

/// The Ack to a send.
pub fn ack(message_guid: &str, requester_guid: &str) -> String {
    wrap(
        &El::new("base:AckRequest")
            .child(
                El::new("base:Ack")
                    .leaf("base:MessageGUID", message_guid)
                    .leaf("base:RequesterMessageGUID", requester_guid),
            )
            .to_xml(),
    )
}

/// A SOAP Fault (sent with HTTP 500).
pub fn fault(code: &str, message: &str) -> String {
    wrap(
        &El::new("soap:Fault")
            .leaf("faultcode", "soap:Server")
            .leaf("faultstring", message)
            .child(
                El::new("detail").child(
                    El::new("base:Fault")
                        .leaf("base:ErrorCode", code)
                        .leaf("base:ErrorMessage", message),
                ),
            )
            .to_xml(),
    )
}

/// A getState answer: state 1/2 (no content) or 3 with `content` (raw XML in the service's
/// namespace, prefix `t`).
pub fn state(service: Service, ack_guid: &str, request_state: u8, content: &str) -> String {
    let body = format!(
        "<t:getStateResult xmlns:t=\"{}\" base:version=\"10.0.1.1\">\
         <base:RequestState>{request_state}</base:RequestState>\
         <base:MessageGUID>{ack_guid}</base:MessageGUID>{content}</t:getStateResult>",
        service.namespace()
    );
    wrap(&body)
}

/// An `ErrorMessage` result.
pub fn error_message(code: &str, description: &str) -> String {
    El::new("base:ErrorMessage")
        .leaf("base:ErrorCode", code)
        .leaf("base:Description", description)
        .to_xml()
}

/// One per-item result of an import.
pub enum Item<'a> {
    Ok {
        transport: &'a str,
        guid: &'a str,
    },
    Err {
        transport: &'a str,
        code: &'a str,
        description: &'a str,
    },
}

pub fn import_results(items: &[Item<'_>]) -> String {
    items
        .iter()
        .map(|item| match item {
            Item::Ok { transport, guid } => El::new("t:ImportResult")
                .leaf("base:GUID", *guid)
                .leaf("base:TransportGUID", *transport)
                .leaf("base:UpdateDate", "2026-01-01T00:00:00Z")
                .to_xml(),
            Item::Err {
                transport,
                code,
                description,
            } => El::new("t:ImportResult")
                .leaf("base:TransportGUID", *transport)
                .child(
                    El::new("base:Error")
                        .leaf("base:ErrorCode", *code)
                        .leaf("base:Description", *description),
                )
                .to_xml(),
        })
        .collect()
}

/// An НСИ registry: (code, guid, name).
pub fn nsi_item(registry: u32, entries: &[(&str, &str, &str)]) -> String {
    El::new("t:NsiItem")
        .leaf("nsi-base:NsiItemRegistryNumber", registry.to_string())
        .leaf("nsi-base:Created", "2026-01-01T00:00:00Z")
        .children(entries.iter().map(|(code, guid, name)| {
            El::new("nsi-base:NsiElement")
                .leaf("nsi-base:Code", *code)
                .leaf("nsi-base:GUID", *guid)
                .leaf("nsi-base:Modified", "2026-01-01T00:00:00Z")
                .leaf("nsi-base:IsActual", "true")
                .child(
                    El::new("nsi-base:NsiElementField")
                        .leaf("nsi-base:Name", "Вид коммунального ресурса")
                        .leaf("nsi-base:Value", *name),
                )
        }))
        .to_xml()
}

/// The НСИ 2 entries the sandbox and the tests serve.
pub const NSI_RESOURCES: [(&str, &str, &str); 5] = [
    ("1", "a3c9d2e1-0000-4000-8000-000000000001", "Холодная вода"),
    ("2", "a3c9d2e1-0000-4000-8000-000000000002", "Горячая вода"),
    (
        "3",
        "a3c9d2e1-0000-4000-8000-000000000003",
        "Электрическая энергия",
    ),
    ("4", "a3c9d2e1-0000-4000-8000-000000000004", "Газ"),
    (
        "5",
        "a3c9d2e1-0000-4000-8000-000000000005",
        "Тепловая энергия",
    ),
];

/// The НСИ 27 entries the sandbox and the tests serve.
pub const NSI_METER_TYPES: [(&str, &str, &str); 2] = [
    (
        "1",
        "b4d0e3f2-0000-4000-8000-000000000001",
        "Индивидуальный",
    ),
    ("2", "b4d0e3f2-0000-4000-8000-000000000002", "Общедомовой"),
];

/// A premise for [`house_result`]: (guid, number).
pub fn house_result(fias: &str, house_guid: &str, premises: &[(String, String)]) -> String {
    let house = El::new("t:ApartmentHouse")
        .child(El::new("t:BasicCharacteristicts").leaf("t:FIASHouseGuid", fias))
        .children(premises.iter().map(|(guid, number)| {
            El::new("t:ResidentialPremises")
                .leaf("t:PremisesNum", number.clone())
                .leaf("t:PremisesUniqueNumber", number.clone())
                .leaf("t:ModificationDate", "2026-01-01T00:00:00Z")
                .leaf("t:PremisesGUID", guid.clone())
        }));
    let _ = house_guid;
    El::new("t:exportHouseResult")
        .leaf("t:HouseUniqueNumber", fias)
        .leaf("t:ModificationDate", "2026-01-01T00:00:00Z")
        .child(house)
        .to_xml()
}

/// An account for [`accounts_result`].
pub struct AccountRow {
    pub guid: String,
    pub number: String,
    pub unified_number: String,
    pub service_id: String,
    pub premise_guid: String,
}

pub fn accounts_result(accounts: &[AccountRow]) -> String {
    accounts
        .iter()
        .map(|a| {
            El::new("t:exportAccountResult")
                .leaf("t:isUOAccount", "true")
                .child(El::new("t:Accommodation").leaf("t:PremisesGUID", a.premise_guid.clone()))
                .child(El::new("t:PayerInfo"))
                .leaf("t:AccountNumber", a.number.clone())
                .leaf("t:AccountGUID", a.guid.clone())
                .leaf("t:UnifiedAccountNumber", a.unified_number.clone())
                .opt(
                    (!a.service_id.is_empty())
                        .then(|| El::new("t:ServiceID").text(a.service_id.clone())),
                )
                .to_xml()
        })
        .collect()
}

/// A meter for [`meters_result`]: resource_code None means electricity with `tariffs`.
pub struct MeterRow {
    pub root_guid: String,
    pub serial: String,
    pub premise_guid: String,
    pub resource_code: Option<String>,
    pub tariffs: u8,
}

pub fn meters_result(meters: &[MeterRow]) -> String {
    meters
        .iter()
        .map(|m| {
            let resource = match &m.resource_code {
                Some(code) => El::new("t:MunicipalResourceNotEnergy").child(
                    El::new("metering-device-base:MunicipalResource")
                        .leaf("nsi-base:Code", code.clone())
                        .leaf("nsi-base:GUID", "a3c9d2e1-0000-4000-8000-000000000000"),
                ),
                None => {
                    let mut e = El::new("t:MunicipalResourceEnergy")
                        .leaf("metering-device-base:MeteringValueT1", "0");
                    if m.tariffs >= 2 {
                        e = e.leaf("metering-device-base:MeteringValueT2", "0");
                    }
                    if m.tariffs >= 3 {
                        e = e.leaf("metering-device-base:MeteringValueT3", "0");
                    }
                    e
                }
            };
            El::new("t:exportMeteringDeviceDataResult")
                .attr(
                    "xmlns:metering-device-base",
                    "http://dom.gosuslugi.ru/schema/integration/metering-device-base/",
                )
                .child(
                    El::new("t:BasicChatacteristicts")
                        .leaf("t:MeteringDeviceNumber", m.serial.clone())
                        .leaf("t:RemoteMeteringMode", "false")
                        .leaf("t:TemperatureSensor", "false")
                        .leaf("t:PressureSensor", "false")
                        .child(
                            El::new("t:ResidentialPremiseDevice")
                                .leaf("t:PremiseGUID", m.premise_guid.clone()),
                        ),
                )
                .leaf("t:NotLinkedWithMetering", "true")
                .child(resource)
                .leaf("t:MeteringDeviceRootGUID", m.root_guid.clone())
                .to_xml()
        })
        .collect()
}
