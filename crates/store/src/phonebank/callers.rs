//! Who calls a campaign: invite links (expiring, revocable, limited in uses and in new
//! accounts per hour) that turn a volunteer into a caller, the list of callers, and flags
//! raised on callers who claim contacts faster than anyone can call them. Invite codes
//! are stored as SHA-256 only: the code itself exists in the link the organiser was given.

use crate::audit::{About, AuditAction, audit_about_in, audit_campaign_in};
use crate::secrets::hash_secret;
use crate::sessions::insert_api_token;
use crate::users::insert_user;
use crate::{Millis, Store, StoreError, User, now_millis};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// An invite link to call a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignInvite {
    /// Stable id.
    pub id: i64,
    /// The campaign it joins.
    pub campaign_id: i64,
    /// SHA-256 (hex) of the code in the link; the code itself is not kept.
    pub code_hash: String,
    /// When it stops working.
    pub expires_at: Millis,
    /// How many people may use it; `None` for no limit.
    pub max_uses: Option<i64>,
    /// How many have.
    pub uses: i64,
    /// At most this many accounts are made through the link in any hour; `None` for no
    /// cap.
    pub max_new_accounts_per_hour: Option<i64>,
    /// When it was withdrawn.
    pub revoked_at: Option<Millis>,
    /// When it was made.
    pub created_at: Millis,
}

impl CampaignInvite {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            campaign_id: row.try_get("campaign_id")?,
            code_hash: row.try_get("code")?,
            expires_at: row.try_get("expires_at")?,
            max_uses: row.try_get("max_uses")?,
            uses: row.try_get("uses")?,
            max_new_accounts_per_hour: row.try_get("max_new_accounts_per_hour")?,
            revoked_at: row.try_get("revoked_at")?,
            created_at: row.try_get("created_at")?,
        })
    }

    /// Why the link cannot be used at `now`, if it cannot.
    pub fn unusable_because(&self, now: Millis) -> Option<&'static str> {
        if self.revoked_at.is_some() {
            Some("this invite link was withdrawn")
        } else if self.expires_at <= now {
            Some("this invite link has expired")
        } else if self.max_uses.is_some_and(|max| self.uses >= max) {
            Some("this invite link has been used as often as allowed")
        } else {
            None
        }
    }
}

/// A caller flagged for claiming contacts too fast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlaggedCaller {
    /// The account.
    pub user_id: i64,
    /// Their name.
    pub name: String,
    /// When.
    pub flagged_at: Millis,
    /// Why.
    pub reason: String,
    /// Whether they are suspended now.
    pub suspended: bool,
}

const INVITE_COLUMNS: &str = "id, campaign_id, code, expires_at, max_uses, uses, \
     max_new_accounts_per_hour, revoked_at, created_at";

/// The window of [`CampaignInvite::max_new_accounts_per_hour`].
const HOUR_MS: Millis = 3_600_000;

/// What accepting an invite as a new volunteer came to.
// Returned once per acceptance and matched at once, never stored: boxing the account
// would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InviteAcceptance {
    /// The new account, a caller of the invite's campaign, with an API token.
    Accepted {
        /// The account made.
        user: User,
        /// The invite, with this use counted.
        invite: CampaignInvite,
    },
    /// The email already has an account: nothing was made.
    AccountExists,
    /// The link was used up, withdrawn or expired by the time it was used: nothing was
    /// made.
    InviteUnusable,
    /// The link made as many accounts in the last hour as its organiser allowed: nothing
    /// was made. Existing accounts can still join with it.
    HourlyAccountCapReached,
}

/// Counts one use of a usable invite (`$1` code hash, `$2` now) and returns it; no row
/// when the link is withdrawn, expired or used up. The update locks the invite's row
/// until the transaction ends, so uses of one link are counted one at a time.
static USE_INVITE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "UPDATE campaign_invites SET uses = uses + 1
         WHERE code = $1 AND code_hashed = 1 AND revoked_at IS NULL AND expires_at > $2 AND (max_uses IS NULL OR uses < max_uses)
         RETURNING {INVITE_COLUMNS}"
    )
});

/// Counts one use of the invite `code` inside `tx`, makes `user_id` a caller of its
/// campaign and writes the audit entry; `None`, with nothing written, when the link is
/// withdrawn, expired or used up.
async fn use_invite_in(
    tx: &mut Transaction<'static, Any>,
    code: &str,
    user_id: i64,
    now: Millis,
) -> Result<Option<CampaignInvite>, StoreError> {
    let Some(row) = sqlx::query(&USE_INVITE)
        .bind(hash_secret(code))
        .bind(now)
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(None);
    };
    let invite = CampaignInvite::from_row(&row)?;
    sqlx::query(INSERT_CALLER)
        .bind(invite.campaign_id)
        .bind(user_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    let detail = format!("invite {}", invite.id);
    let about = (invite.campaign_id, Some(user_id));
    audit_campaign_in(tx, Some(user_id), AuditAction::CampaignJoin, about, &detail).await?;
    Ok(Some(invite))
}

