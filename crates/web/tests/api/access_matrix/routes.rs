//! Every route the app serves, as (method, path template): read from the router sources
//! (`.route("…")` calls and the `const` paths they name) and from the OpenAPI document, so
//! a route added in either place shows up here without anyone listing it by hand.

use crate::app::TestApp;
use std::collections::BTreeSet;
use std::path::Path;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The routes of the router sources and of `/api/v1/openapi.json`, methods upper-case.
pub async fn every_route(app: &TestApp) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    source_routes(&src, &mut routes);
    let document = app.get("/api/v1/openapi.json").await.json();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            if METHODS.contains(&method.as_str()) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

fn source_routes(dir: &Path, routes: &mut BTreeSet<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_routes(&path, routes);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            // Routes inside unit tests (a fake geocoder, say) are not the app's.
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            file_routes(text, routes);
        }
    }
}

fn file_routes(text: &str, routes: &mut BTreeSet<(String, String)>) {
    let mut rest = text;
    while let Some(at) = rest.find(".route(") {
        let call = &rest[at + ".route(".len()..];
        let call = &call[..closing_paren(call)];
        let (first, handlers) = call.split_once(',').unwrap_or((call, ""));
        let first = first.trim();
        let path = match first.strip_prefix('"') {
            Some(literal) => literal.trim_end_matches('"').to_owned(),
            None => const_value(text, first)
                .unwrap_or_else(|| panic!("route path {first} is not a literal or a const")),
        };
        for method in METHODS {
            if calls(handlers, method) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
        rest = &rest[at + 1..];
    }
}

/// Where the call that `text` is the inside of ends.
fn closing_paren(text: &str) -> usize {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return i,
            ')' => depth -= 1,
            _ => {}
        }
    }
    text.len()
}

/// Whether `handlers` calls `method(` as a whole word (`get(`, `.post(`, `routing::get(`).
fn calls(handlers: &str, method: &str) -> bool {
    let needle = format!("{method}(");
    handlers.match_indices(&needle).any(|(i, _)| {
        handlers[..i]
            .chars()
            .last()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_')
    })
}

fn const_value(text: &str, name: &str) -> Option<String> {
    let marker = format!("const {name}: &str = \"");
    let start = text.find(&marker)? + marker.len();
    Some(text[start..].split('"').next()?.to_owned())
}
