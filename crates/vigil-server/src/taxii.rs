//! TAXII 2.1 under `/taxii2/`: discovery, the region's API root, its two collections (the
//! region's own intel and what partners contribute), objects, manifests, versions, and the
//! status of posted envelopes.
//!
//! Handlers authorise, parse the request into a [`PageQuery`] with the pure functions below,
//! run one SQL page query (`vigil_store::taxii`), and render. The caller's TLP clearance is a
//! predicate of that query, so everything derived from a page (objects, manifest entries,
//! versions, `more`, `next`, the `X-TAXII-Date-Added-*` headers) only ever reflects what the
//! caller may see; an object the caller may not see answers 404, like one that does not exist.
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use uuid::Uuid;
use vigil_intel::ingest::InputFormat;
use vigil_intel::timestamp;
use vigil_model::access::Action;
use vigil_store::taxii::{Page, PageQuery, VersionMatch};
use vigil_store::{SourceInfo, INTEL_COLLECTION, PARTNER_COLLECTION};

use crate::auth::Caller;
use crate::extract::{Body, Query};
use crate::hub::{Hub, ImportRequest};
use crate::problem::{Problem, TAXII_JSON};

/// The media type of the STIX objects the collections hold.
const STIX_MEDIA: &str = "application/stix+json;version=2.1";
/// Status resources kept for `GET …/status/{id}/`; the oldest are forgotten first.
const MAX_STATUSES: usize = 1024;
/// What `next` tokens start with, so a later format can be told apart.
const NEXT_PREFIX: &str = "a";

pub fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/taxii2", get(discovery))
        .route("/taxii2/", get(discovery))
        .route("/taxii2/{root}/", get(api_root))
        .route("/taxii2/{root}/collections/", get(collections))
        .route("/taxii2/{root}/collections/{id}/", get(collection))
        .route(
            "/taxii2/{root}/collections/{id}/objects/",
            get(get_objects).post(add_objects),
        )
        .route(
            "/taxii2/{root}/collections/{id}/objects/{object_id}/",
            get(get_object),
        )
        .route(
            "/taxii2/{root}/collections/{id}/objects/{object_id}/versions/",
            get(get_versions),
        )
        .route(
            "/taxii2/{root}/collections/{id}/manifest/",
            get(get_manifest),
        )
        // taxii2-client builds the status URL without the trailing slash.
        .route("/taxii2/{root}/status/{status_id}/", get(get_status))
        .route("/taxii2/{root}/status/{status_id}", get(get_status))
}

/// TAXII state kept by the hub: status resources of POSTed envelopes (in memory, bounded).
#[derive(Default)]
pub struct TaxiiState {
    statuses: Mutex<VecDeque<StoredStatus>>,
}

struct StoredStatus {
    id: String,
    /// Only the caller who posted the envelope may read its status (it names object ids).
    owner: String,
    body: Value,
}

impl TaxiiState {
    fn put(&self, s: StoredStatus) {
        let mut q = self.statuses.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() >= MAX_STATUSES {
            q.pop_front();
        }
        q.push_back(s);
    }

    fn get(&self, id: &str, owner: &str) -> Option<Value> {
        let q = self.statuses.lock().unwrap_or_else(|p| p.into_inner());
        q.iter()
            .find(|s| s.id == id && s.owner == owner)
            .map(|s| s.body.clone())
    }
}

// ---- pure parts ----------------------------------------------------------------------------

/// One of the two collections of a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collection {
    Intel,
    Partner,
}

impl Collection {
    pub const ALL: [Collection; 2] = [Collection::Intel, Collection::Partner];

