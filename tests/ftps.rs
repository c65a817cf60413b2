//! The FTPS source against a real explicit-FTPS server on 127.0.0.1 (TLS required on both channels).

use crate::common;

use common::ftps::{FtpsServer, PASSWORD, USER};
use common::statements::{ftp_home, samples};
use std::sync::Arc;
use syncrocardpay_core::config::Secret;
use syncrocardpay_core::intake;
use syncrocardpay_core::pipeline::RunSummary;
use syncrocardpay_core::source::ftps::{FtpsSettings, FtpsSource};
use syncrocardpay_core::source::s3::S3Store;

fn settings(server: &FtpsServer, ca: bool) -> FtpsSettings {
    FtpsSettings {
        host: "localhost".into(),
        port: server.port,
        user: USER.into(),
        password: Secret::new(PASSWORD),
        dir: Some("edi".into()),
        name_prefix: Some("cielo".into()),
        ca_file: ca.then(|| server.ca.clone()),
        tls_name: None,
        attempts: 3,
        timeout: std::time::Duration::from_secs(3),
    }
}

/// A run over the server (the one ingest path of every source), with raw copies kept in `raw` if given.
async fn run_ftps(url: &str, server: &FtpsServer, raw: Option<Arc<S3Store>>, jobs: usize) -> RunSummary {
    let source = FtpsSource::new(settings(server, true)).unwrap().with_copies(raw);
    intake::run(url, Arc::new(source), jobs).await.unwrap()
}

#[tokio::test]
async fn lists_and_downloads_over_verified_tls() {
    let (home, edi, files) = ftp_home(80, 3);
    std::fs::write(edi.join("CIELO03_upload.TXT.part"), b"half").unwrap();
    std::fs::write(edi.join("README.txt"), b"not a statement").unwrap();
    std::fs::create_dir(edi.join("CIELO_old")).unwrap();
    let Some(server) = FtpsServer::start(home.path(), false) else { return };
    let source = FtpsSource::new(settings(&server, true)).unwrap();
    let listed = source.list_files().await.unwrap();
    let mut names: Vec<String> =
        files.iter().map(|f| f.path.file_name().unwrap().to_string_lossy().to_string()).collect();
    names.sort();
    assert_eq!(
        listed.iter().map(|f| f.name.clone()).collect::<Vec<_>>(),
        names,
        "statements only: no .part, no other names, no directories"
    );
    for f in &listed {
        let local = edi.join(&f.name);
        assert_eq!(f.size, std::fs::metadata(&local).unwrap().len());
        assert!(f.modified.is_some());
    }
    let out = tempfile::tempdir().unwrap();
    let got = source.download(&listed[0], out.path()).await.unwrap();
    assert_eq!(std::fs::read(&got).unwrap(), std::fs::read(edi.join(&listed[0].name)).unwrap());
    assert!(!out.path().join(format!("{}.part", listed[0].name)).exists());
    assert!(!source.label().contains(PASSWORD));
}

#[tokio::test]
async fn an_untrusted_certificate_or_a_wrong_password_is_refused_at_once() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join("edi")).unwrap();
    let Some(server) = FtpsServer::start(home.path(), true) else { return };
    // The system roots do not know the server's self-signed certificate.
    let source = FtpsSource::new(settings(&server, false)).unwrap();
    let started = std::time::Instant::now();
    let err = source.list_files().await.unwrap_err().to_string();
    assert!(err.contains("certificate"), "{err}");
    assert!(!err.contains(PASSWORD));
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "a certificate error is not retried");

    let home2 = tempfile::tempdir().unwrap();
    std::fs::create_dir(home2.path().join("edi")).unwrap();
    let Some(good) = FtpsServer::start(home2.path(), false) else { return };
    let mut s = settings(&good, true);
    s.password = Secret::new("wrong-password");
    let err = FtpsSource::new(s).unwrap().list_files().await.unwrap_err().to_string();
    assert!(err.contains("530"), "{err}");
    assert!(!err.contains("wrong-password"));
}

