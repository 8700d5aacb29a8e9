//! Shared helpers for the integration tests: run the real `vigil` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `../shared/data` beside the repository.
pub fn shared() -> PathBuf {
    repo().join("../shared/data")
}

pub fn vigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::null())
        .output()
        .expect("vigil runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 output")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Parses EVE JSON lines.
pub fn events(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad EVE line {l:?}: {e}")))
        .collect()
}

pub fn of_type<'a>(evs: &'a [serde_json::Value], t: &str) -> Vec<&'a serde_json::Value> {
    evs.iter().filter(|e| e["event_type"] == t).collect()
}

pub fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Runs tshark with `-T fields` and returns one Vec of field values per packet line.
pub fn tshark_fields(
    pcap: &Path,
    filter: &str,
    fields: &[&str],
    extra: &[&str],
) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(pcap).args(extra).args([
        "-Y",
        filter,
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[path = "../../vigil-intel/tests/peer/mod.rs"]
mod peer;

/// The Python interpreter with the reference peers (see `vigil-intel/tests/peer`).
pub fn python_peer() -> Option<PathBuf> {
    peer::python()
}

/// Runs a Python snippet with the peer interpreter; returns stdout, panicking on failure.
pub fn run_python(python: &Path, script: &str, args: &[&str]) -> String {
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .current_dir(repo())
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// A running `vigil region serve`, stopped with SIGTERM when dropped.
pub struct HubProcess {
    pub child: std::process::Child,
    /// `http://127.0.0.1:PORT` (or https).
    pub url: String,
    pub data_dir: PathBuf,
    pub region: String,
}

impl HubProcess {
    /// Starts a hub for `region` over `data_dir` on a free port, with `extra` arguments, and
    /// waits for its `listening on` line.
    pub fn start(data_dir: &Path, region: &str, extra: &[&str]) -> HubProcess {
        HubProcess::start_with_prefix(&[], data_dir, region, extra)
    }

    /// As [`HubProcess::start`], run through `prefix` (e.g. `["ip", "netns", "exec", NS]`,
    /// which execs the hub in the namespace, so the child's pid is the hub's).
    pub fn start_with_prefix(
        prefix: &[&str],
        data_dir: &Path,
        region: &str,
        extra: &[&str],
    ) -> HubProcess {
        use std::io::BufRead as _;
        let mut cmd = match prefix.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(env!("CARGO_BIN_EXE_vigil"));
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_vigil")),
        };
        let mut child = cmd
            .args([
                "region",
                "serve",
                "--region",
                region,
                "--listen",
                "127.0.0.1:0",
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .current_dir(repo())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("vigil region serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("reading the hub's first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        HubProcess {
            child,
            url,
            data_dir: data_dir.to_path_buf(),
            region: region.to_string(),
        }
    }

    /// Creates a token in the hub's store (`vigil token create`) and returns it.
    pub fn token(&self, name: &str, role: &str, max_tlp: Option<&str>) -> String {
        token(&self.data_dir, &self.region, name, role, max_tlp)
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let st = self.child.wait().expect("hub exits");
        std::mem::forget(self);
        st
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// `vigil token create` in `data_dir`'s `region` store; returns the token.
pub fn token(
    data_dir: &Path,
    region: &str,
    name: &str,
    role: &str,
    max_tlp: Option<&str>,
) -> String {
    let dd = data_dir.to_str().expect("utf-8 path");
    let mut args = vec![
        "token",
        "create",
        "--data-dir",
        dd,
        "--region",
        region,
        "--name",
        name,
        "--role",
        role,
    ];
    if let Some(t) = max_tlp {
        args.extend(["--max-tlp", t]);
    }
    let o = vigil(&args);
    assert!(o.status.success(), "token create: {}", stderr(&o));
    stdout(&o)
        .lines()
        .last()
        .expect("token line")
        .trim()
        .to_string()
}
