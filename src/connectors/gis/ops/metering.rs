//! Device metering: `importMeteringDeviceValues` (10.0.1.1, at most 1000 devices per
//! message) and `exportMeteringDeviceHistory`.
//!
//! The readings domain hands a batch of [`MeterValue`]s, each with its own TransportGUID;
//! [`import_results`] gives back one [`ItemResult`] per TransportGUID.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use super::{NsiRef, NS_METERING_BASE};
use crate::connectors::gis::envelope::{decimal, request_element, Request};
use crate::connectors::gis::services::Service;
use crate::connectors::gis::xml::{El, Node};
use crate::connectors::gis::GisError;

/// Devices per `importMeteringDeviceValues` message, as the XSD allows.
pub const MAX_DEVICES: usize = 1000;

/// How a meter's value is reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ValueKind {
    /// Water, gas, heat: one value for a municipal resource (НСИ 2).
    OneRate { resource: NsiRef },
    /// Electricity: T1, and T2/T3 for multi-tariff meters.
    Electric,
}

/// One reading to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterValue {
    /// Ours; the result for this value comes back under it.
    pub transport_guid: Uuid,
    /// The meter's MeteringDeviceRootGUID.
    pub meter_root_guid: String,
    pub kind: ValueKind,
    /// Values as exact decimals (`\d{1,15}(\.\d{1,7})?`).
    pub t1: String,
    pub t2: Option<String>,
    pub t3: Option<String>,
    pub taken_on: Date,
}

/// How ГИС ЖКХ took one value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ItemResult {
    Accepted { guid: Option<String> },
    Rejected { code: String, message: String },
}

/// Splits values into messages: at most [`MAX_DEVICES`] devices each, and a device at most
/// once per message (the XSD allows one current value per electric device).
pub fn batches(values: &[MeterValue]) -> Vec<Vec<MeterValue>> {
    let mut out: Vec<Vec<MeterValue>> = Vec::new();
    let mut seen: Vec<HashSet<String>> = Vec::new();
    for v in values {
        let slot = seen
            .iter()
            .position(|s| s.len() < MAX_DEVICES && !s.contains(&v.meter_root_guid));
        let i = match slot {
            Some(i) => i,
            None => {
                out.push(Vec::new());
                seen.push(HashSet::new());
                out.len() - 1
            }
        };
        seen[i].insert(v.meter_root_guid.clone());
        out[i].push(v.clone());
    }
    out
}

fn value(text: &str) -> Result<String, GisError> {
    decimal(text, 15, 7).ok_or_else(|| {
        GisError::Config(format!(
            "meter value {text:?} is not a decimal ГИС ЖКХ accepts (up to 15 digits, a point, \
             up to 7 digits)"
        ))
    })
}

/// `importMeteringDeviceValuesRequest` for one batch (see [`batches`]).
pub fn import_values(values: &[MeterValue]) -> Result<Request, GisError> {
    let mut devices = Vec::new();
    for v in values {
        let current = match &v.kind {
            ValueKind::OneRate { resource } => El::new("dm:OneRateDeviceValue").child(
                El::new("dm:CurrentValue")
                    .child(resource.element("metering-device-base:MunicipalResource"))
                    .leaf("metering-device-base:MeteringValue", value(&v.t1)?)
                    .leaf("dm:DateValue", v.taken_on.to_string())
                    .leaf("base:TransportGUID", v.transport_guid.to_string()),
            ),
            ValueKind::Electric => {
                let mut current = El::new("dm:CurrentValue")
                    .leaf("metering-device-base:MeteringValueT1", value(&v.t1)?);
                if let Some(t2) = &v.t2 {
                    current = current.leaf("metering-device-base:MeteringValueT2", value(t2)?);
                }
                if let Some(t3) = &v.t3 {
                    current = current.leaf("metering-device-base:MeteringValueT3", value(t3)?);
                }
                El::new("dm:ElectricDeviceValue").child(
                    current
                        .leaf("dm:DateValue", v.taken_on.to_string())
                        .leaf("base:TransportGUID", v.transport_guid.to_string()),
                )
            }
        };
        devices.push(
            El::new("dm:MeteringDevicesValues")
                .leaf("dm:MeteringDeviceRootGUID", v.meter_root_guid.clone())
                .child(current),
        );
    }
    if devices.is_empty() || devices.len() > MAX_DEVICES {
        return Err(GisError::Config(format!(
            "a message carries 1 to {MAX_DEVICES} devices, not {}",
            devices.len()
        )));
    }
    let body = request_element(
        Service::DeviceMetering,
        "importMeteringDeviceValuesRequest",
        "10.0.1.1",
        &[("metering-device-base", NS_METERING_BASE)],
    )
    .children(devices);
    Ok(Request::signed(
        "importMeteringDeviceValues",
        Service::DeviceMetering,
        body,
    ))
}

