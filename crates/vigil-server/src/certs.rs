//! A development certificate authority and node certificates, for TLS between hubs and sensors
//! and for mutual TLS (every node certificate is valid for both server and client auth).
//!
//! Layout of the folder: `ca.pem` / `ca.key`, and `<node>.pem` / `<node>.key` per node. Keys are
//! ECDSA P-256, written with mode 0600. An existing CA is reused, so running `init` again with
//! a new node name adds a node signed by the same CA; existing node files are never
//! overwritten without `force`.
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Pki { path: PathBuf, message: String },
    #[error("{0} exists already (use --force to replace it)")]
    Exists(PathBuf),
    #[error("invalid node name {0:?}: use letters, digits, '-', '_' and '.'")]
    BadName(String),
}

/// What `init` wrote or reused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReport {
    pub ca_cert: PathBuf,
    pub ca_created: bool,
    /// (node, certificate, key) for every node issued now.
    pub nodes: Vec<(String, PathBuf, PathBuf)>,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> CertError + '_ {
    move |source| CertError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn pki(path: &Path) -> impl Fn(rcgen::Error) -> CertError + '_ {
    move |e| CertError::Pki {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn write_secret(path: &Path, data: &str) -> Result<(), CertError> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io(path))?;
    f.write_all(data.as_bytes()).map_err(io(path))
}

fn check_name(name: &str) -> Result<(), CertError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(CertError::BadName(name.to_string()))
    }
}

fn validity(p: &mut CertificateParams, days: u32) {
    let now = time::OffsetDateTime::now_utc();
    // An hour of slack for clocks that are slightly behind.
    p.not_before = now - time::Duration::hours(1);
    p.not_after = now + time::Duration::days(i64::from(days));
}

/// Creates (or reuses) the CA in `dir` and issues a certificate for each node. A node's
/// subject alternative names are its name, `localhost`, `127.0.0.1`, `::1` and `extra_sans`
/// (DNS names or IP addresses).
pub fn init(
    dir: &Path,
    nodes: &[String],
    extra_sans: &[String],
    days: u32,
    force: bool,
) -> Result<InitReport, CertError> {
    for n in nodes {
        check_name(n)?;
    }
    fs::create_dir_all(dir).map_err(io(dir))?;
    let ca_cert = dir.join("ca.pem");
    let ca_key = dir.join("ca.key");
    let (issuer, ca_created) = if ca_cert.exists() && ca_key.exists() && !force {
        let key_pem = fs::read_to_string(&ca_key).map_err(io(&ca_key))?;
        let key = KeyPair::from_pem(&key_pem).map_err(pki(&ca_key))?;
        let cert_pem = fs::read_to_string(&ca_cert).map_err(io(&ca_cert))?;
        (
            Issuer::from_ca_cert_pem(&cert_pem, key).map_err(pki(&ca_cert))?,
            false,
        )
    } else {
        let key = KeyPair::generate().map_err(pki(&ca_key))?;
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "Vigil development");
        dn.push(DnType::CommonName, "Vigil development CA");
        p.distinguished_name = dn;
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        validity(&mut p, days.max(1));
        let cert = p.self_signed(&key).map_err(pki(&ca_cert))?;
        fs::write(&ca_cert, cert.pem()).map_err(io(&ca_cert))?;
        write_secret(&ca_key, &key.serialize_pem())?;
        (Issuer::new(p, key), true)
    };
    let mut report = InitReport {
        ca_cert,
        ca_created,
        nodes: Vec::new(),
    };
    for name in nodes {
        let cert_path = dir.join(format!("{name}.pem"));
        let key_path = dir.join(format!("{name}.key"));
        if !force && (cert_path.exists() || key_path.exists()) {
            return Err(CertError::Exists(cert_path));
        }
        let mut sans: Vec<String> = vec![
            name.clone(),
            "localhost".into(),
            "127.0.0.1".into(),
            "::1".into(),
        ];
        sans.extend(extra_sans.iter().cloned());
        let mut p = CertificateParams::default();
        p.subject_alt_names = sans
            .iter()
            .map(|s| match s.parse::<std::net::IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => s.clone().try_into().map(SanType::DnsName),
            })
            .collect::<Result<_, _>>()
            .map_err(pki(&cert_path))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "Vigil development");
        dn.push(DnType::CommonName, name.as_str());
        p.distinguished_name = dn;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        validity(&mut p, days.max(1));
        let key = KeyPair::generate().map_err(pki(&key_path))?;
        let cert = p.signed_by(&key, &issuer).map_err(pki(&cert_path))?;
        fs::write(&cert_path, cert.pem()).map_err(io(&cert_path))?;
        write_secret(&key_path, &key.serialize_pem())?;
        report.nodes.push((name.clone(), cert_path, key_path));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// Runs openssl; `None` (the test skips) when it is not installed, except under CI, which
    /// installs it.
    fn openssl(args: &[&str]) -> Option<String> {
        let out = match Command::new("openssl").args(args).output() {
            Ok(o) => o,
            Err(e) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI must provide openssl: {e}"
                );
                eprintln!("skipped: no openssl ({e})");
                return None;
            }
        };
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    #[test]
    fn node_certificates_chain_to_the_ca_for_server_and_client_auth() {
        let d = tempfile::tempdir().unwrap();
        let r = init(
            d.path(),
            &["hub-eu".into()],
            &["hub.eu.example".into()],
            30,
            false,
        )
        .unwrap();
        assert!(r.ca_created);
        // A second run reuses the CA and adds a node signed by it.
        let r2 = init(d.path(), &["sensor-1".into()], &[], 30, false).unwrap();
        assert!(!r2.ca_created);
        let ca = d.path().join("ca.pem");
        for node in ["hub-eu", "sensor-1"] {
            let cert = d.path().join(format!("{node}.pem"));
            let Some(out) = openssl(&[
                "verify",
                "-CAfile",
                ca.to_str().unwrap(),
                "-purpose",
                "sslserver",
                cert.to_str().unwrap(),
            ]) else {
                return;
            };
            assert!(out.contains(": OK"), "{out}");
            openssl(&[
                "verify",
                "-CAfile",
                ca.to_str().unwrap(),
                "-purpose",
                "sslclient",
                cert.to_str().unwrap(),
            ]);
        }
        let text = openssl(&[
            "x509",
            "-noout",
            "-ext",
            "subjectAltName",
            "-in",
            d.path().join("hub-eu.pem").to_str().unwrap(),
        ])
        .unwrap();
        assert!(
            text.contains("DNS:hub-eu")
                && text.contains("DNS:hub.eu.example")
                && text.contains("IP Address:127.0.0.1"),
            "{text}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for k in ["ca.key", "hub-eu.key"] {
                let mode = fs::metadata(d.path().join(k)).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{k}");
            }
        }
    }

    #[test]
    fn existing_nodes_are_not_overwritten_and_names_are_checked() {
        let d = tempfile::tempdir().unwrap();
        init(d.path(), &["hub".into()], &[], 1, false).unwrap();
        assert!(matches!(
            init(d.path(), &["hub".into()], &[], 1, false),
            Err(CertError::Exists(_))
        ));
        assert!(matches!(
            init(d.path(), &["../x".into()], &[], 1, false),
            Err(CertError::BadName(_))
        ));
        assert!(
            init(d.path(), &["hub".into()], &[], 1, true)
                .unwrap()
                .ca_created,
            "--force replaces the CA too"
        );
    }
}
