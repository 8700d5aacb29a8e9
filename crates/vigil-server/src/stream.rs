//! The CrowdSec-compatible decision stream (`GET /v1/decisions/stream`) and live lookup
//! (`GET /v1/decisions`), and the background task that keeps the decision feed current.
//!
//! Wire format as CrowdSec's Local API (`pkg/apiserver/controllers/v1/decisions.go`):
//! `{"new": [decision…] | null, "deleted": [decision…] | null}`, an empty list written as
//! `null`; `startup=true` lists everything active, a later pull the changes since the
//! bouncer's previous one. CrowdSec remembers each bouncer's last pull *time* and re-reads
//! the database with a 2 s overlap; here each token name remembers the feed *version* it last
//! pulled, and the changes come from the feed's delta log, so a pull never touches SQLite.
//! A bouncer without a usable cursor (first pull without `startup`, hub restarted, or fallen
//! behind the kept log) gets a full resynchronisation: every current decision as `new`, and
//! as `deleted` every decision deleted since that it might still enforce (the feed's
//! tombstones), as CrowdSec sends expired decisions at startup.
//!
//! Handlers only gather and apply: which decisions a caller gets is [`plan`] and
//! [`select`] (pure, tested), clearance and query filters are `vigil_model::DecisionFilter`.
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use vigil_intel::validate::FalsePositiveScreen;
use vigil_model::access::Action;
use vigil_model::decision::split_list;
use vigil_model::{
    AlertEvidence, Decision, DecisionFilter, DecisionPolicy, IndicatorType, Lookup, Span, Tlp,
};
use vigil_store::RecordFilter;

use crate::auth::Caller;
use crate::decisions::{Entry, Snapshot};
use crate::extract::Query;
use crate::hub::Hub;
use crate::problem::Problem;

/// How often the task looks for changes made by other processes (`vigil intel import` into
/// the same store).
const POLL: Duration = Duration::from_secs(1);
/// Decisions serialised per body chunk.
const CHUNK: usize = 512;

pub fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/v1/decisions/stream", get(stream))
        .route("/v1/decisions", get(lookup))
}

/// State of the decision stream kept by the hub: the feed version each bouncer (token name)
/// last pulled.
#[derive(Default)]
pub struct StreamState {
    cursors: Mutex<HashMap<String, u64>>,
}

impl StreamState {
    fn cursor(&self, bouncer: &str) -> Option<u64> {
        self.cursors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(bouncer)
            .copied()
    }

    fn set_cursor(&self, bouncer: &str, version: u64) {
        self.cursors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(bouncer.to_string(), version);
    }
}

/// What a pull sends, before filtering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Everything current as `new`, and the tombstones as `deleted`.
    Full,
    /// The changes since the bouncer's cursor.
    Delta(crate::decisions::Changes),
}

/// Decides what a pull gets: a full list on `startup=true` or without a usable cursor (never
/// pulled, hub restarted, or further behind than the kept log), else the delta.
pub fn plan(startup: bool, cursor: Option<u64>, snap: &Snapshot) -> Plan {
    if startup {
        return Plan::Full;
    }
    match cursor.and_then(|c| snap.changes_since(c)) {
        Some(changes) => Plan::Delta(changes),
        None => Plan::Full,
    }
}

/// The entries a caller receives as (`new`, `deleted`) under `filter` at `now`. The filter
/// carries the caller's clearance, so nothing above it leaves, in either list.
pub fn select(
    plan: &Plan,
    snap: &Snapshot,
    filter: &DecisionFilter,
    now: i64,
) -> (Vec<Arc<Entry>>, Vec<Arc<Entry>>) {
    let keep = |e: &&Arc<Entry>| filter.admits(&e.decision);
    match plan {
        Plan::Full => (
            snap.decisions.values().filter(keep).cloned().collect(),
            snap.tombstones
                .values()
                .filter(keep)
                .filter(|e| e.decision.until > now)
                .cloned()
                .collect(),
        ),
        Plan::Delta(c) => (
            c.new.iter().filter(keep).cloned().collect(),
            c.deleted.iter().filter(keep).cloned().collect(),
        ),
    }
}

