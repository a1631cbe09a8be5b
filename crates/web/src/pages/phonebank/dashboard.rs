//! The organiser's live dashboard: callers online, calls per hour, outcomes, survey
//! tallies, progress, per-caller figures, flagged callers and the queue-health sentence;
//! talk time and connect rate when Barnstorm places the calls.
//! A server-sent event stream says "changed" (at most about twice a second) whenever the
//! campaign's event bus carries news, and the page re-fetches the stats fragment.

use super::access::organiser_campaign;
use crate::auth::SignedIn;
use crate::pages::layout::{Layout, format_time_in, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::get};
use barnstorm_domain::survey::QuestionKind;
use barnstorm_store::phonebank::{CallFigures, Campaign, CampaignStatus, HOUR_MS};
use barnstorm_store::{Group, StoreError, now_millis};
use futures_util::Stream;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

/// Events closer together than this are sent as one "changed".
const DEBOUNCE: Duration = Duration::from_millis(500);
/// Chart size in SVG user units.
const CHART_WIDTH: i64 = 480;
const CHART_HEIGHT: i64 = 120;

/// One bar of the calls-per-hour chart.
struct Bar {
    x: i64,
    y: i64,
    width: i64,
    height: i64,
    title: String,
}

/// A labelled count.
struct Tally {
    label: String,
    count: i64,
}

struct QuestionTally {
    label: String,
    options: Vec<Tally>,
}

struct CallerRow {
    name: String,
    calls: i64,
    conversations: i64,
    last_call: String,
}

struct FlagRow {
    name: String,
    reason: String,
    when: String,
    suspended: bool,
}

/// The figures of calls Barnstorm placed, for a bridged campaign.
struct BridgedTiles {
    /// "1 h 05 min", "3 min 20 s" or "45 s".
    talk_time: String,
    /// "75%", or "–" before any call.
    connect_rate: String,
    answered: u64,
    dialled: u64,
    /// Why calls failed in the network in the last hour, with how many: "the trunk refused
    /// Barnstorm's credentials (401)".
    problems: Vec<(String, u64)>,
}

/// `ms` as people read a duration: "1 h 05 min", "3 min 20 s", "45 s".
fn duration_words(ms: i64) -> String {
    let seconds = ms.max(0) / 1000;
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{hours} h {minutes:02} min")
    } else if minutes > 0 {
        format!("{minutes} min {seconds:02} s")
    } else {
        format!("{seconds} s")
    }
}

fn bridged_tiles(figures: &CallFigures, problems: Vec<(String, u64)>) -> BridgedTiles {
    BridgedTiles {
        talk_time: duration_words(figures.talk_ms),
        connect_rate: if figures.dialled == 0 {
            "–".to_owned()
        } else {
            format!("{:.0}%", figures.connect_rate * 100.0)
        },
        answered: figures.answered,
        dialled: figures.dialled,
        problems,
    }
}

/// Everything the stats fragment shows.
pub(super) struct DashboardStats {
    campaign_id: i64,
    status: &'static str,
    callers_online: i64,
    calls: i64,
    calls_last_hour: i64,
    conversations: i64,
    total: i64,
    called: i64,
    remaining: i64,
    percent_called: i64,
    bars: Vec<Bar>,
    busiest_hour: i64,
    outcomes: Vec<Tally>,
    survey: Vec<QuestionTally>,
    callers: Vec<CallerRow>,
    flagged: Vec<FlagRow>,
    summary: String,
    /// Talk time and connect rate, when Barnstorm places the campaign's calls.
    bridged: Option<BridgedTiles>,
}

