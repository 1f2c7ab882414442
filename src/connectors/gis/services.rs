//! The ГИС ЖКХ services gosdom talks to, as their async WSDLs (package 14.4.0.1) describe
//! them: endpoint path, namespace, header kind, and the schema that validates requests.

pub const NS_SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const NS_BASE: &str = "http://dom.gosuslugi.ru/schema/integration/base/";
pub const NS_NSI_BASE: &str = "http://dom.gosuslugi.ru/schema/integration/nsi-base/";
pub const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";

/// One asynchronous ГИС ЖКХ service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    NsiCommon,
    HouseManagement,
    DeviceMetering,
    Appeals,
}

/// Which SOAP header the WSDL binds to an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderKind {
    /// `base:RequestHeader` with orgPPAGUID: the organisation's own operations.
    Request,
    /// `base:ISRequestHeader`: operations of the information system itself (НСИ).
    Is,
}

impl Service {
    /// The path of the `soap:address` in the service's async WSDL.
    pub fn path(self) -> &'static str {
        match self {
            Service::NsiCommon => "/ext-bus-nsi-common-service/services/NsiCommonAsync",
            Service::HouseManagement => {
                "/ext-bus-home-management-service/services/HomeManagementAsync"
            }
            Service::DeviceMetering => {
                "/ext-bus-device-metering-service/services/DeviceMeteringAsync"
            }
            Service::Appeals => "/ext-bus-appeals-service/services/AppealsAsync",
        }
    }

    /// The service's types namespace.
    pub fn namespace(self) -> &'static str {
        match self {
            Service::NsiCommon => "http://dom.gosuslugi.ru/schema/integration/nsi-common/",
            Service::HouseManagement => {
                "http://dom.gosuslugi.ru/schema/integration/house-management/"
            }
            Service::DeviceMetering => {
                "http://dom.gosuslugi.ru/schema/integration/device-metering/"
            }
            Service::Appeals => "http://dom.gosuslugi.ru/schema/integration/appeals/",
        }
    }

    /// The prefix gosdom uses for the service's namespace.
    pub fn prefix(self) -> &'static str {
        match self {
            Service::NsiCommon => "nsi-common",
            Service::HouseManagement => "hm",
            Service::DeviceMetering => "dm",
            Service::Appeals => "ap",
        }
    }

    /// The header every operation of the service carries (per the WSDL bindings we use).
    pub fn header(self) -> HeaderKind {
        match self {
            Service::NsiCommon => HeaderKind::Is,
            _ => HeaderKind::Request,
        }
    }

    /// `<folder>/<types>.xsd` inside the integration package: the schema for requests.
    pub fn types_xsd(self) -> &'static str {
        match self {
            Service::NsiCommon => "nsi-common/hcs-nsi-common-types.xsd",
            Service::HouseManagement => "house-management/hcs-house-management-types.xsd",
            Service::DeviceMetering => "device-metering/hcs-device-metering-types.xsd",
            Service::Appeals => "appeals/hcs-appeals-types.xsd",
        }
    }

    /// The service whose endpoint path this is.
    pub fn from_path(path: &str) -> Option<Service> {
        [
            Service::NsiCommon,
            Service::HouseManagement,
            Service::DeviceMetering,
            Service::Appeals,
        ]
        .into_iter()
        .find(|s| path.ends_with(s.path()))
    }

    /// Stable name for storage and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::NsiCommon => "nsi-common",
            Service::HouseManagement => "house-management",
            Service::DeviceMetering => "device-metering",
            Service::Appeals => "appeals",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_the_wsdls() {
        let root = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/gis-zhkh/xsd-14.4.0.1"
        );
        let wsdl = |folder: &str| {
            let dir = std::path::Path::new(root).join(folder);
            let file = std::fs::read_dir(&dir)
                .unwrap()
                .filter_map(|e| e.ok())
                .find(|e| e.file_name().to_string_lossy().ends_with("-async.wsdl"))
                .unwrap();
            std::fs::read_to_string(file.path()).unwrap()
        };
        for service in [
            Service::NsiCommon,
            Service::HouseManagement,
            Service::DeviceMetering,
            Service::Appeals,
        ] {
            let folder = service.types_xsd().split('/').next().unwrap();
            let text = wsdl(folder);
            assert!(
                text.contains(&format!("api.dom.gosuslugi.ru{}\"", service.path())),
                "{service:?}"
            );
            assert!(std::path::Path::new(root)
                .join(service.types_xsd())
                .exists());
        }
    }
}