    /// The store's `collection` column.
    pub fn name(self) -> &'static str {
        match self {
            Collection::Intel => INTEL_COLLECTION,
            Collection::Partner => PARTNER_COLLECTION,
        }
    }

    /// A fixed id: UUIDv5 of region and collection name, the same on every run and host.
    pub fn id(self, region: &str) -> String {
        Uuid::new_v5(
            &Uuid::NAMESPACE_URL,
            format!("vigil:taxii:{region}:{}", self.name()).as_bytes(),
        )
        .to_string()
    }

    pub fn by_id(region: &str, id: &str) -> Option<Collection> {
        Collection::ALL.into_iter().find(|c| c.id(region) == id)
    }

    fn title(self, region: &str) -> String {
        match self {
            Collection::Intel => format!("{region} intel"),
            Collection::Partner => format!("{region} partner contributions"),
        }
    }

    /// The action writing needs: the region's own intel is curated, partners contribute.
    pub fn write_action(self) -> Action {
        match self {
            Collection::Intel => Action::WriteIntel,
            Collection::Partner => Action::Contribute,
        }
    }
}

/// Whether an `Accept` header admits TAXII 2.1 JSON. Absent means anything.
pub fn accepts_taxii(accept: Option<&str>) -> bool {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return true;
    };
    accept.split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let params: Vec<(String, String)> = parts
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| {
                (
                    k.trim().to_ascii_lowercase(),
                    v.trim().trim_matches('"').to_string(),
                )
            })
            .collect();
        let q_zero = params
            .iter()
            .any(|(k, v)| k == "q" && v.parse::<f32>().is_ok_and(|q| q == 0.0));
        let version_ok = params.iter().all(|(k, v)| k != "version" || v == "2.1");
        !q_zero
            && match media.as_str() {
                "application/taxii+json" => version_ok,
                "*/*" | "application/*" => true,
                _ => false,
            }
    })
}

/// Whether a POST's `Content-Type` is TAXII 2.1 JSON (with or without the version).
pub fn is_taxii_content(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return false;
    };
    let mut parts = ct.split(';').map(str::trim);
    let media_ok = parts
        .next()
        .is_some_and(|m| m.eq_ignore_ascii_case("application/taxii+json"));
    media_ok
        && parts.all(|p| match p.split_once('=') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("version") => {
                v.trim().trim_matches('"') == "2.1"
            }
            _ => true,
        })
}

/// Microseconds since the epoch as a TAXII timestamp with microseconds.
pub fn format_micros(us: i64) -> String {
    format!(
        "{}.{:06}Z",
        timestamp::format_seconds(us.div_euclid(1_000_000)),
        us.rem_euclid(1_000_000)
    )
}

/// An RFC 3339 timestamp as microseconds since the epoch (digits past the sixth are dropped).
pub fn parse_micros(s: &str) -> Option<i64> {
    let secs = timestamp::parse_rfc3339(s).ok()?;
    // parse_rfc3339 is strict, so a fraction can only follow the seconds at byte 19.
    let frac = match s.as_bytes().get(19) {
        Some(b'.') => s
            .get(20..)
            .unwrap_or_default()
            .bytes()
            .take_while(u8::is_ascii_digit)
            .chain(std::iter::repeat(b'0'))
            .take(6)
            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')),
        _ => 0,
    };
    secs.checked_mul(1_000_000)?.checked_add(frac)
}

/// The `next` token of a page that ends at `added` (stateless: it is a cursor, not a session,
/// and carries nothing but the position, so it cannot widen what the caller sees).
pub fn next_token(added: i64) -> String {
    format!("{NEXT_PREFIX}{added}")
}

pub fn parse_next(token: &str) -> Option<i64> {
    token.strip_prefix(NEXT_PREFIX)?.parse().ok()
}

/// Which endpoint a query is for: it decides the default `match[version]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Objects,
    Manifest,
    Object,
    Versions,
}

