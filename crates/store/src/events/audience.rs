//! Who outreach may reach, by place: the `email_audience` table, the suppression list and
//! one-click unsubscribe. A row exists exactly while a supporter has live email consent
//! for the group, a known location and no suppression, and says whether the consent's
//! words reached the group's local groups too; every path that changes one of those
//! calls [`refresh_audience`] in its own transaction. Radius selection lives here
//! too, so the count a sender is shown is computed exactly as the list that is sent.

use super::supporters::withdraw_consent_tx;
use crate::audit::{AuditAction, audit_in};
use crate::webhooks::{WebhookEventType, queue_webhook_in};
use crate::{Millis, Store, StoreError, now_millis};
use barnstorm_domain::event::{Channel, wording_reaches_local_groups};
use barnstorm_domain::geo::{
    LatLon, MAX_RADIUS_KM, cell_corners, cells_within, distance_km, grid_cell,
};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// More grid cells than this (a radius of a few hundred kilometres) and a radius query
/// reads the group's whole audience instead.
const MAX_LISTED_CELLS: usize = 20_000;

/// What an unsubscribe link did, to show the person who followed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeResult {
    /// Their address with most of it hidden, e.g. `n***@example.org`.
    pub masked_email: String,
    /// The group they left; `None` when they left everything.
    pub group_name: Option<String>,
    /// The groups above it whose consent (naming their local groups) also brought them
    /// that group's mail, and which they left with it.
    pub covering_groups: Vec<String>,
}

/// Rewrites a supporter's audience rows from their consents, location and suppression.
pub(crate) async fn refresh_audience(
    tx: &mut Transaction<'static, Any>,
    supporter_id: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM email_audience WHERE supporter_id = $1")
        .bind(supporter_id)
        .execute(&mut **tx)
        .await?;
    let row = sqlx::query(
        "SELECT s.latitude, s.longitude FROM supporters s
         WHERE s.id = $1 AND s.latitude IS NOT NULL AND s.longitude IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM email_suppressions x WHERE x.email = s.email)",
    )
    .bind(supporter_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(()) };
    let (lat, lon): (f64, f64) = (row.try_get("latitude")?, row.try_get("longitude")?);
    let consents = sqlx::query(
        "SELECT c.group_id, w.wording FROM consents c
         LEFT JOIN consent_wordings w ON w.id = c.wording_id
         WHERE c.supporter_id = $1 AND c.channel = 'email' AND c.withdrawn_at IS NULL",
    )
    .bind(supporter_id)
    .fetch_all(&mut **tx)
    .await?;
    for consent in &consents {
        let wording: Option<String> = consent.try_get("wording")?;
        let reaches = wording.as_deref().is_some_and(wording_reaches_local_groups);
        sqlx::query(
            "INSERT INTO email_audience
                 (group_id, cell, latitude, longitude, supporter_id, reaches_subgroups)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(consent.try_get::<i64, _>("group_id")?)
        .bind(grid_cell(lat, lon))
        .bind(lat)
        .bind(lon)
        .bind(supporter_id)
        .bind(i64::from(reaches))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The groups whose audience rows count for `group_id`'s outreach: the group itself,
/// then the groups above it, nearest first (their rows count only where the consent's
/// words reached local groups).
pub(crate) async fn audience_groups<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    group_id: i64,
) -> Result<Vec<i64>, StoreError> {
    let rows = sqlx::query(
        "WITH RECURSIVE up(id, depth) AS (
             SELECT parent_id, 1 FROM groups WHERE id = $1 AND parent_id IS NOT NULL
             UNION ALL
             SELECT g.parent_id, up.depth + 1 FROM groups g JOIN up ON g.id = up.id
             WHERE g.parent_id IS NOT NULL AND up.depth < 32
         )
         SELECT id FROM up ORDER BY depth",
    )
    .bind(group_id)
    .fetch_all(executor)
    .await?;
    let mut groups = vec![group_id];
    for row in &rows {
        groups.push(row.try_get("id")?);
    }
    Ok(groups)
}

