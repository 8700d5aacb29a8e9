//! The REST API under `/api/v1` (described by `/api/v1/openapi.json`).
//!
//! Every handler asks the caller's role first (`Caller::require`) and reads only what the
//! caller's TLP clearance allows: the SQL filters on it, so nothing above it is loaded, listed
//! or counted.
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};
use vigil_intel::ingest::InputFormat;
use vigil_intel::timestamp;
use vigil_intel::validate::{self, FalsePositiveScreen, RegionPolicy, ValidateOptions};
use vigil_model::{Action, IndicatorType, Reliability, Role, Tlp};
use vigil_store::export::{self, Export, ExportError, ExportFormat, ExportRequest};
use vigil_store::query::{record_view, LookupError, RecordQuery};
use vigil_store::SourceInfo;

use crate::auth::Caller;
use crate::extract::{json as parse_json, Body, Query};
use crate::hub::{Hub, ImportRequest};
use crate::problem::Problem;
use crate::sightings;

/// The OpenAPI 3 document; a test checks it against the router.
pub const OPENAPI: &str = include_str!("openapi.json");

pub fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/indicators", get(search).post(create))
        .route("/api/v1/indicators/bulk", post(bulk))
        .route("/api/v1/indicators/{id}", get(show))
        .route("/api/v1/sources", get(sources))
        .route("/api/v1/sources/{name}/collect", post(collect))
        .route("/api/v1/sightings", post(report_sightings))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/feeds/{format}", get(feed))
        .route("/api/v1/validate", post(validate_doc))
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{name}", axum::routing::delete(revoke_token))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

// ---- query parsing (pure) ----

/// `ip,domain` → kinds; names the bad one.
pub fn parse_kinds(s: Option<&str>) -> Result<Vec<IndicatorType>, Problem> {
    let Some(s) = s else {
        return Ok(Vec::new());
    };
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<IndicatorType>().map_err(|_| {
                Problem::bad_request(format!(
                    "type {t:?}: expected one of {}",
                    IndicatorType::ALL
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
        })
        .collect()
}

pub fn parse_tlp(what: &str, s: Option<&str>) -> Result<Option<Tlp>, Problem> {
    s.map(|t| {
        t.parse::<Tlp>().map_err(|_| {
            Problem::bad_request(format!(
                "{what} {t:?}: expected clear, green, amber, amber+strict or red"
            ))
        })
    })
    .transpose()
}

/// Unix seconds, a date or an RFC 3339 date-time.
pub fn parse_time(what: &str, s: Option<&str>) -> Result<Option<i64>, Problem> {
    s.map(|t| {
        timestamp::parse_feed_time(t).map_err(|e| Problem::bad_request(format!("{what}: {e}")))
    })
    .transpose()
}

/// The page size a caller asked for, within the configured bounds.
pub fn page_limit(asked: Option<usize>, default: usize, max: usize) -> Result<usize, Problem> {
    match asked {
        None => Ok(default),
        Some(0) => Err(Problem::bad_request("limit must be at least 1")),
        Some(n) if n > max => Err(Problem::bad_request(format!(
            "limit {n} exceeds the maximum page size {max}"
        ))),
        Some(n) => Ok(n),
    }
}

/// An opaque cursor over (kind, value).
pub fn encode_cursor(kind: &str, value: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}\t{value}"))
}

pub fn decode_cursor(c: &str) -> Result<(String, String), Problem> {
    let bad = || Problem::bad_request("cursor: not a cursor this API returned");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c.trim())
        .map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (k, v) = text.split_once('\t').ok_or_else(bad)?;
    Ok((k.to_string(), v.to_string()))
}

/// The most restrictive of the caller's clearance and a narrower ceiling it asked for.
fn ceiling(caller: &Caller, asked: Option<Tlp>) -> Tlp {
    asked.map_or(caller.principal.max_tlp, |t| {
        t.min(caller.principal.max_tlp)
    })
}

