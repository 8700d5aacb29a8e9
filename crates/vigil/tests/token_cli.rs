//! `vigil token`: tokens are printed once, stored as hashes, listed without secrets, revocable.
mod util;

use serde_json::Value;
use util::*;

#[test]
fn create_prints_the_token_alone_on_the_last_line_and_list_never_shows_it() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    let o = vigil(&[
        "token",
        "create",
        "--data-dir",
        dir,
        "--name",
        "acme",
        "--role",
        "partner",
        "--region",
        "eu-west",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let token = out.lines().last().unwrap();
    assert!(token.starts_with("vgl_") && !token.contains(' '), "{out}");
    assert_eq!(out.trim_end(), token, "the token is the only stdout line");

    let o = vigil(&[
        "token",
        "list",
        "--data-dir",
        dir,
        "--region",
        "eu-west",
        "--format",
        "json",
    ]);
    let listed = stdout(&o);
    assert!(!listed.contains(token));
    let v: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(v[0]["name"], "acme");
    assert_eq!(v[0]["role"], "partner");
    assert_eq!(v[0]["max_tlp"], "green", "partners default to TLP:GREEN");
    assert_eq!(v[0]["region"], "eu-west");

    let again = vigil(&[
        "token",
        "create",
        "--data-dir",
        dir,
        "--name",
        "acme",
        "--role",
        "admin",
        "--region",
        "eu-west",
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("exists already"),
        "{}",
        stderr(&again)
    );

    let o = vigil(&[
        "token",
        "revoke",
        "--data-dir",
        dir,
        "--region",
        "eu-west",
        "acme",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&vigil(&[
        "token",
        "list",
        "--data-dir",
        dir,
        "--region",
        "eu-west",
        "--format",
        "json",
    ])))
    .unwrap();
    assert!(v[0]["revoked"].is_i64());
    let bad_role = vigil(&[
        "token",
        "create",
        "--data-dir",
        dir,
        "--name",
        "x",
        "--role",
        "root",
    ]);
    assert_eq!(bad_role.status.code(), Some(2));
    assert!(
        stderr(&bad_role).contains("unknown role"),
        "{}",
        stderr(&bad_role)
    );
}

#[test]
fn certs_init_issues_certificates_that_chain_to_its_ca() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("pki");
    let o = vigil(&[
        "certs",
        "init",
        "--dir",
        dir.to_str().unwrap(),
        "--node",
        "hub-eu",
        "--node",
        "sensor-1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("created CA"), "{}", stdout(&o));
    for node in ["hub-eu", "sensor-1"] {
        let out = std::process::Command::new("openssl")
            .args(["verify", "-CAfile"])
            .arg(dir.join("ca.pem"))
            .arg(dir.join(format!("{node}.pem")))
            .output();
        let Ok(out) = out else {
            assert!(std::env::var_os("CI").is_none(), "CI must provide openssl");
            return;
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let again = vigil(&[
        "certs",
        "init",
        "--dir",
        dir.to_str().unwrap(),
        "--node",
        "hub-eu",
    ]);
    assert_eq!(again.status.code(), Some(2), "existing node files are kept");
}
