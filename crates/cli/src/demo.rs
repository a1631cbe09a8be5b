//! `barnstorm demo`: fictional data for trying Barnstorm out — a national group with the
//! UK's regions and a few branches each, organisers, hosts and callers, and a live call
//! campaign of 10,000 contacts with an invite link. Addresses are example.org and phone
//! numbers come only from Ofcom's drama ranges. Loading twice changes nothing.

use anyhow::Context;
use barnstorm_store::{GroupKind, Role, Store, StoreError};
use barnstorm_web::WebConfig;
use barnstorm_web::auth::hash_password;

/// The national group's name; its presence means the demo is loaded.
pub(crate) const NATIONAL: &str = "Barnstorm UK";
/// Password of every demo account.
pub(crate) const DEMO_PASSWORD: &str = "barnstorm-demo";

/// The regions and their branches.
pub(crate) const REGIONS: [(&str, &[&str]); 12] = [
    ("London", &["Hackney", "Lewisham", "Camden", "Croydon"]),
    ("South East", &["Brighton and Hove", "Oxford", "Reading"]),
    ("South West", &["Bristol", "Exeter", "Plymouth"]),
    ("East of England", &["Cambridge", "Norwich", "Ipswich"]),
    (
        "West Midlands",
        &["Birmingham", "Coventry", "Wolverhampton"],
    ),
    ("East Midlands", &["Nottingham", "Leicester", "Derby"]),
    (
        "Yorkshire and the Humber",
        &["Leeds", "Sheffield", "Hull", "York"],
    ),
    (
        "North West",
        &["Manchester", "Liverpool", "Preston", "Lancaster"],
    ),
    ("North East", &["Newcastle", "Sunderland", "Durham"]),
    ("Wales", &["Cardiff", "Swansea", "Bangor"]),
    ("Scotland", &["Glasgow", "Edinburgh", "Aberdeen", "Dundee"]),
    ("Northern Ireland", &["Belfast", "Derry"]),
];

/// Demo accounts: (email, name, group, role).
const PEOPLE: [(&str, &str, &str, Role); 6] = [
    (
        "organiser@example.org",
        "Olu Organiser",
        NATIONAL,
        Role::Organiser,
    ),
    (
        "northwest@example.org",
        "Niamh North-West",
        "North West",
        Role::Organiser,
    ),
    (
        "london@example.org",
        "Lena London",
        "London",
        Role::Organiser,
    ),
    ("leeds.host@example.org", "Harun Host", "Leeds", Role::Host),
    (
        "cardiff.host@example.org",
        "Carys Host",
        "Cardiff",
        Role::Host,
    ),
    (
        crate::demo_campaign::DEMO_CALLER,
        "Cal Caller",
        "Manchester",
        Role::Caller,
    ),
];

/// What `load` did.
pub(crate) struct DemoReport {
    already_loaded: bool,
    groups: usize,
    people: usize,
    campaign: Option<(String, usize, String)>,
}

impl DemoReport {
    pub(crate) fn print(&self) {
        if self.already_loaded {
            println!("Demo data is already loaded.");
        } else {
            println!(
                "Loaded demo data: {} groups, {} people.",
                self.groups, self.people
            );
        }
        println!("Demo accounts (password '{DEMO_PASSWORD}'):");
        for (email, name, group, role) in PEOPLE {
            println!("  {email:<26} {name} — {role} of {group}");
        }
        if let Some((name, contacts, link)) = &self.campaign {
            println!("Live call campaign \"{name}\" with {contacts} contacts. Callers join here:");
            println!("  {link}");
        }
    }
}

/// Loads the demo data unless it is there already; `base_url` makes the printed links.
pub(crate) async fn load(store: &Store, base_url: &str) -> Result<DemoReport, anyhow::Error> {
    if store
        .groups()
        .await?
        .iter()
        .any(|g| g.name == NATIONAL && g.parent_id.is_none())
    {
        return Ok(DemoReport {
            already_loaded: true,
            groups: 0,
            people: 0,
            campaign: None,
        });
    }
    let national = store
        .create_group(
            None,
            NATIONAL,
            GroupKind::National,
            "The whole movement: every region and branch.",
            None,
        )
        .await?;
    let mut ids = vec![(NATIONAL, national.id)];
    for (region, branches) in REGIONS {
        let r = store
            .create_group(
                Some(national.id),
                region,
                GroupKind::Region,
                &format!("Organising across {region}."),
                None,
            )
            .await?;
        ids.push((region, r.id));
        for branch in branches {
            let b = store
                .create_group(
                    Some(r.id),
                    branch,
                    GroupKind::Branch,
                    &format!("The {branch} branch."),
                    None,
                )
                .await?;
            ids.push((branch, b.id));
        }
    }
    let hash = hash_password(DEMO_PASSWORD, WebConfig::new("").password_memory_kib)?;
    let mut people = 0;
    for (email, name, group, role) in PEOPLE {
        let user = match store.create_user(email, name, Some(&hash), false).await {
            Ok(user) => user,
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        if let Some((_, group_id)) = ids.iter().find(|(n, _)| *n == group) {
            store.set_membership(*group_id, user.id, role, None).await?;
            // New groups ask for approval; the demo's hosts are ones the organisers trust.
            if role == Role::Host {
                store
                    .set_trusted_host(*group_id, user.id, true, None)
                    .await?;
            }
        }
        people += 1;
    }
    let north_west = ids
        .iter()
        .find(|(n, _)| *n == "North West")
        .map(|(_, id)| *id)
        .context("the North West region")?;
    let campaign = crate::demo_campaign::load(store, north_west, base_url).await?;
    crate::demo_events::load(store, &ids, base_url)
        .await?
        .print();
    Ok(DemoReport {
        already_loaded: false,
        groups: ids.len(),
        people,
        campaign: Some(campaign),
    })
}