/// Makes someone a caller of a campaign; nothing changes if they already are.
const INSERT_CALLER: &str =
    "INSERT INTO campaign_callers (campaign_id, user_id, joined_at) VALUES ($1, $2, $3)
     ON CONFLICT (campaign_id, user_id) DO NOTHING";

impl Store {
    /// Makes an invite link for `code`, storing only the code's hash, audited as
    /// `campaign_invite.create` by `created_by`. `max_uses` and
    /// `max_new_accounts_per_hour` are `None` for no limit.
    pub async fn create_campaign_invite(
        &self,
        campaign_id: i64,
        code: &str,
        created_by: i64,
        expires_at: Millis,
        max_uses: Option<i64>,
        max_new_accounts_per_hour: Option<i64>,
    ) -> Result<CampaignInvite, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO campaign_invites (campaign_id, code, code_hashed, created_by, created_at, expires_at, max_uses, max_new_accounts_per_hour)
             VALUES ($1, $2, 1, $3, $4, $5, $6, $7) RETURNING {INVITE_COLUMNS}"
        ))
        .bind(campaign_id)
        .bind(hash_secret(code))
        .bind(created_by)
        .bind(now_millis())
        .bind(expires_at)
        .bind(max_uses)
        .bind(max_new_accounts_per_hour)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)?;
        let invite = CampaignInvite::from_row(&row)?;
        let detail = format!("invite {}", invite.id);
        let action = AuditAction::CampaignInviteCreate;
        audit_campaign_in(
            &mut tx,
            Some(created_by),
            action,
            (campaign_id, None),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(invite)
    }

    /// The invite with this code, in whatever state.
    pub async fn campaign_invite(&self, code: &str) -> Result<Option<CampaignInvite>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {INVITE_COLUMNS} FROM campaign_invites WHERE code = $1 AND code_hashed = 1"
        ))
        .bind(hash_secret(code))
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(CampaignInvite::from_row).transpose()?)
    }

    /// A campaign's invite links, newest first.
    pub async fn campaign_invites(
        &self,
        campaign_id: i64,
    ) -> Result<Vec<CampaignInvite>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {INVITE_COLUMNS} FROM campaign_invites WHERE campaign_id = $1 ORDER BY id DESC"
        ))
        .bind(campaign_id)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(CampaignInvite::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Uses an invite link for `user_id`: counts the use, makes them a caller and writes
    /// the audit entry, in one transaction. `Conflict` when the link cannot be used
    /// (expired, withdrawn, used up).
    pub async fn join_campaign_by_invite(
        &self,
        code: &str,
        user_id: i64,
        now: Millis,
    ) -> Result<CampaignInvite, StoreError> {
        let mut tx = self.begin_write().await?;
        let invite = use_invite_in(&mut tx, code, user_id, now)
            .await?
            .ok_or_else(|| StoreError::Conflict("the invite link cannot be used".into()))?;
        tx.commit().await?;
        Ok(invite)
    }

    /// A new volunteer accepts an invite: in one transaction, counts the use, makes the
    /// account (no password, address not verified), makes it a caller of the campaign,
    /// stores its API token when `api_token` gives one (hash, label) and writes the audit
    /// entries. Either all of it happens or nothing: two people racing for an invite's
    /// last use never leave an account behind without a campaign, and the link's cap on
    /// accounts per hour holds however many join at once.
    pub async fn accept_campaign_invite(
        &self,
        code: &str,
        email: &str,
        name: &str,
        api_token: Option<(&str, &str)>,
        now: Millis,
    ) -> Result<InviteAcceptance, StoreError> {
        let mut tx = self.begin_write().await?;
        let user = match insert_user(&mut *tx, email, name, None, false, None).await {
            Ok(user) => user,
            Err(StoreError::Conflict(_)) => return Ok(InviteAcceptance::AccountExists),
            Err(other) => return Err(other),
        };
        let actor = Some(user.id);
        let account = format!("user {}", user.id);
        let joined = "joined a phone bank by invite link";
        let about = About::user(user.id);
        audit_about_in(
            &mut tx,
            actor,
            AuditAction::UserCreate,
            about,
            &account,
            joined,
        )
        .await?;
        let Some(invite) = use_invite_in(&mut tx, code, user.id, now).await? else {
            return Ok(InviteAcceptance::InviteUnusable);
        };
        if let Some(cap) = invite.max_new_accounts_per_hour {
            // The use just counted holds the invite's row lock, so this count sees every
            // account made through the link by transactions that finished before it.
            let row = sqlx::query(
                "SELECT COUNT(*) AS n FROM campaign_invite_signups WHERE invite_id = $1 AND created_at > $2",
            )
            .bind(invite.id)
            .bind(now - HOUR_MS)
            .fetch_one(&mut *tx)
            .await?;
            if row.try_get::<i64, _>("n")? >= cap {
                return Ok(InviteAcceptance::HourlyAccountCapReached);
            }
        }
        sqlx::query(
            "INSERT INTO campaign_invite_signups (invite_id, user_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(invite.id)
        .bind(user.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if let Some((token_hash, label)) = api_token {
            insert_api_token(&mut *tx, user.id, token_hash, label).await?;
            let about = About::user(user.id);
            audit_about_in(
                &mut tx,
                actor,
                AuditAction::ApiTokenCreate,
                about,
                &account,
                label,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(InviteAcceptance::Accepted { user, invite })
    }

    /// Replaces any invite code still stored as plain text (links made before codes were
    /// hashed) with its SHA-256, so old links keep working and no code stays readable.
    /// Runs after every migration; returns how many codes it hashed.
    pub(crate) async fn hash_legacy_invite_codes(&self) -> Result<u64, StoreError> {
        let rows = sqlx::query("SELECT id, code FROM campaign_invites WHERE code_hashed = 0")
            .fetch_all(self.writer())
            .await?;
        let mut hashed = 0;
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let code: String = row.try_get("code")?;
            hashed += sqlx::query(
                "UPDATE campaign_invites SET code = $1, code_hashed = 1 WHERE id = $2 AND code_hashed = 0",
            )
            .bind(hash_secret(&code))
            .bind(id)
            .execute(self.writer())
            .await?
            .rows_affected();
        }
        Ok(hashed)
    }

    /// Stores an invite link the way links were stored before codes were hashed, so tests
    /// can check that [`Store::migrate`] hashes it and it keeps working.
    #[cfg(feature = "testing")]
    pub async fn insert_plain_campaign_invite(
        &self,
        campaign_id: i64,
        code: &str,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO campaign_invites (campaign_id, code, code_hashed, created_at, expires_at)
             VALUES ($1, $2, 0, $3, $4)",
        )
        .bind(campaign_id)
        .bind(code)
        .bind(now_millis())
        .bind(expires_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Withdraws an invite link of `campaign_id`, audited as `campaign_invite.revoke` by
    /// `actor`.
    pub async fn revoke_campaign_invite(
        &self,
        campaign_id: i64,
        invite_id: i64,
        actor: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE campaign_invites SET revoked_at = $1 WHERE id = $2 AND campaign_id = $3 AND revoked_at IS NULL")
            .bind(now_millis())
            .bind(invite_id)
            .bind(campaign_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let detail = format!("invite {invite_id}");
        let action = AuditAction::CampaignInviteRevoke;
        audit_campaign_in(&mut tx, actor, action, (campaign_id, None), &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether `user_id` joined the campaign as a caller (and was not removed).
    pub async fn is_campaign_caller(
        &self,
        campaign_id: i64,
        user_id: i64,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM campaign_callers WHERE campaign_id = $1 AND user_id = $2 AND removed_at IS NULL",
        )
        .bind(campaign_id)
        .bind(user_id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.is_some())
    }

    /// The campaigns `user_id` joined as a caller.
    pub async fn campaigns_called_by(
        &self,
        user_id: i64,
    ) -> Result<std::collections::HashSet<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT campaign_id FROM campaign_callers WHERE user_id = $1 AND removed_at IS NULL",
        )
        .bind(user_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| Ok(row.try_get("campaign_id")?))
            .collect()
    }

    /// Flags a caller for organisers; true when the flag is new.
    pub async fn flag_caller(
        &self,
        campaign_id: i64,
        user_id: i64,
        reason: &str,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO campaign_callers (campaign_id, user_id, joined_at, flagged_at, flag_reason) VALUES ($1, $2, $3, $3, $4)
             ON CONFLICT (campaign_id, user_id) DO UPDATE SET flagged_at = excluded.flagged_at, flag_reason = excluded.flag_reason
             WHERE campaign_callers.flagged_at IS NULL",
        )
        .bind(campaign_id)
        .bind(user_id)
        .bind(now)
        .bind(reason)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Callers flagged on a campaign, newest first.
    pub async fn flagged_callers(
        &self,
        campaign_id: i64,
    ) -> Result<Vec<FlaggedCaller>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.user_id, u.name, c.flagged_at, c.flag_reason, c.suspended_at FROM campaign_callers c JOIN users u ON u.id = c.user_id
             WHERE c.campaign_id = $1 AND c.flagged_at IS NOT NULL ORDER BY c.flagged_at DESC",
        )
        .bind(campaign_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(FlaggedCaller {
                    user_id: row.try_get("user_id")?,
                    name: row.try_get("name")?,
                    flagged_at: row.try_get("flagged_at")?,
                    reason: row
                        .try_get::<Option<String>, _>("flag_reason")?
                        .unwrap_or_default(),
                    suspended: row.try_get::<Option<i64>, _>("suspended_at")?.is_some(),
                })
            })
            .collect()
    }

    /// Makes `user_id` a caller of a campaign (nothing changes if they already are).
    pub async fn add_campaign_caller(
        &self,
        campaign_id: i64,
        user_id: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(INSERT_CALLER)
            .bind(campaign_id)
            .bind(user_id)
            .bind(now_millis())
            .execute(self.writer())
            .await?;
        Ok(())
    }
}
