//! The hub's HTTP server: routes, request accounting, TLS and graceful shutdown.
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use vigil_model::Tlp;

use crate::auth::Caller;
use crate::hub::Hub;
use crate::problem::{Flavor, Problem};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{path}: {message}")]
    Tls { path: String, message: String },
    #[error("listening on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// How long in-flight requests get to finish after SIGTERM.
pub const DRAIN: Duration = Duration::from_secs(30);

/// Every route of the hub.
pub fn router(hub: Arc<Hub>) -> Router {
    let limit = hub.config.limits.max_body_bytes;
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(health))
        .merge(crate::api::routes())
        .merge(crate::taxii::routes())
        .merge(crate::stream::routes())
        .fallback(not_found)
        // A bug in a handler is a 500 problem, not a dropped connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .layer(middleware::from_fn_with_state(Arc::clone(&hub), track))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(hub)
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    Problem::internal("handler panicked").into_response()
}

async fn health() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain")], "ok\n")
}

async fn not_found(req: Request) -> Problem {
    let path = req.uri().path().to_string();
    Problem::not_found(format!("no route for {path}")).with_flavor(Flavor::for_path(&path))
}

/// Metrics count everything (AMBER and RED imports and decisions included), so only a caller
/// cleared for RED may read them; Prometheus sends the token as `authorization: credentials`.
async fn metrics(State(hub): State<Arc<Hub>>, caller: Caller) -> Result<Response, Problem> {
    if caller.principal.max_tlp < Tlp::Red {
        return Err(Problem::forbidden(
            "metrics count data of every TLP; they need a token cleared for RED",
        ));
    }
    let snap = hub.decisions.snapshot();
    let text = hub.metrics.render(&[
        (
            "vigil_decisions",
            "Decisions currently in the stream.",
            snap.decisions.len() as f64,
        ),
        (
            "vigil_decision_stream_version",
            "Version of the decision snapshot.",
            snap.version as f64,
        ),
    ]);
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        text,
    )
        .into_response())
}

/// Counts and times every request, and logs it with structured fields.
async fn track(State(hub): State<Arc<Hub>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let in_flight = hub.metrics.start_request();
    let resp = next.run(req).await;
    drop(in_flight);
    let elapsed = started.elapsed();
    let status = resp.status().as_u16();
    hub.metrics.record(&method, &route, status, elapsed);
    tracing::info!(
        target: "vigil::http",
        method = %method,
        route = %route,
        status,
        micros = elapsed.as_micros() as u64,
        "request"
    );
    resp
}

/// Builds rustls's server configuration, requiring client certificates when `client_ca` is set.
pub fn tls_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<rustls::ServerConfig, ServeError> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let tls_err = |p: &Path, m: String| ServeError::Tls {
        path: p.display().to_string(),
        message: m,
    };
    let read = |p: &Path| std::fs::read(p).map_err(|e| tls_err(p, e.to_string()));
    let certs = |p: &Path| -> Result<Vec<CertificateDer<'static>>, ServeError> {
        let pem = read(p)?;
        let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice())
            .collect::<Result<_, _>>()
            .map_err(|e| tls_err(p, format!("reading PEM certificates: {e}")))?;
        if certs.is_empty() {
            return Err(tls_err(p, "no PEM certificate found".into()));
        }
        Ok(certs)
    };
    let chain = certs(cert)?;
    let key_pem = read(key)?;
    let key_der: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| tls_err(key, format!("reading PEM private key: {e}")))?
        .ok_or_else(|| tls_err(key, "no PEM private key found".into()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(cert, e.to_string()))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in certs(ca)? {
                roots
                    .add(c)
                    .map_err(|e| tls_err(ca, format!("adding CA certificate: {e}")))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| tls_err(ca, e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key_der)
        .map_err(|e| tls_err(key, e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Serves `app` until `shutdown` resolves, then stops accepting, lets in-flight requests
/// finish (up to [`DRAIN`]) and returns. `on_listen` gets the bound address (port 0 picks one).
pub async fn serve(
    hub: Arc<Hub>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_listen: impl FnOnce(SocketAddr, bool) + Send + 'static,
) -> Result<(), ServeError> {
    let addr = hub.config.listen;
    crate::stream::start(&hub);
    crate::hub::start_collector(&hub);
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: draining in-flight requests");
        h.graceful_shutdown(Some(DRAIN));
    });
    let h = handle.clone();
    let tls = hub.config.tls.is_some();
    tokio::spawn(async move {
        if let Some(a) = h.listening().await {
            on_listen(a, tls);
        }
    });
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    let bind_err = |source| ServeError::Bind { addr, source };
    match &hub.config.tls {
        Some(t) => {
            let cfg = tls_config(&t.cert, &t.key, t.client_ca.as_deref())?;
            let rustls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(cfg));
            axum_server::bind_rustls(addr, rustls)
                .handle(handle)
                .serve(make)
                .await
                .map_err(bind_err)
        }
        None => axum_server::bind(addr)
            .handle(handle)
            .serve(make)
            .await
            .map_err(bind_err),
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
