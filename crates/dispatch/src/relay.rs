//! Relays campaign events between nodes sharing one PostgreSQL. Outgoing events are folded
//! (duplicates within a short window become one) and sent as one JSON notification naming
//! the sending node; incoming notifications from other nodes go onto the local bus only,
//! so nothing received is ever sent again (no echo loops). Transport lives in the store.

use crate::events::CampaignEvent;
use barnstorm_store::{MAX_PAYLOAD_BYTES, Notification, NotificationListener, Store};
use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};

/// Events waiting to be sent to other nodes before new ones are dropped.
pub(crate) const OUTGOING_CAPACITY: usize = 4096;
/// Events arriving within this window after the first are sent in one notification:
/// dashboards debounce anyway, and it keeps one notification per node per window.
const FOLD_WINDOW: Duration = Duration::from_millis(100);
/// At most this many events are drained per window.
const MAX_FOLDED: usize = 1024;
/// Events per notification, well under PostgreSQL's payload limit.
const EVENTS_PER_PAYLOAD: usize = 64;
/// Waits between attempts to reach PostgreSQL again: doubling from the first to the last.
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Tells this node's notifications apart from the others'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeId(String);

impl NodeId {
    /// A fresh id, unique per process start.
    pub(crate) fn random() -> Self {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        hasher.write_i64(barnstorm_store::now_millis());
        Self(format!("{:016x}", hasher.finish()))
    }
}

/// One notification: who sent it and what happened.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Envelope {
    node: String,
    events: Vec<CampaignEvent>,
}

/// The notifications carrying `events` from `node`, each under the payload limit.
pub(crate) fn payloads(node: &NodeId, events: &BTreeSet<CampaignEvent>) -> Vec<String> {
    let events: Vec<CampaignEvent> = events.iter().copied().collect();
    events
        .chunks(EVENTS_PER_PAYLOAD)
        .filter_map(|chunk| {
            serde_json::to_string(&Envelope {
                node: node.0.clone(),
                events: chunk.to_vec(),
            })
            .ok()
            .filter(|p| p.len() < MAX_PAYLOAD_BYTES)
        })
        .collect()
}

/// Sends this node's events to the others until `shutdown`. A failed send is logged and
/// dropped: the receivers resynchronise when their own connection comes back.
pub(crate) async fn send_to_other_nodes(
    store: Store,
    node: NodeId,
    mut outgoing: mpsc::Receiver<CampaignEvent>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let first = tokio::select! {
            event = outgoing.recv() => event,
            _ = shutdown.changed() => None,
        };
        let Some(first) = first else { return };
        tokio::time::sleep(FOLD_WINDOW).await;
        let mut window = BTreeSet::from([first]);
        while window.len() < MAX_FOLDED {
            match outgoing.try_recv() {
                // A resync is local news only: the other nodes have their own connection.
                Ok(CampaignEvent::Resync) => {}
                Ok(event) => {
                    window.insert(event);
                }
                Err(_) => break,
            }
        }
        window.remove(&CampaignEvent::Resync);
        for payload in payloads(&node, &window) {
            if let Err(error) = store.notify_campaign_event(&payload).await {
                tracing::warn!(%error, "could not send campaign events to the other nodes");
                break;
            }
        }
    }
}

/// Puts the other nodes' events on this node's bus until `shutdown`, and a
/// [`CampaignEvent::Resync`] each time the listener (re)connects.
pub(crate) async fn receive_from_other_nodes(
    mut listener: NotificationListener,
    node: NodeId,
    local: broadcast::Sender<CampaignEvent>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut retry = RETRY_FIRST;
    let mut was_connected = false;
    loop {
        let heard = tokio::select! {
            heard = listener.next() => heard,
            _ = shutdown.changed() => return,
        };
        match heard {
            Ok(Notification::Payload(payload)) => {
                retry = RETRY_FIRST;
                for event in events_from_others(&node, &payload) {
                    let _ = local.send(event);
                }
            }
            Ok(Notification::Connected) => {
                retry = RETRY_FIRST;
                if was_connected {
                    tracing::info!("campaign events from other nodes: listening again");
                }
                was_connected = true;
                let _ = local.send(CampaignEvent::Resync);
            }
            Err(error) => {
                tracing::warn!(%error, retry_in_ms = retry.as_millis(), "campaign events from other nodes: listener down");
                tokio::select! {
                    () = tokio::time::sleep(retry) => {}
                    _ = shutdown.changed() => return,
                }
                retry = (retry * 2).min(RETRY_MAX);
            }
        }
    }
}

