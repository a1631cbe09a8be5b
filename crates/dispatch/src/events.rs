//! The campaign event bus: a signal that something changed in a campaign ("a contact was
//! claimed", "an outcome was recorded"), so live dashboards re-read their figures. In one
//! process it is a broadcast channel; a slow listener misses signals, never blocks callers.
//! On PostgreSQL, [`CampaignEvents::connect_postgres`] also relays events between nodes
//! (see `relay.rs`); it never touches SQL itself.

use barnstorm_store::Store;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

/// Something changed in a campaign.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
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
    /// Events from other nodes may have been lost (the link to PostgreSQL came back):
    /// every campaign should re-read its figures.
    Resync,
}

impl CampaignEvent {
    /// The campaign the event is about; `None` for [`CampaignEvent::Resync`].
    pub fn campaign_id(self) -> Option<i64> {
        match self {
            Self::Claimed { campaign_id }
            | Self::Released { campaign_id }
            | Self::OutcomeRecorded { campaign_id }
            | Self::CallerFlagged { campaign_id }
            | Self::CampaignChanged { campaign_id } => Some(campaign_id),
            Self::Resync => None,
        }
    }

    /// Whether a view of `campaign_id` should re-read after this event.
    pub fn concerns(self, campaign_id: i64) -> bool {
        self.campaign_id().is_none_or(|id| id == campaign_id)
    }
}

/// Publishes and subscribes to campaign events.
#[derive(Clone)]
pub struct CampaignEvents {
    sender: broadcast::Sender<CampaignEvent>,
    /// Events to forward to the other nodes, when there are any.
    outgoing: Option<mpsc::Sender<CampaignEvent>>,
}

impl Default for CampaignEvents {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
            outgoing: None,
        }
    }
}

impl CampaignEvents {
    /// The bus for `store`: in-process on SQLite; on PostgreSQL also relayed to and from
    /// every other node through `LISTEN`/`NOTIFY`, by tasks that stop when `shutdown`
    /// turns true. The handles are those tasks (none on SQLite).
    pub fn connect_postgres(
        store: &Store,
        shutdown: watch::Receiver<bool>,
    ) -> (Self, Vec<JoinHandle<()>>) {
        let Some(listener) = store.campaign_event_listener() else {
            return (Self::default(), Vec::new());
        };
        let (outgoing_tx, outgoing_rx) = mpsc::channel(crate::relay::OUTGOING_CAPACITY);
        let events = Self {
            outgoing: Some(outgoing_tx),
            ..Self::default()
        };
        let node = crate::relay::NodeId::random();
        let tasks = vec![
            tokio::spawn(crate::relay::send_to_other_nodes(
                store.clone(),
                node.clone(),
                outgoing_rx,
                shutdown.clone(),
            )),
            tokio::spawn(crate::relay::receive_from_other_nodes(
                listener,
                node,
                events.sender.clone(),
                shutdown,
            )),
        ];
        (events, tasks)
    }

    /// Announces an event here and, on PostgreSQL, to the other nodes; nobody listening
    /// is fine, and a backlog towards the other nodes drops signals rather than wait.
    pub fn publish(&self, event: CampaignEvent) {
        let _ = self.sender.send(event);
        if let Some(outgoing) = &self.outgoing {
            let _ = outgoing.try_send(event);
        }
    }

    /// Announces an event and, when this bus relays nothing to other nodes (a command
    /// run beside the servers rather than a server), sends it to them directly through
    /// PostgreSQL before returning. A failed send is logged: the servers' views are
    /// only stale until their next refresh.
    pub async fn publish_everywhere(&self, store: &barnstorm_store::Store, event: CampaignEvent) {
        self.publish(event);
        if self.outgoing.is_some() {
            return;
        }
        let node = crate::relay::NodeId::random();
        for payload in crate::relay::payloads(&node, &std::collections::BTreeSet::from([event])) {
            if let Err(error) = store.notify_campaign_event(&payload).await {
                tracing::warn!(%error, "could not tell the servers a campaign changed");
            }
        }
    }

    /// A new listener for every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<CampaignEvent> {
        self.sender.subscribe()
    }
}
