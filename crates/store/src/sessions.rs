//! Server-side sign-in state: browser sessions, API tokens, one-time sign-in links and the
//! record of failed sign-ins used for rate limiting. Only hashes of secrets are stored;
//! generating and hashing the secrets is the web layer's job.

use crate::audit::{About, AuditAction, audit_about_in};
use crate::users::USER_COLUMNS;
use crate::{Millis, Store, StoreError, User, now_millis};
use sqlx::Row;

/// Inserts an API token through `conn` (the writer pool, or a transaction) and returns
/// its id.
pub(crate) async fn insert_api_token<'c>(
    conn: impl sqlx::Executor<'c, Database = sqlx::Any>,
    user_id: i64,
    token_hash: &str,
    label: &str,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO api_tokens (user_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(user_id)
    .bind(token_hash)
    .bind(label)
    .bind(now_millis())
    .fetch_all(conn)
    .await?
    .into_iter()
    .next()
    .ok_or(StoreError::NotFound)?;
    Ok(row.try_get("id")?)
}

/// A browser session, valid until `expires_at`.
#[derive(Debug, Clone)]
pub struct Session {
    /// The signed-in account.
    pub user: User,
    /// The token forms must echo to prove they came from our pages.
    pub csrf_token: String,
    /// When the session ends.
    pub expires_at: Millis,
}

/// An API token as shown on the account page (never the secret itself).
#[derive(Debug, Clone)]
pub struct ApiTokenInfo {
    /// Stable id, used to revoke it.
    pub id: i64,
    /// What the owner called it.
    pub label: String,
    /// When it was made.
    pub created_at: Millis,
    /// When it was last used, to the minute.
    pub last_used_at: Option<Millis>,
}

/// A one-time sign-in link that was redeemed.
#[derive(Debug, Clone)]
pub struct SignInLink {
    /// Who it signs in.
    pub user: User,
}

/// Audits `action` done by `user_id` to their own account inside `tx`.
pub(crate) async fn audit_user_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user_id: i64,
    action: AuditAction,
    detail: &str,
) -> Result<(), StoreError> {
    let subject = format!("user {user_id}");
    audit_about_in(
        tx,
        Some(user_id),
        action,
        About::user(user_id),
        &subject,
        detail,
    )
    .await
}

/// `last_used_at` is refreshed at most this often, so reads do not turn into writes.
const TOKEN_USE_RESOLUTION_MS: Millis = 60_000;

