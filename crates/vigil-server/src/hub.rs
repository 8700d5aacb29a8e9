//! The hub's shared state and the services handlers call: one import path for every way intel
//! arrives (REST, TAXII, sightings), so each is validated, screened and stored the same way.
use std::sync::Arc;

use serde::Serialize;
use vigil_intel::ingest::{self, IngestOptions, InputFormat};
use vigil_intel::validate::FalsePositiveScreen;
use vigil_intel::warninglists::LazyScreen;
use vigil_model::{Clock, SystemClock};
use vigil_store::{ImportBatch, ImportSummary, SourceInfo, StoreError};

use crate::auth::TokenCache;
use crate::config::HubConfig;
use crate::decisions::DecisionFeed;
use crate::metrics::Metrics;
use crate::pool::Pool;
use crate::problem::Problem;

/// Deltas kept for incremental decision pulls; a bouncer further behind gets a fresh snapshot.
const DECISION_LOG: usize = 1024;

pub struct Hub {
    pub config: HubConfig,
    pub pool: Arc<Pool>,
    pub tokens: TokenCache,
    pub decisions: Arc<DecisionFeed>,
    /// Woken after every write that may change decisions.
    pub decisions_changed: tokio::sync::Notify,
    pub metrics: Metrics,
    pub screen: Option<Arc<LazyScreen>>,
    pub clock: Arc<dyn Clock>,
    pub taxii: crate::taxii::TaxiiState,
    pub stream: crate::stream::StreamState,
}

/// One input to store.
pub struct ImportRequest {
    /// What errors call the input (a file name, `request body`, `TAXII envelope`).
    pub name: String,
    pub bytes: Vec<u8>,
    pub format: InputFormat,
    pub source: SourceInfo,
    /// `None`: the region's own collection.
    pub collection: Option<String>,
    /// Store the valid part and list the rest.
    pub skip_invalid: bool,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportOutcome {
    pub source: String,
    pub summary: ImportSummary,
    /// `location: reason` of each record left out (only with `skip_invalid`).
    pub skipped: Vec<String>,
    pub validation_warnings: usize,
    pub false_positive_risk: usize,
    pub upgraded: usize,
    /// Ids of the STIX objects in the input, in input order.
    #[serde(skip)]
    pub object_ids: Vec<String>,
}

impl Hub {
    /// Runs `specs` as `vigil intel collect` does (named sources always, else the due ones,
    /// or all with `force`), on the writer; wakes the decision task when anything landed.
    pub async fn collect(
        self: &Arc<Self>,
        specs: Vec<vigil_store::collect::SourceSpec>,
        names: Vec<String>,
        force: bool,
    ) -> Result<Vec<vigil_store::collect::CollectionResult>, Problem> {
        let now = self.now();
        let screen = self.screen.clone();
        let results = self
            .pool
            .write(move |s| {
                Ok(vigil_store::collect::collect(
                    s,
                    &specs,
                    &names,
                    force,
                    now,
                    screen.as_deref().map(|s| s as &dyn FalsePositiveScreen),
                ))
            })
            .await?;
        if results.iter().any(|r| r.status == "imported") {
            self.decisions_changed.notify_one();
        }
        Ok(results)
    }

    /// Opens the region's store and builds the hub.
    pub fn open(config: HubConfig) -> Result<Hub, StoreError> {
        Hub::with_clock(config, Arc::new(SystemClock))
    }

