//! The shipped sample capture is exactly what the generator produces, so it can be rebuilt
//! and reviewed as code: `UPDATE_SAMPLES=1 cargo nextest run -p vigil-detect --test samples`.

use std::path::Path;

#[test]
fn demo_pcap_matches_its_generator() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/pcaps/vigil-demo.pcap");
    let generated = vigil_detect::synth::demo_capture();
    if std::env::var_os("UPDATE_SAMPLES").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read(&path).expect("samples/pcaps/vigil-demo.pcap exists");
    assert!(committed == generated, "regenerate with UPDATE_SAMPLES=1");
}