/// Parses TAXII query parameters (`added_after`, `limit`, `next`, `match[type|id|spec_version|
/// version]`) into a page query. Errors name the parameter and what was expected.
pub fn parse_query(
    pairs: &[(String, String)],
    endpoint: Endpoint,
    default_limit: usize,
    max_limit: usize,
) -> Result<ParsedQuery, String> {
    let mut q = ParsedQuery {
        after: None,
        limit: default_limit.clamp(1, max_limit.max(1)),
        types: vec![],
        ids: vec![],
        spec_versions: vec![],
        versions: match endpoint {
            Endpoint::Versions => VersionMatch::all(),
            _ => VersionMatch::last(),
        },
    };
    let list = |v: &str| -> Vec<String> {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut added_after = None;
    let mut next = None;
    for (k, v) in pairs {
        match k.as_str() {
            "added_after" => {
                added_after = Some(parse_micros(v).ok_or_else(|| {
                    format!("added_after {v:?}: expected an RFC 3339 timestamp such as 2024-05-01T12:00:00.000000Z")
                })?);
            }
            "limit" => {
                let n: usize = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("limit {v:?}: expected a positive integer"))?;
                q.limit = n.min(max_limit.max(1));
            }
            "next" => {
                next = Some(parse_next(v).ok_or_else(|| {
                    format!("next {v:?}: not a token this server issued (use the `next` of the previous page)")
                })?);
            }
            "match[type]" => q.types = list(v),
            "match[id]" => q.ids = list(v),
            "match[spec_version]" => q.spec_versions = list(v),
            "match[version]" => {
                let mut m = VersionMatch::default();
                for item in list(v) {
                    match item.as_str() {
                        "all" => m.all = true,
                        "first" => m.first = true,
                        "last" => m.last = true,
                        t if timestamp::parse_rfc3339(t).is_ok() => m.at.push(t.to_string()),
                        t => {
                            return Err(format!(
                                "match[version] {t:?}: expected first, last, all or an RFC 3339 timestamp"
                            ))
                        }
                    }
                }
                q.versions = m;
            }
            k if k.starts_with("match[") => {
                return Err(format!(
                    "{k}: unsupported filter (supported: match[type], match[id], match[spec_version], match[version])"
                ))
            }
            // Unknown parameters are not filters; ignoring them is what HTTP servers do.
            _ => {}
        }
    }
    q.after = match (added_after, next) {
        (Some(a), Some(n)) => Some(a.max(n)),
        (a, n) => a.or(n),
    };
    Ok(q)
}

/// A parsed query, before the collection and clearance are added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedQuery {
    pub after: Option<i64>,
    pub limit: usize,
    pub types: Vec<String>,
    pub ids: Vec<String>,
    pub spec_versions: Vec<String>,
    pub versions: VersionMatch,
}

/// The index in the envelope of a skipped object (`TAXII envelope: objects[3].pattern`).
pub fn skipped_index(location: &str) -> Option<usize> {
    let rest = &location[location.find("objects[")? + "objects[".len()..];
    rest.get(..rest.find(']')?)?.parse().ok()
}

/// Builds the status resource of an envelope: one success per stored-or-present object, one
/// failure (with the validator's reasons) per skipped object.
pub fn status_resource(
    id: &str,
    request_timestamp: &str,
    objects: &[Value],
    skipped: &[String],
) -> Value {
    let mut reasons: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for s in skipped {
        if let Some(i) = skipped_index(s) {
            reasons.entry(i).or_default().push(s.as_str());
        }
    }
    let detail = |o: &Value| {
        let field = |k: &str| o.get(k).and_then(Value::as_str);
        json!({
            "id": field("id").unwrap_or_default(),
            "version": field("modified").or(field("created")).unwrap_or(request_timestamp),
        })
    };
    let (mut successes, mut failures) = (Vec::new(), Vec::new());
    for (i, o) in objects.iter().enumerate() {
        let mut d = detail(o);
        match reasons.get(&i) {
            Some(r) => {
                d["message"] = Value::String(r.join("; "));
                failures.push(d);
            }
            None => successes.push(d),
        }
    }
    let mut status = json!({
        "id": id,
        "status": "complete",
        "request_timestamp": request_timestamp,
        "total_count": objects.len(),
        "success_count": successes.len(),
        "failure_count": failures.len(),
        "pending_count": 0,
    });
    if !successes.is_empty() {
        status["successes"] = Value::Array(successes);
    }
    if !failures.is_empty() {
        status["failures"] = Value::Array(failures);
    }
    status
}