/// Per-item results of an import (`ImportResult` / `CommonResult` by TransportGUID).
pub fn import_results(result: &Node) -> BTreeMap<String, ItemResult> {
    let mut out = BTreeMap::new();
    let mut items: Vec<&Node> = result.all("ImportResult").collect();
    // house-management wraps them one level deeper.
    let nested: Vec<&Node> = items.iter().flat_map(|r| r.all("CommonResult")).collect();
    items.extend(nested);
    for item in items {
        let Some(guid) = item.text_of("TransportGUID") else {
            continue;
        };
        let errors: Vec<&Node> = item
            .all("Error")
            .chain(item.all("CreateOrUpdateError"))
            .collect();
        let outcome = match errors.first() {
            Some(e) => ItemResult::Rejected {
                code: e.text_of("ErrorCode").unwrap_or_default(),
                message: errors
                    .iter()
                    .filter_map(|e| e.text_of("Description"))
                    .collect::<Vec<_>>()
                    .join("; "),
            },
            None => ItemResult::Accepted {
                guid: item.text_of("GUID"),
            },
        };
        out.insert(guid, outcome);
    }
    out
}

/// `exportMeteringDeviceHistoryRequest` for these meters of a house.
pub fn export_history(
    fias_house_guid: &str,
    meter_root_guids: &[String],
    from: Option<Date>,
) -> Result<Request, GisError> {
    if meter_root_guids.is_empty() || meter_root_guids.len() > 100 {
        return Err(GisError::Config(
            "history is asked for 1 to 100 meters at a time".into(),
        ));
    }
    let body = request_element(
        Service::DeviceMetering,
        "exportMeteringDeviceHistoryRequest",
        "10.0.1.1",
        &[],
    )
    .leaf("dm:FIASHouseGuid", fias_house_guid)
    .children(
        meter_root_guids
            .iter()
            .map(|g| El::new("dm:MeteringDeviceRootGUID").text(g.clone())),
    )
    .opt(from.map(|d| El::new("dm:inputDateFrom").text(d.to_string())));
    Ok(Request::signed(
        "exportMeteringDeviceHistory",
        Service::DeviceMetering,
        body,
    ))
}

/// One historic value from `exportMeteringDeviceHistoryResult`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryValue {
    pub meter_root_guid: String,
    pub t1: String,
    pub t2: Option<String>,
    pub t3: Option<String>,
    pub taken_on: String,
}

/// The values in an `exportMeteringDeviceHistory` result.
pub fn history_values(result: &Node) -> Vec<HistoryValue> {
    let mut out = Vec::new();
    for device in result.all("exportMeteringDeviceHistoryResult") {
        let Some(root) = device.text_of("MeteringDeviceRootGUID") else {
            continue;
        };
        let mut values: Vec<&Node> = Vec::new();
        collect(device, "CurrentValue", &mut values);
        for v in values {
            let t1 = v
                .text_of("MeteringValue")
                .or_else(|| v.text_of("MeteringValueT1"));
            let (Some(t1), Some(date)) = (t1, v.text_of("DateValue")) else {
                continue;
            };
            out.push(HistoryValue {
                meter_root_guid: root.clone(),
                t1,
                t2: v.text_of("MeteringValueT2"),
                t3: v.text_of("MeteringValueT3"),
                taken_on: date,
            });
        }
    }
    out
}

fn collect<'a>(node: &'a Node, name: &str, out: &mut Vec<&'a Node>) {
    for c in &node.children {
        if c.name == name {
            out.push(c);
        } else {
            collect(c, name, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(meter: &str) -> MeterValue {
        MeterValue {
            transport_guid: Uuid::new_v4(),
            meter_root_guid: meter.into(),
            kind: ValueKind::Electric,
            t1: "1".into(),
            t2: None,
            t3: None,
            taken_on: time::macros::date!(2026 - 11 - 25),
        }
    }

    #[test]
    fn batches_hold_each_device_once_and_at_most_1000() {
        let mut values: Vec<MeterValue> = (0..2500).map(|i| v(&format!("m{i}"))).collect();
        values.push(v("m1"));
        let b = batches(&values);
        assert_eq!(
            b.iter().map(Vec::len).collect::<Vec<_>>(),
            [1000, 1000, 501]
        );
        assert!(b[2].iter().any(|x| x.meter_root_guid == "m1"));
    }

    #[test]
    fn a_comma_is_written_as_a_point_and_garbage_is_refused() {
        let mut value = v("m");
        value.t1 = "12,5".into();
        let xml = import_values(&[value.clone()]).unwrap().body.to_xml();
        assert!(xml.contains(">12.5<"), "{xml}");
        value.t1 = "1e3".into();
        assert!(import_values(&[value]).is_err());
    }
}