#[tokio::test]
async fn ftps_files_load_once_changed_files_are_new_and_raw_copies_land_in_s3() {
    let (home, _, files) = ftp_home(60, 12);
    let Some(server) = FtpsServer::start(home.path(), false) else { return };
    let Some(moto) = common::moto::Moto::start() else { return };
    let db = common::db::TestDb::new("ftpsrun").await;
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("raw").send().await.unwrap();
    let raw = Arc::new(S3Store::new(s3.clone(), "raw", "syncro"));

    let first = run_ftps(&db.url, &server, Some(raw.clone()), 2).await;
    assert_eq!((first.files_seen, first.loaded, first.failed), (files.len(), files.len(), 0), "{:?}", first.failures);
    let txs = db.count("SELECT count(*) FROM fact_card_transaction").await;
    assert_eq!(txs as u64, files.iter().map(|f| f.transactions).sum::<u64>());
    let listed = s3.list_objects_v2().bucket("raw").prefix("syncro/raw/cielo/").send().await.unwrap();
    assert_eq!(listed.contents().len(), files.len(), "every download has a raw copy");
    let f0 = &files[0];
    let name0 = f0.path.file_name().unwrap().to_string_lossy().to_string();
    assert!(listed.contents().iter().any(|o| o
        .key()
        .unwrap()
        .starts_with(&format!("syncro/raw/cielo/{}/", f0.merchant_code))
        && o.key().unwrap().ends_with(&name0)));

    // Second run: everything was seen with the same size and time; nothing is downloaded or added.
    let second = run_ftps(&db.url, &server, None, 2).await;
    assert_eq!((second.loaded, second.duplicates), (0, files.len()));
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await, txs);

    // The server replaces one file with other content under the same name: a new file, flagged changed.
    let other = tempfile::tempdir().unwrap();
    let replacement = samples(other.path(), 70, 99).into_iter().find(|f| f.file_type == f0.file_type).unwrap();
    std::fs::copy(&replacement.path, &f0.path).unwrap();
    let third = run_ftps(&db.url, &server, None, 1).await;
    assert_eq!(third.loaded, 1, "{:?}", third.failures);
    assert_eq!(third.reports[0].file, name0);
    let changed = db.count(&format!("SELECT count(*) FROM remote_file WHERE path = '{name0}' AND changed")).await;
    assert_eq!(changed, 1);
    assert_eq!(db.count("SELECT count(*) FROM remote_file WHERE status = 'loaded'").await as usize, files.len() + 1);
}

#[tokio::test]
async fn cli_run_over_ftps_never_prints_the_password() {
    let (home, _, files) = ftp_home(30, 4);
    let Some(server) = FtpsServer::start(home.path(), false) else { return };
    let db = common::db::TestDb::new("ftpscli").await;
    let url = format!("ftps://{USER}:{}@localhost:{}/edi", PASSWORD.replace('!', "%21"), server.port);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_syncrocardpay"))
        .args(["run", "--ftps", &url, "--ftps-ca-file"])
        .arg(&server.ca)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let seen = format!("files: {0} seen, {0} loaded, 0 duplicate, 0 rejected, 0 failed", files.len());
    assert!(stdout.contains(&seen), "{stdout}");
    assert!(
        stdout.contains(&format!("syncrocardpay run over ftps://{USER}@localhost:{}/edi", server.port)),
        "{stdout}"
    );
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD), "the FTPS password is never printed");
}

#[tokio::test]
async fn discover_lists_new_files_without_loading_them() {
    let (home, _, files) = ftp_home(30, 6);
    let Some(server) = FtpsServer::start(home.path(), false) else { return };
    let db = common::db::TestDb::new("ftpsdiscover").await;
    let url = format!("ftps://{USER}:{}@localhost:{}/edi", PASSWORD.replace('!', "%21"), server.port);
    let discover = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_syncrocardpay"))
            .args(["discover", "--ftps", &url, "--ftps-ca-file"])
            .arg(&server.ca)
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap()
    };
    let out = discover();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(&format!("{0} new of {0} listed", files.len())), "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("new    ")).count(), files.len(), "a line each, aligned: {text}");
    assert_eq!(db.count("SELECT count(*) FROM statement_file").await, 0, "discover loads nothing");
    // After a run, the same listing is all seen.
    run_ftps(&db.url, &server, None, 2).await;
    let text = String::from_utf8_lossy(&discover().stdout).to_string();
    assert!(text.contains(&format!("0 new of {} listed", files.len())), "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("seen   ")).count(), files.len(), "{text}");
    assert!(!text.contains(PASSWORD));
}

