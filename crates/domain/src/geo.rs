//! Points on the Earth: WGS84 coordinates, great-circle distance, the 0.05° grid that
//! indexes supporters for radius targeting, and British National Grid conversion.
//!
//! Pure arithmetic only. It must not look places up (postcodes, towns): that is the
//! store's geocoder, which uses these functions.

use serde::{Deserialize, Serialize};

/// Mean Earth radius in kilometres (IUGG), used for every distance.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Size of a grid cell in degrees of latitude and of longitude.
pub const CELL_DEGREES: f64 = 0.05;

/// The largest radius [`cells_within`] and [`bounding_box`] accept; larger radii are
/// clamped to it (1000 km covers the whole UK from anywhere in it).
pub const MAX_RADIUS_KM: f64 = 1000.0;

/// A WGS84 position in degrees (latitude north, longitude east).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    /// Degrees north of the equator (negative south).
    pub lat: f64,
    /// Degrees east of Greenwich (negative west).
    pub lon: f64,
}

impl LatLon {
    /// The point at `lat`, `lon` degrees.
    pub const fn new(lat: f64, lon: f64) -> Self {
        Self { lat, lon }
    }
}

/// Great-circle (haversine) distance between `a` and `b` in kilometres.
pub fn distance_km(a: LatLon, b: LatLon) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let d_lat = lat2 - lat1;
    let d_lon = (b.lon - a.lon).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// The grid cell holding a point: `floor((lat+90)/0.05) * 10000 + floor((lon+180)/0.05)`.
/// Stored in `email_audience.cell`; [`cells_within`] lists the cells to search.
pub fn grid_cell(lat: f64, lon: f64) -> i64 {
    let row = ((lat + 90.0) / CELL_DEGREES).floor() as i64;
    let col = ((lon + 180.0) / CELL_DEGREES).floor() as i64;
    row * 10_000 + col
}

/// The four corners of a [`grid_cell`]. Distance from any point to a spot in the cell
/// is greatest at one of them, so a cell whose corners are all within a radius lies
/// wholly inside it.
pub fn cell_corners(cell: i64) -> [LatLon; 4] {
    let (row, col) = (cell.div_euclid(10_000), cell.rem_euclid(10_000));
    let south = row as f64 * CELL_DEGREES - 90.0;
    let west = col as f64 * CELL_DEGREES - 180.0;
    let (north, east) = (south + CELL_DEGREES, west + CELL_DEGREES);
    [
        LatLon::new(south, west),
        LatLon::new(south, east),
        LatLon::new(north, west),
        LatLon::new(north, east),
    ]
}

/// A latitude/longitude rectangle (degrees, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundingBox {
    /// Southern edge.
    pub min_lat: f64,
    /// Northern edge.
    pub max_lat: f64,
    /// Western edge.
    pub min_lon: f64,
    /// Eastern edge.
    pub max_lon: f64,
}

impl BoundingBox {
    /// True when `p` lies inside the box (edges included).
    pub fn contains(&self, p: LatLon) -> bool {
        (self.min_lat..=self.max_lat).contains(&p.lat)
            && (self.min_lon..=self.max_lon).contains(&p.lon)
    }
}

/// A box holding every point within `radius_km` of `center` (radius clamped to
/// `0..=`[`MAX_RADIUS_KM`]). Latitude is widened by the radius's angle; longitude by
/// the widest the circle gets, `asin(sin(angle) / cos(lat))` at the box's highest
/// |latitude|, which is exact for a great circle and always at least as wide. Near a
/// pole the box spans every longitude. It does not wrap across the ±180° meridian
/// (not needed for the UK): longitudes are clamped to ±180.
pub fn bounding_box(center: LatLon, radius_km: f64) -> BoundingBox {
    let radius = clamp_radius(radius_km);
    let angle = radius / EARTH_RADIUS_KM; // radians
    let d_lat = angle.to_degrees();
    let min_lat = (center.lat - d_lat).max(-90.0);
    let max_lat = (center.lat + d_lat).min(90.0);
    let widest = min_lat.abs().max(max_lat.abs()).to_radians();
    let ratio = angle.sin() / widest.cos();
    let (min_lon, max_lon) = if widest.cos() <= 1e-12 || ratio >= 1.0 {
        (-180.0, 180.0)
    } else {
        let d_lon = ratio.asin().to_degrees();
        (
            (center.lon - d_lon).max(-180.0),
            (center.lon + d_lon).min(180.0),
        )
    };
    BoundingBox {
        min_lat,
        max_lat,
        min_lon,
        max_lon,
    }
}

