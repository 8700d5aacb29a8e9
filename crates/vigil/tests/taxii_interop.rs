//! TAXII 2.1 at the region hub, driven by the real `vigil` binary and OASIS's own client
//! (taxii2-client), and Vigil's TAXII client importing from another hub.
mod util;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};
use util::HubProcess;

const TAXII: &str = "application/taxii+json;version=2.1";
const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
const CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";

fn ics_bundle() -> std::path::PathBuf {
    util::shared().join("stix/attack/ics-attack-18.1.json")
}

/// `vigil intel import` into `data_dir`'s `region` store, with extra environment; the JSON
/// summary of the (single) input.
fn import(
    data_dir: &Path,
    region: &str,
    input: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.args([
        "intel",
        "import",
        input,
        "--json",
        "--no-warninglists",
        "--region",
        region,
    ])
    .arg("--data-dir")
    .arg(data_dir)
    .args(extra)
    .current_dir(util::repo())
    .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o: Output = cmd.output().expect("vigil runs");
    assert!(o.status.success(), "import {input}: {}", util::stderr(&o));
    let v: Value = serde_json::from_str(&util::stdout(&o)).expect("JSON summary");
    v["imports"][0].clone()
}

struct Reply {
    status: u16,
    content_type: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn call(req: ureq::Request, body: Option<&str>) -> Reply {
    let r = match body {
        Some(b) => req.send_string(b),
        None => req.call(),
    };
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let headers = resp
        .headers_names()
        .into_iter()
        .map(|n| (n.clone(), resp.header(&n).unwrap_or_default().to_string()))
        .collect();
    Reply {
        status: resp.status(),
        content_type: resp.header("content-type").unwrap_or_default().to_string(),
        headers,
        body: resp.into_string().unwrap(),
    }
}

fn get(url: &str, token: Option<&str>) -> Reply {
    let mut req = ureq::get(url).set("Accept", TAXII);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    call(req, None)
}

fn post(url: &str, token: &str, content_type: &str, body: &str) -> Reply {
    let req = ureq::post(url)
        .set("Accept", TAXII)
        .set("Content-Type", content_type)
        .set("Authorization", &format!("Bearer {token}"));
    call(req, Some(body))
}

/// `(intel id, partner id)` from the collections listing.
fn collection_ids(hub: &HubProcess, token: &str) -> (String, String) {
    let r = get(
        &format!("{}/taxii2/{}/collections/", hub.url, hub.region),
        Some(token),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let cols = r.json()["collections"].as_array().unwrap().clone();
    let find = |suffix: &str| {
        cols.iter()
            .find(|c| c["title"].as_str().unwrap().ends_with(suffix))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    (find(" intel"), find(" partner contributions"))
}

fn indicator(n: u32, marking: Option<&str>) -> Value {
    let mut o = json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--6f0c2f1a-0000-4000-8000-{n:012}"),
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "name": format!("test indicator {n}"),
        "pattern": format!("[ipv4-addr:value = '198.51.100.{n}']"),
        "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z",
    });
    if let Some(m) = marking {
        o["object_marking_refs"] = json!([m]);
    }
    o
}

const CLIENT_SCRIPT: &str = r#"
import json, sys, requests
from taxii2client.v21 import Server, Collection, as_pages

url, analyst, partner, per_request, new_obj = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])

class Bearer(requests.auth.AuthBase):
    def __init__(self, t): self.t = t
    def __call__(self, r):
        r.headers["Authorization"] = "Bearer " + self.t
        return r

out = {}
# Discovery and the API root with Basic auth (the token as password).
server = Server(url + "/taxii2/", user="analyst", password=analyst)
out["title"] = server.title
root = server.default
out["roots"] = [r.url for r in server.api_roots]
out["versions"] = root.versions
out["collections"] = {c.title: [c.id, c.can_read, c.can_write] for c in root.collections}
intel = [c for c in root.collections if c.title.endswith(" intel")][0]
ids, pages = [], 0
for envelope in as_pages(intel.get_objects, per_request=per_request):
    pages += 1
    ids += [o["id"] for o in envelope.get("objects", [])]
out["ids"], out["pages"] = ids, pages

