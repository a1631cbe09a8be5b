//! `barnstorm bench events` and `barnstorm bench map`: the discovery and outreach figures
//! in BENCHMARKS.md. `events` seeds a database with events and supporters spread over the
//! UK's postcode districts and times the store calls behind nearby search, the map and
//! outreach counts, each beside a baseline measured in the same run; `map` times the map
//! viewport endpoint of a running node over HTTP, beside `/healthz`.

use anyhow::Context;
use barnstorm_domain::event::{EventKind, EventStatus, LocationPrecision};
use barnstorm_domain::geo::{LatLon, distance_km};
use barnstorm_store::events::{BulkSource, BulkSupporter, MapQuery, NearbyQuery, NewEvent};
use barnstorm_store::geocode::all_outcodes;
use barnstorm_store::{GroupKind, Store, StoreOptions, now_millis};
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::future::Future;
use std::time::Instant;

/// The source the benchmark's made-up supporters are recorded as coming from.
const BENCH_SOURCE: BulkSource<'static> = BulkSource {
    name: "barnstorm bench seed data",
    wording: "Email me about events near me",
    collected_by: None,
};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Options of `bench events`.
#[derive(clap::Args, Debug)]
pub(crate) struct EventsArgs {
    #[command(flatten)]
    database: crate::DatabaseArgs,
    /// Events to seed (skipped when the database already holds the bench group's data).
    #[arg(long, default_value_t = 100_000)]
    events: usize,
    /// Supporters with email consent to seed.
    #[arg(long, default_value_t = 1_000_000)]
    supporters: usize,
    /// Timed calls per measurement.
    #[arg(long, default_value_t = 2_000)]
    queries: usize,
    /// Seed only; measure nothing (to prepare a database for `bench map` or the browser).
    #[arg(long)]
    seed_only: bool,
}

/// Options of `bench map`.
#[derive(clap::Args, Debug)]
pub(crate) struct MapArgs {
    /// Base URL of a running node (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    target: String,
    /// Requests per measurement.
    #[arg(long, default_value_t = 2_000)]
    requests: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
}

/// A histogram of microseconds that accepts anything up to an hour.
fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 3_600_000_000, 3)?)
}

fn line(name: &str, h: &Histogram<u64>) -> String {
    let ms = |v: u64| v as f64 / 1000.0;
    format!(
        "{name:<58} n={:<6} p50={:>8.3} ms  p99={:>8.3} ms  max={:>8.3} ms",
        h.len(),
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    )
}

/// Times `count` sequential calls of `call`.
async fn time_calls<F, Fut, T>(count: usize, mut call: F) -> anyhow::Result<Histogram<u64>>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let mut h = histogram()?;
    for i in 0..count {
        let started = Instant::now();
        std::hint::black_box(call(i).await?);
        h.record(
            u64::try_from(started.elapsed().as_micros())
                .unwrap_or(u64::MAX)
                .max(1),
        )?;
    }
    Ok(h)
}