fn clamp_radius(radius_km: f64) -> f64 {
    if radius_km.is_nan() {
        0.0
    } else {
        radius_km.clamp(0.0, MAX_RADIUS_KM)
    }
}

/// Every grid cell ([`grid_cell`]) that may hold a point within `radius_km` of
/// `center`: all cells touching its [`bounding_box`] (so the radius is clamped to
/// [`MAX_RADIUS_KM`]). Conservative: callers still check the distance of each point.
pub fn cells_within(center: LatLon, radius_km: f64) -> Vec<i64> {
    let b = bounding_box(center, radius_km);
    let row = |lat: f64| ((lat + 90.0) / CELL_DEGREES).floor() as i64;
    let col = |lon: f64| ((lon + 180.0) / CELL_DEGREES).floor() as i64;
    let (rows, cols) = (
        row(b.min_lat)..=row(b.max_lat),
        col(b.min_lon)..=col(b.max_lon),
    );
    let mut cells = Vec::with_capacity(rows.clone().count() * cols.clone().count());
    for r in rows {
        for c in cols.clone() {
            cells.push(r * 10_000 + c);
        }
    }
    cells
}

// --- British National Grid (OSGB36) to WGS84 --------------------------------------

/// Airy 1830 ellipsoid (OSGB36).
const AIRY_A: f64 = 6_377_563.396;
const AIRY_B: f64 = 6_356_256.909;
/// GRS80 / WGS84 ellipsoid.
const WGS84_A: f64 = 6_378_137.0;
const WGS84_B: f64 = 6_356_752.314_245;
/// National Grid projection: scale on the central meridian, true origin, false origin.
const F0: f64 = 0.999_601_271_7;
const LAT0_DEG: f64 = 49.0;
const LON0_DEG: f64 = -2.0;
const E0: f64 = 400_000.0;
const N0: f64 = -100_000.0;

/// Converts a British National Grid easting and northing (metres) to WGS84: the
/// inverse Transverse Mercator projection on the Airy 1830 ellipsoid (OS's formulas),
/// then the OSGB36→WGS84 Helmert transform (accurate to about 5 m, ample for postcode
/// centroids; OSTN15 would be needed for better).
pub fn osgb36_to_wgs84(easting: f64, northing: f64) -> LatLon {
    let (lat, lon) = grid_to_osgb36(easting, northing);
    let (x, y, z) = to_cartesian(lat, lon, AIRY_A, AIRY_B);
    let (x, y, z) = helmert_osgb36_to_wgs84(x, y, z);
    let (lat, lon) = from_cartesian(x, y, z, WGS84_A, WGS84_B);
    LatLon::new(lat.to_degrees(), lon.to_degrees())
}

/// Meridional arc from the true origin's latitude to `lat` (radians), OS formula C1.
fn meridional_arc(lat: f64, lat0: f64, n: f64) -> f64 {
    let (n2, n3) = (n * n, n * n * n);
    let (dl, sl) = (lat - lat0, lat + lat0);
    AIRY_B
        * F0
        * ((1.0 + n + 1.25 * n2 + 1.25 * n3) * dl
            - (3.0 * n + 3.0 * n2 + 2.625 * n3) * dl.sin() * sl.cos()
            + (1.875 * n2 + 1.875 * n3) * (2.0 * dl).sin() * (2.0 * sl).cos()
            - (35.0 / 24.0) * n3 * (3.0 * dl).sin() * (3.0 * sl).cos())
}

