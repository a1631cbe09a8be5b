//! Groups (volunteer hubs) as a tree — national → region → branch — and who belongs to
//! each with which role. A role held on a group also applies to every group below it, so
//! a regional organiser manages the region's branches. Event approval and trusted hosts
//! are in `groups/moderation.rs`.

mod moderation;

use crate::audit::{About, AuditAction, audit_about_in};
use crate::{Millis, Store, StoreError, now_millis};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::fmt;
use std::str::FromStr;

/// The level of a group in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupKind {
    /// The whole movement.
    National,
    /// A region or nation.
    Region,
    /// A local branch or hub.
    Branch,
}

impl GroupKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::National => "national",
            Self::Region => "region",
            Self::Branch => "branch",
        }
    }

    /// The kind a new group under a group of this kind gets.
    pub fn child_kind(self) -> Self {
        match self {
            Self::National => Self::Region,
            Self::Region | Self::Branch => Self::Branch,
        }
    }
}

impl FromStr for GroupKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "national" => Ok(Self::National),
            "region" => Ok(Self::Region),
            "branch" => Ok(Self::Branch),
            other => Err(format!(
                "unknown group kind '{other}': use national, region or branch"
            )),
        }
    }
}

/// What a person may do in a group, from most to least powerful.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Receives news; no powers.
    Member,
    /// Makes calls in the group's phonebanks.
    Caller,
    /// Hosts events.
    Host,
    /// Runs the group: members, events, call campaigns, outreach.
    Organiser,
}

impl Role {
    /// Every role, most powerful first (for select boxes).
    pub const ALL: [Role; 4] = [Role::Organiser, Role::Host, Role::Caller, Role::Member];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organiser => "organiser",
            Self::Host => "host",
            Self::Caller => "caller",
            Self::Member => "member",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "organiser" | "organizer" => Ok(Self::Organiser),
            "host" => Ok(Self::Host),
            "caller" => Ok(Self::Caller),
            "member" => Ok(Self::Member),
            other => Err(format!(
                "unknown role '{other}': use organiser, host, caller or member"
            )),
        }
    }
}

/// A group (volunteer hub).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Stable id.
    pub id: i64,
    /// The group above this one, if any.
    pub parent_id: Option<i64>,
    /// URL name, unique.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Level in the tree.
    pub kind: GroupKind,
    /// Free text shown on the group page.
    pub description: String,
    /// When it was made.
    pub created_at: Millis,
}

const GROUP_COLUMNS: &str =
    "g.id, g.parent_id, g.slug, g.name, g.kind, g.description, g.created_at";

