//! Sign-ins waiting for their second step: the first step (password or emailed link)
//! passed, no session exists yet. The browser holds a random secret; only its SHA-256 is
//! stored. Finishing one deletes it, so a second step cannot be completed twice.

use crate::users::USER_COLUMNS;
use crate::{Millis, Store, StoreError, User};
use sqlx::Row;

/// A sign-in that still needs its second step.
#[derive(Debug, Clone)]
pub struct SecondStep {
    /// Who is signing in.
    pub user: User,
    /// Where to go once signed in (a local path).
    pub next_path: String,
    /// The challenge of a passkey assertion in progress, as JSON.
    pub passkey_state: Option<String>,
}

impl Store {
    /// Records a sign-in waiting for its second step until `expires_at`.
    pub async fn create_second_step(
        &self,
        token_hash: &str,
        user_id: i64,
        next_path: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO second_steps (token_hash, user_id, next_path, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(next_path)
        .bind(now)
        .bind(expires_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The live sign-in waiting with this token hash.
    pub async fn second_step(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<SecondStep>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, s.next_path, s.passkey_state
             FROM second_steps s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(SecondStep {
            user: User::from_row(&row)?,
            next_path: row.try_get("next_path")?,
            passkey_state: row.try_get("passkey_state")?,
        }))
    }

    /// Keeps the challenge of a passkey assertion with the waiting sign-in.
    pub async fn set_second_step_passkey_state(
        &self,
        token_hash: &str,
        state: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE second_steps SET passkey_state = $1 WHERE token_hash = $2")
            .bind(state)
            .bind(token_hash)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Ends the waiting sign-in; true only for the one request that ended it.
    pub async fn finish_second_step(&self, token_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM second_steps WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
