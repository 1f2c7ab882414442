//! SOAP 1.1 envelopes as the ГИС ЖКХ WSDLs describe them: `RequestHeader` (Date, a fresh
//! MessageGUID, orgPPAGUID, IsOperatorSignature) or `ISRequestHeader`, and a body whose
//! request element carries `Id="signed-data-container"` and `base:version`.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use super::services::{HeaderKind, Service, NS_BASE, NS_NSI_BASE, NS_SOAP};
use super::xml::El;

/// The `Id` of the element that the signature covers.
pub const SIGNED_ID: &str = "signed-data-container";

/// One request: the operation (its SOAPAction is `urn:<operation>`) and its body element.
#[derive(Clone, Debug)]
pub struct Request {
    pub operation: &'static str,
    pub service: Service,
    /// The request element, e.g. `dm:importMeteringDeviceValuesRequest`.
    pub body: El,
    /// getState goes unsigned; everything else is signed.
    pub signed: bool,
}

impl Request {
    /// A signed request of `operation` with its body element.
    pub fn signed(operation: &'static str, service: Service, body: El) -> Self {
        Request {
            operation,
            service,
            body,
            signed: true,
        }
    }

    /// `getState` for a message that ГИС ЖКХ acknowledged.
    pub fn get_state(service: Service, ack_guid: &str) -> Self {
        let body = El::new("base:getStateRequest")
            .attr("xmlns:base", NS_BASE)
            .leaf("base:MessageGUID", ack_guid);
        Request {
            operation: "getState",
            service,
            body,
            signed: false,
        }
    }

    /// The SOAPAction header value.
    pub fn soap_action(&self) -> String {
        format!("\"urn:{}\"", self.operation)
    }
}

/// A request element named `<prefix>:<element>` that declares the namespaces it uses and
/// carries `Id="signed-data-container"` and `base:version`.
pub fn request_element(
    service: Service,
    element: &str,
    version: &str,
    extra_ns: &[(&str, &str)],
) -> El {
    let mut body = El::new(format!("{}:{element}", service.prefix()))
        .attr(format!("xmlns:{}", service.prefix()), service.namespace())
        .attr("xmlns:base", NS_BASE)
        .attr("xmlns:nsi-base", NS_NSI_BASE);
    for (prefix, ns) in extra_ns {
        body = body.attr(format!("xmlns:{prefix}"), *ns);
    }
    body.attr("Id", SIGNED_ID).attr("base:version", version)
}

/// The header fields of one send.
#[derive(Clone, Debug)]
pub struct Header {
    pub date: OffsetDateTime,
    pub message_guid: Uuid,
    pub org_ppa_guid: String,
    pub operator_signature: bool,
}

impl Header {
    pub fn fresh(date: OffsetDateTime, org_ppa_guid: &str, operator_signature: bool) -> Self {
        Header {
            date,
            message_guid: Uuid::new_v4(),
            org_ppa_guid: org_ppa_guid.to_string(),
            operator_signature,
        }
    }

    fn element(&self, kind: HeaderKind) -> El {
        let date = self
            .date
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_default();
        let name = match kind {
            HeaderKind::Request => "base:RequestHeader",
            HeaderKind::Is => "base:ISRequestHeader",
        };
        let mut header = El::new(name)
            .leaf("base:Date", date)
            .leaf("base:MessageGUID", self.message_guid.to_string());
        if kind == HeaderKind::Request {
            header = header.leaf("base:orgPPAGUID", self.org_ppa_guid.clone());
            if self.operator_signature {
                header = header.leaf("base:IsOperatorSignature", "true");
            }
        }
        header
    }
}

/// The whole envelope. `body_xml` is the serialised request element (signed or not).
pub fn envelope(service: Service, header: &Header, body_xml: &str) -> String {
    let head = header.element(service.header()).to_xml();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <soapenv:Envelope xmlns:soapenv=\"{NS_SOAP}\" xmlns:base=\"{NS_BASE}\">\
         <soapenv:Header>{head}</soapenv:Header>\
         <soapenv:Body>{body_xml}</soapenv:Body></soapenv:Envelope>"
    )
}

/// The request element of an envelope, as text: the body's only child. Each request
/// element declares the namespaces it uses, so the text stands alone (and validates alone).
pub fn body_element(envelope: &str) -> Option<&str> {
    let start = envelope.find("<soapenv:Body>")? + "<soapenv:Body>".len();
    let end = envelope.rfind("</soapenv:Body>")?;
    envelope.get(start..end)
}

/// A decimal as ГИС ЖКХ wants it: digits, an optional point and up to `max_fraction`
/// digits, never a comma or an exponent. Returns None for anything else.
pub fn decimal(value: &str, max_int: usize, max_fraction: usize) -> Option<String> {
    let v = value.trim().replace(',', ".");
    let (int, frac) = match v.split_once('.') {
        Some((i, f)) => (i, f.trim_end_matches('0')),
        None => (v.as_str(), ""),
    };
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits(int) || !digits(frac) || int.len() > max_int || frac.len() > max_fraction {
        return None;
    }
    Some(if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_have_a_point_and_no_exponent() {
        assert_eq!(decimal("0012,500", 15, 7).as_deref(), Some("12.5"));
        assert_eq!(decimal("7", 15, 7).as_deref(), Some("7"));
        assert_eq!(decimal("0.0", 15, 7).as_deref(), Some("0"));
        assert_eq!(decimal("1e5", 15, 7), None);
        assert_eq!(decimal("-1", 15, 7), None);
        assert_eq!(decimal("1.12345678", 15, 7), None);
        assert_eq!(decimal("1234567890123456", 15, 7), None);
    }

    #[test]
    fn the_header_follows_the_wsdl() {
        let at = time::macros::datetime!(2026-12-03 10:00 UTC);
        let header = Header::fresh(at, "11111111-2222-3333-4444-555555555555", true);
        let env = envelope(Service::DeviceMetering, &header, "<x/>");
        assert!(env.contains("<base:RequestHeader><base:Date>2026-12-03T10:00:00Z</base:Date>"));
        assert!(env.contains("<base:IsOperatorSignature>true"));
        assert_eq!(body_element(&env), Some("<x/>"));
        let is = envelope(Service::NsiCommon, &header, "<x/>");
        assert!(is.contains("<base:ISRequestHeader>") && !is.contains("orgPPAGUID"));
    }
}
