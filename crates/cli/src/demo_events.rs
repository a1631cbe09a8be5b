//! The demo's events and supporters: 300 events of every kind across the UK over the next
//! eight weeks at postcode-district centres (from the table built into the binary, with a
//! fixed seed so every demo is the same), one campaign meetup with breakout groups and the
//! sessions they planned, and 2,000 fictional supporters (example.org) who agreed to hear
//! from the national group (and the North West's from it), so outreach counts mean something.

use anyhow::Context;
use barnstorm_domain::event::{Channel, EventKind, EventStatus, LocationPrecision, Visibility};
use barnstorm_store::events::{BulkSource, BulkSupporter, ConsentProof, NewEvent};
use barnstorm_store::phonebank::CampaignStatus;
use barnstorm_store::{Store, now_millis, outcode_centroid};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Europe::London;

/// Where the demo's made-up supporters are recorded as coming from.
const DEMO_SOURCE: &str = "demo data made up by barnstorm serve --demo";

async fn group_name(store: &Store, id: i64) -> anyhow::Result<String> {
    Ok(store
        .group_by_id(id)
        .await?
        .map(|g| g.name)
        .unwrap_or_default())
}

/// The demo's campaign meetup; its presence means the demo events are loaded.
pub(crate) const MEETUP_TITLE: &str = "Barnstorm: North West phonebank kick-off";
/// Events spread across the UK.
const EVENTS: usize = 300;
/// Supporters with email consent.
const SUPPORTERS: usize = 2_000;
/// Days ahead the events are spread over.
const DAYS: u64 = 56;

/// Postcode districts of each demo branch (its region is found from `demo::REGIONS`).
const BRANCH_OUTCODES: [(&str, &[&str]); 42] = [
    ("Hackney", &["E8", "E5", "E9", "N16"]),
    ("Lewisham", &["SE13", "SE4", "SE6", "SE23"]),
    ("Camden", &["NW1", "NW5", "NW3", "WC1H"]),
    ("Croydon", &["CR0", "CR2", "CR7"]),
    ("Brighton and Hove", &["BN1", "BN2", "BN3"]),
    ("Oxford", &["OX1", "OX4", "OX3"]),
    ("Reading", &["RG1", "RG2", "RG30"]),
    ("Bristol", &["BS1", "BS5", "BS3", "BS7"]),
    ("Exeter", &["EX1", "EX4", "EX2"]),
    ("Plymouth", &["PL1", "PL4", "PL2"]),
    ("Cambridge", &["CB1", "CB4", "CB2"]),
    ("Norwich", &["NR1", "NR2", "NR3"]),
    ("Ipswich", &["IP1", "IP4", "IP3"]),
    ("Birmingham", &["B1", "B5", "B12", "B29"]),
    ("Coventry", &["CV1", "CV2", "CV5"]),
    ("Wolverhampton", &["WV1", "WV3", "WV10"]),
    ("Nottingham", &["NG1", "NG7", "NG5"]),
    ("Leicester", &["LE1", "LE2", "LE3"]),
    ("Derby", &["DE1", "DE22", "DE23"]),
    ("Leeds", &["LS1", "LS6", "LS8", "LS11"]),
    ("Sheffield", &["S1", "S2", "S10", "S11"]),
    ("Hull", &["HU1", "HU5", "HU3"]),
    ("York", &["YO1", "YO10", "YO31"]),
    ("Manchester", &["M1", "M13", "M14", "M20"]),
    ("Liverpool", &["L1", "L8", "L15", "L17"]),
    ("Preston", &["PR1", "PR2", "PR5"]),
    ("Lancaster", &["LA1", "LA2"]),
    ("Newcastle", &["NE1", "NE4", "NE6"]),
    ("Sunderland", &["SR1", "SR2", "SR4"]),
    ("Durham", &["DH1", "DH7"]),
    ("Cardiff", &["CF10", "CF24", "CF11", "CF14"]),
    ("Swansea", &["SA1", "SA2"]),
    ("Bangor", &["LL57"]),
    ("Glasgow", &["G1", "G3", "G12", "G41"]),
    ("Edinburgh", &["EH1", "EH6", "EH8", "EH11"]),
    ("Aberdeen", &["AB10", "AB24"]),
    ("Dundee", &["DD1", "DD3"]),
    ("Belfast", &["BT1", "BT7", "BT9", "BT12"]),
    ("Derry", &["BT48", "BT47"]),
    // Branches in more than one list would double their weight; these three are the
    // region-level places of regions whose branches are far apart.
    ("Scotland", &["PH1", "IV2"]),
    ("Wales", &["LD1", "SY23"]),
    ("South West", &["TR1", "TA1"]),
];