impl Group {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let kind: String = row.try_get("kind")?;
        Ok(Self {
            id: row.try_get("id")?,
            parent_id: row.try_get("parent_id")?,
            slug: row.try_get("slug")?,
            name: row.try_get("name")?,
            kind: kind
                .parse()
                .map_err(|e: String| sqlx::Error::Decode(e.into()))?,
            description: row.try_get("description")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

/// A person in a group with their role there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The account.
    pub user_id: i64,
    /// Their name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// Their role in this group.
    pub role: Role,
    /// When they joined.
    pub since: Millis,
    /// Their events go live without approval here and in the groups below.
    pub trusted_host: bool,
}

fn parse_role(row: &AnyRow, column: &str) -> Result<Role, sqlx::Error> {
    let role: String = row.try_get(column)?;
    role.parse()
        .map_err(|e: String| sqlx::Error::Decode(e.into()))
}

/// Turns a name into a URL slug: lower-case ASCII letters, digits and dashes.
pub fn slugify(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

impl Store {
    /// Creates a group. The slug is derived from the name, with a number added when taken.
    /// Its organisers approve events from people they have not trusted
    /// ([`EventApproval::Approval`](barnstorm_domain::event::EventApproval)) until they
    /// choose otherwise. Audited as `group.create` by `actor`.
    pub async fn create_group(
        &self,
        parent_id: Option<i64>,
        name: &str,
        kind: GroupKind,
        description: &str,
        actor: Option<i64>,
    ) -> Result<Group, StoreError> {
        let base = match slugify(name) {
            s if s.is_empty() => "group".to_owned(),
            s => s,
        };
        let mut tx = self.begin_write().await?;
        let mut slug = base.clone();
        for n in 2.. {
            let exists = sqlx::query("SELECT 1 FROM groups WHERE slug = $1")
                .bind(&slug)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                break;
            }
            slug = format!("{base}-{n}");
        }
        let row = sqlx::query(
            "INSERT INTO groups (parent_id, slug, name, kind, description, created_at, event_approval)
             VALUES ($1, $2, $3, $4, $5, $6, 'approval')
             RETURNING id, parent_id, slug, name, kind, description, created_at",
        )
        .bind(parent_id)
        .bind(&slug)
        .bind(name.trim())
        .bind(kind.as_str())
        .bind(description.trim())
        .bind(now_millis())
        .fetch_one(&mut *tx)
        .await?;
        let group = Group::from_row(&row)?;
        let subject = format!("group {}", group.id);
        let action = AuditAction::GroupCreate;
        audit_about_in(
            &mut tx,
            actor,
            action,
            About::group(group.id),
            &subject,
            &group.name,
        )
        .await?;
        tx.commit().await?;
        Ok(group)
    }

    /// A group by its URL name.
    pub async fn group_by_slug(&self, slug: &str) -> Result<Option<Group>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM groups g WHERE g.slug = $1"
        ))
        .bind(slug)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(Group::from_row).transpose()?)
    }

    /// A group by id.
    pub async fn group_by_id(&self, id: i64) -> Result<Option<Group>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM groups g WHERE g.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(Group::from_row).transpose()?)
    }

    /// Every group, by name (the caller arranges them into a tree).
    pub async fn groups(&self) -> Result<Vec<Group>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM groups g ORDER BY g.name"
        ))
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(Group::from_row).collect::<Result<_, _>>()?)
    }

    /// The groups directly below `group_id`, by name.
    pub async fn child_groups(&self, group_id: i64) -> Result<Vec<Group>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM groups g WHERE g.parent_id = $1 ORDER BY g.name"
        ))
        .bind(group_id)
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(Group::from_row).collect::<Result<_, _>>()?)
    }

    /// The chain of groups above `group_id`, the top first, not including it.
    pub async fn ancestor_groups(&self, group_id: i64) -> Result<Vec<Group>, StoreError> {
        let rows = sqlx::query(&format!(
            "WITH RECURSIVE up(id, depth) AS (
                 SELECT parent_id, 1 FROM groups WHERE id = $1 AND parent_id IS NOT NULL
                 UNION ALL
                 SELECT g.parent_id, up.depth + 1 FROM groups g JOIN up ON g.id = up.id
                 WHERE g.parent_id IS NOT NULL AND up.depth < 32
             )
             SELECT {GROUP_COLUMNS} FROM groups g JOIN up ON g.id = up.id ORDER BY up.depth DESC"
        ))
        .bind(group_id)
        .fetch_all(self.reader())
        .await?;
        Ok(rows.iter().map(Group::from_row).collect::<Result<_, _>>()?)
    }

    /// The strongest role `user_id` holds on `group_id` or any group above it; none for an
    /// account whose address is not verified, whatever its memberships.
    pub async fn effective_role(
        &self,
        user_id: i64,
        group_id: i64,
    ) -> Result<Option<Role>, StoreError> {
        let rows = sqlx::query(
            "WITH RECURSIVE chain(id, depth) AS (
                 SELECT id, 0 FROM groups WHERE id = $1
                 UNION ALL
                 SELECT g.parent_id, chain.depth + 1 FROM groups g JOIN chain ON g.id = chain.id
                 WHERE g.parent_id IS NOT NULL AND chain.depth < 32
             )
             SELECT m.role FROM memberships m JOIN chain ON m.group_id = chain.id
             JOIN users u ON u.id = m.user_id AND u.email_verified_at IS NOT NULL
             WHERE m.user_id = $2",
        )
        .bind(group_id)
        .bind(user_id)
        .fetch_all(self.reader())
        .await?;
        let roles = rows
            .iter()
            .map(|r| parse_role(r, "role"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(roles.into_iter().max())
    }

    /// The members of one group (not of the groups below it), organisers first.
    pub async fn members(&self, group_id: i64) -> Result<Vec<Member>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id AS user_id, u.name, u.email, m.role, m.created_at AS since, m.trusted_host
             FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.group_id = $1 ORDER BY u.name, u.id",
        )
        .bind(group_id)
        .fetch_all(self.reader())
        .await?;
        let mut members = rows
            .iter()
            .map(|row| {
                Ok(Member {
                    user_id: row.try_get("user_id")?,
                    name: row.try_get("name")?,
                    email: row.try_get("email")?,
                    role: parse_role(row, "role")?,
                    since: row.try_get("since")?,
                    trusted_host: row.try_get::<i64, _>("trusted_host")? != 0,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        members.sort_by_key(|m| std::cmp::Reverse(m.role));
        Ok(members)
    }

    /// Adds `user_id` to a group or changes their role there, audited as done by `actor`:
    /// `membership.join` when they joined themselves, `membership.role` otherwise.
    pub async fn set_membership(
        &self,
        group_id: i64,
        user_id: i64,
        role: Role,
        actor: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO memberships (group_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (group_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(group_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        let action = if actor == Some(user_id) {
            AuditAction::MembershipJoin
        } else {
            AuditAction::MembershipRole
        };
        let about = About::group(group_id).and_user(user_id);
        let subject = format!("user {user_id}");
        let detail = format!("group {group_id} as {role}");
        audit_about_in(&mut tx, actor, action, about, &subject, &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes `user_id` from a group, audited as `membership.remove` by `actor`;
    /// `NotFound` if they were not in it.
    pub async fn remove_membership(
        &self,
        group_id: i64,
        user_id: i64,
        actor: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM memberships WHERE group_id = $1 AND user_id = $2")
            .bind(group_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let about = About::group(group_id).and_user(user_id);
        let subject = format!("user {user_id}");
        let detail = format!("group {group_id}");
        let action = AuditAction::MembershipRemove;
        audit_about_in(&mut tx, actor, action, about, &subject, &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The groups `user_id` belongs to directly, with their role in each.
    pub async fn memberships_of(&self, user_id: i64) -> Result<Vec<(Group, Role)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS}, m.role FROM memberships m JOIN groups g ON g.id = m.group_id
             WHERE m.user_id = $1 ORDER BY g.name"
        ))
        .bind(user_id)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(|row| Ok((Group::from_row(row)?, parse_role(row, "role")?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_readable_urls() {
        assert_eq!(slugify("North West"), "north-west");
        assert_eq!(slugify("  Leeds & Bradford  "), "leeds-bradford");
        assert_eq!(slugify("Ynys Môn"), "ynys-m-n");
        assert_eq!(slugify("!!!"), "");
    }

    #[test]
    fn organiser_outranks_every_other_role() {
        assert!(
            Role::Organiser > Role::Host
                && Role::Host > Role::Caller
                && Role::Caller > Role::Member
        );
        assert_eq!("organizer".parse(), Ok(Role::Organiser));
        assert!("boss".parse::<Role>().is_err());
    }
}
