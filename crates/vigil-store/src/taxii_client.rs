//! Reading a TAXII 2.1 collection: `taxii+https://host/taxii2/ROOT/collections/ID/` (or
//! `taxii+http://`) is fetched page by page, following `next`, from an `added_after`
//! checkpoint, and the objects come back as one STIX document to ingest like any other.
//!
//! The checkpoint is the last `X-TAXII-Date-Added-Last` the server sent: the next run asks only
//! for what was added after it. Credentials come from the environment and are never logged
//! (their `Debug` is redacted).
use std::io::Read as _;
use std::time::Duration;

use serde_json::Value;

pub const TAXII_MEDIA: &str = "application/taxii+json;version=2.1";
/// Objects asked for per request (servers clamp it to their own maximum).
const PAGE_LIMIT: usize = 1000;
/// A collection larger than this many pages is refused rather than fetched forever.
const MAX_PAGES: usize = 100_000;
/// Largest page body read.
const MAX_PAGE_BYTES: u64 = 256 << 20;

/// Env var with a bearer token (default for `vigil intel import taxii+…`).
pub const TOKEN_ENV: &str = "VIGIL_TAXII_TOKEN";
/// Env vars for HTTP Basic credentials, used when no token is set.
pub const USER_ENV: &str = "VIGIL_TAXII_USER";
pub const PASSWORD_ENV: &str = "VIGIL_TAXII_PASSWORD";

#[derive(Debug, thiserror::Error)]
pub enum TaxiiClientError {
    #[error("{url}: not a TAXII collection URL: {message}")]
    Url { url: String, message: String },
    #[error("{url}: HTTP {status}: {message}")]
    Http {
        url: String,
        status: u16,
        message: String,
    },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: response is not a TAXII envelope: {message}")]
    Envelope { url: String, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
}

/// How to authenticate to the server.
#[derive(Clone, PartialEq, Eq)]
pub enum TaxiiAuth {
    Bearer(String),
    Basic { user: String, password: String },
}

impl std::fmt::Debug for TaxiiAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaxiiAuth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            TaxiiAuth::Basic { user, .. } => write!(f, "Basic({user}, <redacted>)"),
        }
    }
}

impl TaxiiAuth {
    fn header(&self) -> String {
        use base64::Engine as _;
        match self {
            TaxiiAuth::Bearer(t) => format!("Bearer {t}"),
            TaxiiAuth::Basic { user, password } => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            ),
        }
    }
}

/// Credentials from the environment: the bearer token in `token_env` (a source's
/// `token_env`, else [`TOKEN_ENV`]), else Basic from [`USER_ENV`] + [`PASSWORD_ENV`], else none.
pub fn auth_from_env(token_env: Option<&str>) -> Result<Option<TaxiiAuth>, TaxiiClientError> {
    let get = |var: &str| std::env::var(var).ok().filter(|v| !v.is_empty());
    match token_env {
        Some(var) => {
            get(var)
                .map(|t| Some(TaxiiAuth::Bearer(t)))
                .ok_or_else(|| TaxiiClientError::Env {
                    var: var.to_string(),
                    message: "not set (token_env names it for this source)".into(),
                })
        }
        None => Ok(match (get(TOKEN_ENV), get(USER_ENV), get(PASSWORD_ENV)) {
            (Some(t), _, _) => Some(TaxiiAuth::Bearer(t)),
            (None, Some(user), Some(password)) => Some(TaxiiAuth::Basic { user, password }),
            _ => None,
        }),
    }
}

/// Whether a location names a TAXII collection (`taxii+http://` or `taxii+https://`).
pub fn is_taxii_url(url: &str) -> bool {
    url.starts_with("taxii+http://") || url.starts_with("taxii+https://")
}

