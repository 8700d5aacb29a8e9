//! `vigil token`: API tokens for the region hub. The work is in `vigil_store::tokens`.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use vigil_model::{Role, Tlp};
use vigil_store::Store;

use crate::cmd_intel::{now, TextJson};

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token. It is printed once, alone on the last line, and stored only as a hash.
    ///
    /// Roles: admin (everything, tokens included), analyst (intel: read, import, export,
    /// collect), edge (sensors: read feeds and decisions, report sightings), partner (read
    /// within clearance, contribute to the partner collection). --max-tlp defaults to red for
    /// admin and analyst, amber for edge, green for partner. With --region the token is kept
    /// in that region's store and only valid at its hub.
    ///
    /// Example:
    ///   TOKEN=$(vigil token create --name acme --role partner | tail -1)
    #[command(verbatim_doc_comment)]
    Create(CreateArgs),
    /// List tokens (never their secrets).
    List(ListArgs),
    /// Revoke a token by name; a running hub refuses it within a second.
    Revoke(RevokeArgs),
}

#[derive(Args)]
pub struct Where {
    /// Directory holding one store per region.
    #[arg(long, value_name = "DIR", default_value = "vigil-data")]
    data_dir: PathBuf,
    /// Region whose hub the token is for (and whose store keeps it).
    #[arg(long, value_name = "ID")]
    region: Option<String>,
}

impl Where {
    fn open(&self) -> Result<Store> {
        let region = self
            .region
            .as_deref()
            .unwrap_or(vigil_store::DEFAULT_REGION);
        Store::open(&self.data_dir, region).with_context(|| {
            format!(
                "opening the {region} store under {}",
                self.data_dir.display()
            )
        })
    }
}

#[derive(Args)]
pub struct CreateArgs {
    #[arg(long, value_name = "NAME")]
    name: String,
    #[arg(long, value_name = "ROLE", value_parser = |s: &str| s.parse::<Role>().map_err(|e| e.to_string()))]
    role: Role,
    /// The most restrictive TLP the token may receive.
    #[arg(long, value_name = "LEVEL", value_parser = |s: &str| s.parse::<Tlp>().map_err(|e| e.to_string()))]
    max_tlp: Option<Tlp>,
    #[command(flatten)]
    at: Where,
}

#[derive(Args)]
pub struct ListArgs {
    #[arg(long, value_enum, default_value_t = TextJson::Text)]
    format: TextJson,
    #[command(flatten)]
    at: Where,
}

#[derive(Args)]
pub struct RevokeArgs {
    #[arg(value_name = "NAME")]
    name: String,
    #[command(flatten)]
    at: Where,
}

pub fn run(cmd: TokenCommand) -> Result<ExitCode> {
    match cmd {
        TokenCommand::Create(a) => {
            let store = a.at.open()?;
            let secret =
                store.create_token(&a.name, a.role, a.max_tlp, a.at.region.as_deref(), now())?;
            let max = a.max_tlp.unwrap_or(a.role.default_max_tlp());
            eprintln!(
                "created token {:?}: role {}, max TLP {max}{}. It is shown once:",
                a.name,
                a.role,
                a.at.region
                    .as_deref()
                    .map(|r| format!(", region {r}"))
                    .unwrap_or_default()
            );
            println!("{secret}");
        }
        TokenCommand::List(a) => {
            let tokens = a.at.open()?.tokens()?;
            match a.format {
                TextJson::Json => println!("{}", serde_json::to_string_pretty(&tokens)?),
                TextJson::Text => {
                    println!(
                        "{:<24} {:<8} {:<13} {:<12} {:<24} status",
                        "name", "role", "max-tlp", "region", "created"
                    );
                    for t in tokens {
                        println!(
                            "{:<24} {:<8} {:<13} {:<12} {:<24} {}",
                            t.name,
                            t.role,
                            t.max_tlp.to_string(),
                            t.region.as_deref().unwrap_or("any"),
                            vigil_intel::timestamp::format_rfc3339(t.created),
                            match t.revoked {
                                Some(r) =>
                                    format!("revoked {}", vigil_intel::timestamp::format_rfc3339(r)),
                                None => "active".into(),
                            }
                        );
                    }
                }
            }
        }
        TokenCommand::Revoke(a) => {
            a.at.open()?.revoke_token(&a.name, now())?;
            eprintln!("revoked token {:?}", a.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}