#[derive(Debug, Default, Deserialize)]
struct StreamQuery {
    startup: Option<String>,
    scopes: Option<String>,
    origins: Option<String>,
    scenarios_containing: Option<String>,
    scenarios_not_containing: Option<String>,
}

/// The filter for a caller's query, CrowdSec's defaults filled in.
fn filter_for(
    max_tlp: Tlp,
    scopes: Option<&str>,
    origins: Option<&str>,
    containing: Option<&str>,
    not_containing: Option<&str>,
) -> Result<DecisionFilter, Problem> {
    let list = |s: Option<&str>| -> Vec<String> {
        s.map(|s| split_list(s).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let mut f = DecisionFilter::cleared(max_tlp);
    if let Some(s) = scopes {
        f.scopes = DecisionFilter::parse_scopes(s)
            .map_err(|e| Problem::bad_request(format!("query parameter scopes: {e}")))?;
    }
    f.origins = list(origins);
    f.scenarios_containing = list(containing);
    f.scenarios_not_containing = list(not_containing);
    Ok(f)
}

async fn stream(
    State(hub): State<Arc<Hub>>,
    method: Method,
    caller: Caller,
    Query(q): Query<StreamQuery>,
) -> Result<Response, Problem> {
    caller.require(Action::ReadDecisions)?;
    let filter = filter_for(
        caller.principal.max_tlp,
        q.scopes.as_deref(),
        q.origins.as_deref(),
        q.scenarios_containing.as_deref(),
        q.scenarios_not_containing.as_deref(),
    )
    .map_err(|p| caller.problem(p))?;
    // CrowdSec: startup only when the value is exactly "true".
    let startup = q.startup.as_deref() == Some("true");
    if method == Method::HEAD {
        // As CrowdSec: no body, and the cursor stays where it was.
        return Ok(json_response(Body::empty()));
    }
    let snap = hub.decisions.snapshot();
    let bouncer = caller.principal.name.clone();
    let p = plan(startup, hub.stream.cursor(&bouncer), &snap);
    let now = hub.now();
    let (new, deleted) = select(&p, &snap, &filter, now);
    hub.metrics.add("decision_pulls", 1);
    let version = snap.version;
    // The cursor moves once the whole body has been produced.
    let done = move || hub.stream.set_cursor(&bouncer, version);
    Ok(json_response(Body::from_stream(
        futures_util::stream::iter(
            StreamBody::new(new, deleted, now, Some(Box::new(done))).map(Ok::<_, Infallible>),
        ),
    )))
}

fn json_response(body: Body) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Serialises `{"new": …, "deleted": …}` chunk by chunk, so the first byte leaves before the
/// last decision is written and no lock is held: the lists are `Arc`s from one snapshot.
struct StreamBody {
    lists: [Vec<Arc<Entry>>; 2],
    list: usize,
    pos: usize,
    now: i64,
    started: bool,
    on_done: Option<Box<dyn FnOnce() + Send>>,
}

impl StreamBody {
    fn new(
        new: Vec<Arc<Entry>>,
        deleted: Vec<Arc<Entry>>,
        now: i64,
        on_done: Option<Box<dyn FnOnce() + Send>>,
    ) -> StreamBody {
        StreamBody {
            lists: [new, deleted],
            list: 0,
            pos: 0,
            now,
            started: false,
            on_done,
        }
    }
}

impl Iterator for StreamBody {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        const KEYS: [&str; 2] = ["{\"new\":", ",\"deleted\":"];
        let list = self.lists.get(self.list)?;
        let mut buf = Vec::with_capacity(CHUNK * 192);
        if !self.started {
            self.started = true;
            buf.extend_from_slice(KEYS[self.list].as_bytes());
            if list.is_empty() {
                // CrowdSec writes an empty list as null (a nil Go slice).
                buf.extend_from_slice(b"null");
            } else {
                buf.push(b'[');
            }
        }
        let end = (self.pos + CHUNK).min(list.len());
        for (i, e) in list.iter().enumerate().take(end).skip(self.pos) {
            if i > 0 {
                buf.push(b',');
            }
            let is_new = self.list == 0;
            // Writing to a Vec cannot fail; a decision is plain strings and numbers.
            let _ = serde_json::to_writer(&mut buf, &wire(e, self.now, is_new));
        }
        self.pos = end;
        if self.pos >= list.len() {
            if !list.is_empty() {
                buf.push(b']');
            }
            self.list += 1;
            self.pos = 0;
            self.started = false;
            if self.list == self.lists.len() {
                buf.push(b'}');
                if let Some(f) = self.on_done.take() {
                    f();
                }
            }
        }
        Some(Bytes::from(buf))
    }
}

/// An entry in CrowdSec's shape. A new decision always has at least one second left: bouncers
/// turn the duration into a firewall timeout, and zero would mean none.
fn wire(e: &Entry, now: i64, is_new: bool) -> vigil_model::decision::CrowdsecDecision {
    let at = if is_new {
        now.min(e.decision.until.saturating_sub(1))
    } else {
        now
    };
    e.decision.to_crowdsec(e.id, e.uuid.clone(), at)
}

#[derive(Debug, Default, Deserialize)]
struct LookupQuery {
    ip: Option<String>,
    range: Option<String>,
    scope: Option<String>,
    value: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    contains: Option<String>,
    scopes: Option<String>,
    origins: Option<String>,
    scenarios_containing: Option<String>,
    scenarios_not_containing: Option<String>,
}

/// CrowdSec's live mode: the decisions that apply to one address, range or target.
async fn lookup(
    State(hub): State<Arc<Hub>>,
    method: Method,
    caller: Caller,
    Query(q): Query<LookupQuery>,
) -> Result<Response, Problem> {
    caller.require(Action::ReadDecisions)?;
    let bad = |p: Problem| caller.problem(p);
    let filter = filter_for(
        caller.principal.max_tlp,
        q.scopes.as_deref(),
        q.origins.as_deref(),
        q.scenarios_containing.as_deref(),
        q.scenarios_not_containing.as_deref(),
    )
    .map_err(bad)?;
    let target = lookup_target(&q).map_err(bad)?;
    if method == Method::HEAD {
        return Ok(json_response(Body::empty()));
    }
    let snap = hub.decisions.snapshot();
    let now = hub.now();
    let found: Vec<_> = snap
        .decisions
        .values()
        .filter(|e| filter.admits(&e.decision) && target.matches(&e.decision))
        .filter(|e| q.kind.as_deref().is_none_or(|k| k == e.decision.kind))
        .map(|e| wire(e, now, true))
        .collect();
    // As CrowdSec: no decision is `null`, not `[]`.
    let body = if found.is_empty() {
        b"null".to_vec()
    } else {
        serde_json::to_vec(&found).map_err(Problem::internal)?
    };
    Ok(json_response(Body::from(body)))
}

fn lookup_target(q: &LookupQuery) -> Result<Lookup, Problem> {
    let contains = match q.contains.as_deref() {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return Err(Problem::bad_request(format!(
                "query parameter contains = {other:?}: expected true or false"
            )))
        }
    };
    let span = |name: &str, v: &str| {
        Span::parse(v)
            .map(|span| Lookup::Span { span, contains })
            .ok_or_else(|| {
                Problem::bad_request(format!(
                    "query parameter {name} = {v:?}: expected an IP address or CIDR network"
                ))
            })
    };
    if let Some(ip) = &q.ip {
        return span("ip", ip);
    }
    if let Some(r) = &q.range {
        return span("range", r);
    }
    let scope = match q.scope.as_deref() {
        None => None,
        Some(s) => {
            let parsed = DecisionFilter::parse_scopes(s)
                .map_err(|e| Problem::bad_request(format!("query parameter scope: {e}")))?;
            match parsed.as_slice() {
                [one] => Some(*one),
                // A scope Vigil never makes (country, username …): nothing can match it.
                [] => {
                    return Ok(Lookup::Exact {
                        scope: None,
                        value: "\u{0}".into(),
                    })
                }
                _ => {
                    return Err(Problem::bad_request(format!(
                        "query parameter scope = {s:?}: expected one scope"
                    )))
                }
            }
        }
    };
    Ok(match &q.value {
        Some(v) => Lookup::Exact {
            scope,
            value: v.clone(),
        },
        None => Lookup::All,
    })
}