// ---- indicators ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    #[serde(rename = "type")]
    kind: Option<String>,
    value: Option<String>,
    prefix: Option<String>,
    source: Option<String>,
    min_confidence: Option<u8>,
    max_tlp: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

async fn search(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Query(p): Query<SearchParams>,
) -> Result<Response, Problem> {
    caller.require(Action::ReadIntel)?;
    let limits = &hub.config.limits;
    let limit = page_limit(p.limit, limits.page_size, limits.max_page_size)?;
    let kinds = parse_kinds(p.kind.as_deref())?;
    let value = match (&p.value, kinds.as_slice()) {
        (None, _) => None,
        // A value is searched in its canonical form, as it is stored.
        (Some(v), [k]) => Some(
            vigil_intel::normalize::normalize_as(*k, v)
                .map_err(|e| Problem::bad_request(format!("value {v:?}: {e}")))?
                .1,
        ),
        (Some(v), _) => Some(
            vigil_intel::normalize::classify_or_err(v)
                .map_err(|e| Problem::bad_request(format!("value {v:?}: {e}")))?
                .1,
        ),
    };
    let q = RecordQuery {
        kinds,
        value,
        value_prefix: p.prefix.clone(),
        max_tlp: ceiling(&caller, parse_tlp("max_tlp", p.max_tlp.as_deref())?),
        since: parse_time("since", p.since.as_deref())?,
        until: parse_time("until", p.until.as_deref())?,
    };
    if p.min_confidence.is_some_and(|c| c > 100) {
        return Err(Problem::bad_request("min_confidence must be 0-100"));
    }
    let after = p.cursor.as_deref().map(decode_cursor).transpose()?;
    let now = hub.now();
    let (source, min) = (p.source.clone(), p.min_confidence.unwrap_or(0));
    let page = hub
        .pool
        .read(move |s| {
            let mut accept = |r: &vigil_model::IntelRecord| {
                source.as_deref().is_none_or(|s| r.sources.contains_key(s))
                    && (min == 0 || r.score(now).value >= min)
            };
            Ok(s.records_page(
                &q,
                after.as_ref().map(|(k, v)| (k.as_str(), v.as_str())),
                limit,
                &mut accept,
            )?)
        })
        .await?;
    let items: Vec<Value> = page.records.iter().map(|r| record_view(r, now)).collect();
    let next = page.next.map(|(k, v)| encode_cursor(&k, &v));
    Ok(Json(json!({"items": items, "next": next, "limit": limit})).into_response())
}