/// The collection's objects endpoint for a `taxii+http(s)://…/collections/ID/` URL.
pub fn objects_url(url: &str) -> Result<String, TaxiiClientError> {
    let bad = |message: &str| TaxiiClientError::Url {
        url: url.to_string(),
        message: message.to_string(),
    };
    let rest = url
        .strip_prefix("taxii+")
        .ok_or_else(|| bad("expected taxii+http:// or taxii+https://"))?;
    if !(rest.starts_with("http://") || rest.starts_with("https://")) {
        return Err(bad("expected taxii+http:// or taxii+https://"));
    }
    if rest.contains('?') || rest.contains('#') {
        return Err(bad("expected no query or fragment"));
    }
    let base = rest.trim_end_matches('/');
    let base = base.strip_suffix("/objects").unwrap_or(base);
    let mut parts = base.rsplitn(3, '/');
    let (id, collections) = (parts.next(), parts.next());
    match (id, collections) {
        (Some(id), Some("collections")) if !id.is_empty() => Ok(format!("{base}/objects/")),
        _ => Err(bad(
            "expected …/taxii2/<api-root>/collections/<collection id>/",
        )),
    }
}

/// What comes after a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NextRequest {
    Done,
    /// Ask again with this `next` (and the same `added_after`).
    Next(String),
    /// The server said `more` without `next`: continue from the last date added (TAXII 2.1
    /// section 3.4, the `added_after` way of paging).
    AddedAfter(String),
}

/// Decides the request after a page from its `more`, `next` and `X-TAXII-Date-Added-Last`.
/// A `next` equal to the previous one, or `more` with neither, would loop forever: done.
pub fn next_request(
    more: bool,
    next: Option<&str>,
    date_added_last: Option<&str>,
    previous_next: Option<&str>,
    previous_after: Option<&str>,
) -> NextRequest {
    if !more {
        return NextRequest::Done;
    }
    match (next.filter(|n| !n.is_empty()), date_added_last) {
        (Some(n), _) if Some(n) != previous_next => NextRequest::Next(n.to_string()),
        (None, Some(last)) if Some(last) != previous_after => {
            NextRequest::AddedAfter(last.to_string())
        }
        _ => NextRequest::Done,
    }
}

/// A whole collection (from the checkpoint on).
#[derive(Debug, Default)]
pub struct Fetched {
    pub objects: Vec<Value>,
    /// The last `X-TAXII-Date-Added-Last` seen: the next checkpoint. `None` when nothing new.
    pub last_added: Option<String>,
    pub pages: usize,
}

impl Fetched {
    /// The objects as a STIX document for `ingest`.
    pub fn to_document(&self) -> Vec<u8> {
        serde_json::to_vec(&self.objects).unwrap_or_default()
    }
}