/// The date-added headers of a page (absent for an empty one).
fn date_headers(page: &Page) -> Vec<(&'static str, String)> {
    match (page.rows.first(), page.rows.last()) {
        (Some(f), Some(l)) => vec![
            ("X-TAXII-Date-Added-First", format_micros(f.added)),
            ("X-TAXII-Date-Added-Last", format_micros(l.added)),
        ],
        _ => vec![],
    }
}

/// `more` and, when there is more, `next`, as the start of a JSON object body.
fn paging_fields(page: &Page) -> String {
    match (page.more, page.rows.last()) {
        (true, Some(last)) => format!("\"more\":true,\"next\":\"{}\"", next_token(last.added)),
        _ => "\"more\":false".to_string(),
    }
}

// ---- handlers ------------------------------------------------------------------------------

fn taxii_response(
    status: StatusCode,
    body: String,
    headers: Vec<(&'static str, String)>,
) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(TAXII_JSON));
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    resp
}

fn ok_json(v: &Value) -> Response {
    taxii_response(StatusCode::OK, v.to_string(), vec![])
}

/// The 406 for an `Accept` the server cannot answer.
fn check_accept(caller: &Caller, headers: &HeaderMap) -> Result<(), Problem> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    if accepts_taxii(accept) {
        Ok(())
    } else {
        Err(caller.problem(Problem::not_acceptable(format!(
            "Accept {:?}: this server answers {TAXII_JSON}",
            accept.unwrap_or_default()
        ))))
    }
}

fn check_root(hub: &Hub, caller: &Caller, root: &str) -> Result<(), Problem> {
    if root == hub.config.region {
        Ok(())
    } else {
        Err(caller.problem(Problem::not_found(format!(
            "no API root {root:?}; this hub serves /taxii2/{}/",
            hub.config.region
        ))))
    }
}

/// The collection of a request, if it exists and the caller may read or write it.
fn find_collection(
    hub: &Hub,
    caller: &Caller,
    root: &str,
    id: &str,
) -> Result<Collection, Problem> {
    check_root(hub, caller, root)?;
    Collection::by_id(&hub.config.region, id)
        .filter(|c| {
            caller.principal.may(Action::ReadIntel) || caller.principal.may(c.write_action())
        })
        .ok_or_else(|| {
            caller.problem(Problem::not_found(format!(
                "no collection {id:?} in API root {root:?}"
            )))
        })
}

fn collection_resource(hub: &Hub, caller: &Caller, c: Collection) -> Value {
    json!({
        "id": c.id(&hub.config.region),
        "title": c.title(&hub.config.region),
        "description": match c {
            Collection::Intel => "The region's curated threat intelligence.",
            Collection::Partner => "STIX objects contributed by partner organisations.",
        },
        "can_read": caller.principal.may(Action::ReadIntel),
        "can_write": caller.principal.may(c.write_action()),
        "media_types": [STIX_MEDIA],
    })
}

async fn discovery(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    check_accept(&caller, &headers)?;
    let root = format!("/taxii2/{}/", hub.config.region);
    Ok(ok_json(&json!({
        "title": format!("Vigil region hub {}", hub.config.region),
        "description": "TAXII 2.1 server of a Vigil region hub.",
        "default": root,
        "api_roots": [root],
    })))
}

