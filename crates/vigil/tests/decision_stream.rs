//! The hub's CrowdSec-compatible decision stream (issue 5), driven over HTTP against the real
//! `vigil region serve`, fed by `vigil intel import` from another process into the same store,
//! and consumed by the real `crowdsec-firewall-bouncer` inside a network namespace.
mod util;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use util::HubProcess;

const REGION: &str = "eu";
/// Polls give up after this long; every wait in these tests has a deadline.
const DEADLINE: Duration = Duration::from_secs(30);

/// `GET path` with `X-Api-Key: key` (when given): status and parsed JSON body.
fn get(url: &str, key: Option<&str>) -> (u16, Value) {
    let mut req = ureq::get(url);
    if let Some(k) = key {
        req = req.set("X-Api-Key", k);
    }
    let (code, text) = match req.call() {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap()),
        Err(e) => panic!("{url}: {e}"),
    };
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text:?}"));
    (code, v)
}

fn pull(hub: &HubProcess, key: &str, startup: bool) -> Value {
    let url = format!("{}/v1/decisions/stream?startup={startup}", hub.url);
    let (code, v) = get(&url, Some(key));
    assert_eq!(code, 200, "{v}");
    v
}

/// The values of a `new` or `deleted` list (`null` is empty).
fn values(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|d| d["value"].as_str().unwrap().to_string())
        .collect()
}

/// `vigil intel import` of `lines` as a list into the hub's store, from another process.
fn import_list(dir: &Path, name: &str, lines: &[&str], tlp: &str, confidence: &str) {
    let file = dir.join(format!("{name}.txt"));
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    import(dir, &file, name, tlp, confidence);
}

fn import(dir: &Path, file: &Path, source: &str, tlp: &str, confidence: &str) {
    let o = util::vigil(&[
        "intel",
        "import",
        file.to_str().unwrap(),
        "--data-dir",
        dir.join("data").to_str().unwrap(),
        "--region",
        REGION,
        "--source",
        source,
        "--reliability",
        "A",
        "--confidence",
        confidence,
        "--tlp",
        tlp,
        // Test addresses are on the warninglists (RFC 5737, 2544); this is about the stream.
        "--no-warninglists",
    ]);
    assert!(o.status.success(), "import: {}", util::stderr(&o));
}