# A partner contributes with a bearer token, then reads it back.
pcol = [c for c in root.collections if c.title.endswith(" partner contributions")][0]
partner_col = Collection(pcol.url, auth=Bearer(partner))
out["partner_can_write"] = partner_col.can_write
status = partner_col.add_objects({"objects": [new_obj]})
out["status"] = [status.status, status.total_count, status.success_count, status.failure_count]
got = partner_col.get_object(new_obj["id"])
out["got"] = [o["id"] for o in got["objects"]]
manifest = partner_col.get_manifest()
out["manifest"] = [m["id"] for m in manifest["objects"]]
# The status resource can be fetched again at its URL.
status.refresh()
out["status_again"] = status.status
print(json.dumps(out))
"#;

#[test]
fn taxii2_client_pages_through_attack_for_ics_and_a_partner_contributes() {
    let Some(python) = util::python_peer() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bundle = ics_bundle();
    let imp = import(
        dir.path(),
        "eu-west",
        bundle.to_str().unwrap(),
        &["--source", "mitre", "--tlp", "clear"],
        &[],
    );
    let stored = imp["summary"]["objects_added"].as_u64().unwrap();
    assert_eq!(stored, 1826, "{imp}");
    let hub = HubProcess::start(dir.path(), "eu-west", &["--no-warninglists"]);
    let analyst = hub.token("analyst", "analyst", None);
    let partner = hub.token("partner-x", "partner", None);
    let new_obj = indicator(7, None);
    let out = util::run_python(
        &python,
        CLIENT_SCRIPT,
        &[&hub.url, &analyst, &partner, "250", &new_obj.to_string()],
    );
    let out: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(out["title"], "Vigil region hub eu-west");
    assert_eq!(out["roots"][0], format!("{}/taxii2/eu-west/", hub.url));
    assert_eq!(out["versions"][0], TAXII);
    let (intel_id, partner_id) = collection_ids(&hub, &analyst);
    assert_eq!(
        out["collections"]["eu-west intel"],
        json!([intel_id, true, true])
    );
    assert_eq!(
        out["collections"]["eu-west partner contributions"],
        json!([partner_id, true, true])
    );

    // Every object exactly once, over ceil(1826 / 250) = 8 pages.
    let ids: Vec<&str> = out["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!((ids.len(), unique.len()), (1826, 1826));
    let expected: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    let expected: BTreeSet<&str> = expected["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(unique, expected);
    assert_eq!(out["pages"], 8);

    assert_eq!(out["partner_can_write"], true);
    assert_eq!(out["status"], json!(["complete", 1, 1, 0]));
    assert_eq!(out["got"], json!([new_obj["id"]]));
    assert_eq!(out["manifest"], json!([new_obj["id"]]));
    assert_eq!(out["status_again"], "complete");
    // The partner's object is in the partner collection, not the region's intel.
    let r = get(
        &format!(
            "{}/taxii2/eu-west/collections/{intel_id}/objects/{}/",
            hub.url,
            new_obj["id"].as_str().unwrap()
        ),
        Some(&analyst),
    );
    assert_eq!(r.status, 404, "{}", r.body);
}

/// Every page of `path` (objects or manifest) as `partner` with `limit`, following `next`.
fn all_pages(hub: &HubProcess, path: &str, token: &str, limit: usize) -> Vec<Reply> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut url = format!("{}{path}?limit={limit}", hub.url);
        if let Some(n) = &next {
            url.push_str(&format!("&next={n}"));
        }
        let r = get(&url, Some(token));
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        next = v["next"].as_str().map(str::to_string);
        let more = v["more"].as_bool().unwrap();
        out.push(r);
        if !more {
            return out;
        }
        assert!(next.is_some(), "more without next");
    }
}

