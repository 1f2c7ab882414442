//! XAdES-BES signatures for ГИС ЖКХ: GOST R 34.10-2012 over GOST R 34.11-2012 (256), the
//! `ds:Signature` as the first child of the element with `Id="signed-data-container"`.
//!
//! Canonicalisation is exclusive C14N done by libxml2 (through the `libxml` crate), on the
//! nodes in their document context; digests are Streebog-256; the signature value comes from
//! the configured [`Signer`].

use base64::Engine;
use libxml::parser::Parser;
use libxml::tree::c14n::{CanonicalizationMode, CanonicalizationOptions};
use libxml::tree::Node as XmlNode;
use streebog::{Digest, Streebog256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use super::envelope::SIGNED_ID;
use super::services::NS_DS;
use super::xml::El;
use crate::connectors::signer::{Signer, SignerError};

pub const ALG_EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const ALG_ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const ALG_SIGNATURE: &str =
    "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102012-gostr34112012-256";
pub const ALG_DIGEST: &str = "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34112012-256";
pub const NS_XADES: &str = "http://uri.etsi.org/01903/v1.3.2#";

#[derive(Debug, thiserror::Error)]
pub enum XadesError {
    #[error("signer: {0}")]
    Signer(#[from] SignerError),
    #[error("cannot canonicalise the message: {0}")]
    Canonical(String),
    #[error("signer certificate cannot be read: {0}")]
    Certificate(String),
}

/// Exclusive C14N (without comments) of the element whose `Id` attribute is `id`, in its
/// document. `xml` is the whole document.
pub fn canonical_by_id(xml: &str, id: &str) -> Result<String, XadesError> {
    let parser = Parser::default();
    let doc = parser
        .parse_string(xml)
        .map_err(|e| XadesError::Canonical(format!("{e:?}")))?;
    let root = doc
        .get_root_element()
        .ok_or_else(|| XadesError::Canonical("no root element".into()))?;
    let mut node = find_by_id(&root, id)
        .ok_or_else(|| XadesError::Canonical(format!("no element with Id {id}")))?;
    canonical_node(&mut node)
}

/// Exclusive C14N of the first element with this local name.
pub fn canonical_by_name(xml: &str, local_name: &str) -> Result<String, XadesError> {
    let parser = Parser::default();
    let doc = parser
        .parse_string(xml)
        .map_err(|e| XadesError::Canonical(format!("{e:?}")))?;
    let root = doc
        .get_root_element()
        .ok_or_else(|| XadesError::Canonical("no root element".into()))?;
    let mut node = find(&root, &|n| n.get_name() == local_name)
        .ok_or_else(|| XadesError::Canonical(format!("no element {local_name}")))?;
    canonical_node(&mut node)
}

fn canonical_node(node: &mut XmlNode) -> Result<String, XadesError> {
    node.canonicalize(CanonicalizationOptions {
        mode: CanonicalizationMode::ExclusiveCanonical1_0,
        with_comments: false,
        inclusive_ns_prefixes: vec![],
    })
    .map_err(|()| XadesError::Canonical("libxml2 canonicalisation failed".into()))
}

fn find_by_id(node: &XmlNode, id: &str) -> Option<XmlNode> {
    find(node, &|n| n.get_attribute("Id").as_deref() == Some(id))
}

fn find(node: &XmlNode, matches: &dyn Fn(&XmlNode) -> bool) -> Option<XmlNode> {
    if matches(node) {
        return Some(node.clone());
    }
    node.get_child_elements()
        .iter()
        .find_map(|child| find(child, matches))
}

/// Streebog-256 of `data`, base64.
pub fn digest_b64(data: &[u8]) -> String {
    b64(&Streebog256::digest(data))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Issuer (RFC 4514 text) and decimal serial number of a DER certificate.
fn issuer_serial(der: &[u8]) -> Result<(String, String), XadesError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| XadesError::Certificate(e.to_string()))?;
    Ok((
        cert.issuer().to_string(),
        cert.tbs_certificate.serial.to_string(),
    ))
}

/// Signs `body` (a request element with `Id="signed-data-container"`): returns the element
/// serialised with the `ds:Signature` as its first child.
pub fn sign(body: &El, signer: &dyn Signer, at: OffsetDateTime) -> Result<String, XadesError> {
    let unsigned = body.to_xml();
    let body_digest = digest_b64(canonical_by_id(&unsigned, SIGNED_ID)?.as_bytes());

    let cert = signer.certificate_der()?;
    let (issuer, serial) = issuer_serial(&cert)?;
    let sig_id = format!("xmldsig-{}", Uuid::new_v4());
    let props_id = format!("{sig_id}-signedprops");
    let signing_time = at
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default();

    let object = El::new("ds:Object").child(
        El::new("xades:QualifyingProperties")
            .attr("xmlns:xades", NS_XADES)
            .attr("Target", format!("#{sig_id}"))
            .child(
                El::new("xades:SignedProperties")
                    .attr("Id", props_id.clone())
                    .child(
                        El::new("xades:SignedSignatureProperties")
                            .leaf("xades:SigningTime", signing_time)
                            .child(
                                El::new("xades:SigningCertificate").child(
                                    El::new("xades:Cert")
                                        .child(
                                            El::new("xades:CertDigest")
                                                .child(
                                                    El::new("ds:DigestMethod")
                                                        .attr("Algorithm", ALG_DIGEST),
                                                )
                                                .leaf("ds:DigestValue", digest_b64(&cert)),
                                        )
                                        .child(
                                            El::new("xades:IssuerSerial")
                                                .leaf("ds:X509IssuerName", issuer)
                                                .leaf("ds:X509SerialNumber", serial),
                                        ),
                                ),
                            ),
                    ),
            ),
    );
    let key_info =
        El::new("ds:KeyInfo").child(El::new("ds:X509Data").leaf("ds:X509Certificate", b64(&cert)));

    // The signed properties are canonicalised where they will stand.
    let draft = signature(&sig_id, None, "", &key_info, &object);
    let props_digest = digest_b64(
        canonical_by_id(&body.clone().raw_first(draft.to_xml()).to_xml(), &props_id)?.as_bytes(),
    );

    let signed_info = El::new("ds:SignedInfo")
        .child(El::new("ds:CanonicalizationMethod").attr("Algorithm", ALG_EXC_C14N))
        .child(El::new("ds:SignatureMethod").attr("Algorithm", ALG_SIGNATURE))
        .child(
            El::new("ds:Reference")
                .attr("Id", format!("{sig_id}-ref0"))
                .attr("URI", format!("#{SIGNED_ID}"))
                .child(
                    El::new("ds:Transforms")
                        .child(El::new("ds:Transform").attr("Algorithm", ALG_ENVELOPED))
                        .child(El::new("ds:Transform").attr("Algorithm", ALG_EXC_C14N)),
                )
                .child(El::new("ds:DigestMethod").attr("Algorithm", ALG_DIGEST))
                .leaf("ds:DigestValue", body_digest),
        )
        .child(
            El::new("ds:Reference")
                .attr("Type", "http://uri.etsi.org/01903#SignedProperties")
                .attr("URI", format!("#{props_id}"))
                .child(
                    El::new("ds:Transforms")
                        .child(El::new("ds:Transform").attr("Algorithm", ALG_EXC_C14N)),
                )
                .child(El::new("ds:DigestMethod").attr("Algorithm", ALG_DIGEST))
                .leaf("ds:DigestValue", props_digest),
        );

    let draft = signature(&sig_id, Some(&signed_info), "", &key_info, &object);
    let with_info = body.clone().raw_first(draft.to_xml()).to_xml();
    let to_sign = canonical_by_name(&with_info, "SignedInfo")?;
    let value = b64(&signer.sign(to_sign.as_bytes())?);

    let done = signature(&sig_id, Some(&signed_info), &value, &key_info, &object);
    Ok(body.clone().raw_first(done.to_xml()).to_xml())
}

fn signature(id: &str, info: Option<&El>, value: &str, key_info: &El, object: &El) -> El {
    El::new("ds:Signature")
        .attr("xmlns:ds", NS_DS)
        .attr("Id", id)
        .opt(info.cloned())
        .leaf("ds:SignatureValue", value)
        .child(key_info.clone())
        .child(object.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_c14n_keeps_only_used_namespaces_and_sorts_attributes() {
        let xml =
            r#"<a:r xmlns:a="urn:a" xmlns:b="urn:b"><a:x z="1" y="2" Id="k"><a:e/></a:x></a:r>"#;
        let c = canonical_by_id(xml, "k").unwrap();
        assert_eq!(
            c,
            r#"<a:x xmlns:a="urn:a" Id="k" y="2" z="1"><a:e></a:e></a:x>"#
        );
    }

    #[test]
    fn streebog_matches_the_standard_example() {
        // GOST R 34.11-2012, example 1 (M1), 256-bit hash, as RustCrypto publishes it.
        let m1 = b"012345678901234567890123456789012345678901234567890123456789012";
        let hex = hex::encode(Streebog256::digest(m1));
        assert_eq!(
            hex,
            "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"
        );
    }
}