/// The events in `payload`, unless this node sent them (its subscribers already had them)
/// or the payload is not ours to read.
fn events_from_others(node: &NodeId, payload: &str) -> Vec<CampaignEvent> {
    match serde_json::from_str::<Envelope>(payload) {
        Ok(envelope) if envelope.node == node.0 => Vec::new(),
        Ok(envelope) => envelope
            .events
            .into_iter()
            .filter(|e| *e != CampaignEvent::Resync)
            .collect(),
        Err(error) => {
            tracing::warn!(%error, "ignoring a campaign-event notification that does not parse");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_window_folds_into_one_payload_that_other_nodes_read_and_the_sender_ignores() {
        let me = NodeId::random();
        let other = NodeId::random();
        assert_ne!(me, other);
        let mut window = BTreeSet::new();
        for _ in 0..50 {
            window.insert(CampaignEvent::Claimed { campaign_id: 7 });
            window.insert(CampaignEvent::OutcomeRecorded { campaign_id: 7 });
        }
        let sent = payloads(&me, &window);
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert!(events_from_others(&me, &sent[0]).is_empty(), "no echo");
        assert_eq!(
            events_from_others(&other, &sent[0]),
            vec![
                CampaignEvent::Claimed { campaign_id: 7 },
                CampaignEvent::OutcomeRecorded { campaign_id: 7 }
            ]
        );
        assert!(events_from_others(&other, "not json").is_empty());
    }

    #[test]
    fn many_campaigns_split_into_payloads_under_the_limit() {
        let me = NodeId::random();
        let window: BTreeSet<CampaignEvent> = (0..500)
            .map(|id| CampaignEvent::CampaignChanged { campaign_id: id })
            .collect();
        let sent = payloads(&me, &window);
        assert_eq!(sent.len(), 500usize.div_ceil(EVENTS_PER_PAYLOAD));
        assert!(sent.iter().all(|p| p.len() < MAX_PAYLOAD_BYTES));
        let received: usize = sent
            .iter()
            .map(|p| events_from_others(&NodeId::random(), p).len())
            .sum();
        assert_eq!(received, 500);
    }
}

#[cfg(test)]
mod cross_node_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use crate::{CampaignEvent, CampaignEvents};
    use barnstorm_store::testing::TestDatabase;
    use barnstorm_store::{Store, StoreOptions};
    use std::time::Duration;
    use tokio::sync::broadcast::Receiver;
    use tokio::sync::watch;

    /// The next event matching `wanted`, skipping others (tests in parallel share the
    /// channel), or `None` after `within`.
    async fn next_matching(
        receiver: &mut Receiver<CampaignEvent>,
        wanted: impl Fn(CampaignEvent) -> bool,
        within: Duration,
    ) -> Option<CampaignEvent> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, receiver.recv()).await {
                Ok(Ok(event)) if wanted(event) => return Some(event),
                Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(_)) | Err(_) => return None,
            }
        }
    }

    #[tokio::test]
    async fn an_event_published_on_one_node_reaches_the_other_nodes_dashboards_once() {
        let Some(db) = TestDatabase::postgres().await else {
            return;
        };
        let second = Store::connect(&db.url, &StoreOptions::default())
            .await
            .unwrap();
        let (stop, shutdown) = watch::channel(false);
        let (node_a, tasks_a) = CampaignEvents::connect_postgres(&db.store, shutdown.clone());
        let (node_b, tasks_b) = CampaignEvents::connect_postgres(&second, shutdown);
        assert_eq!(tasks_a.len() + tasks_b.len(), 4, "relays run on PostgreSQL");
        let mut on_a = node_a.subscribe();
        let mut on_b = node_b.subscribe();
        let resync = |e: CampaignEvent| e == CampaignEvent::Resync;
        let ten = Duration::from_secs(10);
        assert!(
            next_matching(&mut on_a, resync, ten).await.is_some(),
            "A listens"
        );
        assert!(
            next_matching(&mut on_b, resync, ten).await.is_some(),
            "B listens"
        );

        let campaign_id = barnstorm_store::now_millis() + i64::from(std::process::id());
        let outcome = CampaignEvent::OutcomeRecorded { campaign_id };
        let changed = CampaignEvent::CampaignChanged { campaign_id };
        node_a.publish(outcome);
        node_b.publish(changed);
        let got = next_matching(&mut on_b, |e| e == outcome, ten).await;
        assert_eq!(got, Some(outcome), "B hears what a caller on A recorded");
        let got = next_matching(&mut on_a, |e| e == changed, ten).await;
        assert_eq!(got, Some(changed), "A hears what an organiser on B changed");

        // Each node saw its own event once, locally, and nothing came back round: an echo
        // would arrive within a fold window or two.
        let ours = |e: CampaignEvent| e.campaign_id() == Some(campaign_id);
        let mut seen_on_a = vec![outcome, changed];
        let mut seen_on_b = vec![changed, outcome];
        while let Some(e) = next_matching(&mut on_a, ours, Duration::from_secs(1)).await {
            seen_on_a.push(e);
        }
        while let Some(e) = next_matching(&mut on_b, ours, Duration::from_millis(200)).await {
            seen_on_b.push(e);
        }
        // `outcome` was read from A's queue before `changed` arrived; count what remains.
        assert_eq!(seen_on_a.len(), 2, "no echo on A: {seen_on_a:?}");
        assert_eq!(seen_on_b.len(), 2, "no echo on B: {seen_on_b:?}");

        stop.send(true).unwrap();
        for task in tasks_a.into_iter().chain(tasks_b) {
            tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .expect("relay stops on shutdown")
                .unwrap();
        }
        second.close().await;
        db.drop_database().await;
    }

    #[tokio::test]
    async fn on_sqlite_the_bus_stays_in_process() {
        let db = TestDatabase::sqlite().await;
        let (_stop, shutdown) = watch::channel(false);
        let (events, tasks) = CampaignEvents::connect_postgres(&db.store, shutdown);
        assert!(tasks.is_empty());
        let mut receiver = events.subscribe();
        events.publish(CampaignEvent::Claimed { campaign_id: 1 });
        assert_eq!(
            receiver.try_recv().unwrap(),
            CampaignEvent::Claimed { campaign_id: 1 }
        );
        db.drop_database().await;
    }
}
