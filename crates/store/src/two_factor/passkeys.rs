//! Passkeys (WebAuthn credentials) and passkey registrations in progress. The credential
//! is kept as the JSON the web layer's WebAuthn library gives; this module never looks
//! inside it, only at its id, so a credential belongs to one account.

use crate::audit::{About, AuditAction, audit_about_in};
use crate::{Millis, Store, StoreError};
use sqlx::Row;

/// One registered passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyInfo {
    /// Stable id, used to rename or remove it.
    pub id: i64,
    /// What the owner called it ("laptop").
    pub name: String,
    /// The credential (public key, counter) as JSON.
    pub credential: String,
    /// When it was added.
    pub created_at: Millis,
    /// When it last signed in.
    pub last_used_at: Option<Millis>,
}

impl Store {
    /// The account's passkeys, oldest first.
    pub async fn passkeys(&self, user_id: i64) -> Result<Vec<PasskeyInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, credential, created_at, last_used_at FROM passkeys
             WHERE user_id = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PasskeyInfo {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    credential: row.try_get("credential")?,
                    created_at: row.try_get("created_at")?,
                    last_used_at: row.try_get("last_used_at")?,
                })
            })
            .collect()
    }

    /// Adds a verified passkey; `Conflict` when the credential is registered already.
    /// Audited as `two_factor.passkey_add`.
    pub async fn add_passkey(
        &self,
        user_id: i64,
        credential_id: &str,
        name: &str,
        credential: &str,
        now: Millis,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO passkeys (user_id, credential_id, name, credential, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(credential_id)
        .bind(name)
        .bind(credential)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        let subject = format!("user {user_id}");
        let detail = format!("passkey {id}");
        audit_about_in(
            &mut tx,
            Some(user_id),
            AuditAction::TwoFactorPasskeyAdd,
            About::user(user_id),
            &subject,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Renames one of the account's passkeys; `NotFound` when it has no such passkey.
    pub async fn rename_passkey(
        &self,
        user_id: i64,
        id: i64,
        name: &str,
    ) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3")
            .bind(name)
            .bind(id)
            .bind(user_id)
            .execute(self.writer())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Removes one of the account's passkeys, audited as `two_factor.passkey_remove`;
    /// `NotFound` when it has no such passkey.
    pub async fn remove_passkey(&self, user_id: i64, id: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let subject = format!("user {user_id}");
        let detail = format!("passkey {id}");
        audit_about_in(
            &mut tx,
            Some(user_id),
            AuditAction::TwoFactorPasskeyRemove,
            About::user(user_id),
            &subject,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores the credential's new state (its signature counter) after a sign-in.
    pub async fn passkey_used(
        &self,
        user_id: i64,
        id: i64,
        credential: &str,
        now: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE passkeys SET credential = $1, last_used_at = $2 WHERE id = $3 AND user_id = $4",
        )
        .bind(credential)
        .bind(now)
        .bind(id)
        .bind(user_id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Keeps the challenge of a passkey registration until `expires_at`, replacing any
    /// earlier one of the account.
    pub async fn save_passkey_registration(
        &self,
        user_id: i64,
        state: &str,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO passkey_registrations (user_id, state, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET state = excluded.state,
                 expires_at = excluded.expires_at",
        )
        .bind(user_id)
        .bind(state)
        .bind(expires_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Takes (and forgets) the account's live registration challenge, so each can be
    /// answered once.
    pub async fn take_passkey_registration(
        &self,
        user_id: i64,
        now: Millis,
    ) -> Result<Option<String>, StoreError> {
        let rows = sqlx::query(
            "DELETE FROM passkey_registrations WHERE user_id = $1 RETURNING state, expires_at",
        )
        .bind(user_id)
        .fetch_all(self.writer())
        .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let expires_at: Millis = row.try_get("expires_at")?;
        Ok((expires_at > now)
            .then(|| row.try_get("state"))
            .transpose()?)
    }
}