/// Inverse Transverse Mercator: grid metres to OSGB36 latitude and longitude (radians).
fn grid_to_osgb36(e: f64, north: f64) -> (f64, f64) {
    let (a, b) = (AIRY_A, AIRY_B);
    let e2 = 1.0 - (b * b) / (a * a);
    let n = (a - b) / (a + b);
    let lat0 = LAT0_DEG.to_radians();
    let lon0 = LON0_DEG.to_radians();

    let mut lat = lat0;
    let mut m = 0.0;
    loop {
        lat += (north - N0 - m) / (a * F0);
        m = meridional_arc(lat, lat0, n);
        if (north - N0 - m).abs() < 0.000_01 {
            break;
        }
    }
    let (sin, cos, tan) = (lat.sin(), lat.cos(), lat.tan());
    let nu = a * F0 / (1.0 - e2 * sin * sin).sqrt();
    let rho = a * F0 * (1.0 - e2) / (1.0 - e2 * sin * sin).powf(1.5);
    let eta2 = nu / rho - 1.0;
    let (t2, t4, t6) = (tan * tan, tan.powi(4), tan.powi(6));
    let sec = 1.0 / cos;
    let vii = tan / (2.0 * rho * nu);
    let viii = tan / (24.0 * rho * nu.powi(3)) * (5.0 + 3.0 * t2 + eta2 - 9.0 * t2 * eta2);
    let ix = tan / (720.0 * rho * nu.powi(5)) * (61.0 + 90.0 * t2 + 45.0 * t4);
    let x = sec / nu;
    let xi = sec / (6.0 * nu.powi(3)) * (nu / rho + 2.0 * t2);
    let xii = sec / (120.0 * nu.powi(5)) * (5.0 + 28.0 * t2 + 24.0 * t4);
    let xiia = sec / (5040.0 * nu.powi(7)) * (61.0 + 662.0 * t2 + 1320.0 * t4 + 720.0 * t6);
    let de = e - E0;
    let lat = lat - vii * de.powi(2) + viii * de.powi(4) - ix * de.powi(6);
    let lon = lon0 + x * de - xi * de.powi(3) + xii * de.powi(5) - xiia * de.powi(7);
    (lat, lon)
}

/// Geodetic (radians, height 0) to Earth-centred cartesian metres on an ellipsoid.
fn to_cartesian(lat: f64, lon: f64, a: f64, b: f64) -> (f64, f64, f64) {
    let e2 = 1.0 - (b * b) / (a * a);
    let nu = a / (1.0 - e2 * lat.sin().powi(2)).sqrt();
    (
        nu * lat.cos() * lon.cos(),
        nu * lat.cos() * lon.sin(),
        (1.0 - e2) * nu * lat.sin(),
    )
}

/// Earth-centred cartesian metres to geodetic latitude and longitude (radians).
fn from_cartesian(x: f64, y: f64, z: f64, a: f64, b: f64) -> (f64, f64) {
    let e2 = 1.0 - (b * b) / (a * a);
    let p = x.hypot(y);
    let mut lat = z.atan2(p * (1.0 - e2));
    for _ in 0..10 {
        let nu = a / (1.0 - e2 * lat.sin().powi(2)).sqrt();
        lat = (z + e2 * nu * lat.sin()).atan2(p);
    }
    (lat, y.atan2(x))
}

