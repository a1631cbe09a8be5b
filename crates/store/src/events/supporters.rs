//! Supporters (people who gave their details, usually by RSVPing; no account needed) and
//! their consent to be contacted, per group and channel, with its proof. Every change
//! here keeps the outreach audience (`email_audience`) exact in the same transaction.
//! It must not decide who may see a supporter: that is the web layer's.

use super::audience::refresh_audience;
use crate::audit::{About, AuditAction, audit_about_in, audit_in};
use crate::{Millis, Store, StoreError, new_secret, now_millis};
use barnstorm_domain::event::Channel;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// A supporter's details as given, e.g. on an RSVP form.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSupporter {
    /// Already normalised with `barnstorm_domain::email::normalise_email`.
    pub email: String,
    /// Their name; an empty name leaves a known supporter's name alone.
    pub name: String,
    /// Their postcode as given (normalised by the caller); `None` keeps the one on file.
    pub postcode: Option<String>,
    /// Latitude and longitude of their postcode; `None` keeps the one on file.
    pub location: Option<(f64, f64)>,
    /// Their phone number; `None` keeps the one on file.
    pub phone: Option<String>,
}

/// A supporter on file.
#[derive(Debug, Clone, PartialEq)]
pub struct Supporter {
    /// Stable id.
    pub id: i64,
    /// Normalised email address, unique.
    pub email: String,
    /// Name.
    pub name: String,
    /// Postcode, if given.
    pub postcode: Option<String>,
    /// Latitude and longitude, if known.
    pub location: Option<(f64, f64)>,
    /// Phone number, if given.
    pub phone: Option<String>,
    /// Names the supporter in unsubscribe links (random, URL-safe).
    pub unsubscribe_token: String,
}

/// Consent to be contacted by one group on one channel, with its proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// The group contacting.
    pub group_id: i64,
    /// How.
    pub channel: Channel,
    /// When it was (last) given.
    pub granted_at: Millis,
    /// Where it was given, e.g. `rsvp:42`, `bulk`.
    pub source: String,
    /// The page the form was on, or the file a bulk import read.
    pub source_detail: String,
    /// The exact words agreed to; `None` for consents recorded before wordings were kept.
    pub wording: Option<String>,
    /// The privacy notice version in force then, if one was published.
    pub privacy_notice_id: Option<i64>,
    /// The organiser who imported it; `None` when the person gave it themselves.
    pub collected_by: Option<i64>,
    /// When it was withdrawn; `None` while it is live.
    pub withdrawn_at: Option<Millis>,
    /// How it was withdrawn, in words.
    pub withdrawn_how: Option<String>,
}

/// What a consent is recorded with: where it came from and the words agreed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentProof<'a> {
    /// The kind of source: `rsvp:42`, `bulk`.
    pub source: &'a str,
    /// The form's page address, or the file or data set an import read.
    pub source_detail: &'a str,
    /// The exact words shown beside the tick box (or in the import's own form).
    pub wording: &'a str,
    /// The organiser who imported it; `None` when the person gave it themselves.
    pub collected_by: Option<i64>,
}

impl<'a> ConsentProof<'a> {
    /// A consent the person gave themselves on a form or page at `source_detail`.
    pub fn given(source: &'a str, source_detail: &'a str, wording: &'a str) -> Self {
        Self {
            source,
            source_detail,
            wording,
            collected_by: None,
        }
    }
}

/// The id of `wording`, stored once per distinct text.
pub(crate) async fn wording_id(
    tx: &mut Transaction<'static, Any>,
    wording: &str,
    now: Millis,
) -> Result<i64, StoreError> {
    sqlx::query(
        "INSERT INTO consent_wordings (wording, first_shown_at) VALUES ($1, $2)
         ON CONFLICT (wording) DO NOTHING",
    )
    .bind(wording)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(
        sqlx::query("SELECT id FROM consent_wordings WHERE wording = $1")
            .bind(wording)
            .fetch_one(&mut **tx)
            .await?
            .try_get("id")?,
    )
}

/// The privacy notice version in force now, if one was published.
pub(crate) async fn current_notice_id(
    tx: &mut Transaction<'static, Any>,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query("SELECT MAX(id) AS id FROM privacy_notices")
        .fetch_one(&mut **tx)
        .await?
        .try_get("id")?)
}

const SUPPORTER_COLUMNS: &str =
    "id, email, name, postcode, latitude, longitude, phone, unsubscribe_token";

