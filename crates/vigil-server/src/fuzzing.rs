//! Fuzz entry point for what the hub parses from requests (`fuzz/fuzz_targets/hub.rs`; a smoke
//! run is in the test suite): EVE batches, TAXII query strings and cursors, REST cursors and
//! query values.
use crate::{api, sightings, taxii};

/// Every request parser over `data`; none may panic.
pub fn hub(data: &[u8]) {
    if let Ok(events) = sightings::parse_batch(data) {
        for ev in &events {
            let _ = sightings::alert_fields(ev);
            let _ = crate::stream::attacker(ev, None);
        }
    }
    let text = String::from_utf8_lossy(data);
    let pairs: Vec<(String, String)> = text
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    for endpoint in [
        taxii::Endpoint::Objects,
        taxii::Endpoint::Object,
        taxii::Endpoint::Versions,
        taxii::Endpoint::Manifest,
    ] {
        let _ = taxii::parse_query(&pairs, endpoint, 100, 1000);
    }
    let _ = taxii::parse_next(&text);
    let _ = taxii::parse_micros(&text);
    let _ = taxii::accepts_taxii(Some(&text));
    let _ = taxii::is_taxii_content(Some(&text));
    let _ = api::decode_cursor(&text);
    let _ = api::parse_kinds(Some(&text));
    let _ = api::parse_tlp("max_tlp", Some(&text));
    let _ = api::parse_time("since", Some(&text));
    let _ = vigil_store::collect::parse_admiralty(&text);
}