#[tokio::test]
async fn a_short_transfer_is_retried_and_a_partial_file_never_kept() {
    let (home, edi, files) = ftp_home(30, 7);
    let Some(server) = FtpsServer::start_with(home.path(), false, &["--short-first-retr", "1000"]) else { return };
    let source = FtpsSource::new(settings(&server, true)).unwrap();
    let listed = source.list_files().await.unwrap();
    let out = tempfile::tempdir().unwrap();
    // The first transfer of each file stops after 1000 bytes but reports success; the second is whole.
    let got = source.download(&listed[0], out.path()).await.unwrap();
    assert_eq!(std::fs::read(&got).unwrap(), std::fs::read(edi.join(&listed[0].name)).unwrap());
    // With a single attempt, the short file is refused and nothing is left behind under any name.
    let mut one = settings(&server, true);
    one.attempts = 1;
    let err = FtpsSource::new(one).unwrap().download(&listed[1], out.path()).await.unwrap_err().to_string();
    assert!(err.contains("arrived with 1000 bytes, the listing said"), "{err}");
    let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 1, "only the first, complete download: {left:?}");
    assert!(files.len() > 1);
}

#[tokio::test]
async fn a_raw_copy_in_s3_is_preferred_to_the_server() {
    let (home, edi, files) = ftp_home(20, 13);
    let f = files.into_iter().next().unwrap();
    let name = f.path.file_name().unwrap().to_string_lossy().to_string();
    let good = std::fs::read(&f.path).unwrap();
    let Some(moto) = common::moto::Moto::start() else { return };
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("raw").send().await.unwrap();
    let store = Arc::new(S3Store::new(s3.clone(), "raw", ""));
    store.put_raw(&f.path, "cielo", &f.merchant_code, "2026-09-03", &name).await.unwrap();
    // The server now holds bytes of the same size that are not a statement: taking them would reject the file.
    for p in std::fs::read_dir(&edi).unwrap() {
        let p = p.unwrap().path();
        if p != f.path {
            std::fs::remove_file(p).unwrap();
        }
    }
    std::fs::write(&f.path, vec![b'x'; good.len()]).unwrap();
    let Some(server) = FtpsServer::start(home.path(), false) else { return };
    let db = common::db::TestDb::new("ftpsrawfirst").await;
    let run = run_ftps(&db.url, &server, Some(store), 1).await;
    assert_eq!((run.loaded, run.rejected, run.failed), (1, 0, 0), "{:?}", run.failures);
    assert_eq!(db.count("SELECT count(*) FROM remote_file WHERE raw_key LIKE 'raw/cielo/%'").await, 1);
    let objects = s3.list_objects_v2().bucket("raw").send().await.unwrap();
    assert_eq!(objects.contents().len(), 1, "no second raw copy");
}

#[tokio::test]
async fn servers_without_mlsd_are_listed_with_nlst_size_and_mdtm() {
    let (home, edi, files) = ftp_home(20, 14);
    std::fs::create_dir(edi.join("CIELO_archive")).unwrap();
    let Some(server) = FtpsServer::start_with(home.path(), false, &["--no-mlsd"]) else { return };
    let source = FtpsSource::new(settings(&server, true)).unwrap();
    let listed = source.list_files().await.unwrap();
    assert_eq!(listed.len(), files.len(), "{listed:?}");
    for f in &listed {
        assert_eq!(f.size, std::fs::metadata(edi.join(&f.name)).unwrap().len());
        assert!(f.modified.is_some());
    }
}

