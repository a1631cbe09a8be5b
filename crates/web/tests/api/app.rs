use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use barnstorm_dispatch::{CampaignEvents, Dispatcher};
use barnstorm_store::{Store, User};
use barnstorm_web::auth::hash_password;
use barnstorm_web::{AppParts, AppState, Metrics, WebConfig};
use http_body_util::BodyExt;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";
pub const BASE_URL: &str = "http://barnstorm.test";

pub struct TestApp {
    pub router: Router,
    pub store: Store,
    /// Stops this node's background jobs when the app is dropped.
    _stop: tokio::sync::watch::Sender<bool>,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `error.code` of an API error body, checking the whole error shape.
    pub fn error_code(&self) -> String {
        let json = self.json();
        let error = &json["error"];
        assert!(
            error["message"].is_string(),
            "error without message: {json}"
        );
        assert!(
            error.get("details").is_some(),
            "error without details: {json}"
        );
        error["code"].as_str().unwrap().to_owned()
    }

    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl TestApp {
    pub fn new(store: Store) -> Self {
        Self::with_base_url(store, BASE_URL)
    }

    pub fn with_base_url(store: Store, base_url: &str) -> Self {
        Self::configured(store, base_url, |_| {})
    }

    /// The app with settings changed from the tests' defaults.
    pub fn with_config(store: Store, change: impl FnOnce(&mut WebConfig)) -> Self {
        Self::configured(store, BASE_URL, change)
    }

    fn configured(store: Store, base_url: &str, change: impl FnOnce(&mut WebConfig)) -> Self {
        let mut config = WebConfig::new(base_url);
        config.password_memory_kib = 256;
        change(&mut config);
        let dispatcher = Dispatcher::new(store.clone(), CampaignEvents::default());
        let state = AppState::new(AppParts {
            store: store.clone(),
            config: Arc::new(config),
            mail: None,
            webhooks: None,
            metrics: Arc::new(Metrics::default()),
            switchboard: barnstorm_dispatch::Switchboard::new(
                Arc::new(barnstorm_telephony::tel::TelLinks::new()),
                dispatcher.clone(),
                store.clone(),
                "test".to_string(),
                None,
            ),
            dispatcher,
            geocoder: barnstorm_web::Geocoder::new(store.clone(), None),
            tokens: barnstorm_web::auth::TokenCache::default(),
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(barnstorm_web::auth::forget_tokens_revoked_elsewhere(
            state.clone(),
            stopped,
        ));
        Self {
            router: barnstorm_web::router(state),
            store,
            _stop: stop,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn api(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).unwrap()).await
    }

    pub async fn user(&self, email: &str, name: &str, admin: bool) -> User {
        let hash = hash_password(PASSWORD, 256).unwrap();
        self.store
            .create_user(email, name, Some(&hash), admin)
            .await
            .unwrap()
    }

    pub async fn token_for(&self, email: &str) -> String {
        let response = self
            .api(
                Method::POST,
                "/api/v1/tokens",
                None,
                Some(serde_json::json!({ "email": email, "password": PASSWORD })),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
        response.json()["token"].as_str().unwrap().to_owned()
    }
}

/// A browser: keeps cookies and sends forms with the page's CSRF token.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    cookies: HashMap<String, String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, headers: &HeaderMap) {
        for value in headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let pair = value.split(';').next().unwrap_or_default();
            if let Some((name, val)) = pair.split_once('=') {
                if val.is_empty() || value.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), val.to_owned());
                }
            }
        }
    }

    /// Sets a cookie, e.g. a session made directly in the store.
    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_owned(), value.to_owned());
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }

    pub async fn get(&mut self, path: &str) -> TestResponse {
        let request = Request::get(path)
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .unwrap();
        let response = self.app.send(request).await;
        self.keep_cookies(&response.headers);
        response
    }

    /// Posts a form with the CSRF token taken from `page`.
    pub async fn submit(
        &mut self,
        page: &TestResponse,
        action: &str,
        fields: &[(&str, &str)],
    ) -> TestResponse {
        let csrf = csrf_of(&page.body);
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(action, &all).await
    }

    pub async fn post_raw(&mut self, action: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let request = Request::post(action)
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let response = self.app.send(request).await;
        self.keep_cookies(&response.headers);
        response
    }

    /// Posts `csv` as the raw body, as the page script uploads a list, with the CSRF
    /// header taken from `page`.
    pub async fn post_csv(&mut self, page: &TestResponse, path: &str, csv: &str) -> TestResponse {
        let request = Request::post(path)
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "text/csv")
            .header("X-CSRF-Token", csrf_of(&page.body))
            .body(Body::from(csv.to_owned()))
            .unwrap();
        let response = self.app.send(request).await;
        self.keep_cookies(&response.headers);
        response
    }

    pub async fn sign_in(&mut self, email: &str) {
        let page = self.get("/login").await;
        let response = self
            .submit(
                &page,
                "/login",
                &[("email", email), ("password", PASSWORD), ("next", "/")],
            )
            .await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    }
}

/// The first link on this site in a mail body, as a local path.
pub fn first_link(body: &str) -> String {
    let start = body
        .find("http://barnstorm.test")
        .unwrap_or_else(|| panic!("no link in {body}"));
    body[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_start_matches("http://barnstorm.test")
        .to_owned()
}

pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF field in page: {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Runs each `async fn(TestApp)` on a fresh SQLite and a fresh PostgreSQL database.
#[macro_export]
macro_rules! on_both {
    ($($name:ident => $body:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let db = barnstorm_store::testing::TestDatabase::sqlite().await;
                super::$body($crate::app::TestApp::new(db.store.clone())).await;
                db.drop_database().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(db) = barnstorm_store::testing::TestDatabase::postgres().await else { return };
                super::$body($crate::app::TestApp::new(db.store.clone())).await;
                db.drop_database().await;
            }
        }
    )+};
}

/// For checks against an independent implementation run through python3 (pyotp,
/// standardwebhooks): fails when it must run here (CI or `BARNSTORM_REQUIRE_ALL_SUITES=1`),
/// else says loudly that `what` was skipped and how to run it (`pip install PACKAGE`).
pub fn skip_unless_required(what: &str, package: &str, why: &str) {
    let required = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
        || std::env::var("BARNSTORM_REQUIRE_ALL_SUITES").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{package} is required here (CI or BARNSTORM_REQUIRE_ALL_SUITES=1): pip install {package}. python3 said: {why}"
    );
    eprintln!("SKIPPED {what}: pip install {package} to run it ({why})");
}
