//! Who is calling: tokens from `X-Api-Key` (CrowdSec bouncers), `Authorization: Bearer`, or
//! `Authorization: Basic` with the token as the password (TAXII clients), resolved to a
//! [`Principal`]. Roles and TLP clearance are then decided by `vigil_model::access`.
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use base64::Engine as _;
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use vigil_model::access::{Action, Principal};

use crate::hub::Hub;
use crate::problem::{Flavor, Problem};

/// How long a token lookup is reused; revoking a token takes effect at a running hub within this time.
pub const CACHE_TTL: Duration = Duration::from_secs(1);

/// A lookup's answer (`None`: unknown or revoked) and when it was made.
type Cached = (Option<Principal>, Instant);

/// Caches token lookups by the token's hash (the token itself is never kept).
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<FxHashMap<[u8; 32], Cached>>,
}

impl TokenCache {
    pub fn get(&self, key: &[u8; 32]) -> Option<Option<Principal>> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some((p, at)) if at.elapsed() < CACHE_TTL => Some(p.clone()),
            _ => None,
        }
    }

    pub fn put(&self, key: [u8; 32], principal: Option<Principal>) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
        }
        map.insert(key, (principal, Instant::now()));
    }

    /// Forgets everything (after a revocation through the API).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// The token a request presents, if any.
pub fn presented_token(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_string());
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = auth.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (_user, password) = text.split_once(':')?;
        return Some(password.to_string());
    }
    None
}

/// An authenticated caller; extracting it answers 401 for a missing or unknown token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub flavor: Flavor,
}

impl Caller {
    /// 403 unless the caller's role allows `action`.
    pub fn require(&self, action: Action) -> Result<(), Problem> {
        if self.principal.may(action) {
            Ok(())
        } else {
            Err(Problem::forbidden(format!(
                "role {} may not {}",
                self.principal.role,
                action_words(action)
            ))
            .with_flavor(self.flavor))
        }
    }

    /// A problem in the flavor of the caller's endpoint.
    pub fn problem(&self, p: Problem) -> Problem {
        p.with_flavor(self.flavor)
    }
}

fn action_words(a: Action) -> &'static str {
    match a {
        Action::ReadIntel => "read intel",
        Action::WriteIntel => "write intel",
        Action::Contribute => "contribute to the partner collection",
        Action::ReadDecisions => "read decisions",
        Action::ReportSightings => "report sightings",
        Action::Collect => "run collection",
        Action::ManageTokens => "manage tokens",
    }
}

impl FromRequestParts<Arc<Hub>> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, Problem> {
        let flavor = Flavor::for_path(parts.uri.path());
        let Some(token) = presented_token(&parts.headers) else {
            return Err(Problem::unauthorized(
                "send a token: Authorization: Bearer <token>, X-Api-Key, or Basic with the token as password",
            )
            .with_flavor(flavor));
        };
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let principal = match hub.tokens.get(&key) {
            Some(p) => p,
            None => {
                let p = hub
                    .pool
                    .read(move |s| Ok(s.authenticate(&token)?))
                    .await
                    .map_err(|p| p.with_flavor(flavor))?;
                hub.tokens.put(key, p.clone());
                p
            }
        };
        let Some(principal) = principal else {
            return Err(Problem::unauthorized("unknown or revoked token").with_flavor(flavor));
        };
        if !principal.valid_in(&hub.config.region) {
            return Err(Problem::unauthorized(format!(
                "token is bound to region {}, this hub serves {}",
                principal.region.as_deref().unwrap_or("?"),
                hub.config.region
            ))
            .with_flavor(flavor));
        }
        Ok(Caller { principal, flavor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn tokens_come_from_api_key_bearer_or_basic_password() {
        let mut h = HeaderMap::new();
        assert_eq!(presented_token(&h), None);
        h.insert("x-api-key", HeaderValue::from_static("vgl_a"));
        assert_eq!(presented_token(&h).as_deref(), Some("vgl_a"));
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer vgl_b"),
        );
        assert_eq!(presented_token(&h).as_deref(), Some("vgl_b"));
        let basic = base64::engine::general_purpose::STANDARD.encode("partner:vgl_c");
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {basic}")).unwrap(),
        );
        assert_eq!(presented_token(&h).as_deref(), Some("vgl_c"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Digest x"));
        assert_eq!(presented_token(&h), None);
    }
}
