//! Authenticator apps (TOTP) and recovery codes. A code's 30-second step is recorded when
//! it is accepted, in the same statement that checks it is newer than the last one, so a
//! code (or an older one) never works twice, even when two requests race.

use crate::audit::{About, AuditAction, audit_about_in};
use crate::{Millis, Store, StoreError};
use sqlx::{Any, Row, Transaction};

/// An account's authenticator app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpAuthenticator {
    /// The shared secret, base32 (RFC 4648, no padding).
    pub secret: String,
    /// Set up and confirmed with a code; until then it does not protect sign-in.
    pub confirmed: bool,
}

async fn replace_codes(
    tx: &mut Transaction<'static, Any>,
    user_id: i64,
    code_hashes: &[String],
    now: Millis,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    for hash in code_hashes {
        sqlx::query(
            "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(user_id)
        .bind(hash)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// The account's authenticator app, confirmed or being set up.
    pub async fn totp_authenticator(
        &self,
        user_id: i64,
    ) -> Result<Option<TotpAuthenticator>, StoreError> {
        let row =
            sqlx::query("SELECT secret, confirmed_at FROM totp_authenticators WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(self.reader())
                .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(TotpAuthenticator {
            secret: row.try_get("secret")?,
            confirmed: row.try_get::<Option<i64>, _>("confirmed_at")?.is_some(),
        }))
    }

    /// Starts setting up an authenticator app with `secret`, replacing one that was being
    /// set up. `Conflict` when one is already confirmed (turn it off first).
    pub async fn begin_totp_setup(
        &self,
        user_id: i64,
        secret: &str,
        now: Millis,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO totp_authenticators (user_id, secret, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret,
                 created_at = excluded.created_at
             WHERE totp_authenticators.confirmed_at IS NULL",
        )
        .bind(user_id)
        .bind(secret)
        .bind(now)
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict("totp_authenticators_user".into()));
        }
        Ok(())
    }

    /// Confirms the authenticator app being set up with the code of `step`, and stores
    /// `code_hashes` as the account's recovery codes (replacing any). Audited as
    /// `two_factor.totp_enrol`. False when nothing was being set up.
    pub async fn confirm_totp(
        &self,
        user_id: i64,
        step: i64,
        code_hashes: &[String],
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE totp_authenticators SET confirmed_at = $1, last_used_step = $2
             WHERE user_id = $3 AND confirmed_at IS NULL",
        )
        .bind(now)
        .bind(step)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        replace_codes(&mut tx, user_id, code_hashes, now).await?;
        let subject = format!("user {user_id}");
        audit_about_in(
            &mut tx,
            Some(user_id),
            AuditAction::TwoFactorTotpEnrol,
            About::user(user_id),
            &subject,
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records that the code of `step` was used; false when that step or a later one was
    /// already used (a replay), or there is no confirmed authenticator app.
    pub async fn use_totp_step(&self, user_id: i64, step: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE totp_authenticators SET last_used_step = $1
             WHERE user_id = $2 AND confirmed_at IS NOT NULL AND last_used_step < $1",
        )
        .bind(step)
        .bind(user_id)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Uses up the recovery code with this hash; false when it is not one of the
    /// account's unused codes. Audited as `two_factor.recovery_code_use`.
    pub async fn use_recovery_code(
        &self,
        user_id: i64,
        code_hash: &str,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1
             WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL RETURNING id",
        )
        .bind(now)
        .bind(user_id)
        .bind(code_hash)
        .fetch_all(&mut *tx)
        .await?;
        let Some(row) = rows.first() else {
            return Ok(false);
        };
        let id: i64 = row.try_get("id")?;
        let subject = format!("user {user_id}");
        let detail = format!("recovery code {id}");
        audit_about_in(
            &mut tx,
            Some(user_id),
            AuditAction::TwoFactorRecoveryCodeUse,
            About::user(user_id),
            &subject,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces the account's recovery codes, audited as
    /// `two_factor.recovery_codes_regenerate`.
    pub async fn replace_recovery_codes(
        &self,
        user_id: i64,
        code_hashes: &[String],
        now: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        replace_codes(&mut tx, user_id, code_hashes, now).await?;
        let subject = format!("user {user_id}");
        let action = AuditAction::TwoFactorRecoveryCodesRegenerate;
        audit_about_in(
            &mut tx,
            Some(user_id),
            action,
            About::user(user_id),
            &subject,
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
