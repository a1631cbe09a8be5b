//! Documents on every operation the failures that come from the shared layers rather than
//! from its handler: a token that is missing or refused (401, 403), a path that names
//! nothing (404), a URL, query or body that cannot be read (400), a body that is too large
//! (413), not JSON (415) or fails its checks (422). Each gets the one error shape. It must
//! not document what a handler alone decides (409, 410, 429): those stay on the handler.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

/// Adds the shared failures to each operation that can meet them.
pub(crate) fn add_standard_responses(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ];
        for operation in operations.into_iter().flatten() {
            add_to(operation);
        }
    }
}

fn add_to(operation: &mut Operation) {
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let has_path = parameters
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let has_input = !parameters.is_empty() || operation.request_body.is_some();
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let mut wanted: Vec<(&str, &str)> = Vec::new();
    if has_input {
        wanted.push((
            "400",
            "The URL, query or body cannot be read (e.g. an id that is not a number).",
        ));
    }
    if secured {
        wanted.push(("401", "No API token, or one that is unknown or revoked."));
        wanted.push(("403", "The token's account may not do this."));
    }
    if has_path {
        wanted.push(("404", "Nothing at this path."));
    }
    if operation.request_body.is_some() {
        wanted.push(("413", "The body is larger than the server accepts."));
        wanted.push(("415", "The body is not of the documented content type."));
        wanted.push(("422", "A field fails its checks; `details.field` names it."));
    }
    for (status, description) in wanted {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(error_response(description)));
    }
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}
