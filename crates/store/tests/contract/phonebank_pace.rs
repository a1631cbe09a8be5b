//! The pace limit at the store, with the clock passed in: leases left to lapse count like
//! any other new contact, the hourly window holds after the minute's has passed, the
//! answer says exactly when the caller may go on, and a held contact is resumed whatever
//! the pace. A suspended caller's claim is refused and their held contact given back.

use barnstorm_domain::contact_import::ImportedContact;
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::phonebank::{
    CallerBar, CallerPace, Campaign, CampaignSettings, ClaimAnswer, ClaimRequest,
};
use barnstorm_store::{GroupKind, Millis, Store, both_backends};
use std::collections::{BTreeMap, HashSet};

const T0: Millis = 1_750_000_000_000;
const SECOND: Millis = 1000;
const MINUTE: Millis = 60 * SECOND;
/// A short lease, so a caller can let many lapse within a minute.
const LEASE: Millis = 2 * SECOND;

async fn campaign(store: &Store, contacts: u32) -> (Campaign, i64) {
    let group = store
        .create_group(None, "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let campaign = store
        .create_campaign(group.id, &CampaignSettings::new("Spring"), None)
        .await
        .unwrap();
    let list: Vec<_> = (1..=contacts)
        .map(|n| ImportedContact {
            line: u64::from(n) + 1,
            first_name: Some(format!("First{n}")),
            last_name: None,
            phone_e164: normalise_phone(&format!("020 7946 0{n:03}"), Region::GB).unwrap(),
            other_phone_e164: None,
            email: None,
            postcode: None,
            extra: BTreeMap::new(),
            external_ids: Default::default(),
            warnings: Vec::new(),
        })
        .collect();
    store
        .insert_contacts(campaign.id, group.id, &list)
        .await
        .unwrap();
    let caller = store
        .create_user("a@example.org", "Ann", None, false)
        .await
        .unwrap()
        .id;
    (campaign, caller)
}

fn request(campaign: &Campaign, caller: i64, now: Millis, pace: CallerPace) -> ClaimRequest {
    ClaimRequest {
        campaign_id: campaign.id,
        caller_id: caller,
        now,
        lease_ms: LEASE,
        skips_since: now - 5 * MINUTE,
        skip_limit: 10_000,
        calling_hours_open: true,
        pace,
    }
}

/// Letting each lease lapse (the caller never answers, never releases) is paced: six
/// contacts in the minute, then "paced until" the first claim's time plus a minute.
async fn lapsing_leases_are_paced(store: Store) {
    let (campaign, caller) = campaign(&store, 20).await;
    let pace = CallerPace::default();
    let mut seen = HashSet::new();
    let mut now = T0;
    let mut answer = None;
    for _ in 0..50 {
        match store
            .claim_for_caller(&request(&campaign, caller, now, pace))
            .await
            .unwrap()
        {
            ClaimAnswer::Claimed(claimed) => {
                seen.insert(claimed.contact.id);
                now = claimed.expires_at + 1;
            }
            other => {
                answer = Some(other);
                break;
            }
        }
    }
    assert_eq!(seen.len(), 6);
    assert_eq!(
        answer,
        Some(ClaimAnswer::PaceLimited {
            retry_at: T0 + MINUTE
        })
    );
    let after = store
        .claim_for_caller(&request(&campaign, caller, T0 + MINUTE, pace))
        .await
        .unwrap();
    assert!(matches!(after, ClaimAnswer::Claimed(_)), "{after:?}");
}

/// The hourly limit holds once the minute's window has passed, and ends an hour after
/// the oldest claim it counts; the contact a caller holds is resumed whatever the pace.
async fn the_hourly_limit_holds_across_minutes(store: Store) {
    let (campaign, caller) = campaign(&store, 20).await;
    let pace = CallerPace {
        per_minute: 6,
        per_hour: 4,
    };
    let mut held = None;
    for i in 0..4 {
        let now = T0 + i * 10 * MINUTE;
        match store
            .claim_for_caller(&request(&campaign, caller, now, pace))
            .await
            .unwrap()
        {
            ClaimAnswer::Claimed(claimed) => held = Some(claimed),
            other => panic!("claim {i}: {other:?}"),
        }
    }
    let held = held.unwrap();
    // Still holding the fourth contact: a reload resumes it.
    let now = T0 + 30 * MINUTE + SECOND;
    let resumed = store
        .claim_for_caller(&request(&campaign, caller, now, pace))
        .await
        .unwrap();
    assert!(matches!(resumed, ClaimAnswer::Held(ref c) if c.lease_id == held.lease_id));
    store
        .release_lease(held.lease_id, caller, now)
        .await
        .unwrap();
    let later = T0 + 50 * MINUTE;
    assert_eq!(
        store
            .claim_for_caller(&request(&campaign, caller, later, pace))
            .await
            .unwrap(),
        ClaimAnswer::PaceLimited {
            retry_at: T0 + 60 * MINUTE
        }
    );
    let next = store
        .claim_for_caller(&request(&campaign, caller, T0 + 60 * MINUTE, pace))
        .await
        .unwrap();
    assert!(matches!(next, ClaimAnswer::Claimed(_)), "{next:?}");
}

/// A suspension gives back the held contact and bars claims, even of the held contact;
/// a removal likewise, and the caller is no longer counted as one of the campaign's.
async fn suspended_and_removed_callers_claim_nothing(store: Store) {
    let (campaign, caller) = campaign(&store, 3).await;
    let pace = CallerPace::default();
    let ClaimAnswer::Claimed(held) = store
        .claim_for_caller(&request(&campaign, caller, T0, pace))
        .await
        .unwrap()
    else {
        panic!("nothing claimed")
    };
    store
        .add_campaign_caller(campaign.id, caller)
        .await
        .unwrap();
    assert!(
        store
            .suspend_caller(campaign.id, caller, None, "too fast", T0 + 1)
            .await
            .unwrap()
    );
    assert!(
        !store
            .suspend_caller(campaign.id, caller, None, "again", T0 + 1)
            .await
            .unwrap(),
        "suspended once"
    );
    let counts = store.queue_counts(campaign.id, T0 + 2).await.unwrap();
    assert_eq!((counts.leased, counts.ready), (0, 3));
    assert_eq!(
        store
            .claim_for_caller(&request(&campaign, caller, T0 + 2, pace))
            .await
            .unwrap(),
        ClaimAnswer::Barred(CallerBar::Suspended)
    );
    assert!(
        store
            .heartbeat_lease(held.lease_id, caller, T0 + 2, LEASE)
            .await
            .is_err()
    );
    let admin = store
        .create_user("o@example.org", "Olu", None, true)
        .await
        .unwrap()
        .id;
    assert!(
        store
            .lift_caller_suspension(campaign.id, caller, admin)
            .await
            .unwrap()
    );
    assert!(matches!(
        store
            .claim_for_caller(&request(&campaign, caller, T0 + 3, pace))
            .await
            .unwrap(),
        ClaimAnswer::Claimed(_)
    ));
    assert!(
        store
            .remove_campaign_caller(campaign.id, caller, admin, T0 + 4)
            .await
            .unwrap()
    );
    assert!(!store.is_campaign_caller(campaign.id, caller).await.unwrap());
    assert_eq!(
        store
            .claim_for_caller(&request(&campaign, caller, T0 + 5, pace))
            .await
            .unwrap(),
        ClaimAnswer::Barred(CallerBar::Removed)
    );
    let rows = store.campaign_callers(campaign.id).await.unwrap();
    assert!(rows[0].removed_at.is_some());
}

both_backends! {
    lapsing_leases_are_paced => lapsing_leases_are_paced,
    hourly_pace => the_hourly_limit_holds_across_minutes,
    suspended_callers => suspended_and_removed_callers_claim_nothing,
}
