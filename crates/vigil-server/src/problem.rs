//! Errors as HTTP responses: RFC 9457 `application/problem+json` on the REST API, and the
//! TAXII 2.1 error message (`application/taxii+json`) under `/taxii2/`.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";
pub const TAXII_JSON: &str = "application/taxii+json;version=2.1";

/// Which error body the client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Flavor {
    #[default]
    Rest,
    Taxii,
}

impl Flavor {
    /// The flavor for a request path.
    pub fn for_path(path: &str) -> Flavor {
        if path.starts_with("/taxii2") {
            Flavor::Taxii
        } else {
            Flavor::Rest
        }
    }
}

/// An error a handler returns.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub title: &'static str,
    pub detail: Option<String>,
    pub flavor: Flavor,
}

#[derive(Serialize)]
struct RestBody<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

#[derive(Serialize)]
struct TaxiiBody<'a> {
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    http_status: String,
}

impl Problem {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            title,
            detail: Some(detail.into()),
            flavor: Flavor::Rest,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "Bad Request", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "Not Found", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "Unauthorized", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "Forbidden", detail)
    }

    pub fn too_large(limit: usize) -> Problem {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload Too Large",
            format!("request body exceeds the limit of {limit} bytes (limits.max_body_bytes)"),
        )
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
            detail,
        )
    }

    pub fn not_acceptable(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_ACCEPTABLE, "Not Acceptable", detail)
    }

    /// A server-side failure. The cause is logged, never sent: it may name paths or SQL.
    pub fn internal(cause: impl std::fmt::Display) -> Problem {
        tracing::error!(error = %cause, "internal error");
        Problem {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "Internal Server Error",
            detail: None,
            flavor: Flavor::Rest,
        }
    }

    pub fn unavailable(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
            detail,
        )
    }

    pub fn with_flavor(mut self, flavor: Flavor) -> Problem {
        self.flavor = flavor;
        self
    }

    pub fn taxii(self) -> Problem {
        self.with_flavor(Flavor::Taxii)
    }
}

impl From<vigil_store::StoreError> for Problem {
    fn from(e: vigil_store::StoreError) -> Problem {
        Problem::internal(e)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.title)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let (body, ctype) = match self.flavor {
            Flavor::Rest => (
                serde_json::to_vec(&RestBody {
                    kind: "about:blank",
                    title: self.title,
                    status: self.status.as_u16(),
                    detail: self.detail.as_deref(),
                }),
                PROBLEM_JSON,
            ),
            Flavor::Taxii => (
                serde_json::to_vec(&TaxiiBody {
                    title: self.title,
                    description: self.detail.as_deref(),
                    http_status: self.status.as_u16().to_string(),
                }),
                TAXII_JSON,
            ),
        };
        let mut resp = (self.status, body.unwrap_or_default()).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer, Basic realm=\"vigil\""),
            );
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_problems_are_rfc9457_and_internal_errors_hide_their_cause() {
        let r = Problem::internal("open /secret/path: denied").into_response();
        assert_eq!(r.status(), 500);
        assert_eq!(r.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        let p = Problem::bad_request("line 3: expected value");
        assert_eq!(p.to_string(), "400 Bad Request: line 3: expected value");
    }

    #[test]
    fn taxii_errors_use_the_taxii_media_type_and_challenge_on_401() {
        let r = Problem::unauthorized("no token").taxii().into_response();
        assert_eq!(r.headers()[header::CONTENT_TYPE], TAXII_JSON);
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
        assert_eq!(Flavor::for_path("/taxii2/"), Flavor::Taxii);
        assert_eq!(Flavor::for_path("/api/v1/stats"), Flavor::Rest);
    }
}