impl Supporter {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let lat: Option<f64> = row.try_get("latitude")?;
        let lon: Option<f64> = row.try_get("longitude")?;
        Ok(Self {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            postcode: row.try_get("postcode")?,
            location: lat.zip(lon),
            phone: row.try_get("phone")?,
            unsubscribe_token: row.try_get("unsubscribe_token")?,
        })
    }
}

/// Inserts the supporter or updates the details given, and refreshes their audience rows.
pub(crate) async fn upsert_supporter_tx(
    tx: &mut Transaction<'static, Any>,
    new: &NewSupporter,
) -> Result<Supporter, StoreError> {
    let now = now_millis();
    // A missing location is written as a literal NULL: binding a NULL float here made
    // PostgreSQL reject the statement through sqlx's `Any` driver (22P03, "incorrect
    // binary data format") after the same statement had run with a location.
    let place = if new.location.is_some() {
        "$7, $8"
    } else {
        "NULL, NULL"
    };
    let sql = format!(
        "INSERT INTO supporters (email, name, postcode, phone, unsubscribe_token, created_at, updated_at, latitude, longitude)
         VALUES ($1, $2, $3, $4, $5, $6, $6, {place})
         ON CONFLICT (email) DO UPDATE SET
             name = CASE WHEN excluded.name = '' THEN supporters.name ELSE excluded.name END,
             postcode = COALESCE(excluded.postcode, supporters.postcode),
             latitude = CASE WHEN excluded.latitude IS NULL THEN supporters.latitude ELSE excluded.latitude END,
             longitude = CASE WHEN excluded.latitude IS NULL THEN supporters.longitude ELSE excluded.longitude END,
             phone = COALESCE(excluded.phone, supporters.phone),
             updated_at = excluded.updated_at
         RETURNING {SUPPORTER_COLUMNS}"
    );
    let mut query = sqlx::query(&sql)
        .bind(&new.email)
        .bind(&new.name)
        .bind(&new.postcode)
        .bind(&new.phone)
        .bind(new_secret())
        .bind(now);
    if let Some((lat, lon)) = new.location {
        query = query.bind(lat).bind(lon);
    }
    let row = query.fetch_one(&mut **tx).await?;
    let supporter = Supporter::from_row(&row)?;
    if new.location.is_some() {
        refresh_audience(tx, supporter.id).await?;
    }
    Ok(supporter)
}

/// Grants (or renews a withdrawn) consent with its proof. A consent that is already live
/// keeps its original proof. Returns whether anything changed.
pub(crate) async fn grant_consent_tx(
    tx: &mut Transaction<'static, Any>,
    supporter_id: i64,
    group_id: i64,
    channel: Channel,
    proof: &ConsentProof<'_>,
) -> Result<bool, StoreError> {
    let now = now_millis();
    let wording = wording_id(tx, proof.wording, now).await?;
    let notice = current_notice_id(tx).await?;
    let changed = sqlx::query(
        "INSERT INTO consents (supporter_id, group_id, channel, granted_at, source,
                               source_detail, wording_id, privacy_notice_id, collected_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (supporter_id, group_id, channel) DO UPDATE SET
             granted_at = excluded.granted_at, source = excluded.source,
             source_detail = excluded.source_detail, wording_id = excluded.wording_id,
             privacy_notice_id = excluded.privacy_notice_id,
             collected_by = excluded.collected_by, withdrawn_at = NULL, withdrawn_how = NULL
         WHERE consents.withdrawn_at IS NOT NULL",
    )
    .bind(supporter_id)
    .bind(group_id)
    .bind(channel.as_str())
    .bind(now)
    .bind(proof.source)
    .bind(proof.source_detail)
    .bind(wording)
    .bind(notice)
    .bind(proof.collected_by)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        > 0;
    if changed {
        let source = proof.source;
        let detail = format!("group {group_id}, {channel}, {source}");
        let about = About {
            group_id: Some(group_id),
            supporter_id: Some(supporter_id),
            ..About::default()
        };
        let subject = format!("supporter {supporter_id}");
        audit_about_in(
            tx,
            None,
            AuditAction::ConsentGrant,
            about,
            &subject,
            &detail,
        )
        .await?;
        if channel == Channel::Email {
            refresh_audience(tx, supporter_id).await?;
        }
    }
    Ok(changed)
}