/// A point near a random district centre, as a full postcode's centre would be.
fn place_near(
    rng: &mut StdRng,
    districts: &[(&'static str, LatLon)],
) -> (&'static str, (f64, f64)) {
    let (code, at) = districts[rng.random_range(0..districts.len())];
    (
        code,
        (
            at.lat + rng.random_range(-0.02..0.02),
            at.lon + rng.random_range(-0.03..0.03),
        ),
    )
}

async fn seed(store: &Store, args: &EventsArgs) -> anyhow::Result<i64> {
    let slug = "bench-national";
    if let Some(group) = store.groups().await?.into_iter().find(|g| g.slug == slug) {
        println!("seed: reusing the bench data already in this database");
        return Ok(group.id);
    }
    let group = store
        .create_group(None, "Bench national", GroupKind::National, "", None)
        .await?
        .id;
    let districts = all_outcodes();
    let mut rng = StdRng::seed_from_u64(2026);
    let now = now_millis();
    let started = Instant::now();
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..args.events {
        let (code, location) = place_near(&mut rng, &districts);
        let kind = EventKind::ALL[i % EventKind::ALL.len()];
        let starts_at = now + rng.random_range(0..90 * DAY_MS);
        batch.push(NewEvent {
            location: Some(location),
            precision: LocationPrecision::Postcode,
            ..NewEvent::new(
                group,
                kind,
                &format!("{} in {code} #{i}", kind.label()),
                starts_at,
                starts_at + 2 * 3600 * 1000,
            )
        });
        if batch.len() == batch.capacity() {
            store.insert_events_bulk(&batch, EventStatus::Live).await?;
            batch.clear();
        }
    }
    store.insert_events_bulk(&batch, EventStatus::Live).await?;
    println!(
        "seed: {} events in {:.1} s",
        args.events,
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let mut batch = Vec::with_capacity(20_000);
    for i in 0..args.supporters {
        let (code, location) = place_near(&mut rng, &districts);
        batch.push(BulkSupporter {
            email: format!("supporter{i}@example.org"),
            name: format!("Supporter {i}"),
            postcode: code.to_owned(),
            // Rounded as postcode centres are, so many supporters share a point.
            location: (
                (location.0 * 500.0).round() / 500.0,
                (location.1 * 500.0).round() / 500.0,
            ),
        });
        if batch.len() == batch.capacity() {
            store
                .insert_supporters_bulk(group, &batch, &BENCH_SOURCE)
                .await?;
            batch.clear();
        }
    }
    store
        .insert_supporters_bulk(group, &batch, &BENCH_SOURCE)
        .await?;
    println!(
        "seed: {} supporters in {:.1} s",
        args.supporters,
        started.elapsed().as_secs_f64()
    );
    Ok(group)
}

/// The baseline for nearby search: the same question asked of the events table with a
/// bounding box and no spatial index, sorted by exact distance in Rust.
async fn nearby_by_table_scan(
    store: &Store,
    center: (f64, f64),
    radius_km: f64,
) -> anyhow::Result<usize> {
    let rows = store.events_in_box_for_benchmark(center, radius_km).await?;
    let origin = LatLon {
        lat: center.0,
        lon: center.1,
    };
    let mut hits: Vec<(f64, i64)> = rows
        .into_iter()
        .map(|(id, lat, lon)| (distance_km(origin, LatLon { lat, lon }), id))
        .filter(|(d, _)| *d <= radius_km)
        .collect();
    hits.sort_by(|a, b| a.0.total_cmp(&b.0));
    hits.truncate(50);
    Ok(hits.len())
}

async fn measure_store(store: &Store, group: i64, queries: usize) -> anyhow::Result<()> {
    let districts = all_outcodes();
    let mut rng = StdRng::seed_from_u64(7);
    let centres: Vec<(f64, f64)> = (0..queries)
        .map(|_| place_near(&mut rng, &districts).1)
        .collect();
    let now = now_millis();
    // Warm the index (its first use loads it from the table).
    let warm = Instant::now();
    store.refresh_event_index().await?;
    println!(
        "index: first load {:.1} ms",
        warm.elapsed().as_secs_f64() * 1000.0
    );

    let nearby = |radius_km: f64| {
        let centres = &centres;
        move |i: usize| async move {
            Ok(store
                .nearby_events(&NearbyQuery {
                    center: centres[i],
                    radius_km,
                    kinds: Vec::new(),
                    starts_after: now,
                    starts_before: None,
                    limit: 50,
                    offset: 0,
                })
                .await?
                .len())
        }
    };
    let mut report = Vec::new();
    report.push(line(
        "baseline: event by primary key (store.event)",
        &time_calls(queries, |i| async move {
            Ok(store.event(1 + (i as i64 * 7919) % 50_000).await?.is_some())
        })
        .await?,
    ));
    let scans = queries.min(200);
    report.push(line(
        &format!("baseline: nearby 25 km by table scan ({scans} calls)"),
        &time_calls(scans, |i| {
            let c = centres[i];
            async move { nearby_by_table_scan(store, c, 25.0).await }
        })
        .await?,
    ));
    report.push(line(
        "nearby_events 25 km, 50 nearest upcoming",
        &time_calls(queries, nearby(25.0)).await?,
    ));
    report.push(line(
        "nearby_events 5 km, 50 nearest upcoming",
        &time_calls(queries, nearby(5.0)).await?,
    ));
    report.push(line(
        "nearby_events 100 km, 50 nearest upcoming",
        &time_calls(queries, nearby(100.0)).await?,
    ));

    let view = |zoom: u8| {
        let centres = &centres;
        move |i: usize| async move {
            let (lat, lon) = centres[i];
            // A 1280×800 screen at this zoom, in degrees.
            let half_lon = 360.0 / 2f64.powi(i32::from(zoom)) * 640.0 / 256.0;
            let half_lat = half_lon * 0.6 * 800.0 / 1280.0;
            Ok(store
                .map_view(&MapQuery {
                    south: lat - half_lat,
                    west: lon - half_lon,
                    north: lat + half_lat,
                    east: lon + half_lon,
                    zoom,
                    kinds: Vec::new(),
                    starts_after: now,
                    starts_before: None,
                })
                .await?
                .total)
        }
    };
    for zoom in [6u8, 9, 12] {
        report.push(line(
            &format!("map_view zoom {zoom} (1280×800 viewport)"),
            &time_calls(queries, view(zoom)).await?,
        ));
    }

    let scans = queries.min(20);
    report.push(line(
        &format!("baseline: audience 10 km by full scan ({scans} calls)"),
        &time_calls(scans, |i| {
            let c = centres[i];
            async move {
                store
                    .audience_by_full_scan_for_benchmark(group, c, 10.0)
                    .await
                    .map_err(anyhow::Error::from)
            }
        })
        .await?,
    ));
    for radius in [5.0, 10.0, 25.0] {
        report.push(line(
            &format!("audience_count {radius} km"),
            &time_calls(queries.min(500), |i| {
                let c = centres[i];
                async move { Ok(store.audience_count(group, c, radius, None).await?) }
            })
            .await?,
        ));
    }
    println!();
    for l in report {
        println!("{l}");
    }
    Ok(())
}

pub(crate) async fn events(args: EventsArgs) -> anyhow::Result<()> {
    let store = args
        .database
        .open(&StoreOptions {
            max_connections: 8,
            ..StoreOptions::default()
        })
        .await?;
    println!("bench events on {}", store.backend());
    let group = seed(&store, &args).await?;
    if !args.seed_only {
        measure_store(&store, group, args.queries).await?;
    }
    store.close().await;
    Ok(())
}

pub(crate) async fn map(args: MapArgs) -> anyhow::Result<()> {
    let target = args.target.trim_end_matches('/').to_owned();
    let host = target
        .trim_start_matches("http://")
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    if !(host.starts_with("127.") || host == "localhost") {
        anyhow::bail!("--target {target}: benchmarks only target loopback addresses");
    }
    let client = reqwest::Client::builder().build()?;
    let districts = all_outcodes();
    let mut rng = StdRng::seed_from_u64(11);
    let viewports: Vec<String> = (0..args.requests)
        .map(|i| {
            let (lat, lon) = place_near(&mut rng, &districts).1;
            let zoom = [6u8, 8, 10, 12, 14][i % 5];
            let half_lon = 360.0 / 2f64.powi(i32::from(zoom)) * 640.0 / 256.0;
            let half_lat = half_lon * 0.6 * 800.0 / 1280.0;
            format!(
                "{target}/events/map.json?south={:.5}&west={:.5}&north={:.5}&east={:.5}&zoom={zoom}",
                lat - half_lat,
                lon - half_lon,
                lat + half_lat,
                lon + half_lon
            )
        })
        .collect();
    // The node loads its event index on the first map request; time that on its own.
    let warm = Instant::now();
    let first = client.get(&viewports[0]).send().await?;
    first.error_for_status()?.bytes().await?;
    println!(
        "first map request (loads the node's event index): {:.0} ms",
        warm.elapsed().as_secs_f64() * 1000.0
    );
    let health = vec![format!("{target}/healthz"); args.requests];
    for (name, urls) in [
        ("baseline: GET /healthz", &health),
        (
            "GET /events/map.json (random viewports, zoom 6-14)",
            &viewports,
        ),
    ] {
        let h = fetch_all(&client, urls, args.concurrency).await?;
        println!("{} (concurrency {})", line(name, &h), args.concurrency);
    }
    Ok(())
}

async fn fetch_all(
    client: &reqwest::Client,
    urls: &[String],
    concurrency: usize,
) -> anyhow::Result<Histogram<u64>> {
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let urls = std::sync::Arc::new(urls.to_vec());
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (client, next, urls) = (client.clone(), next.clone(), urls.clone());
        workers.spawn(async move {
            let mut h = histogram()?;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(url) = urls.get(i) else { break };
                let started = Instant::now();
                let response = client
                    .get(url)
                    .send()
                    .await
                    .with_context(|| format!("GET {url}"))?;
                let status = response.status();
                response.bytes().await?;
                if !status.is_success() {
                    anyhow::bail!("GET {url}: {status}");
                }
                h.record(
                    u64::try_from(started.elapsed().as_micros())
                        .unwrap_or(u64::MAX)
                        .max(1),
                )?;
            }
            Ok::<_, anyhow::Error>(h)
        });
    }
    let mut total = histogram()?;
    while let Some(done) = workers.join_next().await {
        total.add(done??)?;
    }
    Ok(total)
}