const VENUES: [&str; 8] = [
    "Community Centre",
    "Friends Meeting House",
    "Trades Club",
    "Public Library, meeting room",
    "Town Hall steps",
    "Methodist Church Hall",
    "Students' Union",
    "Market Square",
];

const FIRST_NAMES: [&str; 20] = [
    "Aisha", "Ben", "Chloe", "Dev", "Eilidh", "Femi", "Gareth", "Hannah", "Imran", "Jess", "Kwame",
    "Laura", "Mo", "Niamh", "Owen", "Priya", "Rhys", "Sana", "Tom", "Yusuf",
];
const LAST_NAMES: [&str; 12] = [
    "Ahmed", "Brown", "Campbell", "Davies", "Evans", "Khan", "Murphy", "Nowak", "Okafor", "Patel",
    "Smith", "Wilson",
];

/// A small deterministic generator (SplitMix64): the same demo every time, no dependency.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// What `load` did.
pub(crate) struct DemoEventsReport {
    events: usize,
    supporters: usize,
    meetup: Option<(i64, String)>,
}

impl DemoEventsReport {
    pub(crate) fn print(&self) {
        if self.events > 0 {
            println!(
                "Loaded {} demo events and {} supporters who agreed to email.",
                self.events, self.supporters
            );
        }
        if let Some((id, link)) = &self.meetup {
            println!("Campaign meetup \"{MEETUP_TITLE}\" (event {id}): {link}");
        }
    }
}

/// The instant at `time` on `day` in London (the first, when the clocks go back).
fn london(day: NaiveDate, time: NaiveTime) -> i64 {
    let local: NaiveDateTime = day.and_time(time);
    London
        .from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            London
                .from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map_or(0, |t| t.timestamp_millis())
}

fn clock(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
}

/// A kind, weighted towards what groups mostly run.
fn kind(rng: &mut Seeded) -> EventKind {
    match rng.below(100) {
        0..=24 => EventKind::Phonebank,
        25..=49 => EventKind::Canvass,
        50..=64 => EventKind::StreetStall,
        65..=74 => EventKind::Training,
        75..=89 => EventKind::Social,
        90..=94 => EventKind::Meetup,
        _ => EventKind::Other,
    }
}

/// Title, start and length in minutes for an event of `kind` in `place`.
fn shape(kind: EventKind, place: &str, rng: &mut Seeded) -> (String, NaiveTime, i64) {
    match kind {
        EventKind::Phonebank => (format!("{place} phonebank"), clock(18, 30), 120),
        EventKind::Canvass => (
            format!("Door-knocking in {place}"),
            *rng.pick(&[clock(10, 30), clock(11, 0), clock(14, 0)]),
            180,
        ),
        EventKind::StreetStall => (format!("Street stall: {place}"), clock(10, 0), 120),
        EventKind::Training => (
            format!(
                "{} training, {place}",
                rng.pick(&["Canvassing", "Phonebanking", "Organising 101"])
            ),
            clock(19, 0),
            90,
        ),
        EventKind::Social => (
            format!(
                "{place} {}",
                rng.pick(&["pub social", "picnic", "quiz night"])
            ),
            clock(19, 30),
            150,
        ),
        EventKind::Meetup => (format!("{place} campaign meetup"), clock(18, 30), 150),
        EventKind::Other => (format!("{place} open meeting"), clock(19, 0), 90),
    }
}

