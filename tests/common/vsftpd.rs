//! A throwaway vsftpd (Debian's package) on 127.0.0.1 and a free port, configured strictly: explicit TLS
//! required on the control and the data channel, `require_ssl_reuse=YES` (the data channel must resume the
//! control channel's TLS session), no MLSD (vsftpd has none: the client lists with NLST, SIZE and MDTM), and the
//! user *not* confined to its login directory (`chroot_local_user=NO`), where a URL's path must be relative to
//! the login directory as RFC 1738 has it. The login is a real system user checked by PAM, set up once by
//! `scripts/vsftpd-test-setup.sh` (as root; CI runs it); without it the tests skip and say so.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "syncroedi";
pub const PASSWORD: &str = "edi-S3cret!";
const PAM_SERVICE: &str = "syncrocardpay-ftps-test";

pub struct Vsftpd {
    child: Child,
    pub port: u16,
    pub ca: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Let the FTP user (not root) read `home` and everything in it.
fn readable(path: &Path) {
    let meta = std::fs::metadata(path).unwrap();
    let mode = if meta.is_dir() { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    if meta.is_dir() {
        for e in std::fs::read_dir(path).unwrap() {
            readable(&e.unwrap().path());
        }
    }
}

impl Vsftpd {
    /// Serve `home` as the user's login directory. `None` (the test skipped, with the reason) when the machine
    /// is not set up for it.
    pub fn start(home: &Path) -> Option<Vsftpd> {
        let binary = ["/usr/sbin/vsftpd", "/usr/local/sbin/vsftpd"].into_iter().find(|p| Path::new(p).exists());
        let user_exists = Command::new("id").arg(USER).stdout(Stdio::null()).stderr(Stdio::null()).status();
        let ready = binary.is_some()
            && user_exists.is_ok_and(|s| s.success())
            && Path::new("/etc/pam.d").join(PAM_SERVICE).exists();
        if !ready {
            super::skip::skip("vsftpd is not set up for the tests: run scripts/vsftpd-test-setup.sh as root");
            return None;
        }
        let ok = Command::new("python3").args(["-c", "import cryptography"]).status();
        if !ok.is_ok_and(|s| s.success()) {
            super::skip::skip("python3's cryptography is not installed (it makes the test certificates)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let certs = dir.path().join("certs");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/servers/ftps_server.py");
        let made = Command::new("python3")
            .arg(script)
            .arg("--home")
            .arg(home)
            .arg("--certdir")
            .arg(&certs)
            .arg("--certs-only")
            .status()
            .unwrap();
        assert!(made.success(), "test certificates");
        // vsftpd refuses a secure_chroot_dir the FTP user could write to.
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        std::fs::set_permissions(&empty, std::fs::Permissions::from_mode(0o555)).unwrap();
        readable(home);
        let port = free_port();
        let log = dir.path().join("vsftpd.log");
        let config = format!(
            "listen=YES\nlisten_address=127.0.0.1\nlisten_port={port}\nbackground=NO\n\
             anonymous_enable=NO\nlocal_enable=YES\nwrite_enable=NO\npam_service_name={PAM_SERVICE}\n\
             local_root={home}\nchroot_local_user=NO\nsecure_chroot_dir={empty}\n\
             ssl_enable=YES\nrsa_cert_file={cert}\nrsa_private_key_file={key}\nallow_anon_ssl=NO\n\
             force_local_logins_ssl=YES\nforce_local_data_ssl=YES\nrequire_ssl_reuse=YES\nssl_ciphers=HIGH\n\
             pasv_enable=YES\npasv_address=127.0.0.1\n\
             seccomp_sandbox=NO\nisolate=NO\nisolate_network=NO\n\
             xferlog_enable=YES\nvsftpd_log_file={log}\nlog_ftp_protocol=YES\n",
            home = home.display(),
            empty = empty.display(),
            cert = certs.join("server.pem").display(),
            key = certs.join("server.key").display(),
            log = log.display(),
        );
        let conf = dir.path().join("vsftpd.conf");
        std::fs::write(&conf, config).unwrap();
        let child = Command::new(binary.unwrap())
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vsftpd");
        let mut server = Vsftpd { child, port, ca: certs.join("ca.pem"), log, _dir: dir };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                let mut err = String::new();
                let _ = server.child.stderr.take().unwrap().read_to_string(&mut err);
                panic!("vsftpd exited ({status}): {err}");
            }
            assert!(started.elapsed() < Duration::from_secs(10), "vsftpd did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(server)
    }

    /// The server's log (the FTP protocol, passwords masked by vsftpd), for a failure's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Vsftpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
