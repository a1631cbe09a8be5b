//! The plain queries the discovery benchmarks compare against: what nearby search and an
//! outreach count cost without the in-memory index and the audience grid. Used by
//! `barnstorm bench events` only; nothing in the product calls them.

use crate::{Store, StoreError};
use barnstorm_domain::geo::{LatLon, bounding_box, distance_km};
use sqlx::Row;

impl Store {
    /// Ids and positions of live public events inside the box around `center` that holds
    /// the circle of `radius_km`, read from the events table (no spatial index).
    pub async fn events_in_box_for_benchmark(
        &self,
        center: (f64, f64),
        radius_km: f64,
    ) -> Result<Vec<(i64, f64, f64)>, StoreError> {
        let b = bounding_box(
            LatLon {
                lat: center.0,
                lon: center.1,
            },
            radius_km,
        );
        let rows = sqlx::query(
            "SELECT id, latitude, longitude FROM events
             WHERE status = 'live' AND visibility = 'public' AND deleted_at IS NULL
               AND latitude BETWEEN $1 AND $2 AND longitude BETWEEN $3 AND $4",
        )
        .bind(b.min_lat)
        .bind(b.max_lat)
        .bind(b.min_lon)
        .bind(b.max_lon)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    r.try_get("latitude")?,
                    r.try_get("longitude")?,
                ))
            })
            .collect()
    }

    /// The outreach count computed the obvious way: every supporter with live email
    /// consent to the group, measured one by one.
    pub async fn audience_by_full_scan_for_benchmark(
        &self,
        group_id: i64,
        center: (f64, f64),
        radius_km: f64,
    ) -> Result<usize, StoreError> {
        let rows = sqlx::query(
            "SELECT s.latitude, s.longitude FROM consents c JOIN supporters s ON s.id = c.supporter_id
             WHERE c.group_id = $1 AND c.channel = 'email' AND c.withdrawn_at IS NULL
               AND s.latitude IS NOT NULL AND s.longitude IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM email_suppressions x WHERE x.email = s.email)",
        )
        .bind(group_id)
        .fetch_all(self.reader())
        .await?;
        let origin = LatLon {
            lat: center.0,
            lon: center.1,
        };
        let mut count = 0;
        for row in &rows {
            let (lat, lon): (f64, f64) = (row.try_get("latitude")?, row.try_get("longitude")?);
            if distance_km(origin, LatLon { lat, lon }) <= radius_km {
                count += 1;
            }
        }
        Ok(count)
    }
}
