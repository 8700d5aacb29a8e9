//! Request extractors whose rejections are problem documents (axum's own answer in
//! plain text).
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::problem::{Flavor, Problem};

/// The request body, refused with 413 past the configured limit.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let flavor = Flavor::for_path(req.uri().path());
        Bytes::from_request(req, state)
            .await
            .map(Body)
            .map_err(|e: BytesRejection| {
                let p = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Problem::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "Payload Too Large",
                        "request body exceeds the hub's limit (limits.max_body_bytes)",
                    )
                } else {
                    Problem::bad_request(format!("reading the request body: {e}"))
                };
                p.with_flavor(flavor)
            })
    }
}

/// Query parameters, 400 with the reason when they do not parse.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let flavor = Flavor::for_path(parts.uri.path());
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| Problem::bad_request(e.body_text()).with_flavor(flavor))
    }
}

/// Parses a JSON body, naming the line and column of a syntax error.
pub fn json<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| Problem::bad_request(format!("{what}: {e}")))
}