/// A STIX indicator for `ip` that is valid for `secs` more seconds.
fn short_lived(dir: &Path, ip: &str, secs: i64) -> std::path::PathBuf {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let ts = vigil_intel::timestamp::format_rfc3339;
    let bundle = serde_json::json!({
        "type": "bundle",
        "id": "bundle--6f3a2c1e-0d4b-4f7a-9b1e-2c3d4e5f6a7b",
        "objects": [{
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--0c8e7d6f-5a4b-4c3d-8e2f-1a0b9c8d7e6f",
            "created": ts(now - 1),
            "modified": ts(now - 1),
            "name": "short-lived scanner",
            "pattern": format!("[ipv4-addr:value = '{ip}']"),
            "pattern_type": "stix",
            "valid_from": ts(now - 1),
            "valid_until": ts(now + secs),
            "confidence": 95
        }]
    });
    let file = dir.join("short-lived.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    file
}

/// Polls `f` until it returns `Some`, or fails naming `what` after [`DEADLINE`].
fn eventually<T>(what: &str, f: impl FnMut() -> Option<T>) -> T {
    eventually_or(what, String::new, f)
}

/// As [`eventually`], adding `context()` (a log) to the failure.
fn eventually_or<T>(
    what: &str,
    context: impl Fn() -> String,
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(t) = f() {
            return t;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "timed out waiting for {what}\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn set(xs: &[&str]) -> BTreeSet<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_stream_lists_at_startup_then_sends_only_changes_within_clearance() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_list(
        dir.path(),
        "green-feed",
        &["198.18.1.1", "198.18.1.2", "198.18.2.0/24"],
        "green",
        "95",
    );
    import_list(dir.path(), "amber-feed", &["198.18.3.3"], "amber", "95");
    import_list(dir.path(), "weak-feed", &["198.18.4.4"], "green", "40");
    let hub = HubProcess::start(&data, REGION, &["--no-warninglists"]);
    let edge = hub.token("edge-1", "edge", None);
    let green = hub.token("edge-green", "edge", Some("green"));
    let partner = hub.token("partner-1", "partner", None);

    // Startup lists every active decision the caller is cleared for; the weak record bans
    // nothing.
    let first = eventually("the initial decisions", || {
        let v = pull(&hub, &edge, true);
        (values(&v["new"]).len() == 4).then_some(v)
    });
    assert_eq!(
        values(&first["new"]),
        set(&["198.18.1.1", "198.18.1.2", "198.18.2.0/24", "198.18.3.3"])
    );
    assert!(first["deleted"].is_null(), "{first}");
    let d = first["new"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["value"] == "198.18.2.0/24")
        .unwrap();
    assert_eq!(
        (d["scope"].as_str(), d["type"].as_str()),
        (Some("Range"), Some("ban"))
    );
    assert_eq!(d["origin"], "vigil");
    let duration = d["duration"].as_str().unwrap();
    assert!(duration == "4h0m0s" || duration.starts_with("3h59m"), "{d}");
    assert!(d["id"].is_u64() && d["uuid"].is_string() && d["scenario"].is_string());

    // Nothing changed: CrowdSec's empty answer, nulls not lists.
    assert_eq!(
        pull(&hub, &edge, false),
        serde_json::json!({"new": null, "deleted": null})
    );

    // A GREEN-cleared bouncer never sees the AMBER decision.
    let g = pull(&hub, &green, true);
    assert_eq!(
        values(&g["new"]),
        set(&["198.18.1.1", "198.18.1.2", "198.18.2.0/24"])
    );

    // Another process imports a new confident address and a short-lived AMBER indicator;
    // the hub notices (it polls the store) and both bouncers get the new GREEN decision.
    import_list(dir.path(), "green-feed-2", &["198.18.5.5"], "green", "95");
    let stix = short_lived(dir.path(), "198.18.6.6", 6);
    import(dir.path(), &stix, "amber-stix", "amber", "95");
    let (mut seen_new, mut seen_deleted) = (BTreeSet::new(), BTreeSet::new());
    let (mut green_new, mut green_deleted) = (BTreeSet::new(), BTreeSet::new());
    eventually("the new decision, then the expired one in deleted", || {
        let v = pull(&hub, &edge, false);
        seen_new.extend(values(&v["new"]));
        seen_deleted.extend(values(&v["deleted"]));
        let gv = pull(&hub, &green, false);
        green_new.extend(values(&gv["new"]));
        green_deleted.extend(values(&gv["deleted"]));
        (seen_deleted.contains("198.18.6.6") && green_new.contains("198.18.5.5")).then_some(())
    });
    assert!(seen_new.contains("198.18.5.5") && seen_new.contains("198.18.6.6"));
    assert_eq!(seen_deleted, set(&["198.18.6.6"]), "only the expired one");
    // No value above GREEN reached the GREEN bouncer, as new or as deleted.
    assert_eq!(green_new, set(&["198.18.5.5"]));
    assert!(green_deleted.is_empty(), "{green_deleted:?}");

    // Live mode: the range covers an address inside it; nothing covers an unknown one.
    let (code, v) = get(
        &format!("{}/v1/decisions?ip=198.18.2.77", hub.url),
        Some(&green),
    );
    assert_eq!(code, 200);
    assert_eq!(values(&v), set(&["198.18.2.0/24"]));
    let (_, v) = get(
        &format!("{}/v1/decisions?ip=198.18.3.3", hub.url),
        Some(&green),
    );
    assert!(v.is_null(), "AMBER decision leaked to a GREEN lookup: {v}");
    let (_, v) = get(
        &format!("{}/v1/decisions?ip=198.18.3.3", hub.url),
        Some(&edge),
    );
    assert_eq!(values(&v), set(&["198.18.3.3"]));

    // Without a key: 401; a partner token: 403; both as problem documents.
    let (code, v) = get(
        &format!("{}/v1/decisions/stream?startup=true", hub.url),
        None,
    );
    assert_eq!((code, v["status"].as_u64()), (401, Some(401)), "{v}");
    let (code, v) = get(
        &format!("{}/v1/decisions/stream?startup=true", hub.url),
        Some(&partner),
    );
    assert_eq!(code, 403, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("read decisions"),
        "{v}"
    );
    // A malformed filter is a 400 naming the parameter, not a silent empty list.
    let (code, v) = get(
        &format!("{}/v1/decisions/stream?startup=true&scopes=ip;x", hub.url),
        Some(&edge),
    );
    assert_eq!(code, 400, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("scopes"), "{v}");
}

/// A network namespace deleted on drop, also when the test fails.
struct Netns(String);

impl Netns {
    fn create() -> Result<Netns, String> {
        let name = format!("vigil-{}", std::process::id());
        let run = |args: &[&str]| -> Result<(), String> {
            let o = Command::new("ip")
                .args(args)
                .output()
                .map_err(|e| format!("ip: {e}"))?;
            if o.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&o.stderr).trim().to_string())
            }
        };
        run(&["netns", "add", &name])?;
        let ns = Netns(name);
        run(&["-n", &ns.0, "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The prefix that runs a program inside the namespace.
    fn exec(&self) -> [&str; 4] {
        ["ip", "netns", "exec", &self.0]
    }

    /// A command for `program` inside the namespace.
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0, program]);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// A child process killed on drop.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Skips (returns `None`) when the bouncer cannot run here, but fails under `CI`.
fn bouncer_setup() -> Option<Netns> {
    let skip = |why: String| {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the bouncer test: {why}"
        );
        eprintln!("skipping: {why}");
        None
    };
    let bouncer = Path::new("/usr/bin/crowdsec-firewall-bouncer");
    if !bouncer.exists() {
        return skip(format!(
            "{} is missing (apt-get install crowdsec-firewall-bouncer)",
            bouncer.display()
        ));
    }
    if Command::new("nft").arg("--version").output().is_err() {
        return skip("nft is missing (apt-get install nftables)".into());
    }
    match Netns::create() {
        Ok(ns) => Some(ns),
        Err(e) => skip(format!("cannot create a network namespace: {e}")),
    }
}

