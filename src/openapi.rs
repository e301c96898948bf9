//! The published API contract: the OpenAPI 3.1 document gathered from the handlers' annotations, and its docs page.

use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

use crate::error::ProblemBody;
use crate::state::AppState;

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/api/v1/openapi.json";

/// Where the interactive docs page is served.
pub const DOCS_PATH: &str = "/api/docs";

/// Routes anyone may call without signing in; every other operation needs a session.
const PUBLIC: &[&str] = &[
    "/api/v1/auth/login",
    "/healthz",
    "/readyz",
    "/metrics",
    DOCUMENT_PATH,
];

/// Completes the gathered document: title and version, the bearer scheme on every operation that needs a session,
/// and the problem+json answer every operation may give instead of its success.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    doc.info.title = "Doorstep".to_owned();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.info.description = Some(
        "Door-to-door laundry pickup: customers, door labels and scans, itemized pickups, wardrobes, call lists, \
         campaigns, storage and forecasts. Sign in with `POST /api/v1/auth/login` and send the token as \
         `Authorization: Bearer <token>`. Every error is `application/problem+json`, naming the field at fault. \
         Writes that must not repeat take an `Idempotency-Key` header."
            .to_owned(),
    );
    doc.info.license = None;
    doc.info.contact = None;
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    let mut schemas = vec![(ProblemBody::name().into_owned(), ProblemBody::schema())];
    ProblemBody::schemas(&mut schemas);
    components.schemas.extend(schemas);
    let problem = ResponseBuilder::new()
        .description(
            "An error, as RFC 9457 problem details naming the field at fault where there is one",
        )
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ProblemBody::name())))
                .build(),
        )
        .build();
    for (path, item) in doc.paths.paths.iter_mut() {
        let public = PUBLIC.contains(&path.as_str());
        for op in operations(item) {
            op.responses
                .responses
                .insert("default".to_owned(), RefOr::T(problem.clone()));
            if !public {
                op.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
            }
        }
    }
    doc
}

/// Every operation of a path.
fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The finished document, serialised once, for the route that serves it.
#[derive(Clone)]
pub struct Document(Arc<str>);

impl Document {
    /// Serialises the finished document.
    pub fn new(doc: &OpenApi) -> Document {
        let mut value = serde_json::to_value(doc).unwrap_or_default();
        camel_case_links(&mut value);
        Document(value.to_string().into())
    }
}

/// utoipa 5 writes a Link object's fields in snake case (`operation_id`); OpenAPI names them in camel case
/// (`operationId`), and tools ignore the link otherwise.
fn camel_case_links(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(links)) = map.get_mut("links") {
                for link in links.values_mut() {
                    if let serde_json::Value::Object(link) = link {
                        for (from, to) in [
                            ("operation_id", "operationId"),
                            ("operation_ref", "operationRef"),
                            ("request_body", "requestBody"),
                        ] {
                            if let Some(v) = link.remove(from) {
                                link.insert(to.to_owned(), v);
                            }
                        }
                    }
                }
            }
            map.values_mut().for_each(camel_case_links);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(camel_case_links),
        _ => {}
    }
}

/// `GET /api/v1/openapi.json`: this document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "service",
    responses((status = 200, description = "This OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
pub async fn document(Extension(doc): Extension<Document>) -> Response {
    let mut response = doc.0.to_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The docs page, with Swagger UI's assets from the swagger-ui-dist crate (served from the binary: no CDN, works
/// offline).
pub fn docs_page() -> Router<AppState> {
    swagger_ui_dist::generate_routes(swagger_ui_dist::ApiDefinition {
        uri_prefix: DOCS_PATH,
        api_definition: swagger_ui_dist::OpenApiSource::Uri(DOCUMENT_PATH),
        title: Some("Doorstep API"),
    })
    .with_state(())
}
