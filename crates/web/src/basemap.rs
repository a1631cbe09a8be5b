//! The operator's own map background: a PMTiles v3 archive on disk (`--basemap FILE`),
//! checked once at start-up and served at [`BASEMAP_PATH`] with HTTP range requests, so the
//! events map needs no tile server and nobody else sees what supporters look at.
//! This module reads the archive's fixed header only; the browser reads the tiles.

mod ranges;

pub use ranges::BASEMAP_PATH;
pub(crate) use ranges::router;

use std::io::Read;
use std::path::{Path, PathBuf};

/// The length of a PMTiles v3 header.
const HEADER_LEN: usize = 127;

/// What the archive's tiles are, which decides how the page draws them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasemapTiles {
    /// Mapbox vector tiles (the Protomaps builds), drawn in the browser.
    Vector,
    /// PNG, JPEG, WebP or AVIF pictures.
    Raster,
}

impl BasemapTiles {
    /// The word map.js reads from `data-basemap-tiles`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vector => "vector",
            Self::Raster => "raster",
        }
    }
}

/// A PMTiles archive that passed the start-up check.
#[derive(Debug, Clone)]
pub struct Basemap {
    /// The file, opened afresh for every request.
    pub path: PathBuf,
    /// Vector or raster tiles.
    pub tiles: BasemapTiles,
    /// The lowest zoom the archive holds.
    pub min_zoom: u8,
    /// The highest zoom the archive holds (the map zooms further by scaling these).
    pub max_zoom: u8,
}

/// Why a `--basemap` file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BasemapError {
    /// The file could not be opened or read.
    #[error("cannot read the basemap {path}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file does not start with the PMTiles magic bytes.
    #[error(
        "{path} is not a PMTiles archive (it does not start with \"PMTiles\"); make one with `pmtiles extract` or `pmtiles convert`"
    )]
    NotPmtiles {
        /// The file.
        path: PathBuf,
    },
    /// A PMTiles archive of another version.
    #[error(
        "{path} is a PMTiles version {version} archive; Barnstorm serves version 3 (convert it with `pmtiles convert`)"
    )]
    WrongVersion {
        /// The file.
        path: PathBuf,
        /// The version byte found.
        version: u8,
    },
    /// A header that cannot describe this file.
    #[error("{path} is a damaged PMTiles archive: {problem}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
}

impl Basemap {
    /// Opens `path` and checks it is a PMTiles v3 archive whose header fits the file.
    pub fn open(path: &Path) -> Result<Self, BasemapError> {
        let unreadable = |source| BasemapError::Unreadable {
            path: path.to_owned(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(unreadable)?;
        let len = file.metadata().map_err(unreadable)?.len();
        let mut header = [0u8; HEADER_LEN];
        let mut read = 0;
        while read < HEADER_LEN {
            match file.read(&mut header[read..]).map_err(unreadable)? {
                0 => break,
                n => read += n,
            }
        }
        if read < 7 || &header[..7] != b"PMTiles" {
            return Err(BasemapError::NotPmtiles {
                path: path.to_owned(),
            });
        }
        let damaged = |problem: String| BasemapError::Damaged {
            path: path.to_owned(),
            problem,
        };
        if read < 8 {
            return Err(damaged(format!("the file ends after {read} bytes")));
        }
        if header[7] != 3 {
            return Err(BasemapError::WrongVersion {
                path: path.to_owned(),
                version: header[7],
            });
        }
        if read < HEADER_LEN {
            return Err(damaged(format!(
                "the header is {HEADER_LEN} bytes but the file has {read}"
            )));
        }
        let field = |at: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&header[at..at + 8]);
            u64::from_le_bytes(bytes)
        };
        let sections = [
            ("root directory", 8),
            ("metadata", 24),
            ("leaf directories", 40),
            ("tile data", 56),
        ];
        for (name, at) in sections {
            let (offset, length) = (field(at), field(at + 8));
            if offset.checked_add(length).is_none_or(|end| end > len) {
                return Err(damaged(format!(
                    "its {name} ({length} bytes at {offset}) lies beyond the end of the file ({len} bytes)"
                )));
            }
        }
        let tiles = match header[99] {
            1 => BasemapTiles::Vector,
            2..=5 => BasemapTiles::Raster,
            other => {
                return Err(damaged(format!(
                    "its tile type is {other}, not vector (1) or PNG, JPEG, WebP or AVIF (2 to 5)"
                )));
            }
        };
        let (min_zoom, max_zoom) = (header[100], header[101]);
        if min_zoom > max_zoom || max_zoom > 30 {
            return Err(damaged(format!(
                "its zoom levels run from {min_zoom} to {max_zoom}"
            )));
        }
        Ok(Self {
            path: path.to_owned(),
            tiles,
            min_zoom,
            max_zoom,
        })
    }
}