/// The group names and ids `demo::load` made.
type GroupIds<'a> = &'a [(&'a str, i64)];

fn group_id(ids: GroupIds<'_>, name: &str) -> Option<i64> {
    ids.iter().find(|(n, _)| *n == name).map(|(_, id)| *id)
}

/// The region a branch (or region) belongs to.
fn region_of(name: &str) -> &'static str {
    crate::demo::REGIONS
        .iter()
        .find(|(region, branches)| *region == name || branches.contains(&name))
        .map_or(crate::demo::NATIONAL, |(region, _)| region)
}

fn demo_events(ids: GroupIds<'_>, today: NaiveDate, campaign: Option<i64>) -> Vec<NewEvent> {
    let mut rng = Seeded(0x00B4_2157_0A11);
    let national = group_id(ids, crate::demo::NATIONAL);
    let mut events = Vec::with_capacity(EVENTS);
    for i in 0..EVENTS {
        let (branch, outcodes) = rng.pick(&BRANCH_OUTCODES);
        let outcode = *rng.pick(outcodes);
        let region = region_of(branch);
        let group = match rng.below(10) {
            0 => national,
            1 | 2 => group_id(ids, region),
            _ => group_id(ids, branch),
        };
        let (Some(group_id), Some(centre)) = (group.or(national), outcode_centroid(outcode)) else {
            continue;
        };
        let kind = kind(&mut rng);
        let (title, start, minutes) = shape(kind, branch, &mut rng);
        let day = today + Duration::days(i64::try_from(1 + rng.below(DAYS as usize)).unwrap_or(1));
        let starts_at = london(day, start);
        let online = rng.chance(4);
        let hidden = !online && rng.chance(6);
        let venue = rng.pick(&VENUES);
        events.push(NewEvent {
            group_id,
            host_user_id: None,
            parent_event_id: None,
            breakout_id: None,
            kind,
            title: if online { format!("{title} (online)") } else { title },
            description: format!(
                "A demo **{}** event of Barnstorm {branch}. Everyone is welcome; no experience needed.\n\n\
                 - Meet the local team\n- Find out what's planned next",
                kind.label().to_lowercase()
            ),
            starts_at,
            ends_at: starts_at + minutes * 60_000,
            time_zone: "Europe/London".to_owned(),
            capacity: rng.chance(30).then(|| i64::try_from(10 + rng.below(30)).unwrap_or(20)),
            postcode: (!online).then(|| outcode.to_owned()),
            address: if online {
                String::new()
            } else if hidden {
                format!("{} Example Street (flat {})", 1 + rng.below(200), 1 + rng.below(9))
            } else {
                format!("{branch} {venue}")
            },
            location: (!online).then_some((centre.lat, centre.lon)),
            precision: if online {
                LocationPrecision::None
            } else {
                LocationPrecision::Outcode
            },
            address_after_rsvp: hidden,
            visibility: Visibility::Public,
            online_url: online.then(|| format!("https://meet.example.org/barnstorm-demo-{i}")),
            accessibility: if online || hidden {
                String::new()
            } else {
                "Step-free access; accessible toilet.".to_owned()
            },
            campaign_id: if kind == EventKind::Phonebank && region == "North West" {
                campaign
            } else {
                None
            },
            shifts: Vec::new(),
        });
    }
    events
}

/// A breakout group of the demo meetup and the sessions it planned: (kind, district,
/// days after the meetup).
struct DemoBreakout {
    name: &'static str,
    facilitator: &'static str,
    sessions: &'static [(EventKind, &'static str, i64)],
}

const BREAKOUTS: [DemoBreakout; 3] = [
    DemoBreakout {
        name: "Manchester callers",
        facilitator: "Cal Caller",
        sessions: &[
            (EventKind::Phonebank, "M1", 5),
            (EventKind::Phonebank, "M14", 12),
            (EventKind::Phonebank, "M20", 19),
            (EventKind::Canvass, "M13", 10),
        ],
    },
    DemoBreakout {
        name: "Liverpool phonebankers",
        facilitator: "Niamh North-West",
        sessions: &[
            (EventKind::Phonebank, "L1", 5),
            (EventKind::Phonebank, "L8", 12),
            (EventKind::StreetStall, "L15", 11),
        ],
    },
    DemoBreakout {
        name: "Lancashire towns",
        facilitator: "Pat Preston",
        sessions: &[
            (EventKind::Phonebank, "PR1", 6),
            (EventKind::Canvass, "LA1", 11),
        ],
    },
];

