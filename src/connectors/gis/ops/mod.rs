//! The ГИС ЖКХ operations gosdom uses, one file per service: each builds its request
//! element (valid against the service's types XSD) and reads its part of `getStateResult`.

pub mod appeals;
pub mod house;
pub mod metering;
pub mod nsi;

use serde::{Deserialize, Serialize};

use super::xml::{El, Node};

pub const NS_METERING_BASE: &str =
    "http://dom.gosuslugi.ru/schema/integration/metering-device-base/";
pub const NS_PREMISES_BASE: &str = "http://dom.gosuslugi.ru/schema/integration/premises-base/";
pub const NS_ACCOUNT_BASE: &str = "http://dom.gosuslugi.ru/schema/integration/account-base/";

/// A reference to an НСИ registry entry (`nsi-base:nsiRef`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NsiRef {
    pub code: String,
    pub guid: String,
    #[serde(default)]
    pub name: Option<String>,
}

impl NsiRef {
    /// The reference as the element `name` (its children are in the nsi-base namespace).
    pub fn element(&self, name: &str) -> El {
        El::new(name)
            .leaf("nsi-base:Code", self.code.clone())
            .leaf("nsi-base:GUID", self.guid.clone())
    }

    pub fn read(node: &Node) -> Option<NsiRef> {
        Some(NsiRef {
            code: node.text_of("Code")?,
            guid: node.text_of("GUID")?,
            name: node.text_of("Name"),
        })
    }
}
