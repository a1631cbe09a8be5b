//! The host form, shared by "new event" and "edit event": what it lists (groups the person
//! can post to, event types, their call campaigns) and how it is filled in again after a
//! mistake. Checking the input is `crate::event_draft`'s.

use crate::event_draft::{EventDraft, FieldErrors};
use crate::pages::layout::Layout;
use crate::{AppState, PageError};
use askama::Template;
use barnstorm_domain::event::{EventKind, Visibility};
use barnstorm_store::User;

/// A group in the form's select, indented by depth.
pub(super) struct GroupOption {
    pub slug: String,
    pub label: String,
}

/// A call campaign that a phonebank event may link to.
pub(super) struct CampaignOption {
    pub id: String,
    pub label: String,
}

/// Time zones offered first; any IANA name typed is accepted.
pub(super) const ZONES: [&str; 6] = [
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "UTC",
];

#[derive(Template)]
#[template(path = "events/form.html")]
pub(super) struct FormPage {
    pub layout: Layout,
    pub heading: String,
    pub action: String,
    pub editing: bool,
    pub draft: EventDraft,
    pub errors: FieldErrors,
    pub groups: Vec<GroupOption>,
    pub kinds: &'static [EventKind],
    pub visibilities: &'static [Visibility],
    pub zones: [&'static str; 6],
    pub campaigns: Vec<CampaignOption>,
    pub tell_attendees: bool,
    pub back: String,
}

impl FormPage {
    /// The form for `user`, listing every group (any signed-in supporter may post to any
    /// group; the group's policy decides whether it goes live at once) and the call
    /// campaigns they organise (the only ones they may link).
    pub async fn new(
        state: &AppState,
        layout: Layout,
        user: &User,
        draft: EventDraft,
        errors: FieldErrors,
    ) -> Result<Self, PageError> {
        let groups = crate::pages::tree_rows(state.store.groups().await?)
            .into_iter()
            .map(|row| GroupOption {
                slug: row.group.slug.clone(),
                label: format!("{}{}", "— ".repeat(row.depth), row.group.name),
            })
            .collect();
        let names: std::collections::HashMap<i64, String> = state
            .store
            .groups()
            .await?
            .into_iter()
            .map(|g| (g.id, g.name))
            .collect();
        let mut campaigns = Vec::new();
        for campaign in state.store.all_campaigns().await? {
            if super::campaign_link::may_link(state, user, &campaign).await? {
                let group = names.get(&campaign.group_id).cloned().unwrap_or_default();
                campaigns.push(CampaignOption {
                    id: campaign.id.to_string(),
                    label: format!("{} ({group})", campaign.settings.name),
                });
            }
        }
        if !draft.campaign_id.is_empty() && !campaigns.iter().any(|c| c.id == draft.campaign_id) {
            campaigns.push(CampaignOption {
                id: draft.campaign_id.clone(),
                label: format!("Phone bank {}", draft.campaign_id),
            });
        }
        Ok(Self {
            layout,
            heading: "Host an event".into(),
            action: "/events/new".into(),
            editing: false,
            draft,
            errors,
            groups,
            kinds: EventKind::ALL,
            visibilities: Visibility::ALL,
            zones: ZONES,
            campaigns,
            tell_attendees: true,
            back: "/my/events".into(),
        })
    }
}