/// The meetup in Manchester ten days from now, its breakout groups and their sessions.
async fn meetup(
    store: &Store,
    north_west: i64,
    today: NaiveDate,
    campaign: Option<i64>,
) -> anyhow::Result<i64> {
    let host = store
        .user_by_email("northwest@example.org")
        .await?
        .map(|u| u.id);
    let centre = outcode_centroid("M1").context("the M1 district centre")?;
    let day = today + Duration::days(10);
    let starts_at = london(day, clock(18, 30));
    let base = NewEvent {
        host_user_id: host,
        description: "Our big North West barnstorm: hear the plan, split into breakout groups by \
            area and leave with phonebanks, canvasses and stalls in the diary."
            .to_owned(),
        capacity: Some(120),
        postcode: Some("M1".to_owned()),
        address: "Manchester Friends Meeting House, Mount Street".to_owned(),
        location: Some((centre.lat, centre.lon)),
        precision: LocationPrecision::Outcode,
        accessibility: "Step-free access and a hearing loop.".to_owned(),
        ..NewEvent::new(
            north_west,
            EventKind::Meetup,
            MEETUP_TITLE,
            starts_at,
            starts_at + 150 * 60_000,
        )
    };
    let meetup = store.create_event(&base, EventStatus::Live).await?;
    for DemoBreakout {
        name,
        facilitator,
        sessions,
    } in BREAKOUTS
    {
        let breakout = store
            .add_breakout(meetup.id, name, facilitator, None)
            .await?;
        for (kind, outcode, days) in sessions {
            let centre = outcode_centroid(outcode).context("a demo district centre")?;
            let (start, minutes) = match kind {
                EventKind::Phonebank => (clock(18, 30), 120),
                EventKind::Canvass => (clock(11, 0), 180),
                _ => (clock(10, 0), 120),
            };
            let starts_at = london(day + Duration::days(*days), start);
            let session = NewEvent {
                parent_event_id: Some(meetup.id),
                breakout_id: Some(breakout.id),
                kind: *kind,
                title: format!("{}: {name}", kind.label()),
                description: format!("Planned at the {MEETUP_TITLE} by the {name} breakout group."),
                starts_at,
                ends_at: starts_at + minutes * 60_000,
                capacity: None,
                postcode: Some((*outcode).to_owned()),
                address: String::new(),
                location: Some((centre.lat, centre.lon)),
                accessibility: String::new(),
                campaign_id: if *kind == EventKind::Phonebank {
                    campaign
                } else {
                    None
                },
                ..base.clone()
            };
            store.create_event(&session, EventStatus::Live).await?;
        }
    }
    Ok(meetup.id)
}

/// Supporters at district centres of the demo places, all with email consent for the
/// national group; those in the North West (the demo meetup's region) also for it.
async fn supporters(store: &Store, ids: GroupIds<'_>) -> anyhow::Result<usize> {
    let mut rng = Seeded(0x5EED_F00D_5A1E);
    let national = group_id(ids, crate::demo::NATIONAL).context("the national group")?;
    let north_west = group_id(ids, "North West").context("the North West region")?;
    let mut all = Vec::with_capacity(SUPPORTERS);
    let mut in_north_west = Vec::new();
    for i in 0..SUPPORTERS {
        let (branch, outcodes) = rng.pick(&BRANCH_OUTCODES);
        let outcode = *rng.pick(outcodes);
        let Some(centre) = outcode_centroid(outcode) else {
            continue;
        };
        let first = rng.pick(&FIRST_NAMES);
        let last = rng.pick(&LAST_NAMES);
        let email = format!(
            "{}.{}.{i}@example.org",
            first.to_lowercase(),
            last.to_lowercase()
        );
        if region_of(branch) == "North West" {
            in_north_west.push(email.clone());
        }
        all.push(BulkSupporter {
            email,
            name: format!("{first} {last}"),
            postcode: outcode.to_owned(),
            location: (centre.lat, centre.lon),
        });
    }
    let added = store
        .insert_supporters_bulk(
            national,
            &all,
            &BulkSource {
                name: DEMO_SOURCE,
                wording: &Channel::Email.consent_wording(&group_name(store, national).await?),
                collected_by: None,
            },
        )
        .await?;
    let wording = Channel::Email.consent_wording(&group_name(store, north_west).await?);
    let proof = ConsentProof {
        source: "bulk",
        source_detail: DEMO_SOURCE,
        wording: &wording,
        collected_by: None,
    };
    for email in in_north_west {
        if let Some(supporter) = store.supporter_by_email(&email).await? {
            store
                .grant_consent(supporter.id, north_west, Channel::Email, &proof)
                .await?;
        }
    }
    Ok(added)
}

