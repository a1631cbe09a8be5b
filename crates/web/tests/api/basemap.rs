//! The operator's basemap (`--basemap FILE.pmtiles`): the start-up check of the archive,
//! byte ranges as a PMTiles reader asks for them (206, 416, the whole file, If-Range,
//! If-None-Match), and the events page pointing at it with images allowed from this site
//! only. The file is on disk; no database state is involved, so SQLite alone serves.

use crate::app::TestApp;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use barnstorm_store::testing::TestDatabase;
use barnstorm_web::{Basemap, BasemapError, BasemapTiles};
use http_body_util::BodyExt;
use std::path::{Path, PathBuf};
use tower::ServiceExt;

/// A PMTiles v3 header of vector tiles, zooms 0 to 6, whose sections all lie inside a file
/// of `len` bytes (127 header bytes, then `len - 127` bytes of "tiles").
fn header(len: u64, version: u8, tile_type: u8) -> Vec<u8> {
    let mut bytes = b"PMTiles".to_vec();
    bytes.push(version);
    // Root directory, metadata, leaf directories, tile data: (offset, length) each.
    for (offset, length) in [(127u64, 0u64), (127, 0), (127, 0), (127, len - 127)] {
        bytes.extend(offset.to_le_bytes());
        bytes.extend(length.to_le_bytes());
    }
    bytes.extend([0u8; 24]); // addressed tiles, tile entries, tile contents
    bytes.extend([0, 2, 2, tile_type, 0, 6]); // clustered, compressions, type, zooms
    bytes.resize(127, 0);
    bytes
}

