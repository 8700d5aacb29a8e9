//! `vigil region serve`: the hub process itself (listening, auth, metrics, shutdown).
mod util;

use util::HubProcess;

fn get(url: &str, token: Option<&str>) -> (u16, String, String) {
    let mut req = ureq::get(url);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    match req.call() {
        Ok(r) => {
            let ct = r.content_type().to_string();
            (r.status(), ct, r.into_string().unwrap())
        }
        Err(ureq::Error::Status(code, r)) => {
            let ct = r.header("content-type").unwrap_or_default().to_string();
            (code, ct, r.into_string().unwrap())
        }
        Err(e) => panic!("{url}: {e}"),
    }
}

#[test]
fn the_hub_answers_health_and_metrics_refuses_unknown_tokens_and_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let hub = HubProcess::start(dir.path(), "eu-west", &["--no-warninglists"]);
    let (code, _, body) = get(&format!("{}/healthz", hub.url), None);
    assert_eq!((code, body.as_str()), (200, "ok\n"));

    // No token, an unknown token: 401 problem+json with a challenge.
    let (code, ct, body) = get(&format!("{}/api/v1/stats", hub.url), None);
    assert_eq!(code, 401, "{body}");
    assert_eq!(ct, "application/problem+json");
    let (code, _, _) = get(&format!("{}/api/v1/stats", hub.url), Some("vgl_nope"));
    assert_eq!(code, 401);
    // Unknown routes are problems too.
    let (code, ct, _) = get(&format!("{}/api/v1/no-such-thing", hub.url), None);
    assert_eq!((code, ct.as_str()), (404, "application/problem+json"));

    // Metrics count every TLP: a partner may not read them, an analyst may.
    let (code, _, _) = get(&format!("{}/metrics", hub.url), None);
    assert_eq!(code, 401);
    let partner = hub.token("acme", "partner", None);
    let (code, _, _) = get(&format!("{}/metrics", hub.url), Some(&partner));
    assert_eq!(code, 403);
    let analyst = hub.token("ana", "analyst", None);
    let (code, ct, text) = get(&format!("{}/metrics", hub.url), Some(&analyst));
    assert_eq!(code, 200);
    assert!(ct.starts_with("text/plain"), "{ct}");
    assert!(
        text.contains(
            "vigil_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("vigil_decisions "), "{text}");

    let status = hub.stop();
    assert!(status.success(), "exit after SIGTERM: {status:?}");
}

#[test]
fn a_bad_config_is_refused_naming_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("hub.toml");
    std::fs::write(&cfg, "[limits]\nmax_body_bytes = 10\n").unwrap();
    let o = util::vigil(&[
        "region",
        "serve",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = util::stderr(&o);
    assert!(
        err.contains("hub.toml") && err.contains("max_body_bytes"),
        "{err}"
    );
}

#[test]
fn the_hub_collects_due_sources_from_sources_toml_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.txt");
    std::fs::write(&feed, "192.0.2.44\nbad-actor.example\n").unwrap();
    std::fs::write(
        dir.path().join("sources.toml"),
        format!(
            "[[source]]\nname = \"local-feed\"\npath = \"{}\"\nschedule = \"1h\"\n",
            feed.display()
        ),
    )
    .unwrap();
    let hub = HubProcess::start(dir.path(), "eu", &["--no-warninglists"]);
    let t = hub.token("ana", "analyst", None);
    // The first collection runs at startup; poll until it has landed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (code, _, body) = get(&format!("{}/api/v1/stats", hub.url), Some(&t));
        assert_eq!(code, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["store"]["records"] == 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never collected: {body}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (_, _, body) = get(&format!("{}/api/v1/sources", hub.url), Some(&t));
    assert!(
        body.contains("\"configured\":true") && body.contains("local-feed"),
        "{body}"
    );
}

/// `curl` over TLS with the development CA; returns (exit ok, body).
fn curl_tls(url: &str, pki: &std::path::Path, client: Option<&str>) -> (bool, String) {
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-sS", "--fail-with-body", "--cacert"])
        .arg(pki.join("ca.pem"));
    if let Some(node) = client {
        cmd.arg("--cert")
            .arg(pki.join(format!("{node}.pem")))
            .arg("--key")
            .arg(pki.join(format!("{node}.key")));
    }
    let out = cmd.arg(url).output().expect("curl runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_hub_serves_tls_and_mutual_tls_with_the_development_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let o = util::vigil(&[
        "certs",
        "init",
        "--dir",
        pki.to_str().unwrap(),
        "--node",
        "hub-eu",
        "--node",
        "sensor-1",
    ]);
    assert!(o.status.success(), "{}", util::stderr(&o));
    let cert = pki.join("hub-eu.pem");
    let key = pki.join("hub-eu.key");
    let ca = pki.join("ca.pem");
    let hub = HubProcess::start(
        &dir.path().join("data"),
        "eu",
        &[
            "--no-warninglists",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
            "--tls-client-ca",
            ca.to_str().unwrap(),
        ],
    );
    assert!(hub.url.starts_with("https://"), "{}", hub.url);
    let url = format!("{}/healthz", hub.url.replace("127.0.0.1", "localhost"));
    let (ok, body) = curl_tls(&url, &pki, Some("sensor-1"));
    assert!(ok, "a client certificate from the CA is accepted: {body}");
    assert_eq!(body, "ok\n");
    let (ok, _) = curl_tls(&url, &pki, None);
    assert!(!ok, "without a client certificate the handshake fails");
}