/// Loads the demo events, meetup and supporters unless the meetup is there already.
/// `ids` are the demo's groups by name.
pub(crate) async fn load(
    store: &Store,
    ids: GroupIds<'_>,
    base_url: &str,
) -> anyhow::Result<DemoEventsReport> {
    let north_west = group_id(ids, "North West").context("the North West region")?;
    let link = |id: i64| format!("{}/events/{id}/meetup", base_url.trim_end_matches('/'));
    let existing = store
        .group_events(&[north_west], true, 0, i64::MAX)
        .await?
        .into_iter()
        .find(|e| e.title == MEETUP_TITLE);
    if let Some(meetup) = existing {
        return Ok(DemoEventsReport {
            events: 0,
            supporters: 0,
            meetup: Some((meetup.id, link(meetup.id))),
        });
    }
    let campaign = store
        .group_campaigns(north_west)
        .await?
        .into_iter()
        .find(|c| c.status == CampaignStatus::Live)
        .map(|c| c.id);
    let today = London
        .timestamp_millis_opt(now_millis())
        .single()
        .map(|t| t.date_naive())
        .context("today's date")?;
    let events = demo_events(ids, today, campaign);
    let inserted = store.insert_events_bulk(&events, EventStatus::Live).await?;
    let meetup = meetup(store, north_west, today, campaign).await?;
    let supporters = supporters(store, ids).await?;
    Ok(DemoEventsReport {
        events: inserted,
        supporters,
        meetup: Some((meetup, link(meetup))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_place_is_in_the_district_table() {
        for (branch, outcodes) in BRANCH_OUTCODES {
            for outcode in outcodes {
                assert!(
                    outcode_centroid(outcode).is_some(),
                    "{outcode} ({branch}) is not in the outcode table"
                );
            }
            assert!(
                region_of(branch) != crate::demo::NATIONAL,
                "{branch} is not a demo branch or region"
            );
        }
    }

    #[test]
    fn the_demo_is_the_same_every_time_and_spans_eight_weeks() {
        let ids: Vec<(&str, i64)> = crate::demo::REGIONS
            .iter()
            .flat_map(|(r, b)| std::iter::once(*r).chain(b.iter().copied()))
            .chain(std::iter::once(crate::demo::NATIONAL))
            .zip(1..)
            .collect();
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default();
        let a = demo_events(&ids, today, Some(1));
        let b = demo_events(&ids, today, Some(1));
        assert_eq!(a.len(), EVENTS);
        assert_eq!(a, b);
        for kind in EventKind::ALL {
            assert!(a.iter().any(|e| e.kind == *kind), "no {kind} event");
        }
        assert!(
            a.iter()
                .any(|e| e.online_url.is_some() && e.location.is_none())
        );
        assert!(a.iter().any(|e| e.address_after_rsvp));
        assert!(a.iter().any(|e| e.capacity.is_some()));
        let first = a.iter().map(|e| e.starts_at).min().unwrap_or_default();
        let last = a.iter().map(|e| e.starts_at).max().unwrap_or_default();
        assert!(last - first > 40 * 24 * 3_600_000, "spread over weeks");
        assert!(last - first <= 57 * 24 * 3_600_000);
    }
}