fn archive(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A valid archive: the header, then the alphabet over and over.
fn valid_archive(dir: &Path) -> (PathBuf, Vec<u8>) {
    let len = 127 + 1000;
    let mut bytes = header(len, 3, 1);
    bytes.extend((0..1000).map(|i| b'a' + (i % 26) as u8));
    (archive(dir, "uk.pmtiles", &bytes), bytes)
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

async fn fetch(app: &TestApp, headers: &[(header::HeaderName, &str)]) -> Answer {
    let mut request = Request::get("/basemap.pmtiles");
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn text(answer: &Answer, name: header::HeaderName) -> &str {
    answer
        .headers
        .get(name)
        .map_or("", |value| value.to_str().unwrap())
}

#[tokio::test]
async fn the_basemap_is_served_in_byte_ranges() {
    let db = TestDatabase::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let (path, bytes) = valid_archive(dir.path());
    let basemap = Basemap::open(&path).unwrap();
    assert_eq!(basemap.tiles, BasemapTiles::Vector);
    assert_eq!((basemap.min_zoom, basemap.max_zoom), (0, 6));
    let app = TestApp::with_config(db.store.clone(), |config| config.basemap = Some(basemap));

    // The whole file, with what a range reader needs to know.
    let whole = fetch(&app, &[]).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.body, bytes);
    assert_eq!(text(&whole, header::ACCEPT_RANGES), "bytes");
    assert_eq!(text(&whole, header::CONTENT_LENGTH), "1127");
    assert_eq!(
        text(&whole, header::CONTENT_TYPE),
        "application/vnd.pmtiles"
    );
    let etag = text(&whole, header::ETAG).to_owned();
    assert!(
        etag.starts_with('"') && etag.len() > 4,
        "a strong ETag: {etag}"
    );

    // The header and the first part of the root directory, as pmtiles.js asks first.
    let first = fetch(&app, &[(header::RANGE, "bytes=0-16383")]).await;
    assert_eq!(first.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(text(&first, header::CONTENT_RANGE), "bytes 0-1126/1127");
    assert_eq!(first.body, bytes);

    let tile = fetch(&app, &[(header::RANGE, "bytes=200-299")]).await;
    assert_eq!(tile.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(text(&tile, header::CONTENT_RANGE), "bytes 200-299/1127");
    assert_eq!(text(&tile, header::CONTENT_LENGTH), "100");
    assert_eq!(tile.body, bytes[200..300]);

    let last = fetch(&app, &[(header::RANGE, "bytes=-5")]).await;
    assert_eq!(last.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(last.body, bytes[1122..]);

    // Past the end: nothing to send, and the size to ask within.
    let beyond = fetch(&app, &[(header::RANGE, "bytes=1127-")]).await;
    assert_eq!(beyond.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(text(&beyond, header::CONTENT_RANGE), "bytes */1127");
    assert!(beyond.body.is_empty());

    // A range of another copy of the file: the whole current one instead.
    let changed = fetch(
        &app,
        &[
            (header::RANGE, "bytes=200-299"),
            (header::IF_RANGE, "\"another-copy\""),
        ],
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.body, bytes);
    let same = fetch(
        &app,
        &[(header::RANGE, "bytes=200-299"), (header::IF_RANGE, &etag)],
    )
    .await;
    assert_eq!(same.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(same.body, bytes[200..300]);

    let cached = fetch(&app, &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert!(cached.body.is_empty());

    // Ranges the server does not do (several at once) get the whole file.
    let several = fetch(&app, &[(header::RANGE, "bytes=0-9,20-29")]).await;
    assert_eq!(several.status, StatusCode::OK);
    assert_eq!(several.body.len(), 1127);
    db.drop_database().await;
}

#[tokio::test]
async fn the_events_page_draws_the_basemap_with_images_from_this_site_only() {
    let db = TestDatabase::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = valid_archive(dir.path());
    let app = TestApp::with_config(db.store.clone(), |config| {
        config.tile_url = "https://tiles.example.org/{z}/{x}/{y}.png".to_owned();
        config.basemap = Some(Basemap::open(&path).unwrap());
    });
    let page = app.get("/events").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"data-basemap-url="/basemap.pmtiles" data-basemap-tiles="vector" data-basemap-max-zoom="6""#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"data-tile-url="""#), "no tile server");
    let policy = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(policy.contains("img-src 'self' data:;"), "{policy}");
    assert!(!policy.contains("example.org"), "{policy}");

    // Without a basemap the route exists but has nothing to give.
    let plain = TestApp::new(db.store.clone());
    assert_eq!(fetch(&plain, &[]).await.status, StatusCode::NOT_FOUND);
    let outline = plain.get("/events").await;
    assert!(!outline.body.contains("data-basemap-url"));
    db.drop_database().await;
}

#[test]
fn files_that_are_not_pmtiles_v3_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let message = |bytes: &[u8]| {
        let path = archive(dir.path(), "map.pmtiles", bytes);
        let error = Basemap::open(&path).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("map.pmtiles"), "names the file: {text}");
        (error, text)
    };

    let (error, text) = message(b"\x89PNG\r\n\x1a\n not an archive");
    assert!(matches!(error, BasemapError::NotPmtiles { .. }), "{text}");
    assert!(text.contains("not a PMTiles archive"), "{text}");

    let (error, text) = message(&header(1127, 2, 1));
    assert!(
        matches!(error, BasemapError::WrongVersion { version: 2, .. }),
        "{text}"
    );
    assert!(
        text.contains("version 2") && text.contains("version 3"),
        "{text}"
    );

    let (_, text) = message(&header(1127, 3, 1)[..60]);
    assert!(
        text.contains("header is 127 bytes but the file has 60"),
        "{text}"
    );

    // The header promises tile data the file does not hold.
    let (_, text) = message(&header(1127, 3, 1));
    assert!(
        text.contains("tile data") && text.contains("beyond the end of the file (127 bytes)"),
        "{text}"
    );

    let mut unknown = header(127, 3, 0);
    unknown.truncate(127);
    let (_, text) = message(&unknown);
    assert!(text.contains("tile type is 0"), "{text}");

    let missing = Basemap::open(&dir.path().join("absent.pmtiles")).unwrap_err();
    assert!(matches!(missing, BasemapError::Unreadable { .. }));
    assert!(missing.to_string().contains("absent.pmtiles"));

    let path = raster_archive(dir.path());
    assert_eq!(Basemap::open(&path).unwrap().tiles, BasemapTiles::Raster);
}

fn raster_archive(dir: &Path) -> PathBuf {
    let mut raster = header(127 + 4, 3, 2);
    raster.extend(b"tile");
    archive(dir, "raster.pmtiles", &raster)
}

#[tokio::test]
async fn raster_tiles_of_the_basemap_may_be_shown_from_the_page_s_own_blobs() {
    let db = TestDatabase::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let path = raster_archive(dir.path());
    let app = TestApp::with_config(db.store.clone(), |config| {
        config.basemap = Some(Basemap::open(&path).unwrap());
    });
    let page = app.get("/events").await;
    assert!(page.body.contains(r#"data-basemap-tiles="raster""#));
    let policy = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(policy.contains("img-src 'self' data: blob:;"), "{policy}");
    db.drop_database().await;
}
