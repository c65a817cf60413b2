//! The FTPS source against a real explicit-FTPS server on 127.0.0.1 (TLS required on both channels).

mod common;

use common::ftps::{FtpsServer, PASSWORD, USER};
use common::statements::samples;
use syncrocardpay_core::config::Secret;
use syncrocardpay_core::source::ftps::{FtpsSettings, FtpsSource};

fn settings(server: &FtpsServer, ca: bool) -> FtpsSettings {
    FtpsSettings {
        host: "localhost".into(),
        port: server.port,
        user: USER.into(),
        password: Secret::new(PASSWORD),
        dir: Some("/edi".into()),
        name_prefix: Some("cielo".into()),
        ca_file: ca.then(|| server.ca.clone()),
        tls_name: None,
        attempts: 3,
    }
}

#[tokio::test]
async fn lists_and_downloads_over_verified_tls() {
    let home = tempfile::tempdir().unwrap();
    let edi = home.path().join("edi");
    std::fs::create_dir(&edi).unwrap();
    let files = samples(&edi, 80, 3);
    std::fs::write(edi.join("CIELO03_upload.TXT.part"), b"half").unwrap();
    std::fs::write(edi.join("README.txt"), b"not a statement").unwrap();
    std::fs::create_dir(edi.join("CIELO_old")).unwrap();
    let Some(server) = FtpsServer::start(home.path(), false) else { return };
    let source = FtpsSource::new(settings(&server, true)).unwrap();
    let listed = source.list().await.unwrap();
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
    let err = source.list().await.unwrap_err().to_string();
    assert!(err.contains("certificate"), "{err}");
    assert!(!err.contains(PASSWORD));
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "a certificate error is not retried");

    let home2 = tempfile::tempdir().unwrap();
    std::fs::create_dir(home2.path().join("edi")).unwrap();
    let Some(good) = FtpsServer::start(home2.path(), false) else { return };
    let mut s = settings(&good, true);
    s.password = Secret::new("wrong-password");
    let err = FtpsSource::new(s).unwrap().list().await.unwrap_err().to_string();
    assert!(err.contains("530"), "{err}");
    assert!(!err.contains("wrong-password"));
}
