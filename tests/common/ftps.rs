//! A throwaway explicit-FTPS server (tests/servers/ftps_server.py on pyftpdlib) on a free loopback port.
//! Tests skip with a message when pyftpdlib is absent, unless `SYNCRO_NO_SKIP=1` (set by CI).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct FtpsServer {
    child: Child,
    pub port: u16,
    pub ca: PathBuf,
    _certs: tempfile::TempDir,
}

pub const USER: &str = "edi";
pub const PASSWORD: &str = "edi-S3cret!";

impl FtpsServer {
    pub fn start(home: &Path, self_signed: bool) -> Option<FtpsServer> {
        Self::start_with(home, self_signed, &[])
    }

    /// With extra server options (e.g. `["--short-first-retr", "1000"]`).
    pub fn start_with(home: &Path, self_signed: bool, extra: &[&str]) -> Option<FtpsServer> {
        let ok = Command::new("python3").args(["-c", "import pyftpdlib, OpenSSL, cryptography"]).status();
        if !ok.is_ok_and(|s| s.success()) {
            let msg = "pyftpdlib/pyopenssl are not installed (pip install pyftpdlib pyopenssl)";
            super::skip::skip(msg);
            return None;
        }
        let certs = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/servers/ftps_server.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script).arg("--home").arg(home).arg("--certdir").arg(certs.path());
        cmd.args(["--user", USER, "--password", PASSWORD]);
        if self_signed {
            cmd.arg("--self-signed");
        }
        cmd.args(extra);
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("start the FTPS server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("READY ").and_then(|p| p.parse().ok()).expect("READY <port>");
        Some(FtpsServer { child, port, ca: certs.path().join("ca.pem"), _certs: certs })
    }
}

impl Drop for FtpsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