async fn load_stats(state: &AppState, campaign: &Campaign) -> Result<DashboardStats, StoreError> {
    let now = now_millis();
    let stats = state.store.campaign_stats(campaign.id, now).await?;
    let report = state.dispatcher.report(campaign, now).await?;
    let flagged = state.store.flagged_callers(campaign.id).await?;
    let settings = &campaign.settings;
    let bridged = if settings.bridging.is_bridged() {
        Some(bridged_tiles(
            &state.store.call_figures(campaign.id, 0).await?,
            state
                .store
                .call_problems(campaign.id, now - HOUR_MS)
                .await?,
        ))
    } else {
        None
    };
    // Organisers read times in the campaign's own zone, the one its calling hours use.
    let tz = settings.calling_hours.time_zone();

    let busiest = stats
        .calls_per_hour
        .iter()
        .map(|h| h.calls)
        .max()
        .unwrap_or(0);
    let slots = i64::try_from(stats.calls_per_hour.len())
        .unwrap_or(1)
        .max(1);
    let slot = CHART_WIDTH / slots;
    let bars = stats
        .calls_per_hour
        .iter()
        .zip(0_i64..)
        .map(|(hour, index)| {
            let height = if busiest == 0 {
                0
            } else {
                hour.calls * (CHART_HEIGHT - 4) / busiest
            };
            let label = chrono::DateTime::from_timestamp_millis(hour.hour)
                .map_or_else(String::new, |t| {
                    t.with_timezone(&tz).format("%H:%M %Z").to_string()
                });
            Bar {
                x: index * slot + 1,
                y: CHART_HEIGHT - height,
                width: (slot - 2).max(1),
                height,
                title: format!("{label}: {} calls", hour.calls),
            }
        })
        .collect();

    let mut outcomes: Vec<Tally> = settings
        .outcomes
        .iter()
        .map(|o| Tally {
            label: o.label.clone(),
            count: stats.outcomes.get(&o.key).copied().unwrap_or(0),
        })
        .collect();
    // Outcomes recorded before the organiser renamed or removed them still count.
    for (key, count) in &stats.outcomes {
        if settings.outcomes.get(key).is_none() {
            outcomes.push(Tally {
                label: key.clone(),
                count: *count,
            });
        }
    }
    let survey = settings
        .survey
        .questions
        .iter()
        .filter_map(|q| match &q.kind {
            QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options } => {
                let counts = stats.survey.get(&q.key);
                Some(QuestionTally {
                    label: q.label.clone(),
                    options: options
                        .iter()
                        .map(|o| Tally {
                            label: o.label.clone(),
                            count: counts.and_then(|c| c.get(&o.key)).copied().unwrap_or(0),
                        })
                        .collect(),
                })
            }
            QuestionKind::FreeText { .. } => None,
        })
        .collect();
    let progress = &stats.progress;
    Ok(DashboardStats {
        campaign_id: campaign.id,
        status: campaign.status.as_str(),
        callers_online: stats.callers_online,
        calls: stats.outcomes.values().sum(),
        calls_last_hour: stats.calls_last_hour,
        conversations: stats.conversations,
        total: progress.total,
        called: progress.called,
        remaining: progress.remaining,
        percent_called: if progress.total > 0 {
            progress.called * 100 / progress.total
        } else {
            0
        },
        bars,
        busiest_hour: busiest,
        outcomes,
        survey,
        callers: stats
            .callers
            .iter()
            .map(|c| CallerRow {
                name: c.name.clone(),
                calls: c.calls,
                conversations: c.conversations,
                last_call: c
                    .last_call_at
                    .map(|at| format_time_in(at, tz))
                    .unwrap_or_default(),
            })
            .collect(),
        flagged: flagged
            .into_iter()
            .map(|f| FlagRow {
                name: f.name,
                reason: f.reason,
                when: format_time_in(f.flagged_at, tz),
                suspended: f.suspended,
            })
            .collect(),
        summary: report.summary,
        bridged,
    })
}

#[derive(Template)]
#[template(path = "phonebank/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    campaign: Campaign,
    group: Group,
    stats: DashboardStats,
    can_pause: bool,
    can_resume: bool,
}

#[derive(Template)]
#[template(path = "phonebank/dashboard_stats.html")]
struct StatsFragment {
    stats: DashboardStats,
}

async fn dashboard(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (campaign, group) = organiser_campaign(&state, &signed_in.user, id).await?;
    let stats = load_stats(&state, &campaign).await?;
    Ok(render(&DashboardPage {
        layout: Layout::new(&signed_in.context),
        can_pause: campaign.status == CampaignStatus::Live,
        can_resume: campaign.status == CampaignStatus::Paused,
        campaign,
        group,
        stats,
    }))
}

async fn stats_fragment(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (campaign, _) = organiser_campaign(&state, &signed_in.user, id).await?;
    let stats = load_stats(&state, &campaign).await?;
    let mut response = render(&StatsFragment { stats });
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// "changed" each time the campaign's events arrive, bursts folded into one.
async fn events(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (campaign, _) = organiser_campaign(&state, &signed_in.user, id).await?;
    let receiver = state.dispatcher.events().subscribe();
    Ok(Sse::new(changes(receiver, campaign.id))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

fn changes(
    receiver: tokio::sync::broadcast::Receiver<barnstorm_dispatch::CampaignEvent>,
    campaign_id: i64,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(receiver, move |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(event) if event.concerns(campaign_id) => break,
                Ok(_) => {}
                // Missed events may have been ours: say so.
                Err(RecvError::Lagged(_)) => break,
                Err(RecvError::Closed) => return None,
            }
        }
        tokio::time::sleep(DEBOUNCE).await;
        // Whatever arrived while waiting is covered by this one signal.
        while matches!(receiver.try_recv(), Ok(_) | Err(TryRecvError::Lagged(_))) {}
        Some((
            Ok(Event::default().event("changed").data("changed")),
            receiver,
        ))
    })
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns/{id}/dashboard", get(dashboard))
        .route("/campaigns/{id}/dashboard/stats", get(stats_fragment))
        .route("/campaigns/{id}/events", get(events))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration_words(45_900), "45 s");
        assert_eq!(duration_words(200_000), "3 min 20 s");
        assert_eq!(duration_words(3_900_000), "1 h 05 min");
        assert_eq!(duration_words(-5), "0 s");
    }
}
