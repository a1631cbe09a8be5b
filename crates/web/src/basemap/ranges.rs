//! `GET /basemap.pmtiles`: the archive with single byte ranges (206 with `Content-Range`,
//! 416 past the end), an ETag that `If-Range` and `If-None-Match` are checked against, and
//! the body streamed from disk in small chunks, never the whole file in memory.
//! Multiple ranges in one request are answered with the whole file, which HTTP allows.

use crate::AppState;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::get};
use std::io::SeekFrom;
use std::path::Path;
use std::time::UNIX_EPOCH;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Where the page fetches the archive from (same origin, so the CSP stays `'self'`).
pub const BASEMAP_PATH: &str = "/basemap.pmtiles";

/// How much of the file one read takes (tile requests are mostly a few KiB to a few
/// hundred KiB).
const CHUNK: u64 = 64 * 1024;

/// What part of the file a request gets.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    Whole,
    /// Bytes `start..=end`.
    Part {
        start: u64,
        end: u64,
    },
    Unsatisfiable,
}

/// Reads a `Range` header against a file of `len` bytes. A header that is not one valid
/// `bytes=` range is ignored (the whole file), as RFC 9110 says a server may.
fn wanted(range: Option<&str>, len: u64) -> Wanted {
    let Some(range) = range else {
        return Wanted::Whole;
    };
    let Some((unit, spec)) = range.trim().split_once('=') else {
        return Wanted::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let number = |text: &str| {
        let text = text.trim();
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u64>().ok())
            .flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // The last `suffix` bytes.
        (true, _, Some(suffix)) => {
            if suffix == 0 || len == 0 {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part {
                    start: len.saturating_sub(suffix),
                    end: len - 1,
                }
            }
        }
        (false, Some(start), last_byte) if last.trim().is_empty() || last_byte.is_some() => {
            if last_byte.is_some_and(|end| end < start) {
                return Wanted::Whole;
            }
            if start >= len {
                return Wanted::Unsatisfiable;
            }
            let end = last_byte.map_or(len - 1, |end| end.min(len - 1));
            Wanted::Part { start, end }
        }
        _ => Wanted::Whole,
    }
}

/// A strong validator from the file's size and modification time: it changes when the
/// operator replaces the archive, so a page never mixes ranges of two files.
fn etag(metadata: &std::fs::Metadata) -> String {
    let modified = metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_nanos());
    format!("\"{:x}-{modified:x}\"", metadata.len())
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',').any(|tag| {
        let tag = tag.trim();
        tag == "*" || tag.trim_start_matches("W/") == etag
    })
}

async fn basemap(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(basemap) = &state.config.basemap else {
        return (StatusCode::NOT_FOUND, "this server has no basemap").into_response();
    };
    match respond(&basemap.path, &headers).await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(path = %basemap.path.display(), %error, "could not read the basemap");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the basemap cannot be read",
            )
                .into_response()
        }
    }
}

async fn respond(path: &Path, headers: &HeaderMap) -> std::io::Result<Response> {
    let mut file = tokio::fs::File::open(path).await?;
    let metadata = file.metadata().await?;
    let len = metadata.len();
    let etag = etag(&metadata);

    let mut response = Response::new(Body::empty());
    let response_headers = response.headers_mut();
    response_headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.pmtiles"),
    );
    response_headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // Revalidate rather than trust a copy: the ETag makes that a 304 when nothing changed.
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, value);
    }

    if header_text(headers, header::IF_NONE_MATCH).is_some_and(|list| etag_matches(list, &etag)) {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return Ok(response);
    }
    // A range of an older copy of the file is useless: send the whole current one.
    let same_file = header_text(headers, header::IF_RANGE).is_none_or(|tag| tag.trim() == etag);
    let range = same_file
        .then(|| header_text(headers, header::RANGE))
        .flatten();
    let (start, end) = match wanted(range, len) {
        Wanted::Whole => {
            set_length(&mut response, len);
            *response.body_mut() = file_body(file, len);
            return Ok(response);
        }
        Wanted::Unsatisfiable => {
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(response);
        }
        Wanted::Part { start, end } => (start, end),
    };
    file.seek(SeekFrom::Start(start)).await?;
    let part_len = end - start + 1;
    *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    if let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    set_length(&mut response, part_len);
    *response.body_mut() = file_body(file, part_len);
    Ok(response)
}

fn set_length(response: &mut Response, len: u64) {
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
}

/// `remaining` bytes of `file` from where it stands, read as the client takes them.
fn file_body(file: tokio::fs::File, remaining: u64) -> Body {
    let chunks =
        futures_util::stream::try_unfold((file, remaining), |(mut file, remaining)| async move {
            if remaining == 0 {
                return Ok(None);
            }
            let size = usize::try_from(remaining.min(CHUNK)).unwrap_or(64 * 1024);
            let mut buffer = vec![0u8; size];
            let read = file.read(&mut buffer).await?;
            if read == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the basemap file got shorter while it was being sent",
                ));
            }
            buffer.truncate(read);
            let left = remaining.saturating_sub(read as u64);
            Ok::<_, std::io::Error>(Some((Bytes::from(buffer), (file, left))))
        });
    Body::from_stream(chunks)
}

/// The basemap route; a server without `--basemap` answers 404.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route(BASEMAP_PATH, get(basemap))
}

#[cfg(test)]
mod tests {
    use super::{Wanted, wanted};

    #[test]
    fn byte_ranges_are_read_as_rfc_9110_says() {
        let part = |start, end| Wanted::Part { start, end };
        assert_eq!(wanted(None, 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-9"), 100), part(0, 9));
        assert_eq!(wanted(Some("bytes=90-200"), 100), part(90, 99));
        assert_eq!(wanted(Some("bytes=10-"), 100), part(10, 99));
        assert_eq!(wanted(Some("bytes=-10"), 100), part(90, 99));
        assert_eq!(wanted(Some("bytes=-1000"), 100), part(0, 99));
        assert_eq!(wanted(Some("BYTES = 5-5"), 100), part(5, 5));
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-0"), 0), Wanted::Unsatisfiable);
        // Not one valid range: ignored.
        assert_eq!(wanted(Some("bytes=9-3"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-1,5-6"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("items=0-1"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=a-b"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=+1-2"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=-"), 100), Wanted::Whole);
    }
}