/// An SQL condition on `email_audience` (aliased `a`) for the rows that count for the
/// outreach of `groups[0]`, given [`audience_groups`]: its own rows, and the rows of the
/// groups above it whose consent reached local groups. The ids are integers we read, so
/// they are written inline.
pub(crate) fn audience_condition(groups: &[i64]) -> String {
    let own = groups.first().copied().unwrap_or_default();
    if groups.len() <= 1 {
        return format!("a.group_id = {own}");
    }
    let list: Vec<String> = groups.iter().map(i64::to_string).collect();
    format!(
        "a.group_id IN ({}) AND (a.group_id = {own} OR a.reaches_subgroups = 1)",
        list.join(", ")
    )
}

/// The groups above `group_id` to which `supporter_id` gave live email consent in words
/// that named their local groups (id, name), nearest first: consents that bring them
/// `group_id`'s outreach too.
async fn covering_consents(
    tx: &mut Transaction<'static, Any>,
    supporter_id: i64,
    group_id: i64,
) -> Result<Vec<(i64, String)>, StoreError> {
    let mut found = Vec::new();
    for above in audience_groups(&mut **tx, group_id)
        .await?
        .into_iter()
        .skip(1)
    {
        let row = sqlx::query(
            "SELECT g.name, w.wording FROM consents c
             JOIN groups g ON g.id = c.group_id
             LEFT JOIN consent_wordings w ON w.id = c.wording_id
             WHERE c.supporter_id = $1 AND c.group_id = $2 AND c.channel = 'email'
               AND c.withdrawn_at IS NULL",
        )
        .bind(supporter_id)
        .bind(above)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(row) = row {
            let wording: Option<String> = row.try_get("wording")?;
            if wording.as_deref().is_some_and(wording_reaches_local_groups) {
                found.push((above, row.try_get("name")?));
            }
        }
    }
    Ok(found)
}

/// The radius a query really uses: `cells_within` clamps to [`MAX_RADIUS_KM`], so the
/// distance check must too.
fn effective_radius(radius_km: f64) -> f64 {
    if radius_km.is_nan() {
        0.0
    } else {
        radius_km.clamp(0.0, MAX_RADIUS_KM)
    }
}

/// Whether a supporter at `lat`, `lon` is within the radius: the one test shared by the
/// count and the send.
pub(crate) fn within_radius(center: (f64, f64), radius_km: f64, lat: f64, lon: f64) -> bool {
    let d = distance_km(LatLon::new(center.0, center.1), LatLon::new(lat, lon));
    d <= effective_radius(radius_km)
}

/// The grid cells that may hold a point within the radius, split into those wholly
/// inside it (every supporter there counts, no distance check needed) and those on its
/// edge (each point is measured).
fn cells_by_coverage(center: (f64, f64), radius_km: f64) -> (Vec<i64>, Vec<i64>) {
    let cells = cells_within(LatLon::new(center.0, center.1), effective_radius(radius_km));
    cells.into_iter().partition(|cell| {
        cell_corners(*cell)
            .iter()
            .all(|corner| within_radius(center, radius_km, corner.lat, corner.lon))
    })
}

/// An SQL condition on `email_audience.cell` (aliased `a`) matching `cells`; `None`
/// when there are too many to list. An `IN` list, because both engines seek the
/// `(group_id, cell, …)` key once per cell for it, where SQLite reads the group's whole
/// key range for a disjunction of `BETWEEN`s. The cells are integers we computed, so
/// they are written inline.
fn cells_condition(cells: &[i64]) -> Option<String> {
    if cells.is_empty() {
        return Some("1 = 0".to_owned());
    }
    if cells.len() > MAX_LISTED_CELLS {
        return None;
    }
    let list: Vec<String> = cells.iter().map(i64::to_string).collect();
    Some(format!("a.cell IN ({})", list.join(", ")))
}

/// An SQL condition on `email_audience.cell` (aliased `a`) covering every cell that may
/// hold a point within the radius; rows it matches still need [`within_radius`].
pub(crate) fn cell_condition(center: (f64, f64), radius_km: f64) -> String {
    let cells = cells_within(LatLon::new(center.0, center.1), effective_radius(radius_km));
    cells_condition(&cells).unwrap_or_else(|| "1 = 1".to_owned())
}

