//! The campaign event bus: a signal that something changed in a campaign ("a contact was
//! claimed", "an outcome was recorded"), so live dashboards re-read their figures. In one
//! process it is a broadcast channel; a slow listener misses signals, never blocks callers.

use tokio::sync::broadcast;

/// Something changed in a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CampaignEvent {
    /// A caller took a contact.
    Claimed {
        /// The campaign.
        campaign_id: i64,
    },
    /// A caller gave a contact back.
    Released {
        /// The campaign.
        campaign_id: i64,
    },
    /// An outcome was recorded.
    OutcomeRecorded {
        /// The campaign.
        campaign_id: i64,
    },
    /// A caller was throttled and flagged.
    CallerFlagged {
        /// The campaign.
        campaign_id: i64,
    },
    /// The campaign's settings or status changed.
    CampaignChanged {
        /// The campaign.
        campaign_id: i64,
    },
}

impl CampaignEvent {
    /// The campaign the event is about.
    pub fn campaign_id(self) -> i64 {
        match self {
            Self::Claimed { campaign_id }
            | Self::Released { campaign_id }
            | Self::OutcomeRecorded { campaign_id }
            | Self::CallerFlagged { campaign_id }
            | Self::CampaignChanged { campaign_id } => campaign_id,
        }
    }
}

/// Publishes and subscribes to campaign events.
#[derive(Clone)]
pub struct CampaignEvents {
    sender: broadcast::Sender<CampaignEvent>,
}

impl Default for CampaignEvents {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
        }
    }
}

impl CampaignEvents {
    /// Announces an event; nobody listening is fine.
    pub fn publish(&self, event: CampaignEvent) {
        let _ = self.sender.send(event);
    }

    /// A new listener for every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<CampaignEvent> {
        self.sender.subscribe()
    }
}
