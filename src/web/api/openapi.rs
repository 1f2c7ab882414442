//! `GET /api/v1/openapi.json`: the OpenAPI 3 description of the resident API, kept as a
//! file next to the handlers (`openapi.json`) and compiled into the binary. A test
//! compares its paths with the routes mounted under `/api/v1`, so the two cannot drift.

use rocket::get;
use rocket::http::ContentType;

/// The document as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

#[get("/api/v1/openapi.json")]
pub fn openapi() -> (ContentType, &'static str) {
    (ContentType::JSON, DOCUMENT)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::DOCUMENT;

    fn documented() -> BTreeSet<String> {
        let doc: Value = serde_json::from_str(DOCUMENT).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let mut out = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                out.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
        out
    }

    /// Every route Rocket mounts under `/api/v1`, written the OpenAPI way (`{id}`).
    fn mounted() -> BTreeSet<String> {
        let dir = tempfile::tempdir().unwrap();
        let mut config = crate::config::Config::default();
        config.storage.data_dir = dir.path().to_path_buf();
        config.storage.synchronous = crate::config::Synchronous::Normal;
        let service = crate::server::Service::prepare(config).unwrap();
        service
            .rocket()
            .routes()
            .filter(|r| r.uri.path().starts_with("/api/v1/") || r.uri.path() == "/api/v1")
            .map(|r| {
                let path = r
                    .uri
                    .path()
                    .split('/')
                    .map(|seg| match seg.strip_prefix('<') {
                        Some(name) => format!("{{{}}}", name.trim_end_matches('>')),
                        None => seg.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                format!("{} {path}", r.method)
            })
            .collect()
    }

    #[test]
    fn every_mounted_route_is_described_and_every_description_is_mounted() {
        let documented = documented();
        let mounted = mounted();
        let undocumented: Vec<_> = mounted.difference(&documented).collect();
        assert!(
            undocumented.is_empty(),
            "not in openapi.json: {undocumented:?}"
        );
        let unmounted: Vec<_> = documented.difference(&mounted).collect();
        assert!(
            unmounted.is_empty(),
            "described but not mounted: {unmounted:?}"
        );
    }

    #[test]
    fn every_operation_documents_its_errors_with_the_error_shape() {
        let doc: Value = serde_json::from_str(DOCUMENT).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (code, answer) in op["responses"].as_object().unwrap() {
                    if code.starts_with('4') {
                        let name = answer["$ref"].as_str().unwrap_or_default();
                        let schema = &doc["components"]["responses"]
                            [name.trim_start_matches("#/components/responses/")]["content"]
                            ["application/json"]["schema"]["$ref"];
                        assert_eq!(
                            schema, "#/components/schemas/Error",
                            "{method} {path} {code}"
                        );
                    }
                }
            }
        }
    }
}