/// The attacking side of a stored alert: EVE `alert.source.ip` (Suricata's view of who
/// attacked, which is `dest_ip` for rules matching responses) when present, else `src_ip`.
pub fn attacker(eve: &serde_json::Value, src_ip: Option<&str>) -> Option<IpAddr> {
    eve.pointer("/alert/source/ip")
        .and_then(|v| v.as_str())
        .or(src_ip)
        .and_then(|s| s.trim().parse().ok())
}

/// What the background task has seen of the store, to notice changes made by other
/// processes: the last import, and the highest alert id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Watermark {
    import: i64,
    alert: i64,
}

impl Watermark {
    /// Takes in what a probe found; true when it is new.
    fn advance(&mut self, import: i64, newest_alert: Option<i64>) -> bool {
        let changed = import != self.import || newest_alert.is_some_and(|a| a > self.alert);
        self.import = import;
        self.alert = self.alert.max(newest_alert.unwrap_or(i64::MIN));
        changed
    }
}

/// Starts the background work behind the decision stream (called once when serving): a
/// task that recomputes the decisions when intel or alerts change (notified by this hub, or
/// seen by polling the store for other processes' imports) and when the earliest decision is
/// due for renewal or expiry, so expired decisions reach bouncers as `deleted`. Readers never
/// wait for it: they load whatever snapshot was last published.
pub fn start(hub: &Arc<Hub>) {
    let hub = Arc::clone(hub);
    tokio::spawn(async move {
        let mut mark = Watermark::default();
        let mut since = hub.now();
        loop {
            // Probe before reading: a change landing during the recompute is then seen at
            // the next poll rather than lost.
            if let Ok((import, alert)) = probe(&hub, since.saturating_sub(1)).await {
                mark.advance(import, alert);
            }
            since = hub.now();
            if let Err(e) = recompute(&hub).await {
                tracing::warn!(error = %e, "recomputing decisions failed; keeping the last set");
            }
            let policy = hub.config.decisions.clone();
            loop {
                let now = hub.now();
                let wake = {
                    let snap = hub.decisions.snapshot();
                    vigil_model::next_wake(
                        snap.decisions.values().map(|e| &e.decision),
                        &policy,
                        now,
                    )
                };
                let due = async move {
                    match wake {
                        Some(w) => {
                            let secs = u64::try_from(w.saturating_sub(now)).unwrap_or(0);
                            tokio::time::sleep(Duration::from_secs(secs)).await
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    _ = hub.decisions_changed.notified() => break,
                    _ = due => break,
                    _ = tokio::time::sleep(POLL) => {
                        let probed_at = hub.now();
                        match probe(&hub, since.saturating_sub(1)).await {
                            Ok((import, alert)) => {
                                since = probed_at;
                                if mark.advance(import, alert) {
                                    break;
                                }
                            }
                            Err(e) => tracing::warn!(error = %e, "polling the store for changes"),
                        }
                    }
                }
            }
        }
    });
}

/// The last import's id and the newest alert received since `alerts_since`: two indexed
/// reads, cheap enough to run every second.
async fn probe(hub: &Arc<Hub>, alerts_since: i64) -> Result<(i64, Option<i64>), Problem> {
    hub.pool
        .read(move |store| {
            let import = store.imports(1)?.first().map_or(0, |i| i.id);
            let alert = store
                .alerts(alerts_since, Tlp::Red)?
                .iter()
                .map(|a| a.id)
                .max();
            Ok((import, alert))
        })
        .await
}

/// Reads the high-confidence indicators and alerts, applies the policy and publishes.
async fn recompute(hub: &Arc<Hub>) -> Result<(), Problem> {
    let started = std::time::Instant::now();
    let policy = hub.config.decisions.clone();
    let now = hub.now();
    let screen = hub.screen.clone();
    let p = policy.clone();
    let candidates = hub
        .pool
        .read(move |store| {
            let mut out = Vec::new();
            let filter = RecordFilter {
                kinds: vec![IndicatorType::Ip, IndicatorType::Cidr],
                ..RecordFilter::default()
            };
            store.for_each_record(&filter, &mut |r| {
                out.extend(vigil_model::decide(std::slice::from_ref(&r), &p, now));
            })?;
            let window = now.saturating_sub(p.duration_secs.max(0));
            let evidence: Vec<AlertEvidence> = store
                .alerts(window, Tlp::Red)?
                .into_iter()
                .filter(|a| a.confidence.is_some_and(|c| c >= p.min_alert_confidence))
                .filter_map(|a| {
                    let ip = attacker(&a.eve, a.src_ip.as_deref())?;
                    let warninglisted = p.skip_warninglisted
                        && screen.as_deref().is_some_and(|s| {
                            !s.screen(IndicatorType::Ip, &ip.to_string()).is_empty()
                        });
                    let reason = a
                        .signature_id
                        .map(|s| s.to_string())
                        .or(a.indicator_value.clone())
                        .unwrap_or_else(|| "alert".into());
                    Some(AlertEvidence {
                        attacker: ip,
                        confidence: a.confidence,
                        received: a.received,
                        tlp: a.tlp,
                        reason,
                        warninglisted,
                    })
                })
                .collect();
            out.extend(vigil_model::decide_alerts(&evidence, &p, now));
            Ok(out)
        })
        .await?;
    let snap = hub.decisions.snapshot();
    let decisions = stabilize_all(&snap, candidates, &policy, now);
    let n = decisions.len();
    let version = hub.decisions.publish(decisions, now);
    hub.metrics.add("decision_recomputes", 1);
    tracing::info!(
        decisions = n,
        version,
        millis = started.elapsed().as_millis() as u64,
        "decisions recomputed"
    );
    Ok(())
}

/// One decision per target, each kept as published while it need not change.
fn stabilize_all(
    snap: &Snapshot,
    candidates: Vec<Decision>,
    policy: &DecisionPolicy,
    now: i64,
) -> Vec<Decision> {
    vigil_model::combine(candidates)
        .into_iter()
        .map(|d| {
            let prev = snap
                .decisions
                .get(&(d.scope, d.value.clone()))
                .map(|e| &e.decision);
            vigil_model::stabilize(prev, d, policy, now)
        })
        .filter(|d| d.until > now)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decisions::DecisionFeed;
    use proptest::prelude::*;
    use vigil_model::Scope;

    fn ban(v: &str, until: i64, tlp: Tlp) -> Decision {
        Decision {
            scope: if v.contains('/') {
                Scope::Range
            } else {
                Scope::Ip
            },
            value: v.into(),
            kind: "ban".into(),
            until,
            origin: "vigil".into(),
            scenario: "vigil/intel:t".into(),
            confidence: 90,
            tlp,
        }
    }

    fn body(new: Vec<Arc<Entry>>, deleted: Vec<Arc<Entry>>, now: i64) -> serde_json::Value {
        let bytes: Vec<u8> = StreamBody::new(new, deleted, now, None)
            .flat_map(|b| b.to_vec())
            .collect();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn empty_lists_are_null_as_at_crowdsec_and_decisions_have_its_fields() {
        assert_eq!(
            body(vec![], vec![], 0),
            serde_json::json!({"new": null, "deleted": null})
        );
        let f = DecisionFeed::new(8);
        f.publish(
            vec![
                ban("192.0.2.1", 100, Tlp::Clear),
                ban("192.0.2.2", 3, Tlp::Clear),
            ],
            0,
        );
        let snap = f.snapshot();
        let all: Vec<_> = snap.decisions.values().cloned().collect();
        let v = body(all, vec![], 3);
        let new = v["new"].as_array().unwrap();
        assert_eq!(new.len(), 2);
        assert!(v["deleted"].is_null());
        let d = &new[0];
        for k in [
            "id", "duration", "origin", "scenario", "scope", "type", "value", "uuid",
        ] {
            assert!(d.get(k).is_some(), "missing {k} in {d}");
        }
        assert_eq!(
            (d["scope"].as_str(), d["type"].as_str()),
            (Some("Ip"), Some("ban"))
        );
        assert_eq!(d["duration"], "1m37s");
        // Due this second: still at least one second, never a zero timeout.
        assert_eq!(new[1]["duration"], "1s");
    }

    #[test]
    fn a_large_list_is_cut_into_chunks_that_join_into_one_document() {
        let f = DecisionFeed::new(8);
        let ds: Vec<Decision> = (0..1300)
            .map(|i| ban(&format!("10.{}.{}.1", i / 256, i % 256), 100, Tlp::Clear))
            .collect();
        f.publish(ds, 0);
        let all: Vec<_> = f.snapshot().decisions.values().cloned().collect();
        let chunks: Vec<Bytes> = StreamBody::new(all.clone(), all, 0, None).collect();
        assert!(chunks.len() >= 4, "{}", chunks.len());
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.to_vec()).collect();
        let v: serde_json::Value = serde_json::from_slice(&joined).unwrap();
        assert_eq!(v["new"].as_array().unwrap().len(), 1300);
        assert_eq!(v["deleted"].as_array().unwrap().len(), 1300);
    }

    #[test]
    fn the_cursor_moves_only_when_the_body_is_complete() {
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let d2 = Arc::clone(&done);
        let mut b = StreamBody::new(
            vec![],
            vec![],
            0,
            Some(Box::new(move || {
                d2.store(true, std::sync::atomic::Ordering::SeqCst)
            })),
        );
        b.next();
        assert!(!done.load(std::sync::atomic::Ordering::SeqCst));
        assert!(b.next().is_some());
        assert!(done.load(std::sync::atomic::Ordering::SeqCst));
        assert!(b.next().is_none());
    }

    #[test]
    fn pulls_plan_a_full_list_without_a_usable_cursor() {
        let f = DecisionFeed::new(2);
        for i in 0..4 {
            f.publish(vec![ban(&format!("192.0.2.{i}"), 100, Tlp::Clear)], 0);
        }
        let snap = f.snapshot();
        assert_eq!(plan(true, Some(4), &snap), Plan::Full);
        assert_eq!(plan(false, None, &snap), Plan::Full, "never pulled");
        assert_eq!(plan(false, Some(1), &snap), Plan::Full, "behind the log");
        assert_eq!(plan(false, Some(9), &snap), Plan::Full, "a hub restart");
        match plan(false, Some(3), &snap) {
            Plan::Delta(c) => assert_eq!((c.new.len(), c.deleted.len()), (1, 1)),
            p => panic!("{p:?}"),
        }
        // A full resync also tells the bouncer what it may still hold: the tombstones.
        let (new, deleted) = select(&Plan::Full, &snap, &DecisionFilter::cleared(Tlp::Red), 0);
        assert_eq!(new.len(), 1);
        assert_eq!(deleted.len(), 3);
        let (_, deleted) = select(&Plan::Full, &snap, &DecisionFilter::cleared(Tlp::Red), 100);
        assert!(deleted.is_empty(), "expired bans need no deletion");
    }

    #[test]
    fn the_watermark_notices_new_imports_and_newer_alerts_only() {
        let mut m = Watermark::default();
        assert!(m.advance(3, None));
        assert!(!m.advance(3, None));
        assert!(m.advance(3, Some(7)));
        assert!(!m.advance(3, Some(7)), "the same alert seen again");
        assert!(!m.advance(3, None), "an empty window is no change");
        assert!(m.advance(4, Some(5)));
    }

    #[test]
    fn the_attacker_is_the_alerts_source_when_suricata_names_it() {
        let eve = serde_json::json!({"alert": {"source": {"ip": "203.0.113.5"}}});
        assert_eq!(
            attacker(&eve, Some("10.0.0.1")),
            Some("203.0.113.5".parse().unwrap())
        );
        assert_eq!(
            attacker(&serde_json::json!({}), Some("198.51.100.1")),
            Some("198.51.100.1".parse().unwrap())
        );
        assert_eq!(attacker(&serde_json::json!({}), Some("garbage")), None);
    }

    #[test]
    fn renewed_and_unchanged_decisions_are_stable_across_recomputations() {
        let f = DecisionFeed::new(8);
        let policy = DecisionPolicy {
            duration_secs: 100,
            ..DecisionPolicy::default()
        };
        let at = |now: i64| vec![ban("192.0.2.1", now + 100, Tlp::Clear)];
        let v1 = f.publish(stabilize_all(&f.snapshot(), at(0), &policy, 0), 0);
        let v2 = f.publish(stabilize_all(&f.snapshot(), at(30), &policy, 30), 30);
        assert_eq!(v1, v2, "no churn within the first half");
        let v3 = f.publish(stabilize_all(&f.snapshot(), at(60), &policy, 60), 60);
        assert_eq!(v3, v1 + 1, "renewed after half its life");
        assert_eq!(
            f.snapshot()
                .decisions
                .values()
                .next()
                .unwrap()
                .decision
                .until,
            160
        );
    }

    fn arb_tlp() -> impl Strategy<Value = Tlp> {
        prop::sample::select(Tlp::ALL.to_vec())
    }

    proptest! {
        /// Whatever the history and the cursor, a caller never receives a decision above its
        /// clearance, in `new` or in `deleted`; and applying what it receives to what it
        /// held brings it exactly to the decisions it is cleared for.
        #[test]
        fn callers_only_ever_see_and_converge_to_what_they_are_cleared_for(
            sets in prop::collection::vec(
                prop::collection::btree_map(0u8..10, arb_tlp(), 0..6), 1..8),
            seen in 0usize..8,
            max in arb_tlp(),
        ) {
            let f = DecisionFeed::new(64);
            let filter = DecisionFilter::cleared(max);
            let mut held = std::collections::BTreeSet::new();
            let mut pulled_at = None;
            for (i, s) in sets.iter().enumerate() {
                f.publish(
                    s.iter().map(|(v, t)| ban(&format!("192.0.2.{v}"), 1000, *t)).collect(),
                    0,
                );
                if i == seen.min(sets.len() - 1) {
                    let snap = f.snapshot();
                    let (new, _) = select(&plan(true, None, &snap), &snap, &filter, 0);
                    held = new.iter().map(|e| e.id).collect();
                    pulled_at = Some(snap.version);
                }
            }
            let snap = f.snapshot();
            let p = plan(false, pulled_at, &snap);
            let (new, deleted) = select(&p, &snap, &filter, 0);
            for e in new.iter().chain(&deleted) {
                prop_assert!(e.decision.tlp <= max);
            }
            if matches!(p, Plan::Delta(_)) {
                for e in &deleted {
                    prop_assert!(held.remove(&e.id), "deleted what it never held");
                }
                for e in &new {
                    prop_assert!(held.insert(e.id));
                }
                let now: std::collections::BTreeSet<u64> = snap
                    .decisions
                    .values()
                    .filter(|e| e.decision.tlp <= max)
                    .map(|e| e.id)
                    .collect();
                prop_assert_eq!(held, now);
            }
        }
    }
}