#[test]
fn partner_cleared_for_green_never_sees_amber_or_red() {
    let dir = tempfile::tempdir().unwrap();
    // Three objects per level, the red ones added last; and one GREEN object revised as RED.
    let mut objects = Vec::new();
    for (i, m) in [None, Some(CLEAR), Some(GREEN), Some(AMBER), Some(RED)]
        .iter()
        .enumerate()
    {
        for j in 0..3 {
            objects.push(indicator((i * 10 + j) as u32, *m));
        }
    }
    let mut revised = indicator(99, Some(GREEN));
    objects.insert(0, revised.clone());
    let file = dir.path().join("tlp.json");
    std::fs::write(&file, json!({"type": "bundle", "id": "bundle--6f0c2f1a-0000-4000-8000-000000000001", "objects": objects}).to_string()).unwrap();
    // Unmarked objects take the source's TLP: clear.
    import(
        dir.path(),
        "eu",
        file.to_str().unwrap(),
        &["--source", "tlp-mix", "--tlp", "clear"],
        &[],
    );
    revised["modified"] = json!("2024-06-01T00:00:00.000Z");
    revised["object_marking_refs"] = json!([RED]);
    let file2 = dir.path().join("revised.json");
    std::fs::write(&file2, json!([revised]).to_string()).unwrap();
    import(
        dir.path(),
        "eu",
        file2.to_str().unwrap(),
        &["--source", "tlp-mix"],
        &[],
    );

    let hub = HubProcess::start(dir.path(), "eu", &["--no-warninglists"]);
    let partner = hub.token("partner-green", "partner", Some("green"));
    let analyst = hub.token("analyst", "analyst", None);
    let (intel, _) = collection_ids(&hub, &partner);
    let col = format!("/taxii2/eu/collections/{intel}");
    let hidden: Vec<String> = (30..33)
        .chain(40..43)
        .map(|n| indicator(n, None)["id"].as_str().unwrap().to_string())
        .collect();
    let visible_count = 3 * 3 + 1; // unmarked (clear), CLEAR, GREEN, and the GREEN version of #99

    for what in ["objects", "manifest"] {
        let pages = all_pages(&hub, &format!("{col}/{what}/"), &partner, 4);
        let mut seen = Vec::new();
        for p in &pages {
            for h in &hidden {
                assert!(!p.body.contains(h.as_str()), "{what} leaked {h}");
            }
            for o in p.json()["objects"].as_array().into_iter().flatten() {
                seen.push(o["id"].as_str().unwrap().to_string());
            }
        }
        assert_eq!(seen.len(), visible_count, "{what}: {seen:?}");
        // Exactly enough pages for what the partner may see: hidden objects at the end do not
        // make the last page claim `more`.
        assert_eq!(pages.len(), visible_count.div_ceil(4), "{what}");
        // The date-added headers describe the partner's own last object.
        let last = pages.last().unwrap();
        if what == "manifest" {
            let entries = last.json()["objects"].as_array().unwrap().clone();
            assert_eq!(
                last.header("X-TAXII-Date-Added-Last"),
                entries.last().unwrap()["date_added"].as_str()
            );
            assert_eq!(
                pages[0].header("X-TAXII-Date-Added-First"),
                pages[0].json()["objects"][0]["date_added"].as_str()
            );
        }
        let everything = get(
            &format!("{}{col}/{what}/?limit=1000", hub.url),
            Some(&analyst),
        );
        assert_ne!(
            everything.header("X-TAXII-Date-Added-Last"),
            last.header("X-TAXII-Date-Added-Last"),
            "the analyst's last object is RED"
        );
        assert_eq!(everything.json()["objects"].as_array().unwrap().len(), 16);
    }
    // Object by id and versions: hidden objects do not exist.
    for h in &hidden {
        for suffix in ["", "versions/"] {
            let r = get(
                &format!("{}{col}/objects/{h}/{suffix}", hub.url),
                Some(&partner),
            );
            assert_eq!(r.status, 404, "{h} {suffix}: {}", r.body);
            assert_eq!(r.content_type, TAXII);
        }
    }
    // The revised object: the partner sees only its GREEN version, the analyst both.
    let id99 = revised["id"].as_str().unwrap();
    let r = get(&format!("{}{col}/objects/{id99}/", hub.url), Some(&partner));
    assert_eq!(
        r.json()["objects"][0]["modified"],
        "2024-01-01T00:00:00.000Z"
    );
    assert!(!r.body.contains(RED));
    let r = get(
        &format!("{}{col}/objects/{id99}/versions/", hub.url),
        Some(&partner),
    );
    assert_eq!(r.json()["versions"], json!(["2024-01-01T00:00:00.000Z"]));
    let r = get(
        &format!("{}{col}/objects/{id99}/versions/", hub.url),
        Some(&analyst),
    );
    assert_eq!(
        r.json()["versions"],
        json!(["2024-01-01T00:00:00.000Z", "2024-06-01T00:00:00.000Z"])
    );
    let r = get(&format!("{}{col}/objects/{id99}/", hub.url), Some(&analyst));
    assert_eq!(
        r.json()["objects"][0]["modified"],
        "2024-06-01T00:00:00.000Z"
    );
}