async fn api_root(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    headers: HeaderMap,
    Path(root): Path<String>,
) -> Result<Response, Problem> {
    check_accept(&caller, &headers)?;
    check_root(&hub, &caller, &root)?;
    Ok(ok_json(&json!({
        "title": format!("{} intel", hub.config.region),
        "description": "The region's intel and the partner collection.",
        "versions": [TAXII_JSON],
        "max_content_length": hub.config.limits.max_body_bytes,
    })))
}

async fn collections(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    headers: HeaderMap,
    Path(root): Path<String>,
) -> Result<Response, Problem> {
    check_accept(&caller, &headers)?;
    check_root(&hub, &caller, &root)?;
    let list: Vec<Value> = Collection::ALL
        .into_iter()
        .map(|c| collection_resource(&hub, &caller, c))
        .filter(|c| c["can_read"] == true || c["can_write"] == true)
        .collect();
    Ok(ok_json(&json!({ "collections": list })))
}

async fn collection(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
) -> Result<Response, Problem> {
    check_accept(&caller, &headers)?;
    let c = find_collection(&hub, &caller, &root, &id)?;
    Ok(ok_json(&collection_resource(&hub, &caller, c)))
}

/// What a read asks for, from its path and query.
struct PageRequest<'a> {
    root: &'a str,
    collection: &'a str,
    pairs: &'a [(String, String)],
    endpoint: Endpoint,
    /// The object of the object and versions endpoints.
    object_id: Option<&'a str>,
}

/// Authorises a read, parses the query and runs one page.
async fn read_page(
    hub: &Arc<Hub>,
    caller: &Caller,
    headers: &HeaderMap,
    req: PageRequest<'_>,
) -> Result<Page, Problem> {
    let PageRequest {
        root,
        collection: id,
        pairs,
        endpoint,
        object_id,
    } = req;
    check_accept(caller, headers)?;
    let c = find_collection(hub, caller, root, id)?;
    caller.require(Action::ReadIntel)?;
    let limits = &hub.config.limits;
    let parsed = parse_query(pairs, endpoint, limits.page_size, limits.max_page_size)
        .map_err(|e| caller.problem(Problem::bad_request(e)))?;
    let mut ids = parsed.ids;
    if let Some(o) = object_id {
        ids = vec![o.to_string()];
    }
    let q = PageQuery {
        collection: c.name().to_string(),
        max_tlp: caller.principal.max_tlp,
        after: parsed.after,
        types: parsed.types,
        ids,
        spec_versions: parsed.spec_versions,
        versions: parsed.versions,
        limit: parsed.limit,
        with_json: matches!(endpoint, Endpoint::Objects | Endpoint::Object),
    };
    let flavor = caller.flavor;
    let page = hub
        .pool
        .read(move |s| Ok(s.taxii_page(&q)?))
        .await
        .map_err(|p| p.with_flavor(flavor))?;
    hub.metrics
        .add("taxii_objects_served", page.rows.len() as u64);
    Ok(page)
}

/// An envelope: the stored JSON is spliced in as is, never parsed again.
fn envelope(page: &Page) -> String {
    let mut body = String::with_capacity(
        64 + page
            .rows
            .iter()
            .map(|r| r.json.as_ref().map_or(0, String::len) + 1)
            .sum::<usize>(),
    );
    body.push('{');
    body.push_str(&paging_fields(page));
    if !page.rows.is_empty() {
        body.push_str(",\"objects\":[");
        for (i, r) in page.rows.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(r.json.as_deref().unwrap_or("{}"));
        }
        body.push(']');
    }
    body.push('}');
    body
}

