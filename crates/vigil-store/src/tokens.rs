//! API tokens: created once, shown once, stored only as a SHA-256 hash.
//!
//! A token is `vgl_` followed by 43 base64url characters (256 random bits). Its entropy makes a
//! fast hash sufficient: there is nothing to brute-force that a slow KDF would protect, and the
//! lookup is by hash, so the secret is never compared byte by byte.
use base64::Engine as _;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};
use vigil_model::{Principal, Role, Tlp};

use crate::{tlp_code, tlp_from_code, Result, Store, StoreError};

const PREFIX: &str = "vgl_";

/// A token as listed: everything but the secret.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct TokenInfo {
    pub name: String,
    pub role: Role,
    pub max_tlp: Tlp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Unix seconds.
    pub created: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a token named {0:?} exists already (revoke it first, or choose another name)")]
    Exists(String),
    #[error("no token named {0:?}")]
    NotFound(String),
    #[error("token names are 1-64 characters of letters, digits, '.', '-', '_' and '@'")]
    BadName,
    #[error("cannot read random bytes for a token: {0}")]
    Random(String),
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn check_name(name: &str) -> std::result::Result<(), TokenError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(TokenError::BadName)
    }
}

impl Store {
    /// Creates a token and returns its secret, which is not stored and cannot be shown again.
    pub fn create_token(
        &self,
        name: &str,
        role: Role,
        max_tlp: Option<Tlp>,
        region: Option<&str>,
        now: i64,
    ) -> std::result::Result<String, TokenError> {
        check_name(name)?;
        if let Some(r) = region {
            crate::check_region(r)?;
        }
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
        let secret = format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        let max_tlp = max_tlp.unwrap_or(role.default_max_tlp());
        let res = self.conn.execute(
            "INSERT INTO tokens(name, role, max_tlp, region, hash, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![name, role.as_str(), tlp_code(max_tlp), region, hash(&secret), now],
        );
        match res {
            Ok(_) => Ok(secret),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(TokenError::Exists(name.to_string()))
            }
            Err(e) => Err(self.err()(e).into()),
        }
    }

    /// Every token, oldest first, revoked ones included.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let mut q = self
            .conn
            .prepare("SELECT name, role, max_tlp, region, created, revoked FROM tokens ORDER BY id")
            .map_err(self.err())?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            })
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let (name, role, tlp, region, created, revoked) = row.map_err(self.err())?;
            let role = role
                .parse()
                .map_err(|e: vigil_model::access::UnknownRole| {
                    self.corrupt("tokens", e.to_string())
                })?;
            out.push(TokenInfo {
                name,
                role,
                max_tlp: tlp_from_code(tlp),
                region,
                created,
                revoked,
            });
        }
        Ok(out)
    }

    /// Revokes a token by name; it stops authenticating at once.
    pub fn revoke_token(&self, name: &str, now: i64) -> std::result::Result<(), TokenError> {
        let n = self
            .conn
            .execute(
                "UPDATE tokens SET revoked = ?2 WHERE name = ?1 AND revoked IS NULL",
                params![name, now],
            )
            .map_err(self.err())?;
        if n == 0 {
            return Err(TokenError::NotFound(name.to_string()));
        }
        Ok(())
    }

    /// The principal a presented token stands for; `None` for unknown, malformed or revoked
    /// tokens (callers answer 401 alike, so nothing tells them apart).
    pub fn authenticate(&self, token: &str) -> Result<Option<Principal>> {
        if !token.starts_with(PREFIX) || token.len() > 128 {
            return Ok(None);
        }
        let row = self
            .conn
            .query_row(
                "SELECT name, role, max_tlp, region FROM tokens WHERE hash = ?1 AND revoked IS NULL",
                [hash(token)],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(self.err())?;
        let Some((name, role, tlp, region)) = row else {
            return Ok(None);
        };
        let role = role
            .parse()
            .map_err(|e: vigil_model::access::UnknownRole| self.corrupt("tokens", e.to_string()))?;
        Ok(Some(Principal {
            name,
            role,
            max_tlp: tlp_from_code(tlp),
            region,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path(), "eu-west").unwrap();
        (dir, s)
    }

    #[test]
    fn a_token_authenticates_as_its_principal_and_is_stored_only_as_a_hash() {
        let (dir, s) = store();
        let t = s
            .create_token("partner-acme", Role::Partner, None, Some("eu-west"), 100)
            .unwrap();
        assert!(t.starts_with("vgl_") && t.len() == 47, "{t}");
        let p = s.authenticate(&t).unwrap().unwrap();
        assert_eq!((p.role, p.max_tlp), (Role::Partner, Tlp::Green));
        assert_eq!(p.region.as_deref(), Some("eu-west"));
        drop(s);
        // The secret appears nowhere in the database files.
        for e in std::fs::read_dir(dir.path().join("eu-west")).unwrap() {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            assert!(!bytes.windows(t.len()).any(|w| w == t.as_bytes()));
        }
    }

    #[test]
    fn unknown_malformed_and_revoked_tokens_do_not_authenticate() {
        let (_d, s) = store();
        let t = s
            .create_token("sensor-1", Role::Edge, Some(Tlp::Red), None, 1)
            .unwrap();
        assert!(s.authenticate("vgl_nope").unwrap().is_none());
        assert!(s.authenticate("").unwrap().is_none());
        assert!(s.authenticate(&t[..t.len() - 1]).unwrap().is_none());
        assert_eq!(s.authenticate(&t).unwrap().unwrap().max_tlp, Tlp::Red);
        s.revoke_token("sensor-1", 2).unwrap();
        assert!(s.authenticate(&t).unwrap().is_none());
        assert!(matches!(
            s.revoke_token("sensor-1", 3),
            Err(TokenError::NotFound(_))
        ));
        let listed = s.tokens().unwrap();
        assert_eq!(listed[0].revoked, Some(2));
    }

    #[test]
    fn names_are_unique_and_checked() {
        let (_d, s) = store();
        s.create_token("a", Role::Admin, None, None, 1).unwrap();
        assert!(matches!(
            s.create_token("a", Role::Analyst, None, None, 1),
            Err(TokenError::Exists(_))
        ));
        assert!(matches!(
            s.create_token("bad name", Role::Analyst, None, None, 1),
            Err(TokenError::BadName)
        ));
        let t1 = s.create_token("b", Role::Analyst, None, None, 1).unwrap();
        let t2 = s.create_token("c", Role::Analyst, None, None, 1).unwrap();
        assert_ne!(t1, t2);
    }
}