/// The 7-parameter Helmert transform OSGB36 → WGS84 (position-vector rotation):
/// translation 446.448, −125.157, 542.060 m; scale −20.4894 ppm; rotations 0.1502″,
/// 0.2470″, 0.8421″.
fn helmert_osgb36_to_wgs84(x: f64, y: f64, z: f64) -> (f64, f64, f64) {
    const ARCSEC: f64 = std::f64::consts::PI / (180.0 * 3600.0);
    let (tx, ty, tz) = (446.448, -125.157, 542.060);
    let s = 1.0 + (-20.4894e-6);
    let (rx, ry, rz) = (0.1502 * ARCSEC, 0.2470 * ARCSEC, 0.8421 * ARCSEC);
    (
        tx + s * x - rz * y + ry * z,
        ty + rz * x + s * y - rx * z,
        tz - ry * x + rx * y + s * z,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expectations computed independently (Python haversine with R = 6371.0088, and
    /// PROJ's `+proj=helmert` pipeline for the grid conversions).
    fn close(got: f64, want: f64, tolerance: f64) -> bool {
        (got - want).abs() <= tolerance
    }

    #[test]
    fn distances_match_independent_values() {
        let london = LatLon::new(51.5074, -0.1278);
        let manchester = LatLon::new(53.4808, -2.2426);
        let edinburgh = LatLon::new(55.9533, -3.1883);
        let d = distance_km(london, manchester);
        assert!(close(d, 261.983_17, 0.001), "{d}");
        let d = distance_km(edinburgh, london);
        assert!(close(d, 533.652_94, 0.001), "{d}");
        assert_eq!(distance_km(london, london), 0.0);
        assert!(close(
            distance_km(london, manchester),
            distance_km(manchester, london),
            1e-9
        ));
        // A quarter of the way round the equator.
        let quarter = distance_km(LatLon::new(0.0, 0.0), LatLon::new(0.0, 90.0));
        assert!(close(
            quarter,
            EARTH_RADIUS_KM * std::f64::consts::FRAC_PI_2,
            1e-6
        ));
        // Antipodes do not produce NaN.
        let half = distance_km(LatLon::new(10.0, 20.0), LatLon::new(-10.0, -160.0));
        assert!(close(half, EARTH_RADIUS_KM * std::f64::consts::PI, 1e-3));
    }

    #[test]
    fn cell_corners_bound_the_cell() {
        let cell = grid_cell(53.4794, -2.2453);
        let corners = cell_corners(cell);
        for corner in corners {
            assert!((corner.lat - 53.45).abs() < 0.051 && (corner.lon + 2.25).abs() < 0.051);
        }
        let inside = LatLon::new(
            (corners[0].lat + corners[3].lat) / 2.0,
            (corners[0].lon + corners[3].lon) / 2.0,
        );
        assert_eq!(grid_cell(inside.lat, inside.lon), cell);
        assert!((corners[3].lat - corners[0].lat - CELL_DEGREES).abs() < 1e-9);
    }

    #[test]
    fn grid_cells_follow_the_formula() {
        // floor(141.5074 / 0.05) = 2830, floor(179.8722 / 0.05) = 3597.
        assert_eq!(grid_cell(51.5074, -0.1278), 2830 * 10_000 + 3597);
        assert_eq!(grid_cell(-90.0, -180.0), 0);
        // Neighbours differ by one column or by one row (10,000).
        assert_eq!(
            grid_cell(51.5074, -0.1278 + 0.05) - grid_cell(51.5074, -0.1278),
            1
        );
        assert_eq!(
            grid_cell(51.5074 + 0.05, -0.1278) - grid_cell(51.5074, -0.1278),
            10_000
        );
    }

    /// A small deterministic generator so the property loop needs no dependency.
    struct XorShift(u64);
    impl XorShift {
        fn unit(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// The point `distance` km from `from` on initial bearing `bearing` (radians).
    fn destination(from: LatLon, bearing: f64, distance: f64) -> LatLon {
        let d = distance / EARTH_RADIUS_KM;
        let (lat1, lon1) = (from.lat.to_radians(), from.lon.to_radians());
        let lat2 = (lat1.sin() * d.cos() + lat1.cos() * d.sin() * bearing.cos()).asin();
        let lon2 =
            lon1 + (bearing.sin() * d.sin() * lat1.cos()).atan2(d.cos() - lat1.sin() * lat2.sin());
        LatLon::new(lat2.to_degrees(), lon2.to_degrees())
    }

    #[test]
    fn cells_within_cover_every_point_in_the_radius() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..300 {
            let center = LatLon::new(49.0 + rng.unit() * 12.0, -8.0 + rng.unit() * 10.0);
            let radius = 0.5 + rng.unit() * 80.0;
            let cells: std::collections::HashSet<i64> =
                cells_within(center, radius).into_iter().collect();
            let bbox = bounding_box(center, radius);
            for _ in 0..200 {
                // Half the points on the rim (the hard case), half anywhere inside.
                let r = if rng.unit() < 0.5 {
                    radius * 0.999_999
                } else {
                    radius * rng.unit()
                };
                let p = destination(center, rng.unit() * std::f64::consts::TAU, r);
                assert!(distance_km(center, p) <= radius);
                assert!(
                    bbox.contains(p),
                    "{p:?} outside {bbox:?} of {center:?} {radius}"
                );
                assert!(
                    cells.contains(&grid_cell(p.lat, p.lon)),
                    "{p:?} within {radius} km of {center:?} but its cell is not listed"
                );
            }
        }
    }

    #[test]
    fn the_box_is_wider_in_longitude_further_north_and_the_radius_is_clamped() {
        let b = bounding_box(LatLon::new(60.0, -1.0), 10.0);
        let d_lat = b.max_lat - 60.0;
        let d_lon = b.max_lon + 1.0;
        assert!(close(
            d_lat,
            10.0 / EARTH_RADIUS_KM * 180.0 / std::f64::consts::PI,
            1e-9
        ));
        assert!(d_lon > 1.9 * d_lat, "{d_lon} vs {d_lat}");
        // Radii beyond the cap are clamped; negative and NaN radii mean the point itself.
        assert_eq!(
            bounding_box(LatLon::new(54.0, -2.0), 5000.0),
            bounding_box(LatLon::new(54.0, -2.0), MAX_RADIUS_KM)
        );
        assert_eq!(
            cells_within(LatLon::new(54.0, -2.0), -1.0),
            [grid_cell(54.0, -2.0)]
        );
        assert_eq!(cells_within(LatLon::new(54.0, -2.0), f64::NAN).len(), 1);
        // Near a pole every longitude is covered.
        let polar = bounding_box(LatLon::new(89.9, 0.0), 50.0);
        assert_eq!((polar.min_lon, polar.max_lon), (-180.0, 180.0));
    }

    #[test]
    fn national_grid_inverse_projection_matches_the_os_worked_example() {
        // OS "A guide to coordinate systems in Great Britain", annex C:
        // E 651409.903, N 313177.270 is OSGB36 52°39′27.2531″N, 1°43′4.5177″E.
        let (lat, lon) = grid_to_osgb36(651_409.903, 313_177.270);
        let want_lat = 52.0 + 39.0 / 60.0 + 27.2531 / 3600.0;
        let want_lon = 1.0 + 43.0 / 60.0 + 4.5177 / 3600.0;
        assert!(
            close(lat.to_degrees(), want_lat, 1e-7),
            "{}",
            lat.to_degrees()
        );
        assert!(
            close(lon.to_degrees(), want_lon, 1e-7),
            "{}",
            lon.to_degrees()
        );
    }

    #[test]
    fn national_grid_converts_to_wgs84_within_metres() {
        // (easting, northing) → WGS84 from PROJ's Helmert pipeline.
        let cases = [
            (651_409.903, 313_177.270, 52.657_978_60, 1.716_051_95), // OS worked example
            (529_090.0, 179_645.0, 51.501_008_93, -0.141_587_60),    // SW1A 1AA
            (383_850.0, 398_100.0, 53.479_372_46, -2.244_813_39),    // Manchester
            (325_900.0, 673_900.0, 55.952_391_35, -3.188_227_65),    // Edinburgh
            (146_000.0, 30_000.0, 50.115_617_87, -5.554_337_30),     // Penzance
            (440_000.0, 1_140_000.0, 60.142_561_07, -1.281_583_02),  // Shetland
        ];
        for (e, n, lat, lon) in cases {
            let p = osgb36_to_wgs84(e, n);
            let off = distance_km(p, LatLon::new(lat, lon)) * 1000.0;
            assert!(
                off < 0.05,
                "({e}, {n}) → {p:?}, {off} m from ({lat}, {lon})"
            );
        }
        // Buckingham Palace on OpenStreetMap is about 51.5010, -0.1416 (WGS84): the
        // Helmert result is within the transform's few metres.
        let palace = osgb36_to_wgs84(529_090.0, 179_645.0);
        assert!(distance_km(palace, LatLon::new(51.501_0, -0.141_6)) < 0.03);
    }

    #[test]
    fn coordinates_serialise_as_lat_lon() {
        let json = serde_json::to_string(&LatLon::new(51.5, -0.1)).unwrap_or_default();
        assert_eq!(json, r#"{"lat":51.5,"lon":-0.1}"#);
    }
}
