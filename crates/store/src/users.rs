//! Accounts: people who sign in (organisers, hosts, callers, admins). Supporters who are
//! only contacts or RSVPs are not users and live elsewhere. Password hashing is the
//! caller's job; this module stores the hash it is given.

use crate::{Millis, Store, StoreError, now_millis};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A person who can sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable id.
    pub id: i64,
    /// Lower-cased email address, unique.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Argon2id PHC string, or `None` for accounts that sign in by email link only.
    pub password_hash: Option<String>,
    /// Instance administrator.
    pub is_admin: bool,
    /// When the account was made.
    pub created_at: Millis,
}

pub(crate) const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.password_hash, u.is_admin, u.created_at";

impl User {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            password_hash: row.try_get("password_hash")?,
            is_admin: row.try_get::<i64, _>("is_admin")? != 0,
            created_at: row.try_get("created_at")?,
        })
    }
}

/// Lower-cases and trims an email address so lookups do not depend on how it was typed.
pub fn canonical_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Inserts an account through `conn` (the writer pool, or a transaction); `Conflict` when
/// the email is taken.
pub(crate) async fn insert_user<'c>(
    conn: impl sqlx::Executor<'c, Database = sqlx::Any>,
    email: &str,
    name: &str,
    password_hash: Option<&str>,
    is_admin: bool,
) -> Result<User, StoreError> {
    let rows = sqlx::query(
        "INSERT INTO users (email, name, password_hash, is_admin, created_at)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING id, email, name, password_hash, is_admin, created_at",
    )
    .bind(canonical_email(email))
    .bind(name.trim())
    .bind(password_hash)
    .bind(i64::from(is_admin))
    .bind(now_millis())
    // Not `fetch_one`: on SQLite an autocommit write commits when its statement runs to
    // the end, and stopping after the first row can lose a failed commit (disk full)
    // while still handing back the new id.
    .fetch_all(conn)
    .await?;
    let row = rows.first().ok_or(StoreError::NotFound)?;
    Ok(User::from_row(row)?)
}

impl Store {
    /// Creates an account; `Conflict` when the email is taken.
    pub async fn create_user(
        &self,
        email: &str,
        name: &str,
        password_hash: Option<&str>,
        is_admin: bool,
    ) -> Result<User, StoreError> {
        insert_user(self.writer(), email, name, password_hash, is_admin).await
    }

    /// Finds an account by email, however it is capitalised.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.email = $1"
        ))
        .bind(canonical_email(email))
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(User::from_row).transpose()?)
    }

    /// Finds an account by id.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(User::from_row).transpose()?)
    }

    /// Replaces an account's password hash.
    pub async fn set_password_hash(&self, user_id: i64, hash: &str) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(self.writer())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Grants or withdraws instance administration.
    pub async fn set_admin(&self, user_id: i64, is_admin: bool) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE users SET is_admin = $1 WHERE id = $2")
            .bind(i64::from(is_admin))
            .bind(user_id)
            .execute(self.writer())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