/// The namespace's nftables ruleset, or `None` before the bouncer made its set.
fn banned(ns: &Netns) -> Option<String> {
    let o = ns
        .command("nft")
        .args(["list", "ruleset"])
        .output()
        .expect("nft runs");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    (o.status.success() && text.contains("crowdsec-blacklists")).then_some(text)
}

/// Whether `ip` is an element of the set listing (`elements = { 198.18.1.1 timeout 4h …`).
fn holds(listing: &str, ip: &str) -> bool {
    let words: Vec<&str> = listing.split_whitespace().collect();
    words.windows(2).any(|w| w[0] == ip && w[1] == "timeout")
}

#[test]
fn the_crowdsec_firewall_bouncer_enforces_the_stream_inside_a_network_namespace() {
    let Some(ns) = bouncer_setup() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_list(
        dir.path(),
        "feed",
        &["198.18.1.1", "198.18.1.2", "198.18.2.0/24"],
        "green",
        "95",
    );
    let hub = HubProcess::start_with_prefix(&ns.exec(), &data, REGION, &["--no-warninglists"]);
    let key = hub.token("fw-bouncer", "edge", None);
    let config = dir.path().join("bouncer.yaml");
    std::fs::write(
        &config,
        format!(
            "mode: nftables\n\
             update_frequency: 1s\n\
             daemonize: false\n\
             log_mode: file\n\
             log_dir: {logs}/\n\
             log_level: info\n\
             api_url: {url}/\n\
             api_key: {key}\n\
             disable_ipv6: false\n\
             deny_action: DROP\n\
             deny_log: false\n\
             supported_decisions_types:\n  - ban\n\
             nftables:\n\
             \x20 ipv4:\n    enabled: true\n    set-only: false\n    table: crowdsec\n    chain: crowdsec-chain\n\
             \x20 ipv6:\n    enabled: true\n    set-only: false\n    table: crowdsec6\n    chain: crowdsec6-chain\n\
             prometheus:\n  enabled: false\n",
            logs = dir.path().display(),
            url = hub.url,
        ),
    )
    .unwrap();
    let (out, err) = (
        dir.path().join("bouncer.out"),
        dir.path().join("bouncer.err"),
    );
    let _bouncer = Killed(
        ns.command("/usr/bin/crowdsec-firewall-bouncer")
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .expect("the bouncer starts"),
    );
    let log = dir.path().join("crowdsec-firewall-bouncer.log");
    let why = || {
        format!(
            "bouncer log:\n{}{}{}\nnft: {:?}",
            std::fs::read_to_string(&log).unwrap_or_default(),
            std::fs::read_to_string(&out).unwrap_or_default(),
            std::fs::read_to_string(&err).unwrap_or_default(),
            banned(&ns)
        )
    };

    // The startup list lands in the bouncer's set. Debian's bouncer (0.0.25) keeps ranges in
    // an address set, so a range shows as its network address.
    eventually_or("the startup decisions in nftables", why, || {
        let l = banned(&ns)?;
        (holds(&l, "198.18.1.1") && holds(&l, "198.18.1.2") && holds(&l, "198.18.2.0"))
            .then_some(())
    });

    // A decision added later appears; one withdrawn (its source now says confidence 10)
    // is deleted through the stream, long before its timeout would remove it.
    import_list(dir.path(), "feed-2", &["198.18.5.5"], "green", "95");
    eventually_or("the added decision in nftables", why, || {
        let l = banned(&ns)?;
        holds(&l, "198.18.5.5").then_some(())
    });
    import_list(dir.path(), "feed", &["198.18.1.2"], "green", "10");
    let l = eventually_or("the withdrawn decision gone from nftables", why, || {
        let l = banned(&ns)?;
        (!holds(&l, "198.18.1.2")).then_some(l)
    });
    assert!(
        holds(&l, "198.18.1.1") && holds(&l, "198.18.5.5"),
        "{l}\n{}",
        why()
    );

    // An expiring decision disappears when it expires.
    let stix = short_lived(dir.path(), "198.18.6.6", 8);
    import(dir.path(), &stix, "stix", "green", "95");
    eventually_or("the short-lived decision in nftables", why, || {
        let l = banned(&ns)?;
        holds(&l, "198.18.6.6").then_some(())
    });
    eventually_or("the expired decision gone from nftables", why, || {
        let l = banned(&ns)?;
        (!holds(&l, "198.18.6.6")).then_some(())
    });
    let l = banned(&ns).unwrap();
    assert!(holds(&l, "198.18.1.1"), "{l}\n{}", why());
}
