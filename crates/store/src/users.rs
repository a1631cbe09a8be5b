//! Accounts: people who sign in (organisers, hosts, callers, admins). Supporters who are
//! only contacts or RSVPs are not users and live elsewhere. Password hashing is the
//! caller's job; this module stores the hash it is given.

use crate::audit::AuditAction;
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
    /// Holds the instance's data-protection role: may find, export and erase any person.
    pub data_protection: bool,
    /// When the account was made.
    pub created_at: Millis,
    /// When the owner proved the address (followed an emailed link, or was made by
    /// someone who vouched for it); `None` while the account is unproven.
    pub email_verified_at: Option<Millis>,
}

pub(crate) const USER_COLUMNS: &str = "u.id, u.email, u.name, u.password_hash, u.is_admin, u.data_protection, u.created_at, u.email_verified_at";

impl User {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            password_hash: row.try_get("password_hash")?,
            is_admin: row.try_get::<i64, _>("is_admin")? != 0,
            data_protection: row.try_get::<i64, _>("data_protection")? != 0,
            created_at: row.try_get("created_at")?,
            email_verified_at: row.try_get("email_verified_at")?,
        })
    }

    /// Whether the owner has proved the address. Unverified accounts may only call for
    /// the campaign they joined: no roles, events or outreach.
    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    /// Whether the account may find any person, export what is held on them and erase
    /// them: instance administrators and holders of the data-protection role.
    pub fn may_handle_subject_requests(&self) -> bool {
        self.is_admin || self.data_protection
    }
}

/// Lower-cases and trims an email address so lookups do not depend on how it was typed.
pub fn canonical_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Inserts an account through `conn` (the writer pool, or a transaction); `Conflict` when
/// the email is taken. `email_verified_at` is `None` for an account made for an address
/// nobody has proved yet.
pub(crate) async fn insert_user<'c>(
    conn: impl sqlx::Executor<'c, Database = sqlx::Any>,
    email: &str,
    name: &str,
    password_hash: Option<&str>,
    is_admin: bool,
    email_verified_at: Option<Millis>,
) -> Result<User, StoreError> {
    let rows = sqlx::query(
        "INSERT INTO users (email, name, password_hash, is_admin, created_at, email_verified_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, email, name, password_hash, is_admin, data_protection, created_at, email_verified_at",
    )
    .bind(canonical_email(email))
    .bind(name.trim())
    .bind(password_hash)
    .bind(i64::from(is_admin))
    .bind(now_millis())
    .bind(email_verified_at)
    // Not `fetch_one`: on SQLite an autocommit write commits when its statement runs to
    // the end, and stopping after the first row can lose a failed commit (disk full)
    // while still handing back the new id.
    .fetch_all(conn)
    .await?;
    let row = rows.first().ok_or(StoreError::NotFound)?;
    Ok(User::from_row(row)?)
}

impl Store {
    /// Creates a verified account, for an address its creator vouches for (an admin's
    /// `barnstorm user add`, the demo, a group invite accepted from the mail it was sent
    /// to), audited as `user.create`; `Conflict` when the email is taken.
    pub async fn create_user(
        &self,
        email: &str,
        name: &str,
        password_hash: Option<&str>,
        is_admin: bool,
    ) -> Result<User, StoreError> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let user = insert_user(&mut *tx, email, name, password_hash, is_admin, Some(now)).await?;
        let subject = format!("user {}", user.id);
        let about = crate::audit::About::user(user.id);
        let action = AuditAction::UserCreate;
        crate::audit::audit_about_in(&mut tx, None, action, about, &subject, "").await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Creates an account nobody has proved the address of yet (see [`User::is_verified`]);
    /// `Conflict` when the email is taken.
    pub async fn create_unverified_user(
        &self,
        email: &str,
        name: &str,
        password_hash: Option<&str>,
    ) -> Result<User, StoreError> {
        insert_user(self.writer(), email, name, password_hash, false, None).await
    }

    /// Records that the owner of `user_id` proved the address at `now`; an account already
    /// verified keeps its first time. `NotFound` when there is no such account.
    pub async fn mark_email_verified(&self, user_id: i64, now: Millis) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2",
        )
        .bind(now)
        .bind(user_id)
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
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

    /// Replaces an account's password hash, audited as `password.change` by them.
    pub async fn set_password_hash(&self, user_id: i64, hash: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        crate::sessions::audit_user_in(&mut tx, user_id, AuditAction::PasswordChange, "").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Grants or withdraws the data-protection role.
    pub async fn set_data_protection(
        &self,
        user_id: i64,
        data_protection: bool,
    ) -> Result<(), StoreError> {
        self.set_user_flag("data_protection", user_id, data_protection)
            .await
    }

    /// Grants or withdraws instance administration.
    pub async fn set_admin(&self, user_id: i64, is_admin: bool) -> Result<(), StoreError> {
        self.set_user_flag("is_admin", user_id, is_admin).await
    }

    /// Sets one of the account's role flags (a column name fixed by the caller), audited
    /// as `user.grant` or `user.revoke` with the role's name.
    async fn set_user_flag(
        &self,
        column: &'static str,
        user_id: i64,
        value: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(&format!("UPDATE users SET {column} = $1 WHERE id = $2"))
            .bind(i64::from(value))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let action = if value {
            AuditAction::UserGrant
        } else {
            AuditAction::UserRevoke
        };
        let role = match column {
            "is_admin" => "administrator",
            _ => "data-protection officer",
        };
        let subject = format!("user {user_id}");
        let about = crate::audit::About::user(user_id);
        crate::audit::audit_about_in(&mut tx, None, action, about, &subject, role).await?;
        tx.commit().await?;
        Ok(())
    }
}