#[test]
fn vigil_imports_a_collection_from_another_hub_and_resumes_from_its_checkpoint() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let bundle = ics_bundle();
    import(
        a.path(),
        "hub-a",
        bundle.to_str().unwrap(),
        &["--source", "mitre", "--tlp", "clear"],
        &[],
    );
    let hub = HubProcess::start(a.path(), "hub-a", &["--no-warninglists"]);
    let reader = hub.token("region-b", "edge", None);
    let analyst = hub.token("analyst", "analyst", None);
    let (intel, _) = collection_ids(&hub, &reader);
    let url = format!("taxii+{}/taxii2/hub-a/collections/{intel}/", hub.url);
    let env = [("VIGIL_TAXII_TOKEN", reader.as_str())];
    let run = |extra: &[&str]| {
        let mut args = vec!["--source", "hub-a"];
        args.extend_from_slice(extra);
        import(b.path(), "local", &url, &args, &env)
    };

    let first = run(&[]);
    assert_eq!(first["summary"]["objects_added"], 1826, "{first}");
    // Nothing new: nothing fetched at all (not even as unchanged).
    let second = run(&[]);
    assert_eq!(second["summary"]["objects_added"], 0, "{second}");
    assert_eq!(second["summary"]["objects_unchanged"], 0, "{second}");

    // A new object at hub A; the next run brings exactly it.
    let new = indicator(5, Some(GREEN));
    let r = post(
        &format!("{}/taxii2/hub-a/collections/{intel}/objects/", hub.url),
        &analyst,
        TAXII,
        &json!({"objects": [new]}).to_string(),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let third = run(&[]);
    assert_eq!(third["summary"]["objects_added"], 1, "{third}");
    assert_eq!(third["summary"]["objects_unchanged"], 0, "{third}");
    // --full ignores the checkpoint.
    let full = run(&["--full"]);
    assert_eq!(full["summary"]["objects_unchanged"], 1827, "{full}");

    // The same collection as a sources.toml source, its token in the env var it names.
    let c = tempfile::tempdir().unwrap();
    let sources = c.path().join("sources.toml");
    std::fs::write(
        &sources,
        format!("[[source]]\nname = \"hub-a\"\nurl = \"{url}\"\ntoken_env = \"HUB_A_TOKEN\"\n"),
    )
    .unwrap();
    let collect = || {
        let o = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args([
                "intel",
                "collect",
                "--force",
                "--format",
                "json",
                "--no-warninglists",
            ])
            .arg("--data-dir")
            .arg(c.path())
            .arg("--sources")
            .arg(&sources)
            .env("HUB_A_TOKEN", &reader)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}{}",
            util::stdout(&o),
            util::stderr(&o)
        );
        let v: Value = serde_json::from_str(&util::stdout(&o)).unwrap();
        v["results"][0].clone()
    };
    let first = collect();
    assert_eq!(
        (
            first["status"].as_str(),
            first["summary"]["objects_added"].as_u64()
        ),
        (Some("imported"), Some(1827)),
        "{first}"
    );
    let again = collect();
    assert_eq!(again["status"], "unchanged", "{again}");

    // Without credentials the hub refuses, and the import says so.
    let o = util::vigil(&[
        "intel",
        "import",
        &url,
        "--no-warninglists",
        "--data-dir",
        b.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = util::stderr(&o);
    assert!(err.contains("HTTP 401") && !err.contains(&reader), "{err}");
}

#[test]
fn taxii_errors_are_taxii_error_messages() {
    let dir = tempfile::tempdir().unwrap();
    let hub = HubProcess::start(dir.path(), "eu", &["--no-warninglists"]);
    let edge = hub.token("sensor", "edge", None);
    let partner = hub.token("partner", "partner", None);
    let (intel, partner_col) = collection_ids(&hub, &edge);
    let base = format!("{}/taxii2/eu", hub.url);
    let envelope = json!({"objects": [indicator(1, None)]}).to_string();
    let check = |r: Reply, status: u16, what: &str| {
        assert_eq!(r.status, status, "{what}: {}", r.body);
        assert_eq!(r.content_type, TAXII, "{what}");
        let v = r.json();
        assert_eq!(v["http_status"], status.to_string(), "{what}");
        assert!(
            v["title"].is_string() && v["description"].is_string(),
            "{what}: {v}"
        );
    };
    check(get(&format!("{}/taxii2/", hub.url), None), 401, "no token");
    check(
        get(&format!("{base}/collections/"), Some("vgl_wrong")),
        401,
        "unknown token",
    );
    check(
        post(
            &format!("{base}/collections/{partner_col}/objects/"),
            &edge,
            TAXII,
            &envelope,
        ),
        403,
        "edge posting to the partner collection",
    );
    check(
        post(
            &format!("{base}/collections/{intel}/objects/"),
            &partner,
            TAXII,
            &envelope,
        ),
        403,
        "partner posting to the region's intel",
    );
    check(
        get(
            &format!("{base}/collections/00000000-0000-5000-8000-000000000000/"),
            Some(&edge),
        ),
        404,
        "unknown collection",
    );
    check(
        get(
            &format!("{base}/collections/00000000-0000-5000-8000-000000000000/objects/"),
            Some(&edge),
        ),
        404,
        "unknown collection objects",
    );
    check(
        get(&format!("{}/taxii2/nowhere/", hub.url), Some(&edge)),
        404,
        "unknown API root",
    );
    check(
        get(&format!("{base}/collections/{intel}/objects/indicator--6f0c2f1a-0000-4000-8000-999999999999/"), Some(&edge)),
        404,
        "unknown object",
    );
    let r = call(
        ureq::get(&format!("{base}/collections/{intel}/objects/"))
            .set("Accept", "application/json")
            .set("Authorization", &format!("Bearer {edge}")),
        None,
    );
    check(r, 406, "Accept: application/json");
    let r = call(
        ureq::get(&format!("{base}/collections/{intel}/objects/"))
            .set("Accept", "application/taxii+json;version=2.0")
            .set("Authorization", &format!("Bearer {edge}")),
        None,
    );
    check(r, 406, "TAXII 2.0");
    // Without the version, taxii+json is accepted.
    let r = call(
        ureq::get(&format!("{base}/collections/{intel}/objects/"))
            .set("Accept", "application/taxii+json")
            .set("Authorization", &format!("Bearer {edge}")),
        None,
    );
    assert_eq!((r.status, r.content_type.as_str()), (200, TAXII));
    let pcol = format!("{base}/collections/{partner_col}/objects/");
    check(
        post(&pcol, &partner, "application/json", &envelope),
        415,
        "Content-Type: application/json",
    );
    check(
        post(&pcol, &partner, TAXII, "{\"objects\": [ "),
        400,
        "truncated JSON",
    );
    check(
        post(&pcol, &partner, TAXII, "{\"objects\": 5}"),
        400,
        "objects not an array",
    );
    check(
        post(&pcol, &partner, TAXII, "{\"type\": \"bundle\"}"),
        400,
        "no objects",
    );
    check(
        get(&format!("{pcol}?limit=0"), Some(&partner)),
        400,
        "limit 0",
    );
    check(
        get(&format!("{pcol}?next=bogus"), Some(&partner)),
        400,
        "foreign next",
    );
    check(
        get(&format!("{pcol}?added_after=yesterday"), Some(&partner)),
        400,
        "bad added_after",
    );
    // Without the version, a taxii+json POST is accepted; an invalid object is a failure in
    // the status, not an error.
    let mut broken = indicator(2, None);
    broken["pattern"] = json!("[ipv4-addr:value = ");
    let r = post(
        &pcol,
        &partner,
        "application/taxii+json",
        &json!({"objects": [indicator(3, None), broken]}).to_string(),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let s = r.json();
    assert_eq!(
        (s["success_count"].as_u64(), s["failure_count"].as_u64()),
        (Some(1), Some(1)),
        "{s}"
    );
    assert_eq!(s["failures"][0]["id"], broken["id"]);
    assert!(
        s["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("pattern"),
        "{s}"
    );
    // Another caller cannot read that status.
    let sid = s["id"].as_str().unwrap();
    check(
        get(&format!("{base}/status/{sid}/"), Some(&edge)),
        404,
        "someone else's status",
    );
    assert_eq!(
        get(&format!("{base}/status/{sid}/"), Some(&partner)).status,
        200
    );
}