/// An SQL condition on `email_audience` (aliased `a`) leaving out supporters the
/// sending group `group_id` has sent outreach to after `mailed_since` (the per-recipient
/// limit); `None` leaves nobody out. Shared by the count and the send, so both leave out
/// the same people. The id and time are integers, so they are written inline.
pub(crate) fn not_mailed_since(group_id: i64, mailed_since: Option<Millis>) -> String {
    match mailed_since {
        None => "1 = 1".to_owned(),
        Some(since) => format!(
            "NOT EXISTS (SELECT 1 FROM outreach_recipients r
                         WHERE r.group_id = {group_id} AND r.supporter_id = a.supporter_id
                           AND r.last_sent_at > {since})"
        ),
    }
}

/// `n***@example.org`: enough for a person to recognise their address, not to learn it.
pub(crate) fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

async fn add_suppression_tx(
    tx: &mut Transaction<'static, Any>,
    email: &str,
    reason: &str,
) -> Result<bool, StoreError> {
    let added = sqlx::query(
        "INSERT INTO email_suppressions (email, reason, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (email) DO NOTHING",
    )
    .bind(email)
    .bind(reason)
    .bind(now_millis())
    .execute(&mut **tx)
    .await?
    .rows_affected()
        > 0;
    let supporter: Option<i64> = sqlx::query("SELECT id FROM supporters WHERE email = $1")
        .bind(email)
        .fetch_optional(&mut **tx)
        .await?
        .map(|row: AnyRow| row.try_get("id"))
        .transpose()?;
    if let Some(id) = supporter {
        refresh_audience(tx, id).await?;
    }
    if added {
        let subject = supporter.map_or("an address with no supporter".to_owned(), |id| {
            format!("supporter {id}")
        });
        audit_in(tx, None, AuditAction::SuppressionAdd, &subject, reason).await?;
        let data =
            serde_json::json!({"channel": "email", "supporter_id": supporter, "reason": reason});
        queue_webhook_in(tx, WebhookEventType::ContactSuppressed, data).await?;
    }
    Ok(added)
}

impl Store {
    /// How many supporters outreach by `group_id` within `radius_km` of `center`
    /// (latitude, longitude) would reach: those who consented to the group, and to a group
    /// above it in words that named its local groups; exact, and equal to what
    /// [`Store::send_outreach`] sends. With `mailed_since`, supporters the group has sent
    /// outreach to after that time are left out, as the send leaves them out; `None`
    /// counts everyone who consented. Grid cells wholly inside the radius are counted in
    /// the database; in cells on its edge, supporters sit at postcode centres, so it reads
    /// one row per distinct point and checks distances here.
    pub async fn audience_count(
        &self,
        group_id: i64,
        center: (f64, f64),
        radius_km: f64,
        mailed_since: Option<Millis>,
    ) -> Result<i64, StoreError> {
        let rested = not_mailed_since(group_id, mailed_since);
        let groups = audience_condition(&audience_groups(self.reader(), group_id).await?);
        let (inside, edge) = cells_by_coverage(center, radius_km);
        // Too many ranges to list: measure every point of the group instead.
        let (inside, edge) = match (cells_condition(&inside), cells_condition(&edge)) {
            (Some(inside), Some(edge)) => (Some(inside), edge),
            _ => (None, "1 = 1".to_owned()),
        };
        let mut total = 0;
        if let Some(condition) = inside {
            let row = sqlx::query(&format!(
                "SELECT COUNT(DISTINCT a.supporter_id) AS n FROM email_audience a
                 WHERE {groups} AND {condition} AND {rested}"
            ))
            .fetch_one(self.reader())
            .await?;
            total += row.try_get::<i64, _>("n")?;
        }
        // A supporter's rows all sit at their one location, so counting them distinctly
        // per point counts each person once.
        let rows = sqlx::query(&format!(
            "SELECT a.latitude, a.longitude, COUNT(DISTINCT a.supporter_id) AS n
             FROM email_audience a
             WHERE {groups} AND {edge} AND {rested}
             GROUP BY a.latitude, a.longitude"
        ))
        .fetch_all(self.reader())
        .await?;
        for row in &rows {
            let (lat, lon): (f64, f64) = (row.try_get("latitude")?, row.try_get("longitude")?);
            if within_radius(center, radius_km, lat, lon) {
                total += row.try_get::<i64, _>("n")?;
            }
        }
        Ok(total)
    }

