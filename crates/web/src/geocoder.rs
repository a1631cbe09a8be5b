//! Turning what a person typed into a place: the store's offline geocoder (postcodes,
//! districts, towns) first, then, only if the operator configured one, an external
//! Nominatim-compatible service for names the offline tables do not know.
//!
//! Off by default: the external service sees the searched text. It is never asked about
//! malformed postcodes, and its failures fall back to the offline answer.

use barnstorm_domain::event::LocationPrecision;
use barnstorm_domain::geo::LatLon;
use barnstorm_store::{GeocodeError, Place, Store};
use std::time::Duration;

/// How long the external geocoder may take before the offline answer is used.
const EXTERNAL_TIMEOUT: Duration = Duration::from_secs(3);

/// Nominatim's `place_rank` from which a result is a building or an address.
const HOUSE_RANK: u32 = 28;

/// Why an external geocoder URL cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum GeocoderSetupError {
    /// Not an absolute http(s) URL.
    #[error(
        "--geocoder-url / BARNSTORM_GEOCODER_URL must be an http(s) URL such as https://nominatim.example.org (got '{0}')"
    )]
    BadUrl(String),
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client for the geocoder: {0}")]
    Client(#[from] reqwest::Error),
}

/// A Nominatim-compatible search service (`GET {url}/search?format=jsonv2&q=…`).
#[derive(Clone, Debug)]
pub struct Nominatim {
    client: reqwest::Client,
    search: url::Url,
}

/// The fields of a `format=jsonv2` result that are used.
#[derive(Debug, serde::Deserialize)]
struct NominatimResult {
    lat: String,
    lon: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    place_rank: u32,
}

impl Nominatim {
    /// A client for the service at `base_url` (its `/search` endpoint).
    pub fn new(base_url: &str) -> Result<Self, GeocoderSetupError> {
        Self::with_timeout(base_url, EXTERNAL_TIMEOUT)
    }

    fn with_timeout(base_url: &str, timeout: Duration) -> Result<Self, GeocoderSetupError> {
        let trimmed = base_url.trim().trim_end_matches('/');
        let search = url::Url::parse(&format!("{trimmed}/search"))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| GeocoderSetupError::BadUrl(base_url.to_owned()))?;
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls_config())
            .timeout(timeout)
            .user_agent("Barnstorm")
            .build()?;
        Ok(Self { client, search })
    }

    /// The best UK result for `query`, or `None` when there is none.
    pub async fn search(&self, query: &str) -> Result<Option<Place>, reqwest::Error> {
        let mut url = self.search.clone();
        url.query_pairs_mut()
            .append_pair("format", "jsonv2")
            .append_pair("limit", "1")
            .append_pair("countrycodes", "gb")
            .append_pair("q", query);
        let results: Vec<NominatimResult> = self
            .client
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(results.into_iter().find_map(|r| {
            let location = LatLon::new(r.lat.trim().parse().ok()?, r.lon.trim().parse().ok()?);
            let valid =
                (-90.0..=90.0).contains(&location.lat) && (-180.0..=180.0).contains(&location.lon);
            let label = if r.name.trim().is_empty() {
                r.display_name.split(',').next().unwrap_or(query).trim()
            } else {
                r.name.trim()
            };
            valid.then(|| Place {
                location,
                precision: if r.place_rank >= HOUSE_RANK {
                    LocationPrecision::Exact
                } else {
                    LocationPrecision::Outcode
                },
                label: label.to_owned(),
                postcode: None,
            })
        }))
    }
}

/// TLS with the Mozilla root certificates and the *ring* provider (the same stack the
/// mail crate uses), so no system libraries or process-wide settings are needed.
pub(crate) fn tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map(|builder| {
        builder
            .with_root_certificates(roots.clone())
            .with_no_client_auth()
    })
    .unwrap_or_else(|_| {
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth()
    })
}

/// Finds places: offline first, then the external service if configured. Cheap to
/// clone.
#[derive(Clone)]
pub struct Geocoder {
    store: Store,
    external: Option<Nominatim>,
}

impl Geocoder {
    /// A geocoder over `store`, asking `external` (if any) about names it does not know.
    pub fn new(store: Store, external: Option<Nominatim>) -> Self {
        Self { store, external }
    }

    /// True when an external service is configured.
    pub fn has_external(&self) -> bool {
        self.external.is_some()
    }