/// Withdraws live consent; `group_id` `None` withdraws it for every group. Returns how
/// many consents were withdrawn.
pub(crate) async fn withdraw_consent_tx(
    tx: &mut Transaction<'static, Any>,
    supporter_id: i64,
    group_id: Option<i64>,
    channel: Channel,
    how: &str,
) -> Result<u64, StoreError> {
    let base = "UPDATE consents SET withdrawn_at = $1, withdrawn_how = $4
                WHERE supporter_id = $2 AND channel = $3 AND withdrawn_at IS NULL";
    let query = match group_id {
        Some(group_id) => format!("{base} AND group_id = {group_id}"),
        None => base.to_owned(),
    };
    let withdrawn = sqlx::query(&query)
        .bind(now_millis())
        .bind(supporter_id)
        .bind(channel.as_str())
        .bind(how)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if withdrawn > 0 {
        let groups = group_id.map_or("every group".to_owned(), |g| format!("group {g}"));
        let detail = format!("{groups}, {channel}");
        let about = About {
            group_id,
            supporter_id: Some(supporter_id),
            ..About::default()
        };
        let subject = format!("supporter {supporter_id}");
        audit_about_in(
            tx,
            None,
            AuditAction::ConsentWithdraw,
            about,
            &subject,
            &detail,
        )
        .await?;
        if channel == Channel::Email {
            refresh_audience(tx, supporter_id).await?;
        }
    }
    Ok(withdrawn)
}

impl Store {
    /// Adds a supporter, or updates the details given for the one with this email
    /// (a blank name or a `None` field keeps what is on file). Their unsubscribe token
    /// is made once and never changes.
    pub async fn upsert_supporter(&self, new: &NewSupporter) -> Result<Supporter, StoreError> {
        let mut tx = self.begin_write().await?;
        let supporter = upsert_supporter_tx(&mut tx, new).await?;
        tx.commit().await?;
        Ok(supporter)
    }

    /// The supporter with this (normalised) email address.
    pub async fn supporter_by_email(&self, email: &str) -> Result<Option<Supporter>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SUPPORTER_COLUMNS} FROM supporters WHERE email = $1"
        ))
        .bind(email)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(Supporter::from_row).transpose()?)
    }

    /// Records consent to be contacted by `group_id` on `channel` with its proof (where
    /// and how it was given, the words agreed to). Granting again while it is live changes
    /// nothing.
    pub async fn grant_consent(
        &self,
        supporter_id: i64,
        group_id: i64,
        channel: Channel,
        proof: &ConsentProof<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        grant_consent_tx(&mut tx, supporter_id, group_id, channel, proof).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Withdraws consent to be contacted by `group_id` on `channel` (already withdrawn is
    /// harmless), saying `how` in words. The proof of the original grant is kept.
    pub async fn withdraw_consent(
        &self,
        supporter_id: i64,
        group_id: i64,
        channel: Channel,
        how: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        withdraw_consent_tx(&mut tx, supporter_id, Some(group_id), channel, how).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every consent a supporter has given, live or withdrawn, by group then channel.
    pub async fn consents(&self, supporter_id: i64) -> Result<Vec<Consent>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.group_id, c.channel, c.granted_at, c.source, c.source_detail, w.wording,
                    c.privacy_notice_id, c.collected_by, c.withdrawn_at, c.withdrawn_how
             FROM consents c LEFT JOIN consent_wordings w ON w.id = c.wording_id
             WHERE c.supporter_id = $1 ORDER BY c.group_id, c.channel",
        )
        .bind(supporter_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let channel: String = row.try_get("channel")?;
                Ok(Consent {
                    group_id: row.try_get("group_id")?,
                    channel: channel.parse().map_err(
                        |e: barnstorm_domain::event::UnknownChoice| {
                            StoreError::Database(sqlx::Error::Decode(e.into()))
                        },
                    )?,
                    granted_at: row.try_get("granted_at")?,
                    source: row.try_get("source")?,
                    source_detail: row.try_get("source_detail")?,
                    wording: row.try_get("wording")?,
                    privacy_notice_id: row.try_get("privacy_notice_id")?,
                    collected_by: row.try_get("collected_by")?,
                    withdrawn_at: row.try_get("withdrawn_at")?,
                    withdrawn_how: row.try_get("withdrawn_how")?,
                })
            })
            .collect()
    }

    /// Deletes a supporter with their consents, RSVPs and audience rows (by cascade; a
    /// data protection erasure request). Places they held are not offered to the waiting
    /// list. Returns whether they existed.
    pub async fn delete_supporter(&self, supporter_id: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM supporters WHERE id = $1")
            .bind(supporter_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if deleted {
            audit_in(
                &mut tx,
                None,
                AuditAction::SupporterDelete,
                &format!("supporter {supporter_id}"),
                "",
            )
            .await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
