//! `vigil certs`: the development PKI for TLS and mutual TLS. The work is in
//! `vigil_server::certs`.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum CertsCommand {
    /// Create a development CA (or reuse the one in DIR) and a certificate per node.
    ///
    /// Writes ca.pem/ca.key and <node>.pem/<node>.key (keys mode 0600). Node certificates
    /// are valid for server and client auth, so the same files serve TLS on a hub and mutual
    /// TLS between hubs and sensors. Their names: the node name, localhost, 127.0.0.1, ::1
    /// and every --san. For development and tests only: the CA key sits beside the certs.
    ///
    /// Examples:
    ///   vigil certs init --node hub-eu --node sensor-1
    ///   vigil certs init --dir pki --node hub-us --san hub.us.example --san 10.0.0.5
    #[command(verbatim_doc_comment)]
    Init {
        /// Folder for the CA and node files; default <data-dir>/certs.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        #[arg(long, value_name = "DIR", default_value = "vigil-data")]
        data_dir: PathBuf,
        /// A node to issue a certificate for. Repeatable.
        #[arg(long = "node", value_name = "NAME", default_value = "hub")]
        nodes: Vec<String>,
        /// Extra DNS name or IP address for every node issued now. Repeatable.
        #[arg(long = "san", value_name = "NAME|IP")]
        sans: Vec<String>,
        /// Validity in days.
        #[arg(long, value_name = "N", default_value_t = 365)]
        days: u32,
        /// Replace an existing CA and node files.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(cmd: CertsCommand) -> Result<ExitCode> {
    match cmd {
        CertsCommand::Init {
            dir,
            data_dir,
            nodes,
            sans,
            days,
            force,
        } => {
            let dir = dir.unwrap_or_else(|| data_dir.join("certs"));
            let r = vigil_server::certs::init(&dir, &nodes, &sans, days, force)?;
            println!(
                "{} CA {}",
                if r.ca_created { "created" } else { "reused" },
                r.ca_cert.display()
            );
            for (name, cert, key) in &r.nodes {
                println!("node {name}: {} {}", cert.display(), key.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
