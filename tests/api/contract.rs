//! The published contract: the OpenAPI 3.1 document and its docs page are served, every route is in the document
//! and every documented operation is routed, and schemathesis finds no server error and no answer that breaks it.

use std::path::Path;
use std::process::Command;

use axum::http::{Method, StatusCode};
use serde_json::Value;
use sqlx::PgPool;

use crate::browser::Served;
use crate::helpers::TestApp;
use doorstep::domain::Role;

async fn document(app: &TestApp) -> Value {
    let reply = app
        .send(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(reply.content_type(), "application/json");
    reply.ok(StatusCode::OK)
}

#[sqlx::test]
async fn the_document_is_openapi_3_1_served_without_a_session(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "Doorstep");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let problem = &doc["components"]["schemas"]["Problem"];
    assert!(problem["properties"]["field"].is_object(), "{problem}");
    // A write that needs a session says so, and names its problem answer; the login does not need one.
    let create = &doc["paths"]["/api/v1/customers"]["post"];
    assert_eq!(create["security"][0]["bearer"], serde_json::json!([]));
    assert!(create["responses"]["default"]["content"]["application/problem+json"].is_object());
    assert!(create["requestBody"]["content"]["application/json"]["schema"].is_object());
    assert!(doc["paths"]["/api/v1/auth/login"]["post"]["security"].is_null());
    // The pickup write documents its idempotency key.
    let params = doc["paths"]["/api/v1/pickups"]["post"]["parameters"]
        .as_array()
        .unwrap();
    assert!(params
        .iter()
        .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"));
}

#[sqlx::test]
async fn the_docs_page_serves_swagger_ui_from_the_binary(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let page = app.send(Method::GET, "/api/docs", None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains("/api/v1/openapi.json"), "{html}");
    assert!(
        !html.contains("https://"),
        "the page loads nothing from another origin: {html}"
    );
    let js = app
        .send(Method::GET, "/api/docs/swagger-ui-bundle.js", None, None)
        .await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.body.len() > 100_000, "the bundle is served whole");
}

/// A concrete URL for a documented path: a made-up value for every `{parameter}`.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').unwrap() + open;
        let name = &rest[open + 1..close];
        out.push_str(match name {
            "year" => "2026",
            "price_id" => "1",
            "kind" | "zone_id" => "spring",
            "code" => "G00DEM0000AE",
            _ => "00000000-0000-4000-8000-000000000000",
        });
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[sqlx::test]
async fn every_documented_operation_is_routed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let doc = document(&app).await;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() > 50, "{} paths", paths.len());
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            operations += 1;
            let reply = app.send(method.clone(), &concrete(path), None, None).await;
            let unrouted = reply.status == StatusCode::METHOD_NOT_ALLOWED
                || (reply.status == StatusCode::NOT_FOUND
                    && reply.json()["detail"] == "route not found");
            assert!(!unrouted, "{method} {path} is documented but not routed");
            let public = op["security"].is_null();
            if !public {
                assert_eq!(
                    reply.status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} is documented as needing a session"
                );
            }
        }
    }
    assert!(operations > 70, "{operations} operations");
}

/// Every `.route("…")` left in the source (routes outside the document) is a web-app page, not API.
#[test]
fn every_api_route_is_in_the_document() {
    fn walk(dir: &Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, _) in text.match_indices(".route(") {
                    let after = text[i + 7..].trim_start();
                    let route = after.split(',').next().unwrap_or("").trim().to_owned();
                    found.push((path.display().to_string(), route));
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    assert!(!found.is_empty(), "the web app's routes are found");
    for (file, route) in found {
        let literal = route.trim_matches('"');
        assert!(
            route.starts_with('"') && (literal == "/" || literal.starts_with("/app")),
            "{file}: `.route({route}, …)` bypasses the OpenAPI document: add the handler through `routes!` with a \
             `#[utoipa::path]`"
        );
    }
}

/// schemathesis over the whole document with an administrator's session: every operation, generated and
/// boundary cases and stateful sequences. Needs `st` (schemathesis) on PATH: `.ci/run` installs it.
#[sqlx::test(fixtures(path = "../../fixtures", scripts("demo")))]
async fn schemathesis_finds_no_server_error_and_no_broken_answer(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let token = app.login(Role::Admin).await;
    let served = Served::start(pool).await;
    let url = served.url("/api/v1/openapi.json");
    let report = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/schemathesis");
    std::fs::create_dir_all(&report).unwrap();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("st")
            .arg("--config-file")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/schemathesis.toml"))
            .args(["run", &url])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,\
                 response_headers_conformance,response_schema_conformance",
            ])
            .args(["--report", "junit", "--report-dir"])
            .arg(&report)
            // Its cache (`.schemathesis/`) goes beside the report, not into the checkout.
            .current_dir(&report)
            .env("SCHEMATHESIS_HOOKS", "")
            .output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| {
        panic!("schemathesis (`st`) must be installed (pip install schemathesis): {e}")
    });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}\n{stderr}");
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{stdout}\n{stderr}"
    );
}

/// Found by schemathesis: an offset near `i64::MAX` overflowed the next page's offset and dropped the connection.
#[sqlx::test(fixtures(path = "../../fixtures", scripts("demo")))]
async fn a_huge_offset_is_refused_naming_it(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    for uri in [
        format!(
            "/api/v1/customers/{}/interactions?offset=9223372036854775807",
            crate::helpers::LIU_FANG
        ),
        "/api/v1/customers?offset=9223372036854775807".to_owned(),
        "/api/v1/lists/special-sizes?offset=9223372036854775807".to_owned(),
    ] {
        let body = app
            .get(&uri, &token)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["field"], "offset", "{uri}: {body}");
    }
}