async fn show(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    caller.require(Action::ReadIntel)?;
    let max = caller.principal.max_tlp;
    let now = hub.now();
    let lookup_id = id.clone();
    let found = hub
        .pool
        .read(move |s| match s.lookup(&lookup_id) {
            Ok(mut f) => {
                // An object the caller may see can still point at one it may not.
                f.object = match f.object.take() {
                    Some(mut o) if caller_may_see(max, o.tlp) => {
                        s.redact(o.object.take(), max)?.map(|v| {
                            o.object = v;
                            o
                        })
                    }
                    _ => None,
                };
                Ok(Some(f))
            }
            Err(LookupError::NotFound(_)) => Ok(None),
            Err(LookupError::BadId(_)) => Err(Problem::bad_request(format!(
                "{lookup_id}: not a STIX id, TYPE:VALUE or indicator value"
            ))),
            Err(LookupError::Store(e)) => Err(e.into()),
        })
        .await?;
    // Above the caller's clearance is the same answer as absent: existence must not leak.
    // The answer does not echo the id, so no body ever carries a withheld one.
    let not_found = || Problem::not_found("no such indicator or object");
    let found = found.ok_or_else(not_found)?;
    let object = found.object.map(|o| o.object);
    let records: Vec<Value> = found
        .records
        .iter()
        .filter(|r| caller.principal.cleared_for(r.tlp))
        .map(|r| record_view(r, now))
        .collect();
    if object.is_none() && records.is_empty() {
        return Err(not_found());
    }
    Ok(Json(json!({"object": object, "records": records})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewIndicator {
    value: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    confidence: Option<u8>,
    reliability: Option<String>,
    tlp: Option<String>,
    source: Option<String>,
}

/// Defaults of a write: the source name, grade, marking and confidence.
fn source_info(
    caller: &Caller,
    source: Option<&str>,
    reliability: Option<&str>,
    tlp: Option<&str>,
    confidence: Option<u8>,
) -> Result<SourceInfo, Problem> {
    let (reliability, credibility) = match reliability {
        None => (None, None),
        Some(g) => {
            let (r, c): (Reliability, Option<u8>) = vigil_store::collect::parse_admiralty(g)
                .map_err(|e| Problem::bad_request(format!("reliability: {e}")))?;
            (Some(r), c)
        }
    };
    let confidence = confidence.unwrap_or(50);
    if confidence > 100 {
        return Err(Problem::bad_request("confidence must be 0-100"));
    }
    let name = source.map_or_else(|| format!("api:{}", caller.principal.name), str::to_string);
    if name.is_empty() || name.len() > 200 {
        return Err(Problem::bad_request("source: 1-200 characters"));
    }
    Ok(SourceInfo {
        name,
        reliability,
        credibility,
        // What a caller writes is marked no higher than it may read back.
        tlp: parse_tlp("tlp", tlp)?
            .unwrap_or(Tlp::Amber)
            .min(caller.principal.max_tlp),
        confidence,
    })
}

async fn create(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Body(body): Body,
) -> Result<Response, Problem> {
    caller.require(Action::WriteIntel)?;
    let n: NewIndicator = parse_json("request body", &body)?;
    let (kind, value) = match n.kind.as_deref() {
        Some(k) => {
            let k = parse_kinds(Some(k))?
                .into_iter()
                .next()
                .ok_or_else(|| Problem::bad_request("type: empty"))?;
            vigil_intel::normalize::normalize_as(k, &n.value)
        }
        None => vigil_intel::normalize::classify_or_err(&n.value),
    }
    .map_err(|e| Problem::bad_request(format!("value {:?}: {e}", n.value)))?;
    let source = source_info(
        &caller,
        n.source.as_deref(),
        n.reliability.as_deref(),
        n.tlp.as_deref(),
        n.confidence,
    )?;
    // A typed CSV row, so the stored record has the type asked for ("203.0.113.64/27" as a URL
    // path stays a URL) and goes through the same screening as any import.
    let csv = format!(
        "type,value\n{},\"{}\"\n",
        kind.as_str(),
        value.replace('"', "\"\"")
    );
    let out = hub
        .import(ImportRequest {
            name: "request body".into(),
            bytes: csv.into_bytes(),
            format: InputFormat::Csv,
            source,
            collection: None,
            skip_invalid: false,
        })
        .await?;
    let now = hub.now();
    let key = value.clone();
    let rec = hub
        .pool
        .read(move |s| Ok(s.record(kind, &key)?))
        .await?
        .ok_or_else(|| {
            Problem::bad_request(format!("value {value:?} cannot be stored as a {kind}"))
        })?;
    let mut resp = (
        StatusCode::CREATED,
        Json(json!({"record": record_view(&rec, now), "import": out})),
    )
        .into_response();
    if let Ok(loc) = HeaderValue::from_str(&format!(
        "/api/v1/indicators/{}:{}",
        rec.kind.as_str(),
        rec.value
    )) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkParams {
    format: Option<String>,
    source: Option<String>,
    reliability: Option<String>,
    tlp: Option<String>,
    confidence: Option<u8>,
    #[serde(default)]
    skip_invalid: bool,
}

async fn bulk(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Query(p): Query<BulkParams>,
    Body(body): Body,
) -> Result<Response, Problem> {
    caller.require(Action::WriteIntel)?;
    let format: InputFormat = p
        .format
        .as_deref()
        .unwrap_or("auto")
        .parse()
        .map_err(|e: String| Problem::bad_request(format!("format: {e}")))?;
    if body.is_empty() {
        return Err(Problem::bad_request("request body: empty"));
    }
    let source = source_info(
        &caller,
        p.source.as_deref(),
        p.reliability.as_deref(),
        p.tlp.as_deref(),
        p.confidence,
    )?;
    let out = hub
        .import(ImportRequest {
            name: "request body".into(),
            bytes: body.to_vec(),
            format,
            source,
            collection: None,
            skip_invalid: p.skip_invalid,
        })
        .await?;
    Ok(Json(out).into_response())
}

// ---- sources ----

async fn sources(State(hub): State<Arc<Hub>>, caller: Caller) -> Result<Response, Problem> {
    caller.require(Action::ReadIntel)?;
    let max = caller.principal.max_tlp;
    let configured = hub.config.data_dir.join("sources.toml");
    let list = hub
        .pool
        .read(move |s| {
            let specs = if configured.is_file() {
                vigil_store::collect::load_sources(&configured)
                    .map_err(|e| Problem::internal(e.to_string()))?
            } else {
                Vec::new()
            };
            let mut out = Vec::new();
            for src in s.sources()? {
                if !caller_may_see(max, src.tlp) {
                    continue;
                }
                let state = s.collect_state(&src.name)?;
                out.push(json!({
                    "name": src.name,
                    "reliability": src.reliability.map(|r| r.as_str()),
                    "credibility": src.credibility,
                    "tlp": src.tlp,
                    "confidence": src.confidence,
                    "configured": specs.iter().any(|sp| sp.name == src.name),
                    "collect": state,
                }));
            }
            // Configured sources that have never run.
            for sp in &specs {
                if !caller_may_see(max, sp.tlp) || out.iter().any(|o| o["name"] == sp.name.as_str())
                {
                    continue;
                }
                out.push(json!({
                    "name": sp.name, "reliability": sp.reliability.map(|r| r.as_str()),
                    "credibility": sp.credibility, "tlp": sp.tlp, "confidence": sp.confidence,
                    "configured": true, "collect": s.collect_state(&sp.name)?,
                }));
            }
            Ok(out)
        })
        .await?;
    Ok(Json(json!({"items": list})).into_response())
}

fn caller_may_see(max: Tlp, tlp: Tlp) -> bool {
    tlp <= max
}

async fn collect(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Response, Problem> {
    caller.require(Action::Collect)?;
    let path = hub.config.data_dir.join("sources.toml");
    if !path.is_file() {
        return Err(Problem::not_found(
            "no sources are configured (sources.toml in the data directory)",
        ));
    }
    let specs =
        vigil_store::collect::load_sources(&path).map_err(|e| Problem::internal(e.to_string()))?;
    if !specs.iter().any(|s| s.name == name) {
        return Err(Problem::not_found(format!(
            "{name}: no such source in sources.toml"
        )));
    }
    let results = hub.collect(specs, vec![name], true).await?;
    let failed = results.iter().any(|r| !r.ok);
    let status = if failed {
        StatusCode::BAD_GATEWAY
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({"results": results}))).into_response())
}

// ---- sightings and alerts ----

async fn report_sightings(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Body(body): Body,
) -> Result<Response, Problem> {
    caller.require(Action::ReportSightings)?;
    let out = sightings::report(&hub, &caller.principal, &body).await?;
    Ok(Json(out).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertParams {
    since: Option<String>,
    limit: Option<usize>,
}

async fn alerts(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Query(p): Query<AlertParams>,
) -> Result<Response, Problem> {
    caller.require(Action::ReadIntel)?;
    let limits = &hub.config.limits;
    let limit = page_limit(p.limit, limits.page_size, limits.max_page_size)?;
    let since = parse_time("since", p.since.as_deref())?.unwrap_or(0);
    let max = caller.principal.max_tlp;
    let mut rows = hub.pool.read(move |s| Ok(s.alerts(since, max)?)).await?;
    // Newest first, one page.
    rows.reverse();
    rows.truncate(limit);
    Ok(Json(json!({"items": rows})).into_response())
}

// ---- feeds, validation, stats ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedParams {
    #[serde(rename = "type")]
    kind: Option<String>,
    min_confidence: Option<u8>,
    max_tlp: Option<String>,
    since: Option<String>,
    source: Option<String>,
}

async fn feed(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Path(format): Path<String>,
    Query(p): Query<FeedParams>,
) -> Result<Response, Problem> {
    caller.require(Action::ReadIntel)?;
    let format: ExportFormat = format.parse().map_err(|e: String| Problem::not_found(e))?;
    if format == ExportFormat::Misp {
        return Err(Problem::not_found(
            "misp feeds are folders; use `vigil intel export --format misp` or TAXII",
        ));
    }
    if p.min_confidence.is_some_and(|c| c > 100) {
        return Err(Problem::bad_request("min_confidence must be 0-100"));
    }
    let req = ExportRequest {
        format,
        types: p
            .kind
            .as_deref()
            .map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        min_confidence: p.min_confidence.unwrap_or(0),
        // The export ceiling is the caller's clearance, or narrower if asked; never wider.
        max_tlp: ceiling(&caller, parse_tlp("max_tlp", p.max_tlp.as_deref())?),
        since: parse_time("since", p.since.as_deref())?,
        sources: p.source.into_iter().collect(),
        now: hub.now(),
    };
    let export = hub
        .pool
        .read(move |s| match export::export(s, &req) {
            Ok(e) => Ok(e),
            Err(ExportError::Request(m)) => Err(Problem::bad_request(m)),
            Err(ExportError::Store(e)) => Err(e.into()),
        })
        .await?;
    let Export::File { body, meta, .. } = export else {
        return Err(Problem::internal("folder export from a file format"));
    };
    let ctype = match format {
        ExportFormat::Stix => "application/stix+json;version=2.1",
        ExportFormat::Csv => "text/csv; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", meta.content_hash)) {
        headers.insert(header::ETAG, v);
    }
    headers.insert("x-vigil-feed-count", HeaderValue::from(meta.count as u64));
    headers.insert(
        "x-vigil-feed-omitted",
        HeaderValue::from(meta.omitted as u64),
    );
    Ok((headers, body).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidateParams {
    for_region: Option<String>,
    region_max_tlp: Option<String>,
    reliability: Option<String>,
}

async fn validate_doc(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Query(p): Query<ValidateParams>,
    Body(body): Body,
) -> Result<Response, Problem> {
    caller.require(Action::ReadIntel)?;
    let region = match p.for_region {
        Some(r) => Some(RegionPolicy {
            region: r,
            max_tlp: parse_tlp("region_max_tlp", p.region_max_tlp.as_deref())?
                .unwrap_or(Tlp::Amber),
        }),
        None => None,
    };
    let (reliability, credibility) = match p.reliability.as_deref() {
        None => (None, None),
        Some(g) => {
            let (r, c) = vigil_store::collect::parse_admiralty(g)
                .map_err(|e| Problem::bad_request(format!("reliability: {e}")))?;
            (Some(r), c)
        }
    };
    let now = hub.now();
    let screen = hub.screen.clone();
    let report = hub
        .pool
        .read(move |s| {
            // Only objects the caller may see count as known, so a reference check cannot be
            // used to probe for withheld ids.
            let known = |id: &str| {
                s.object(id)
                    .ok()
                    .flatten()
                    .is_some_and(|o| caller.principal.cleared_for(o.tlp))
            };
            let opts = ValidateOptions {
                now,
                screen: screen.as_deref().map(|s| s as &dyn FalsePositiveScreen),
                region,
                reliability,
                credibility,
                known_ids: Some(&known),
            };
            validate::validate_json("request body", &body, &opts)
                .map_err(|e| Problem::bad_request(e.to_string()))
        })
        .await?;
    Ok(Json(report).into_response())
}

async fn stats(State(hub): State<Arc<Hub>>, caller: Caller) -> Result<Response, Problem> {
    caller.require(Action::ReadIntel)?;
    let max = caller.principal.max_tlp;
    let mut st = hub.pool.read(move |s| Ok(s.stats_within(max)?)).await?;
    // The server's file layout is not the caller's business.
    st.path.clear();
    let snap = hub.decisions.snapshot();
    let decisions = snap
        .decisions
        .values()
        .filter(|e| caller.principal.cleared_for(e.decision.tlp))
        .count();
    Ok(Json(json!({
        "region": hub.config.region,
        "clearance": max,
        "store": st,
        "decisions": decisions,
    }))
    .into_response())
}

// ---- tokens ----

async fn list_tokens(State(hub): State<Arc<Hub>>, caller: Caller) -> Result<Response, Problem> {
    caller.require(Action::ManageTokens)?;
    let list = hub.pool.read(|s| Ok(s.tokens()?)).await?;
    Ok(Json(json!({"items": list})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    role: String,
    max_tlp: Option<String>,
    region: Option<String>,
}

async fn create_token(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Body(body): Body,
) -> Result<Response, Problem> {
    caller.require(Action::ManageTokens)?;
    let t: NewToken = parse_json("request body", &body)?;
    let role: Role = t
        .role
        .parse()
        .map_err(|e: vigil_model::access::UnknownRole| Problem::bad_request(e.to_string()))?;
    let max_tlp = parse_tlp("max_tlp", t.max_tlp.as_deref())?;
    if let Some(r) = &t.region {
        vigil_store::check_region(r).map_err(|e| Problem::bad_request(format!("region: {e}")))?;
    }
    let now = hub.now();
    let name = t.name.clone();
    let token = hub
        .pool
        .write(move |s| {
            s.create_token(&t.name, role, max_tlp, t.region.as_deref(), now)
                .map_err(|e| {
                    use vigil_store::tokens::TokenError as E;
                    match e {
                        E::Store(e) => Problem::from(e),
                        E::Exists(_) => {
                            Problem::new(StatusCode::CONFLICT, "Conflict", e.to_string())
                        }
                        E::BadName => Problem::bad_request(e.to_string()),
                        other => Problem::internal(other),
                    }
                })
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"name": name, "role": role, "token": token})),
    )
        .into_response())
}

async fn revoke_token(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Response, Problem> {
    caller.require(Action::ManageTokens)?;
    let now = hub.now();
    hub.pool
        .write(move |s| {
            s.revoke_token(&name, now).map_err(|e| match e {
                vigil_store::tokens::TokenError::Store(e) => Problem::from(e),
                other => Problem::not_found(other.to_string()),
            })
        })
        .await?;
    hub.tokens.clear();
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_400() {
        let c = encode_cursor("domain", "evil.example");
        assert_eq!(
            decode_cursor(&c).unwrap(),
            ("domain".to_string(), "evil.example".to_string())
        );
        assert_eq!(decode_cursor("!!").unwrap_err().status, 400);
        assert_eq!(decode_cursor("YWJj").unwrap_err().status, 400);
    }

    #[test]
    fn page_limits_stay_within_the_configured_bounds() {
        assert_eq!(page_limit(None, 100, 1000).unwrap(), 100);
        assert_eq!(page_limit(Some(5), 100, 1000).unwrap(), 5);
        assert_eq!(page_limit(Some(0), 100, 1000).unwrap_err().status, 400);
        assert_eq!(page_limit(Some(1001), 100, 1000).unwrap_err().status, 400);
    }

    #[test]
    fn kinds_and_tlps_parse_or_name_what_was_expected() {
        assert_eq!(
            parse_kinds(Some("ip, domain")).unwrap(),
            vec![IndicatorType::Ip, IndicatorType::Domain]
        );
        let e = parse_kinds(Some("ipv9")).unwrap_err();
        assert!(e.detail.unwrap().contains("expected one of"));
        assert!(parse_tlp("max_tlp", Some("purple")).is_err());
        assert_eq!(
            parse_tlp("max_tlp", Some("amber")).unwrap(),
            Some(Tlp::Amber)
        );
        assert_eq!(
            parse_time("since", Some("2024-05-01")).unwrap(),
            Some(1714521600)
        );
    }
}
