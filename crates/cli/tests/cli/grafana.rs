//! The Grafana dashboard in `docs/grafana/barnstorm.json` against a running node with a
//! SIP trunk: every metric and label value its queries name is in the node's `/metrics`,
//! and every metric family the node exposes has a panel, so neither side can drift.

use crate::bench_callers::{free_port, start_node_with};
use serde_json::Value;
use std::collections::BTreeSet;

const DASHBOARD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/grafana/barnstorm.json"
);

/// Every query of the dashboard: the panels' targets and the variables'.
fn queries(dashboard: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            found.push(target["expr"].as_str().unwrap().to_owned());
        }
    }
    for variable in dashboard["templating"]["list"].as_array().unwrap() {
        found.push(variable["query"]["query"].as_str().unwrap().to_owned());
    }
    found
}

/// The `barnstorm_*` series a query names, each with its exact `label="value"` matchers.
fn series_in(query: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let mut rest = query;
    while let Some(start) = rest.find("barnstorm_") {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let name = tail[..end].to_owned();
        let mut matchers = Vec::new();
        if tail[end..].starts_with('{') {
            let close = tail[end..].find('}').unwrap() + end;
            for matcher in tail[end + 1..close].split(',') {
                let matcher = matcher.trim();
                if matcher.contains("=\"") && !matcher.contains("=~") && !matcher.contains("!=") {
                    matchers.push(matcher.to_owned());
                }
            }
        }
        found.push((name, matchers));
        rest = &tail[end..];
    }
    found
}

#[tokio::test]
async fn the_dashboard_charts_what_a_node_exposes_and_nothing_else() {
    barnstorm_web::install_tls_provider();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("metrics.db").display());
    let sip_port = free_port();
    let first_rtp = 41000 + (sip_port % 500) * 20;
    let (_node, base) = start_node_with(
        &db,
        dir.path(),
        &[
            "--sip-trunk",
            "sip:127.0.0.1:5999",
            "--sip-listen",
            &format!("127.0.0.1:{sip_port}"),
            "--rtp-ports",
            &format!("{first_rtp}-{}", first_rtp + 19),
        ],
    )
    .await;
    // The second scrape counts the first, so the HTTP series are there.
    reqwest::get(format!("{base}/metrics")).await.unwrap();
    let exposed = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let samples: Vec<&str> = exposed.lines().filter(|l| !l.starts_with('#')).collect();

    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(DASHBOARD).unwrap())
        .expect("docs/grafana/barnstorm.json is not JSON");
    assert_eq!(dashboard["__inputs"][0]["name"], "DS_PROMETHEUS");
    let mut ids = BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        assert!(
            ids.insert(panel["id"].as_i64().unwrap()),
            "panel ids repeat"
        );
        if panel["type"] != "row" {
            assert_eq!(panel["datasource"]["uid"], "${DS_PROMETHEUS}", "{panel}");
        }
    }

    let mut charted = BTreeSet::new();
    for query in queries(&dashboard) {
        let named = series_in(&query);
        assert!(
            !named.is_empty(),
            "a query without a Barnstorm metric: {query}"
        );
        for (name, matchers) in named {
            let lines: Vec<&&str> = samples
                .iter()
                .filter(|l| {
                    l.strip_prefix(name.as_str())
                        .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
                })
                .collect();
            assert!(
                !lines.is_empty(),
                "the dashboard queries {name}, which /metrics does not expose:\n{exposed}"
            );
            for matcher in matchers {
                assert!(
                    lines.iter().any(|l| l.contains(&matcher)),
                    "no {name} series has {matcher}:\n{exposed}"
                );
            }
            charted.insert(name);
        }
    }
    for family in exposed
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
    {
        assert!(
            charted.iter().any(|name| name.starts_with(family)),
            "/metrics exposes {family} and no panel of docs/grafana/barnstorm.json charts it"
        );
    }
}