async fn get_objects(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, Problem> {
    let page = read_page(
        &hub,
        &caller,
        &headers,
        PageRequest {
            root: &root,
            collection: &id,
            pairs: &pairs,
            endpoint: Endpoint::Objects,
            object_id: None,
        },
    )
    .await?;
    Ok(taxii_response(
        StatusCode::OK,
        envelope(&page),
        date_headers(&page),
    ))
}

/// The page of one object (by id or its versions); 404 when the caller sees none of it and
/// asked for no filter that could explain an empty answer.
async fn read_object_page(
    hub: &Arc<Hub>,
    caller: &Caller,
    headers: &HeaderMap,
    [root, id, object_id]: [&str; 3],
    pairs: &[(String, String)],
    endpoint: Endpoint,
) -> Result<Page, Problem> {
    let page = read_page(
        hub,
        caller,
        headers,
        PageRequest {
            root,
            collection: id,
            pairs,
            endpoint,
            object_id: Some(object_id),
        },
    )
    .await?;
    if page.rows.is_empty() && pairs.is_empty() {
        return Err(caller.problem(Problem::not_found(format!(
            "no object {object_id:?} in collection {id:?}"
        ))));
    }
    Ok(page)
}

async fn get_object(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    headers: HeaderMap,
    Path((root, id, object_id)): Path<(String, String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, Problem> {
    let page = read_object_page(
        &hub,
        &caller,
        &headers,
        [&root, &id, &object_id],
        &pairs,
        Endpoint::Object,
    )
    .await?;
    Ok(taxii_response(
        StatusCode::OK,
        envelope(&page),
        date_headers(&page),
    ))
}

/// A manifest entry's or version list's version: `modified`, else `created`, else date added.
fn version_of(r: &vigil_store::taxii::PageRow) -> String {
    r.version.clone().unwrap_or_else(|| format_micros(r.added))
}

async fn get_versions(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    headers: HeaderMap,
    Path((root, id, object_id)): Path<(String, String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, Problem> {
    let page = read_object_page(
        &hub,
        &caller,
        &headers,
        [&root, &id, &object_id],
        &pairs,
        Endpoint::Versions,
    )
    .await?;
    let versions: Vec<String> = page.rows.iter().map(version_of).collect();
    let mut body = format!("{{{}", paging_fields(&page));
    if !versions.is_empty() {
        body.push_str(",\"versions\":");
        body.push_str(&Value::from(versions).to_string());
    }
    body.push('}');
    Ok(taxii_response(StatusCode::OK, body, date_headers(&page)))
}

async fn get_manifest(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, Problem> {
    let page = read_page(
        &hub,
        &caller,
        &headers,
        PageRequest {
            root: &root,
            collection: &id,
            pairs: &pairs,
            endpoint: Endpoint::Manifest,
            object_id: None,
        },
    )
    .await?;
    let entries: Vec<Value> = page
        .rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "date_added": format_micros(r.added),
                "version": version_of(r),
                "media_type": STIX_MEDIA,
            })
        })
        .collect();
    let mut body = format!("{{{}", paging_fields(&page));
    if !entries.is_empty() {
        body.push_str(",\"objects\":");
        body.push_str(&Value::from(entries).to_string());
    }
    body.push('}');
    Ok(taxii_response(StatusCode::OK, body, date_headers(&page)))
}

async fn add_objects(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    headers: HeaderMap,
    Path((root, id)): Path<(String, String)>,
    Body(body): Body,
) -> Result<Response, Problem> {
    let c = find_collection(&hub, &caller, &root, &id)?;
    caller.require(c.write_action())?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !is_taxii_content(ct) {
        return Err(caller.problem(Problem::unsupported_media_type(format!(
            "Content-Type {:?}: send a TAXII envelope as {TAXII_JSON}",
            ct.unwrap_or_default()
        ))));
    }
    check_accept(&caller, &headers)?;
    let bad = |m: String| caller.problem(Problem::bad_request(m));
    let envelope: Value =
        crate::extract::json("TAXII envelope", &body).map_err(|p| caller.problem(p))?;
    let objects = match envelope.get("objects") {
        Some(Value::Array(a)) if !a.is_empty() => a.clone(),
        Some(Value::Array(_)) => return Err(bad("TAXII envelope: objects is empty".into())),
        Some(_) => {
            return Err(bad(
                "TAXII envelope: objects must be an array of STIX objects".into(),
            ))
        }
        None => {
            return Err(bad(
                "TAXII envelope: expected {\"objects\": [...]} (no objects property)".into(),
            ))
        }
    };
    // The import reads STIX bundles; the envelope's objects become one.
    let bundle = json!({
        "type": "bundle",
        "id": format!("bundle--{}", Uuid::new_v4()),
        "objects": objects,
    });
    let now = hub.now();
    let request_timestamp = timestamp::format_rfc3339(now);
    let outcome = hub
        .import(ImportRequest {
            name: "TAXII envelope".into(),
            bytes: serde_json::to_vec(&bundle).map_err(Problem::internal)?,
            format: InputFormat::Stix,
            source: SourceInfo {
                name: format!("taxii:{}", caller.principal.name),
                reliability: None,
                credibility: None,
                tlp: caller.principal.max_tlp,
                confidence: 50,
            },
            collection: Some(c.name().to_string()),
            skip_invalid: true,
        })
        .await
        .map_err(|p| caller.problem(p))?;
    let status_id = Uuid::new_v4().to_string();
    let status = status_resource(&status_id, &request_timestamp, &objects, &outcome.skipped);
    hub.taxii.put(StoredStatus {
        id: status_id,
        owner: caller.principal.name.clone(),
        body: status.clone(),
    });
    Ok(taxii_response(
        StatusCode::ACCEPTED,
        status.to_string(),
        vec![],
    ))
}

async fn get_status(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    headers: HeaderMap,
    Path((root, status_id)): Path<(String, String)>,
) -> Result<Response, Problem> {
    check_accept(&caller, &headers)?;
    check_root(&hub, &caller, &root)?;
    hub.taxii
        .get(&status_id, &caller.principal.name)
        .map(|s| ok_json(&s))
        .ok_or_else(|| caller.problem(Problem::not_found(format!("no status {status_id:?}"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn collection_ids_are_fixed_per_region_and_name() {
        let a = Collection::Intel.id("eu-west");
        assert_eq!(a, Collection::Intel.id("eu-west"));
        assert_ne!(a, Collection::Partner.id("eu-west"));
        assert_ne!(a, Collection::Intel.id("us-east"));
        assert_eq!(Collection::by_id("eu-west", &a), Some(Collection::Intel));
        assert_eq!(Collection::by_id("us-east", &a), None);
        assert_eq!(Uuid::parse_str(&a).unwrap().get_version_num(), 5);
    }

    #[test]
    fn accept_admits_taxii_21_with_or_without_version_and_wildcards() {
        for ok in [
            None,
            Some("application/taxii+json;version=2.1"),
            Some("application/taxii+json"),
            Some("application/taxii+json; version=2.1"),
            Some("text/html, */*;q=0.8"),
            Some("application/*"),
        ] {
            assert!(accepts_taxii(ok), "{ok:?}");
        }
        for bad in [
            Some("application/taxii+json;version=2.0"),
            Some("application/json"),
            Some("text/html"),
            Some("application/taxii+json;q=0"),
        ] {
            assert!(!accepts_taxii(bad), "{bad:?}");
        }
        assert!(is_taxii_content(Some("application/taxii+json;version=2.1")));
        assert!(is_taxii_content(Some("application/taxii+json")));
        assert!(!is_taxii_content(Some("application/json")));
        assert!(!is_taxii_content(Some(
            "application/taxii+json;version=2.0"
        )));
        assert!(!is_taxii_content(None));
    }

    #[test]
    fn timestamps_keep_microseconds_both_ways() {
        let us = 1_714_564_800_123_456;
        assert_eq!(format_micros(us), "2024-05-01T12:00:00.123456Z");
        assert_eq!(parse_micros("2024-05-01T12:00:00.123456Z"), Some(us));
        assert_eq!(parse_micros("2024-05-01T12:00:00.1234569Z"), Some(us));
        assert_eq!(parse_micros("2024-05-01T12:00:00Z"), Some(us - 123_456));
        assert_eq!(
            parse_micros("2024-05-01T14:00:00.5+02:00"),
            Some(us - 123_456 + 500_000)
        );
        assert_eq!(parse_micros("yesterday"), None);
    }

    proptest! {
        #[test]
        fn format_and_parse_of_microseconds_round_trip(us in 0i64..4_102_444_800_000_000) {
            prop_assert_eq!(parse_micros(&format_micros(us)), Some(us));
        }

        #[test]
        fn next_tokens_round_trip(added in any::<i64>()) {
            prop_assert_eq!(parse_next(&next_token(added)), Some(added));
        }
    }

    #[test]
    fn queries_parse_with_endpoint_defaults_and_clamped_limits() {
        let q = parse_query(&[], Endpoint::Objects, 100, 1000).unwrap();
        assert_eq!(
            (q.limit, q.after, q.versions.clone()),
            (100, None, VersionMatch::last())
        );
        let v = parse_query(&[], Endpoint::Versions, 100, 1000).unwrap();
        assert_eq!(v.versions, VersionMatch::all());
        let q = parse_query(
            &pairs(&[
                ("limit", "5000"),
                ("match[type]", "indicator,campaign"),
                ("match[id]", "x--1"),
                ("match[spec_version]", "2.1"),
                ("match[version]", "first,2024-01-01T00:00:00Z"),
                ("added_after", "2024-05-01T12:00:00Z"),
                ("next", &next_token(1_714_564_800_000_001)),
            ]),
            Endpoint::Manifest,
            100,
            1000,
        )
        .unwrap();
        assert_eq!(q.limit, 1000);
        assert_eq!(q.types, ["indicator", "campaign"]);
        assert_eq!(q.ids, ["x--1"]);
        assert!(q.versions.first && !q.versions.last);
        assert_eq!(q.versions.at, ["2024-01-01T00:00:00Z"]);
        // The later of added_after and the cursor wins.
        assert_eq!(q.after, Some(1_714_564_800_000_001));
        for (k, v, says) in [
            ("limit", "0", "limit"),
            ("limit", "ten", "limit"),
            ("added_after", "May 1st", "added_after"),
            ("next", "123", "next"),
            ("match[version]", "newest", "match[version]"),
            ("match[color]", "red", "match[color]"),
        ] {
            let e = parse_query(&pairs(&[(k, v)]), Endpoint::Objects, 100, 1000).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn status_lists_each_object_as_success_or_failure_with_its_reason() {
        let objects = vec![
            json!({"id": "campaign--1", "modified": "2024-01-01T00:00:00.000Z"}),
            json!({"id": "indicator--2", "created": "2024-01-02T00:00:00.000Z"}),
            json!({"id": "ipv4-addr--3"}),
        ];
        let skipped = vec![
            "TAXII envelope: objects[1].pattern: [pattern] bad".to_string(),
            "TAXII envelope: objects[1].valid_from: [required] missing".to_string(),
        ];
        let s = status_resource("s-1", "2024-05-01T00:00:00.000Z", &objects, &skipped);
        assert_eq!(s["total_count"], 3);
        assert_eq!(s["success_count"], 2);
        assert_eq!(s["failure_count"], 1);
        assert_eq!(s["pending_count"], 0);
        assert_eq!(s["failures"][0]["id"], "indicator--2");
        assert_eq!(s["failures"][0]["version"], "2024-01-02T00:00:00.000Z");
        let msg = s["failures"][0]["message"].as_str().unwrap();
        assert!(
            msg.contains("pattern") && msg.contains("valid_from"),
            "{msg}"
        );
        assert_eq!(s["successes"][1]["version"], "2024-05-01T00:00:00.000Z");
        assert_eq!(skipped_index("x: objects[12]"), Some(12));
        assert_eq!(skipped_index("x: [3]"), None);
    }
}
