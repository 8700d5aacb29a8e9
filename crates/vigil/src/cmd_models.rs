//! `vigil models`: rebuild and check the behaviour models' files. The work is in
//! `vigil_detect::models`; this module parses arguments and prints.

use anyhow::{Context, Result};
use clap::Subcommand;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_detect::models::{dga, Models, ModelsConfig};

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Rebuild the DGA character-trigram model from the top-site warninglists.
    ///
    /// Reads every list under DIR whose folder name contains alexa, tranco, umbrella,
    /// majestic, cisco or top (MISP warninglists, CC0), keeps the registrable labels, leaves
    /// out the deterministic 20% evaluation split and writes the model file. The output is
    /// byte-identical for the same input.
    ///
    /// Example:
    ///   vigil models train-dga --warninglists ../shared/data/warninglists/lists \
    ///       --output models/dga-ngram.json
    #[command(verbatim_doc_comment)]
    TrainDga {
        /// Folder of warninglists (`<list>/list.json`).
        #[arg(
            long,
            value_name = "DIR",
            default_value = "../shared/data/warninglists/lists"
        )]
        warninglists: PathBuf,
        /// Model file to write.
        #[arg(
            short,
            long,
            value_name = "FILE",
            default_value = "models/dga-ngram.json"
        )]
        output: PathBuf,
    },
    /// Validate a models config file and the DGA model it names.
    ///
    /// Exit status: 0 when valid, 2 with an error naming the file, line, key and what was
    /// expected otherwise.
    ///
    /// Example:
    ///   vigil models check models/models.toml
    #[command(verbatim_doc_comment)]
    Check {
        /// The TOML file (see models/models.toml for every key).
        config: PathBuf,
    },
}

pub fn run(cmd: ModelsCommand) -> Result<ExitCode> {
    match cmd {
        ModelsCommand::TrainDga {
            warninglists,
            output,
        } => {
            let model = dga::train_dga_from_warninglists(&warninglists).map_err(flat)?;
            let mut bytes = Vec::new();
            model.to_writer(&mut bytes)?;
            // Write beside the target and rename, so a failed run never leaves half a model.
            let tmp = output.with_extension("json.tmp");
            let mut f = std::fs::File::create(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?;
            f.write_all(&bytes)
                .and_then(|()| f.sync_all())
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, &output)
                .with_context(|| format!("cannot replace {}", output.display()))?;
            eprintln!(
                "wrote {}: {} training labels, {} trigrams, {} bytes",
                output.display(),
                model.trained_names(),
                model.trigram_count(),
                bytes.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Check { config } => {
            let cfg = ModelsConfig::from_toml_file(&config).map_err(flat)?;
            Models::new(&cfg).map_err(flat)?;
            let on = |b: bool| if b { "on" } else { "off" };
            let dga_model = match &cfg.dga.model_path {
                Some(p) => p.display().to_string(),
                None => "embedded".to_string(),
            };
            println!(
                "{}: ok (scan {}, beacon {}, dns_tunnel {}, dga {} with model {})",
                config.display(),
                on(cfg.scan.enabled),
                on(cfg.beacon.enabled),
                on(cfg.dns_tunnel.enabled),
                on(cfg.dga.enabled),
                dga_model
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The library's messages already include their cause; printing the chain would repeat it.
fn flat(e: vigil_detect::models::ModelError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}
