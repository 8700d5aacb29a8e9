//! Where the public data sets in `shared/data` live, for tests, benchmarks and seed scripts.
//!
//! One lookup for every crate's tests: `$VIGIL_DATA_DIR` if set, else `shared/data` beside the
//! repository (where CI and developers have it). A missing directory is a loud failure, never a
//! silently skipped test.

use std::path::PathBuf;

pub fn shared_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("VIGIL_DATA_DIR") {
        return PathBuf::from(d);
    }
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        beside.is_dir(),
        "shared test data not found at {}: put shared/ beside the repository or set VIGIL_DATA_DIR",
        beside.display()
    );
    beside
}