    /// Where `query` (a postcode, a district, a town or, with an external service, any
    /// UK place or address) is. Errors as [`Store::geocode`]: malformed and unknown text
    /// are input errors; an external failure gives the offline "unknown" error.
    pub async fn locate(&self, query: &str) -> Result<Place, GeocodeError> {
        let offline = self.store.geocode(query).await;
        let Some(external) = &self.external else {
            return offline;
        };
        if !matches!(offline, Err(GeocodeError::Unknown { .. })) {
            return offline;
        }
        match external.search(query.trim()).await {
            Ok(Some(place)) => Ok(place),
            Ok(None) => offline,
            Err(error) => {
                tracing::warn!(%error, "the external geocoder failed; using the offline answer");
                offline
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use axum::extract::{Query, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use barnstorm_store::testing::TestDatabase;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    /// What the fake service saw: the query parameters and User-Agent of each request.
    type Seen = Arc<Mutex<Vec<(HashMap<String, String>, String)>>>;

    /// A tiny Nominatim on 127.0.0.1: answers by the `q` parameter.
    async fn fake_nominatim(seen: Seen) -> String {
        async fn search(
            State(seen): State<Seen>,
            Query(params): Query<HashMap<String, String>>,
            headers: HeaderMap,
        ) -> Response {
            let agent = headers
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let q = params.get("q").cloned().unwrap_or_default();
            seen.lock().unwrap().push((params, agent));
            match q.as_str() {
                "Little Snoring" => axum::Json(serde_json::json!([{
                    "place_id": 1, "lat": "52.8607", "lon": "0.9011", "category": "place",
                    "type": "village", "place_rank": 19, "name": "Little Snoring",
                    "display_name": "Little Snoring, North Norfolk, Norfolk, England, United Kingdom"
                }]))
                .into_response(),
                "10 Downing Street, London" => axum::Json(serde_json::json!([{
                    "place_id": 2, "lat": "51.5033635", "lon": "-0.1276248",
                    "category": "building", "type": "house", "place_rank": 30, "name": "",
                    "display_name": "10, Downing Street, Westminster, London, SW1A 2AA, United Kingdom"
                }]))
                .into_response(),
                "Broken" => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
                "Garbled" => "not json".into_response(),
                "Slow" => {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    axum::Json(serde_json::json!([])).into_response()
                }
                _ => axum::Json(serde_json::json!([])).into_response(),
            }
        }
        let app = axum::Router::new()
            .route("/nominatim/search", axum::routing::get(search))
            .with_state(seen);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/nominatim/")
    }

    #[tokio::test]
    async fn asks_the_external_service_only_about_unknown_names() {
        let db = TestDatabase::sqlite().await;
        let seen = Seen::default();
        let url = fake_nominatim(seen.clone()).await;
        let external = Nominatim::with_timeout(&url, Duration::from_millis(500)).unwrap();
        let geocoder = Geocoder::new(db.store.clone(), Some(external));
        assert!(geocoder.has_external());

        // Known offline: the service is not asked.
        let bath = geocoder.locate("Bath").await.unwrap();
        assert_eq!(bath.label, "Bath");
        geocoder.locate("SW1A 1AA").await.unwrap();
        // Malformed postcodes are not sent either.
        let malformed = geocoder.locate("SW1A 1AAA").await.unwrap_err();
        assert!(matches!(malformed, GeocodeError::Malformed { .. }));
        assert!(seen.lock().unwrap().is_empty());

        let village = geocoder.locate(" Little Snoring ").await.unwrap();
        assert_eq!(village.label, "Little Snoring");
        assert_eq!(village.precision, LocationPrecision::Outcode);
        assert_eq!(village.location, LatLon::new(52.8607, 0.9011));
        let (params, agent) = seen.lock().unwrap()[0].clone();
        assert_eq!(agent, "Barnstorm");
        assert_eq!(params["format"], "jsonv2");
        assert_eq!(params["limit"], "1");
        assert_eq!(params["countrycodes"], "gb");
        assert_eq!(params["q"], "Little Snoring");

        let house = geocoder.locate("10 Downing Street, London").await.unwrap();
        assert_eq!(house.precision, LocationPrecision::Exact);
        assert_eq!(house.label, "10");
        assert_eq!(house.postcode, None);

        // No result, an error, nonsense or a timeout: the offline "unknown" answer.
        for query in ["Nowhere At All", "Broken", "Garbled", "Slow"] {
            let err = geocoder.locate(query).await.unwrap_err();
            assert!(
                matches!(&err, GeocodeError::Unknown { given, .. } if given == query),
                "{query}: {err:?}"
            );
        }
        db.drop_database().await;
    }

    #[tokio::test]
    async fn an_unreachable_service_or_none_gives_the_offline_answer() {
        let db = TestDatabase::sqlite().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let external = Nominatim::new(&format!("http://{addr}")).unwrap();
        let geocoder = Geocoder::new(db.store.clone(), Some(external));
        let err = geocoder.locate("Little Snoring").await.unwrap_err();
        assert!(err.is_input_error());
        assert!(err.to_string().contains("'Little Snoring'"), "{err}");

        let offline = Geocoder::new(db.store.clone(), None);
        assert!(!offline.has_external());
        assert!(matches!(
            offline.locate("Little Snoring").await,
            Err(GeocodeError::Unknown { .. })
        ));
        db.drop_database().await;
    }

    #[test]
    fn only_http_urls_are_accepted() {
        assert!(Nominatim::new("https://nominatim.example.org").is_ok());
        assert!(Nominatim::new("http://127.0.0.1:8088/").is_ok());
        for bad in [
            "",
            "nominatim.example.org",
            "ftp://example.org",
            "javascript:alert(1)",
        ] {
            assert!(
                matches!(Nominatim::new(bad), Err(GeocoderSetupError::BadUrl(_))),
                "{bad:?}"
            );
        }
    }
}