    pub fn with_clock(config: HubConfig, clock: Arc<dyn Clock>) -> Result<Hub, StoreError> {
        let pool = Pool::open(&config.data_dir, &config.region, 8)?;
        let screen = config
            .warninglists
            .clone()
            .map(|d| Arc::new(LazyScreen::new(d)));
        Ok(Hub {
            pool: Arc::new(pool),
            tokens: TokenCache::default(),
            decisions: Arc::new(DecisionFeed::new(DECISION_LOG)),
            decisions_changed: tokio::sync::Notify::new(),
            metrics: Metrics::new(),
            screen,
            clock,
            config,
            taxii: crate::taxii::TaxiiState::default(),
            stream: crate::stream::StreamState::default(),
        })
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Parses, validates, screens and stores one input in one transaction. Invalid input is
    /// a 400 naming every problem's location, and nothing is stored.
    pub async fn import(self: &Arc<Self>, req: ImportRequest) -> Result<ImportOutcome, Problem> {
        let now = self.now();
        let hub = Arc::clone(self);
        // Parse on a reader (it resolves references against the store), store on the writer.
        let (batch, req) = self
            .pool
            .read(move |store| {
                let known = |id: &str| store.has_object(id).unwrap_or(false);
                let opts = IngestOptions {
                    format: req.format,
                    source: req.source.name.clone(),
                    confidence: req.source.confidence,
                    reliability: req.source.reliability,
                    credibility: req.source.credibility,
                    tlp: req.source.tlp,
                    now,
                    skip_invalid: req.skip_invalid,
                    screen: hub.screen.as_deref().map(|s| s as &dyn FalsePositiveScreen),
                    known_ids: Some(&known),
                };
                let batch = ingest::ingest_bytes(&req.name, &req.bytes, &opts)
                    .map_err(|e| Problem::bad_request(e.to_string()))?;
                Ok((batch, req))
            })
            .await?;
        let object_ids: Vec<String> = batch
            .objects
            .iter()
            .filter_map(|o| o.get("id").and_then(|v| v.as_str()).map(str::to_string))
            .collect();
        let touches_records = !batch.records.is_empty()
            || batch
                .objects
                .iter()
                .any(|o| o.get("type").and_then(|t| t.as_str()) == Some("sighting"));
        let skipped: Vec<String> = batch.skipped.iter().map(|s| s.to_string()).collect();
        let (warnings, fp, upgraded) = (
            batch.warnings.len(),
            batch.false_positive_risk,
            batch.upgraded,
        );
        let source = req.source.clone();
        let collection = req.collection.clone();
        let summary = self
            .pool
            .write(move |store| {
                Ok(store.import(
                    &source,
                    ImportBatch {
                        objects: batch.objects,
                        records: batch.records,
                        collection,
                    },
                    now,
                    &mut |_| {},
                )?)
            })
            .await?;
        self.metrics
            .add("objects_imported", summary.objects_added as u64);
        self.metrics.add(
            "records_imported",
            (summary.records_new + summary.records_merged) as u64,
        );
        if touches_records {
            self.decisions_changed.notify_one();
        }
        tracing::info!(
            source = %req.source.name,
            objects = summary.objects_added,
            records_new = summary.records_new,
            records_merged = summary.records_merged,
            skipped = skipped.len(),
            "import"
        );
        Ok(ImportOutcome {
            source: req.source.name,
            summary,
            skipped,
            validation_warnings: warnings,
            false_positive_risk: fp,
            upgraded,
            object_ids,
        })
    }
}

/// Runs the due sources of `<data-dir>/sources.toml` every `collect.interval_secs`, as
/// `vigil intel collect` would; results are logged and counted.
pub fn start_collector(hub: &Arc<Hub>) {
    let every = hub.config.collect.interval_secs;
    if every == 0 {
        return;
    }
    let hub = Arc::clone(hub);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(every));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let path = hub.config.data_dir.join("sources.toml");
            if !path.is_file() {
                continue;
            }
            let specs = match vigil_store::collect::load_sources(&path) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "scheduled collection skipped");
                    continue;
                }
            };
            let Ok(results) = hub.collect(specs, Vec::new(), false).await else {
                continue;
            };
            for r in &results {
                if r.status == "not-due" {
                    continue;
                }
                hub.metrics.add(
                    if r.ok {
                        "collections_ok"
                    } else {
                        "collections_failed"
                    },
                    1,
                );
                tracing::info!(source = %r.source, status = r.status, reason = ?r.reason, "collect");
            }
        }
    });
}
