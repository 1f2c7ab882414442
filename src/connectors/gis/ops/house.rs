//! House management: `exportHouseData` (12.2.0.1), `exportAccountData` (10.0.1.1) and
//! `exportMeteringDeviceData` (11.1.0.2), per house by its ФИАС GUID.

use serde::{Deserialize, Serialize};

use crate::connectors::gis::envelope::{request_element, Request};
use crate::connectors::gis::services::Service;
use crate::connectors::gis::xml::Node;

pub fn export_house(fias_house_guid: &str) -> Request {
    let body = request_element(
        Service::HouseManagement,
        "exportHouseRequest",
        "12.2.0.1",
        &[],
    )
    .leaf("hm:FIASHouseGuid", fias_house_guid);
    Request::signed("exportHouseData", Service::HouseManagement, body)
}

pub fn export_accounts(fias_house_guid: &str) -> Request {
    let body = request_element(
        Service::HouseManagement,
        "exportAccountRequest",
        "10.0.1.1",
        &[],
    )
    .leaf("hm:FIASHouseGuid", fias_house_guid);
    Request::signed("exportAccountData", Service::HouseManagement, body)
}

pub fn export_meters(fias_house_guid: &str) -> Request {
    let body = request_element(
        Service::HouseManagement,
        "exportMeteringDeviceDataRequest",
        "11.1.0.2",
        &[],
    )
    .leaf("hm:FIASHouseGuid", fias_house_guid);
    Request::signed("exportMeteringDeviceData", Service::HouseManagement, body)
}

/// A house as `exportHouseResult` describes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HouseData {
    pub fias_guid: String,
    pub house_guid: Option<String>,
    pub unique_number: Option<String>,
    pub premises: Vec<PremiseData>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PremiseData {
    pub guid: String,
    pub number: String,
    /// `flat` or `non_residential`.
    pub kind: String,
    pub cadastral_number: Option<String>,
    pub area: Option<String>,
}

pub fn house_data(result: &Node) -> Option<HouseData> {
    let export = result.child("exportHouseResult")?;
    let house = export
        .child("ApartmentHouse")
        .or_else(|| export.child("LivingHouse"))?;
    let fias_guid = house.path(&["BasicCharacteristicts", "FIASHouseGuid"])?;
    let mut premises = Vec::new();
    for (tag, kind) in [
        ("ResidentialPremises", "flat"),
        ("NonResidentialPremises", "non_residential"),
    ] {
        for p in house.all(tag) {
            let Some(guid) = p.text_of("PremisesGUID") else {
                continue;
            };
            premises.push(PremiseData {
                number: p.text_of("PremisesNum").unwrap_or_else(|| guid.clone()),
                guid,
                kind: kind.into(),
                cadastral_number: p.text_of("CadastralNumber"),
                area: p.text_of("TotalArea"),
            });
        }
    }
    Some(HouseData {
        fias_guid,
        house_guid: house.text_of("HouseGUID"),
        unique_number: export.text_of("HouseUniqueNumber"),
        premises,
    })
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountData {
    pub guid: String,
    pub number: String,
    pub unified_number: Option<String>,
    pub service_id: Option<String>,
    pub premise_guids: Vec<String>,
    pub closed: bool,
}

pub fn accounts(result: &Node) -> Vec<AccountData> {
    result
        .all("exportAccountResult")
        .filter_map(|a| {
            Some(AccountData {
                guid: a.text_of("AccountGUID")?,
                number: a.text_of("AccountNumber").unwrap_or_default(),
                unified_number: a.text_of("UnifiedAccountNumber"),
                service_id: a.text_of("ServiceID"),
                premise_guids: a
                    .all("Accommodation")
                    .filter_map(|x| x.text_of("PremisesGUID"))
                    .collect(),
                closed: a.child("Closed").is_some(),
            })
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeterData {
    pub root_guid: String,
    pub serial: String,
    /// НСИ 2 code of the resource; None for electricity.
    pub resource_code: Option<String>,
    pub electric: bool,
    pub tariffs: u8,
    pub premise_guids: Vec<String>,
    pub first_verification: Option<String>,
}

pub fn meters(result: &Node) -> Vec<MeterData> {
    result
        .all("exportMeteringDeviceDataResult")
        .filter_map(|m| {
            let basic = m.child("BasicChatacteristicts")?;
            let place = basic
                .child("ResidentialPremiseDevice")
                .or_else(|| basic.child("NonResidentialPremiseDevice"));
            let energy = m.child("MunicipalResourceEnergy");
            let tariffs = energy
                .map(|e| {
                    ["MeteringValueT1", "MeteringValueT2", "MeteringValueT3"]
                        .iter()
                        .filter(|t| e.child(t).is_some())
                        .count()
                        .max(1) as u8
                })
                .unwrap_or(1);
            Some(MeterData {
                root_guid: m.text_of("MeteringDeviceRootGUID")?,
                serial: basic.text_of("MeteringDeviceNumber").unwrap_or_default(),
                resource_code: m
                    .child("MunicipalResourceNotEnergy")
                    .and_then(|r| r.path(&["MunicipalResource", "Code"])),
                electric: energy.is_some(),
                tariffs,
                premise_guids: place
                    .map(|p| {
                        p.all("PremiseGUID")
                            .map(|g| g.text.trim().to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
                first_verification: basic.text_of("FirstVerificationDate"),
            })
        })
        .collect()
}
