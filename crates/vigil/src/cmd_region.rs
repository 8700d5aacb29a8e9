//! `vigil region`: run a region's hub. The work is in `vigil_server`.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use vigil_server::config::TlsFiles;
use vigil_server::{Hub, HubConfig};

#[derive(Subcommand)]
pub enum RegionCommand {
    /// Run the region hub: REST API, TAXII 2.1, the CrowdSec-compatible decision stream and
    /// Prometheus metrics over the region's intel store.
    ///
    /// Endpoints:
    ///   /api/v1/...              REST (OpenAPI document at /api/v1/openapi.json)
    ///   /taxii2/                 TAXII 2.1 discovery; API root /taxii2/<region>/
    ///   /v1/decisions/stream     CrowdSec bouncer stream (X-Api-Key)
    ///   /metrics                 Prometheus metrics (a token cleared for RED)
    ///   /healthz                 liveness
    ///
    /// Every endpoint but /healthz needs a token from `vigil token create`
    /// (Authorization: Bearer, X-Api-Key, or Basic with the token as password). The first
    /// line on stdout is `listening on <url>`. SIGTERM or Ctrl-C stops accepting connections,
    /// lets in-flight requests finish (up to 30 s) and exits 0.
    ///
    /// Examples:
    ///   vigil region serve --region eu-west
    ///   vigil region serve --region eu-west --listen 0.0.0.0:7443 \
    ///       --tls-cert pki/hub-eu.pem --tls-key pki/hub-eu.key --tls-client-ca pki/ca.pem
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),
}

#[derive(Args)]
pub struct ServeArgs {
    /// The region this hub serves; its store is <data-dir>/<region>/intel.db.
    #[arg(long, value_name = "ID", default_value = vigil_store::DEFAULT_REGION)]
    region: String,
    /// Directory holding one store per region.
    #[arg(long, value_name = "DIR", default_value = "vigil-data")]
    data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free port) [default: 127.0.0.1:7443].
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Hub configuration (TOML: listen, warninglists, [limits], [decisions], [collect], [tls]).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (see `vigil certs init`).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's PEM private key.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Require client certificates issued by this CA (mutual TLS).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// Largest request body accepted, in bytes [default: 33554432].
    #[arg(long, value_name = "BYTES")]
    max_body_bytes: Option<usize>,
    /// Do not screen incoming intel against the MISP warninglists.
    #[arg(long)]
    no_warninglists: bool,
}

pub fn run(cmd: RegionCommand) -> Result<ExitCode> {
    match cmd {
        RegionCommand::Serve(a) => serve(a),
    }
}

fn serve(a: ServeArgs) -> Result<ExitCode> {
    let mut config = match &a.config {
        Some(p) => HubConfig::load(&a.region, &a.data_dir, p)?,
        None => HubConfig::new(&a.region, &a.data_dir),
    };
    if let Some(l) = a.listen {
        config.listen = l;
    }
    if let (Some(cert), Some(key)) = (a.tls_cert, a.tls_key) {
        config.tls = Some(TlsFiles {
            cert,
            key,
            client_ca: a.tls_client_ca,
        });
    }
    if let Some(n) = a.max_body_bytes {
        config.limits.max_body_bytes = n;
    }
    if a.no_warninglists {
        config.warninglists = None;
    }
    if let Err(e) = config.validate() {
        bail!("{e}");
    }
    let region = config.region.clone();
    let hub = Hub::open(config).with_context(|| format!("opening the {region} store"))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(async move {
        let hub = Arc::new(hub);
        let app = vigil_server::serve::router(Arc::clone(&hub));
        vigil_server::serve::serve(
            hub,
            app,
            vigil_server::serve::shutdown_signal(),
            move |addr, tls| {
                let scheme = if tls { "https" } else { "http" };
                println!("listening on {scheme}://{addr}");
                tracing::info!(region = %region, %addr, tls, "hub listening");
                use std::io::Write as _;
                let _ = std::io::stdout().flush();
            },
        )
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}
