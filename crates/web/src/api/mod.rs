//! The JSON API under `/api/v1`. Handlers are annotated with `utoipa::path`, so the OpenAPI
//! document at `/api/v1/openapi.json` is generated from them. Requests authenticate with
//! `Authorization: Bearer TOKEN`; every failure has the shape
//! `{"error":{"code","message","details"}}`.

pub(crate) mod audit;
mod event_rsvps;
mod events;
mod field_limits;
mod groups;
mod json_body;
pub(crate) mod people;
pub(crate) mod phonebank;
mod retention;
mod schemas;
mod standard_responses;
mod tokens;
pub(crate) mod webhooks;

use crate::AppState;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

pub(crate) use json_body::ApiJson;

/// The error shape, for the OpenAPI document.
#[derive(utoipa::ToSchema, serde::Serialize)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

#[derive(utoipa::ToSchema, serde::Serialize)]
struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_input`.
    code: String,
    /// What went wrong, for people.
    message: String,
    /// Structured details (the field at fault, rejected rows), or null.
    details: serde_json::Value,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Barnstorm API", description = "Groups, events and phonebanks of a Barnstorm instance."),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(tokens::routes())
        .merge(audit::routes())
        .merge(groups::routes())
        .merge(events::routes())
        .merge(event_rsvps::routes())
        .merge(phonebank::routes())
        .merge(people::routes())
        .merge(retention::routes())
        .merge(webhooks::routes())
}

/// Completes the document once every route has added its schemas: the length limits and
/// the failures every operation shares.
pub(crate) fn finish_document(mut openapi: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    utoipa::Modify::modify(&field_limits::FieldLimits, &mut openapi);
    standard_responses::add_standard_responses(&mut openapi);
    openapi
}
