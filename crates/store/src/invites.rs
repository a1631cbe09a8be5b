//! Invitations to join a group by email. An invite is created together with the mail that
//! carries its link, in one transaction, so an organiser never sees "sent" for a mail that
//! was not queued. Accepting is single-use and adds the membership in the same transaction.

use crate::audit::{About, AuditAction, audit_about_in};
use crate::groups::Role;
use crate::outbox::{NewMail, insert_mail};
use crate::{Millis, Store, StoreError, now_millis};
use sqlx::Row;
use sqlx::any::AnyRow;

/// Where an invite stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteState {
    /// Can be accepted.
    Open,
    /// Already used.
    Accepted,
    /// Withdrawn by an organiser.
    Revoked,
    /// Past its expiry.
    Expired,
}

/// An invitation about to be made.
#[derive(Debug, Clone, Copy)]
pub struct NewInvite<'a> {
    /// The group it joins.
    pub group_id: i64,
    /// Who is invited.
    pub email: &'a str,
    /// The role they get.
    pub role: Role,
    /// Hash of the secret in the link.
    pub token_hash: &'a str,
    /// The organiser who sent it.
    pub invited_by: i64,
    /// When the link stops working.
    pub expires_at: Millis,
}

/// An invitation to a group.
#[derive(Debug, Clone)]
pub struct Invite {
    /// Stable id.
    pub id: i64,
    /// The group it joins.
    pub group_id: i64,
    /// That group's name.
    pub group_name: String,
    /// That group's URL name.
    pub group_slug: String,
    /// Who was invited.
    pub email: String,
    /// The role they get.
    pub role: Role,
    /// When it was made.
    pub created_at: Millis,
    /// When it stops working.
    pub expires_at: Millis,
    /// When it was used, if it was.
    pub accepted_at: Option<Millis>,
    /// When it was withdrawn, if it was.
    pub revoked_at: Option<Millis>,
}

impl Invite {
    /// Where the invite stands at `now`.
    pub fn state(&self, now: Millis) -> InviteState {
        if self.accepted_at.is_some() {
            InviteState::Accepted
        } else if self.revoked_at.is_some() {
            InviteState::Revoked
        } else if self.expires_at <= now {
            InviteState::Expired
        } else {
            InviteState::Open
        }
    }

    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let role: String = row.try_get("role")?;
        Ok(Self {
            id: row.try_get("id")?,
            group_id: row.try_get("group_id")?,
            group_name: row.try_get("group_name")?,
            group_slug: row.try_get("group_slug")?,
            email: row.try_get("email")?,
            role: role
                .parse()
                .map_err(|e: String| sqlx::Error::Decode(e.into()))?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            accepted_at: row.try_get("accepted_at")?,
            revoked_at: row.try_get("revoked_at")?,
        })
    }
}

const INVITE_SELECT: &str =
    "SELECT i.id, i.group_id, g.name AS group_name, g.slug AS group_slug, i.email, i.role,
        i.created_at, i.expires_at, i.accepted_at, i.revoked_at
     FROM group_invites i JOIN groups g ON g.id = i.group_id";

impl Store {
    /// Creates an invite and queues the mail that carries it, atomically, audited as
    /// `invite.create` by the inviter.
    pub async fn create_invite(
        &self,
        invite: &NewInvite<'_>,
        mail: &NewMail,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO group_invites (group_id, email, role, token_hash, invited_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(invite.group_id)
        .bind(crate::users::canonical_email(invite.email))
        .bind(invite.role.as_str())
        .bind(invite.token_hash)
        .bind(invite.invited_by)
        .bind(now_millis())
        .bind(invite.expires_at)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        insert_mail(&mut tx, mail).await?;
        let detail = format!("group {} as {}", invite.group_id, invite.role);
        let about = About::group(invite.group_id);
        let actor = Some(invite.invited_by);
        let subject = format!("invite {id}");
        audit_about_in(
            &mut tx,
            actor,
            AuditAction::InviteCreate,
            about,
            &subject,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The invite with this token hash, whatever its state.
    pub async fn invite_by_token(&self, token_hash: &str) -> Result<Option<Invite>, StoreError> {
        let row = sqlx::query(&format!("{INVITE_SELECT} WHERE i.token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(self.reader())
            .await?;
        Ok(row.as_ref().map(Invite::from_row).transpose()?)
    }

    /// Invites of a group that are neither used nor withdrawn, newest first.
    pub async fn pending_invites(&self, group_id: i64) -> Result<Vec<Invite>, StoreError> {
        let rows = sqlx::query(&format!(
            "{INVITE_SELECT} WHERE i.group_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL ORDER BY i.id DESC"
        ))
        .bind(group_id)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(Invite::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Uses an open invite for `user_id`: marks it accepted and adds the membership
    /// (keeping a stronger role the person already had). `Conflict` when the invite is no
    /// longer open. Audited as `invite.accept` by them, with `detail` (such as "new
    /// account").
    pub async fn accept_invite(
        &self,
        token_hash: &str,
        user_id: i64,
        detail: &str,
    ) -> Result<Invite, StoreError> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE group_invites SET accepted_at = $1, accepted_by = $2
             WHERE token_hash = $3 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(user_id)
        .bind(token_hash)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict("the invite is no longer open".into()));
        }
        let row = sqlx::query(&format!("{INVITE_SELECT} WHERE i.token_hash = $1"))
            .bind(token_hash)
            .fetch_one(&mut *tx)
            .await?;
        let invite = Invite::from_row(&row)?;
        let current: Option<String> =
            sqlx::query("SELECT role FROM memberships WHERE group_id = $1 AND user_id = $2")
                .bind(invite.group_id)
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("role"))
                .transpose()?;
        let current: Option<Role> = current.and_then(|r| r.parse().ok());
        if current.is_none_or(|r| r < invite.role) {
            sqlx::query(
                "INSERT INTO memberships (group_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (group_id, user_id) DO UPDATE SET role = excluded.role",
            )
            .bind(invite.group_id)
            .bind(user_id)
            .bind(invite.role.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let about = About::group(invite.group_id).and_user(user_id);
        let subject = format!("invite {}", invite.id);
        let action = AuditAction::InviteAccept;
        audit_about_in(&mut tx, Some(user_id), action, about, &subject, detail).await?;
        tx.commit().await?;
        Ok(invite)
    }

    /// Withdraws an open invite of `group_id`, audited as `invite.revoke` by `actor`;
    /// `NotFound` if there is none with that id.
    pub async fn revoke_invite(
        &self,
        group_id: i64,
        invite_id: i64,
        actor: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE group_invites SET revoked_at = $1
             WHERE id = $2 AND group_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now_millis())
        .bind(invite_id)
        .bind(group_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let subject = format!("invite {invite_id}");
        let action = AuditAction::InviteRevoke;
        audit_about_in(&mut tx, actor, action, About::group(group_id), &subject, "").await?;
        tx.commit().await?;
        Ok(())
    }
}