    /// Puts an address on the suppression list (never email it outreach again) and takes
    /// it out of every audience. Returns whether it was new; again is harmless.
    pub async fn add_suppression(&self, email: &str, reason: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let added = add_suppression_tx(&mut tx, email, reason).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Whether an address is on the suppression list.
    pub async fn is_suppressed(&self, email: &str) -> Result<bool, StoreError> {
        let rows = sqlx::query("SELECT 1 AS one FROM email_suppressions WHERE email = $1")
            .bind(email)
            .fetch_all(self.reader())
            .await?;
        Ok(!rows.is_empty())
    }

    /// Follows an unsubscribe link. With a group, withdraws email consent for that group,
    /// and for the groups above it whose consent named their local groups (it brought this
    /// group's mail too, so the mail would not stop otherwise); without, withdraws email consent for every group and suppresses the address
    /// ("unsubscribed from everything"). `None` when the token names nobody. Following
    /// the same link again changes nothing and gives the same answer.
    pub async fn unsubscribe(
        &self,
        token: &str,
        group_id: Option<i64>,
    ) -> Result<Option<UnsubscribeResult>, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT id, email FROM supporters WHERE unsubscribe_token = $1")
            .bind(token)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            tx.commit().await?;
            return Ok(None);
        };
        let (id, email): (i64, String) = (row.try_get("id")?, row.try_get("email")?);
        let mut covering_groups = Vec::new();
        let group_name = match group_id {
            Some(group_id) => {
                // Every consent that brings this group's mail goes, so the mail stops.
                let covering = covering_consents(&mut tx, id, group_id).await?;
                withdraw_consent_tx(
                    &mut tx,
                    id,
                    Some(group_id),
                    Channel::Email,
                    "the unsubscribe link in a mail from the group",
                )
                .await?;
                for (above, name) in covering {
                    withdraw_consent_tx(
                        &mut tx,
                        id,
                        Some(above),
                        Channel::Email,
                        "the unsubscribe link in a mail from one of its local groups",
                    )
                    .await?;
                    covering_groups.push(name);
                }
                let name: Option<String> = sqlx::query("SELECT name FROM groups WHERE id = $1")
                    .bind(group_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|row: AnyRow| row.try_get("name"))
                    .transpose()?;
                Some(name.unwrap_or_else(|| "this group".to_owned()))
            }
            None => {
                withdraw_consent_tx(
                    &mut tx,
                    id,
                    None,
                    Channel::Email,
                    "the unsubscribe-from-everything link in a mail",
                )
                .await?;
                add_suppression_tx(&mut tx, &email, "unsubscribed from everything").await?;
                None
            }
        };
        tx.commit().await?;
        Ok(Some(UnsubscribeResult {
            masked_email: mask_email(&email),
            group_name,
            covering_groups,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked() {
        assert_eq!(mask_email("nia@example.org"), "n***@example.org");
        assert_eq!(mask_email("nonsense"), "***");
    }

    #[test]
    fn nearby_cells_are_listed() {
        let sql = cell_condition((53.48, -2.24), 10.0);
        let centre = grid_cell(53.48, -2.24).to_string();
        assert!(
            sql.starts_with("a.cell IN (") && sql.contains(&centre),
            "{sql}"
        );
        // 10 km spans about 0.18 degrees of latitude and 0.3 of longitude: 4-5 × 7-8 cells.
        let listed = sql.matches(", ").count() + 1;
        assert!((20..=48).contains(&listed), "{listed} cells: {sql}");
        assert_eq!(
            cell_condition((53.48, -2.24), -1.0),
            "a.cell IN (".to_owned() + &centre + ")"
        );
    }
}
