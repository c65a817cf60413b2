//! The FTPS source against Debian's vsftpd, strictly configured (tests/common/vsftpd.rs): TLS required on both
//! channels with session reuse, no MLSD, a real system login checked by PAM, and no chroot — where the
//! directory of an `ftps://` URL must be read as RFC 1738 has it (relative to the login directory; `%2F` for
//! an absolute one).

use crate::common;

use common::db::TestDb;
use common::statements::ftp_home;
use common::vsftpd::{Vsftpd, PASSWORD, USER};
use std::sync::Arc;
use syncrocardpay_core::config::Secret;
use syncrocardpay_core::intake;
use syncrocardpay_core::source::ftps::{FtpsSettings, FtpsSource};

fn url(server: &Vsftpd, path: &str) -> String {
    format!("ftps://{USER}:{}@localhost:{}/{path}", PASSWORD.replace('!', "%21"), server.port)
}

fn cli(server: &Vsftpd, db: &TestDb, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_syncrocardpay"))
        .args(args)
        .arg("--ftps-ca-file")
        .arg(&server.ca)
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD), "the password is never printed");
    (out.status.success(), stdout.to_string(), stderr.to_string())
}

#[tokio::test]
async fn a_strict_vsftpd_serves_a_whole_run_and_url_paths_follow_rfc_1738() {
    let (home, edi, files) = ftp_home(40, 21);
    std::fs::write(edi.join("CIELO_upload.TXT.part"), b"half").unwrap();
    let Some(server) = Vsftpd::start(home.path()) else { return };
    let db = TestDb::new("vsftpd").await;
    let n = files.len();

    // Relative to the login directory: `ftps://host/edi` is the login directory's `edi`.
    let (ok, out, err) = cli(&server, &db, &["discover", "--ftps", &url(&server, "edi")]);
    assert!(ok, "{out}{err}\n{}", server.log());
    assert!(out.contains(&format!("{n} new of {n} listed")), "{out}");

    // Absolute with `%2F`: the same directory by its full path; the whole run loads every file over the strict
    // server (NLST, SIZE and MDTM without MLSD; every data channel resuming the control channel's session).
    let absolute = format!("%2F{}/edi", home.path().display().to_string().trim_start_matches('/'));
    let (ok, out, err) = cli(&server, &db, &["run", "--ftps", &url(&server, &absolute)]);
    assert!(ok, "{out}{err}\n{}", server.log());
    assert!(out.contains(&format!("files: {n} seen, {n} loaded, 0 duplicate, 0 rejected, 0 failed")), "{out}");
    let txs = db.count("SELECT count(*) FROM fact_card_transaction").await;
    assert_eq!(txs as u64, files.iter().map(|f| f.transactions).sum::<u64>());

    // The full path without `%2F` is relative to the login directory, where it does not exist: refused by the
    // server (550), said so, nothing loaded.
    let unescaped = home.path().display().to_string().trim_start_matches('/').to_string() + "/edi";
    let (ok, out, err) = cli(&server, &db, &["discover", "--ftps", &url(&server, &unescaped)]);
    assert!(!ok, "{out}");
    assert!(err.contains("550"), "{err}");

    // The one ingest path over the server with the relative directory: the same contents, already loaded,
    // are duplicates; no fact is added.
    let settings = FtpsSettings {
        host: "localhost".into(),
        port: server.port,
        user: USER.into(),
        password: Secret::new(PASSWORD),
        dir: Some("edi".into()),
        name_prefix: Some("cielo".into()),
        ca_file: Some(server.ca.clone()),
        tls_name: None,
        attempts: 2,
        timeout: std::time::Duration::from_secs(5),
    };
    let again = intake::run(&db.url, Arc::new(FtpsSource::new(settings.clone()).unwrap()), 2).await.unwrap();
    assert_eq!((again.files_seen, again.duplicates, again.loaded, again.failed), (n, n, 0, 0), "{:?}", again.failures);
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await, txs);

    // A wrong password: refused at once (530), never retried, never printed.
    let wrong = FtpsSettings { password: Secret::new("not-the-password"), ..settings };
    let started = std::time::Instant::now();
    let err = FtpsSource::new(wrong).unwrap().list_files().await.unwrap_err().to_string();
    assert!(err.contains("530"), "{err}");
    assert!(!err.contains("not-the-password"));
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "an authentication failure is not retried");
}