impl Store {
    /// Records a new session, audited as `session.sign_in` with `how` they signed in.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: Millis,
        how: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now_millis())
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        audit_user_in(&mut tx, user_id, AuditAction::SessionSignIn, how).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The live session with this token hash, if any.
    pub async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, s.csrf_token, s.expires_at
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2"
        ))
        .bind(token_hash)
        .bind(now_millis())
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Session {
            user: User::from_row(&row)?,
            csrf_token: row.try_get("csrf_token")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    /// Ends a session (sign out).
    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Removes expired sessions, used sign-in links, old login failures and unfinished
    /// two-factor sign-ins and passkey registrations.
    pub async fn purge_expired_credentials(&self) -> Result<u64, StoreError> {
        let now = now_millis();
        let mut removed = 0;
        for sql in [
            "DELETE FROM sessions WHERE expires_at <= $1",
            "DELETE FROM sign_in_links WHERE expires_at <= $1",
            "DELETE FROM login_failures WHERE at <= $1 - 86400000",
            "DELETE FROM rate_limit_counters WHERE window_started_at <= $1 - 86400000",
            "DELETE FROM second_steps WHERE expires_at <= $1",
            "DELETE FROM passkey_registrations WHERE expires_at <= $1",
        ] {
            removed += sqlx::query(sql)
                .bind(now)
                .execute(self.writer())
                .await?
                .rows_affected();
        }
        Ok(removed)
    }

    /// Stores a new API token for `user_id` and returns its id, audited as
    /// `api_token.create` by them.
    pub async fn create_api_token(
        &self,
        user_id: i64,
        token_hash: &str,
        label: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = insert_api_token(&mut *tx, user_id, token_hash, label).await?;
        audit_user_in(&mut tx, user_id, AuditAction::ApiTokenCreate, label).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The owner of a live API token.
    pub async fn api_token_user(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, t.id AS token_id, t.last_used_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        ))
        .bind(token_hash)
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let now = now_millis();
        let last_used: Option<Millis> = row.try_get("last_used_at")?;
        if last_used.is_none_or(|at| now - at > TOKEN_USE_RESOLUTION_MS) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(row.try_get::<i64, _>("token_id")?)
                .execute(self.writer())
                .await?;
        }
        Ok(Some(User::from_row(&row)?))
    }

    /// The accounts any of whose API tokens were revoked at or after `since`, so every node
    /// can drop them from its token cache. Each node asks about a window longer than its
    /// cache keeps a token, so a late commit or a skewed clock cannot slip through.
    pub async fn users_with_tokens_revoked_since(
        &self,
        since: Millis,
    ) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query("SELECT DISTINCT user_id FROM api_tokens WHERE revoked_at >= $1")
            .bind(since)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(|row| Ok(row.try_get("user_id")?)).collect()
    }

    /// The live API tokens of an account, newest first.
    pub async fn api_tokens(&self, user_id: i64) -> Result<Vec<ApiTokenInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, label, created_at, last_used_at FROM api_tokens
             WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id DESC",
        )
        .bind(user_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ApiTokenInfo {
                    id: row.try_get("id")?,
                    label: row.try_get("label")?,
                    created_at: row.try_get("created_at")?,
                    last_used_at: row.try_get("last_used_at")?,
                })
            })
            .collect()
    }

    /// Revokes one of the account's tokens, audited as `api_token.revoke` by them;
    /// `NotFound` if it is not theirs or already gone.
    pub async fn revoke_api_token(&self, user_id: i64, token_id: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now_millis())
        .bind(token_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let detail = format!("token {token_id}");
        audit_user_in(&mut tx, user_id, AuditAction::ApiTokenRevoke, &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a one-time sign-in link and voids every unused earlier link of the account,
    /// so only the newest mail works.
    pub async fn create_sign_in_link(
        &self,
        token_hash: &str,
        user_id: i64,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sign_in_links WHERE user_id = $1 AND used_at IS NULL")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO sign_in_links (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(user_id)
            .bind(now_millis())
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends every session of `user_id` except the one whose hash is `keep_session` (none
    /// when `None`) and revokes all its API tokens, in one transaction. Returns how many
    /// sessions and tokens were ended. Used on a password change and "sign out
    /// everywhere", audited as `session.revoke_others` by them with `why`.
    pub async fn revoke_other_credentials(
        &self,
        user_id: i64,
        keep_session: Option<&str>,
        now: Millis,
        why: &str,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let sessions = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id)
            .bind(keep_session.unwrap_or(""))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let tokens = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let detail = format!("{why}; {} sessions and tokens ended", sessions + tokens);
        audit_user_in(&mut tx, user_id, AuditAction::SessionRevokeOthers, &detail).await?;
        tx.commit().await?;
        Ok(sessions + tokens)
    }

    /// Records that the owner of `user_id` proved the address at `now` and revokes every
    /// session and API token the account had, in one transaction: whoever signed in
    /// before the proof (someone who made the account for an address they do not own)
    /// is signed out. A password set while the account was unverified was set by whoever
    /// held it then, so it is removed too (the owner can set one on the account page).
    /// The caller then starts the owner's new session.
    pub async fn confirm_address_owner(&self, user_id: i64, now: Millis) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE users SET password_hash = NULL WHERE id = $1 AND email_verified_at IS NULL",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query(
            "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2",
        )
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Redeems a sign-in link once: a second use, or a use after expiry, finds nothing.
    pub async fn redeem_sign_in_link(
        &self,
        token_hash: &str,
    ) -> Result<Option<SignInLink>, StoreError> {
        let now = now_millis();
        let row = sqlx::query(
            "UPDATE sign_in_links SET used_at = $1
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1
             RETURNING user_id",
        )
        .bind(now)
        .bind(token_hash)
        .fetch_all(self.writer())
        .await?
        .into_iter()
        .next();
        let Some(row) = row else { return Ok(None) };
        let user = self
            .user_by_id(row.try_get("user_id")?)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(Some(SignInLink { user }))
    }

    /// Notes a failed sign-in against `key` (an email or an address).
    pub async fn record_login_failure(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
            .bind(key)
            .bind(now_millis())
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Failed sign-ins against `key` since `since`, and the oldest of them.
    pub async fn login_failures_since(
        &self,
        key: &str,
        since: Millis,
    ) -> Result<(i64, Option<Millis>), StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n, MIN(at) AS oldest FROM login_failures WHERE key = $1 AND at > $2")
            .bind(key)
            .bind(since)
            .fetch_one(self.reader())
            .await?;
        Ok((row.try_get("n")?, row.try_get("oldest")?))
    }

    /// Forgets failed sign-ins against `key` after a successful one.
    pub async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}