/// Fetches every object added after `added_after` from the collection at `url`
/// (`taxii+http(s)://…/collections/ID/`).
pub fn fetch_collection(
    url: &str,
    added_after: Option<&str>,
    auth: Option<&TaxiiAuth>,
    timeout: Duration,
) -> Result<Fetched, TaxiiClientError> {
    let endpoint = objects_url(url)?;
    let agent = ureq::AgentBuilder::new().timeout(timeout).build();
    let mut out = Fetched::default();
    let mut after: Option<String> = added_after.map(str::to_string);
    let mut next: Option<String> = None;
    while out.pages < MAX_PAGES {
        let mut req = agent
            .get(&endpoint)
            .set("Accept", TAXII_MEDIA)
            .set("User-Agent", concat!("vigil/", env!("CARGO_PKG_VERSION")))
            .query("limit", &PAGE_LIMIT.to_string());
        if let Some(a) = &after {
            req = req.query("added_after", a);
        }
        if let Some(n) = &next {
            req = req.query("next", n);
        }
        if let Some(a) = auth {
            req = req.set("Authorization", &a.header());
        }
        let resp = match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(status, r)) => {
                // TAXII errors carry a title and description; show them, not the raw body.
                let body: Value =
                    serde_json::from_reader(r.into_reader().take(1 << 20)).unwrap_or(Value::Null);
                let message = ["title", "description"]
                    .iter()
                    .filter_map(|k| body.get(*k).and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(": ");
                return Err(TaxiiClientError::Http {
                    url: endpoint,
                    status,
                    message,
                });
            }
            Err(e) => {
                return Err(TaxiiClientError::Transport {
                    url: endpoint,
                    message: e.to_string(),
                })
            }
        };
        out.pages += 1;
        let last = resp.header("X-TAXII-Date-Added-Last").map(str::to_string);
        let envelope: Value = serde_json::from_reader(resp.into_reader().take(MAX_PAGE_BYTES))
            .map_err(|e| TaxiiClientError::Envelope {
                url: endpoint.clone(),
                message: e.to_string(),
            })?;
        let Value::Object(mut env) = envelope else {
            return Err(TaxiiClientError::Envelope {
                url: endpoint,
                message: "expected a JSON object".into(),
            });
        };
        match env.remove("objects") {
            Some(Value::Array(objs)) => out.objects.extend(objs),
            None | Some(Value::Null) => {}
            Some(_) => {
                return Err(TaxiiClientError::Envelope {
                    url: endpoint,
                    message: "objects is not an array".into(),
                })
            }
        }
        if last.is_some() {
            out.last_added.clone_from(&last);
        }
        let more = env.get("more").and_then(Value::as_bool).unwrap_or(false);
        let page_next = env.get("next").and_then(Value::as_str);
        match next_request(
            more,
            page_next,
            last.as_deref(),
            next.as_deref(),
            after.as_deref(),
        ) {
            NextRequest::Done => return Ok(out),
            NextRequest::Next(n) => next = Some(n),
            NextRequest::AddedAfter(a) => {
                next = None;
                after = Some(a);
            }
        }
    }
    Err(TaxiiClientError::Envelope {
        url: endpoint,
        message: format!("more than {MAX_PAGES} pages; refusing to continue"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_urls_map_to_their_objects_endpoint() {
        assert_eq!(
            objects_url("taxii+https://hub:7443/taxii2/eu/collections/abc/").unwrap(),
            "https://hub:7443/taxii2/eu/collections/abc/objects/"
        );
        assert_eq!(
            objects_url("taxii+http://h/taxii2/eu/collections/abc").unwrap(),
            "http://h/taxii2/eu/collections/abc/objects/"
        );
        assert_eq!(
            objects_url("taxii+http://h/taxii2/eu/collections/abc/objects/").unwrap(),
            "http://h/taxii2/eu/collections/abc/objects/"
        );
        for bad in [
            "https://h/taxii2/eu/collections/abc/",
            "taxii+ftp://h/taxii2/eu/collections/abc/",
            "taxii+http://h/taxii2/eu/",
            "taxii+http://h/taxii2/eu/collections/abc/?x=1",
        ] {
            let e = objects_url(bad).unwrap_err().to_string();
            assert!(e.starts_with(bad), "{e}");
        }
    }

    #[test]
    fn paging_follows_next_then_added_after_and_never_loops() {
        use NextRequest::*;
        assert_eq!(next_request(false, Some("n"), Some("t"), None, None), Done);
        assert_eq!(
            next_request(true, Some("n1"), Some("t"), None, None),
            Next("n1".into())
        );
        // The same `next` twice would fetch the same page forever.
        assert_eq!(
            next_request(true, Some("n1"), Some("t"), Some("n1"), None),
            Done
        );
        assert_eq!(
            next_request(true, None, Some("t2"), None, Some("t1")),
            AddedAfter("t2".into())
        );
        assert_eq!(
            next_request(true, Some(""), Some("t1"), None, Some("t1")),
            Done
        );
        assert_eq!(next_request(true, None, None, None, None), Done);
    }

    #[test]
    fn credentials_never_show_in_debug_output() {
        let b = TaxiiAuth::Bearer("vgl_secret".into());
        let p = TaxiiAuth::Basic {
            user: "me".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{b:?}{p:?}").contains("secret"));
        assert!(!format!("{p:?}").contains("hunter2"));
        assert_eq!(b.header(), "Bearer vgl_secret");
        assert_eq!(p.header(), "Basic bWU6aHVudGVyMg==");
    }
}