/// Against a server that fails the first RETR of each file as `fault` says: the first file downloads intact
/// (retried on a new connection) and without hanging; with a single attempt the second fails, leaving no
/// partial file. Returns that failure.
async fn a_fault_at_retr_is_retried(fault: &[&str], seed: u64) -> Option<(String, String)> {
    let (home, edi, _) = ftp_home(30, seed);
    let server = FtpsServer::start_with(home.path(), false, fault)?;
    let source = FtpsSource::new(settings(&server, true)).unwrap();
    let listed = source.list_files().await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let got = source.download(&listed[0], out.path()).await.unwrap();
    assert_eq!(std::fs::read(&got).unwrap(), std::fs::read(edi.join(&listed[0].name)).unwrap());
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "a stalled or dead connection is not waited on");
    let mut one = settings(&server, true);
    one.attempts = 1;
    let err = FtpsSource::new(one).unwrap().download(&listed[1], out.path()).await.unwrap_err().to_string();
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1, "no partial file left: {err}");
    Some((listed[1].name.clone(), err))
}

#[tokio::test]
async fn a_transfer_broken_off_mid_file_is_retried() {
    let Some((_, err)) = a_fault_at_retr_is_retried(&["--drop-first-retr", "4096"], 15).await else { return };
    assert!(!err.is_empty());
}

#[tokio::test]
async fn a_control_connection_dropped_mid_session_is_retried_on_a_new_one() {
    let Some((name, err)) = a_fault_at_retr_is_retried(&["--drop-control-first-retr"], 16).await else { return };
    assert!(err.contains(&format!("downloading {name}")) && err.contains("connection closed"), "{err}");
}

/// TLS verification has no off switch: no code outside the tests builds a verifier that accepts anything, no
/// dependency enables rustls' "dangerous" features, and no command-line flag or setting disables it (the tests
/// themselves trust a test CA, they do not skip verification).
#[test]
fn tls_verification_cannot_be_turned_off() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let forbidden = [
        "dangerous(",
        "ServerCertVerifier",
        "NoCertificateVerification",
        "danger_accept_invalid",
        "accept_invalid_certs",
        "set_verify(SslVerifyMode::NONE",
    ];
    let mut sources = Vec::new();
    let mut dirs: Vec<std::path::PathBuf> =
        ["src", "shared/src", "functions", "tests"].iter().map(|d| root.join(d)).collect();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("tests/ftps.rs") {
                sources.push(path);
            }
        }
    }
    assert!(sources.len() > 30, "the scan sees the code ({} files)", sources.len());
    for path in &sources {
        let text = std::fs::read_to_string(path).unwrap();
        for f in forbidden {
            assert!(!text.contains(f), "{} contains {f:?}: TLS verification must not be disableable", path.display());
        }
    }
    for manifest in ["Cargo.toml", "shared/Cargo.toml"] {
        let text = std::fs::read_to_string(root.join(manifest)).unwrap();
        assert!(!text.contains("dangerous"), "{manifest} enables a dangerous TLS feature");
    }
    let help =
        std::process::Command::new(env!("CARGO_BIN_EXE_syncrocardpay")).args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).to_lowercase();
    assert!(help.contains("certificate verified"), "{help}");
    for word in ["insecure", "no-verify", "skip-verify", "accept-invalid"] {
        assert!(!help.contains(word), "a flag looks like it disables verification: {word}");
    }
}

/// With every log level open — `RUST_LOG=trace`, even `suppaftp=trace` — the FTPS password never reaches the
/// output: suppaftp logs `PASS <password>` at trace, and its target is capped (issue 14, item 5).
#[tokio::test]
async fn trace_logging_never_prints_the_ftps_password() {
    let (home, _, _) = ftp_home(10, 6);
    let Some(server) = FtpsServer::start(home.path(), false) else { return };
    let db = common::db::TestDb::new("ftpstrace").await;
    let url = format!("ftps://{USER}:{}@localhost:{}/edi", PASSWORD.replace('!', "%21"), server.port);
    for level in ["trace", "trace,suppaftp=trace"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_syncrocardpay"))
            .args(["discover", "--ftps", &url, "--ftps-ca-file"])
            .arg(&server.ca)
            .env("DATABASE_URL", &db.url)
            .env("RUST_LOG", level)
            .output()
            .unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(stderr.contains("TRACE"), "trace logging is on: {stderr}");
        assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD), "{level}: the password was printed");
        assert!(!stderr.contains("PASS "), "{level}: the PASS command was logged");
    }
}
