//! The database connection over TLS, against a real PostgreSQL cluster with `ssl = on` and a certificate from
//! a CA made here with openssl: the certificate chain and the server's name are verified, a remote server is
//! only reached with TLS unless told otherwise, and every failure says why without printing the password.

use crate::common;

use common::db::TestDb;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use syncrocardpay_core::db::{self, localpg::LocalPostgres};
use syncrocardpay_core::formats::cielo::sample::{self, SampleSpec};
use syncrocardpay_core::pipeline::{ingest_file, IngestMode, Outcome};

fn openssl(dir: &Path, args: &[&str]) {
    let st = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl is installed");
    assert!(st.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&st.stderr));
}

/// A CA, and a server certificate it signed for the name `localhost` only (no IP address).
fn certificates(dir: &Path) -> PathBuf {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=syncro test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "server.crt",
        ],
    );
    dir.join("ca.pem")
}

/// A throwaway cluster serving TLS with `certs`' server certificate.
fn tls_cluster(certs: &Path) -> Option<LocalPostgres> {
    if db::localpg::server_bin_dir().is_none() {
        common::skip::skip("PostgreSQL server binaries are not installed");
        return None;
    }
    let mut pg = LocalPostgres::start(None, None).unwrap();
    pg.stop();
    let data = pg.dir().join("data");
    let owner = std::fs::metadata(&data).unwrap();
    for f in ["server.crt", "server.key"] {
        let to = data.join(f);
        std::fs::copy(certs.join(f), &to).unwrap();
        std::os::unix::fs::chown(&to, Some(owner.uid()), Some(owner.gid())).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let conf = data.join("postgresql.conf");
    let text = std::fs::read_to_string(&conf).unwrap() + "\nssl = on\n";
    std::fs::write(&conf, text).unwrap();
    pg.start_again().unwrap();
    Some(pg)
}

fn with(url: &str, host: &str, query: &str) -> String {
    let url = url.replace("@127.0.0.1:", &format!("@{host}:"));
    format!("{url}?{query}")
}

async fn uses_tls(client: &tokio_postgres::Client) -> bool {
    client.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn tls_is_verified_against_the_configured_ca_and_the_server_name() {
    let certs = tempfile::tempdir().unwrap();
    let ca = certificates(certs.path());
    let Some(pg) = tls_cluster(certs.path()) else { return };
    let password = pg.url().split(':').nth(2).unwrap().split('@').next().unwrap().to_string();
    let ca_q = format!("sslrootcert={}", ca.display());

    // Trusted CA, right name: connected over TLS; a whole statement loads through it.
    let url = with(pg.url(), "localhost", &format!("sslmode=verify-full&{ca_q}"));
    let mut client = db::connect(&url).await.unwrap();
    assert!(uses_tls(&client).await, "the session is encrypted");
    db::migrate(&mut client).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = SampleSpec { transactions: 20, seed: 5, merchants: 1, ..SampleSpec::default() };
    let file = sample::generate(dir.path(), &spec).unwrap().into_iter().find(|f| f.file_type == "03").unwrap();
    let r = ingest_file(&mut client, &file.path, "tls", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded);
    assert_eq!(
        client.query_one("SELECT count(*) FROM fact_card_transaction", &[]).await.unwrap().get::<_, i64>(0),
        file.transactions as i64
    );
    // The CLI: PGSSLROOTCERT works like sslrootcert, and `prefer` uses TLS when offered, verified too.
    let migrate = |ca: Option<&Path>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_syncrocardpay"));
        cmd.arg("migrate")
            .env("DATABASE_URL", with(pg.url(), "localhost", "sslmode=prefer"))
            .env_remove("PGSSLROOTCERT");
        if let Some(ca) = ca {
            cmd.env("PGSSLROOTCERT", ca);
        }
        let out = cmd.output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr))
    };
    let (ok, text) = migrate(Some(&ca));
    assert!(ok, "{text}");
    let (ok, text) = migrate(None);
    assert!(!ok && text.contains("invalid peer certificate: UnknownIssuer"), "{text}");
    assert!(!text.contains(&password), "{text}");

    // The CA as configured text (SSM's db/sslrootcert, here its environment twin): written to a private file
    // for the driver, which is gone when the command ends (one was left behind per run).
    let (userinfo, rest) = pg.url().trim_start_matches("postgres://").split_once('@').unwrap();
    let (user, pass) = userinfo.split_once(':').unwrap();
    let (hostport, name) = rest.split_once('/').unwrap();
    let port = hostport.rsplit_once(':').unwrap().1;
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_syncrocardpay"))
        .arg("migrate")
        .env_remove("DATABASE_URL")
        .env("SYNCROCARDPAY_DB_HOST", "localhost")
        .env("SYNCROCARDPAY_DB_PORT", port)
        .env("SYNCROCARDPAY_DB_USER", user)
        .env("SYNCROCARDPAY_DB_PASSWORD", pass)
        .env("SYNCROCARDPAY_DB_NAME", name.split('?').next().unwrap())
        .env("SYNCROCARDPAY_DB_SSLMODE", "verify-full")
        .env("SYNCROCARDPAY_DB_SSLROOTCERT", std::fs::read_to_string(&ca).unwrap())
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "the CA file is removed at exit: {left:?}");

    // The system's CAs do not know this one: refused, and the password is not in the message.
    for (host, query, why) in [
        ("localhost", "sslmode=require".to_string(), "UnknownIssuer"),
        // Trusted CA, but the certificate names `localhost`, not 127.0.0.1.
        ("127.0.0.1", format!("sslmode=verify-full&{ca_q}"), "certificate not valid for name \"127.0.0.1\""),
    ] {
        let e = db::connect(&with(pg.url(), host, &query)).await.unwrap_err().to_string();
        assert!(e.contains("cannot connect to PostgreSQL"), "{e}");
        assert!(e.contains(why), "{host} {query}: {e}");
        assert!(!e.contains(&password), "{e}");
    }
    // Without sslmode, this machine is reached without TLS (Debian's own cluster has a self-signed
    // certificate); the same server under another name would need TLS.
    let client = db::connect(pg.url()).await.unwrap();
    assert!(!uses_tls(&client).await);
}

#[tokio::test]
async fn a_server_without_tls_is_refused_when_tls_is_required() {
    let db = TestDb::new("db_tls_plain").await;
    assert!(!uses_tls(&db.client).await, "the test server speaks no TLS");
    let url = if db.url.contains('?') {
        format!("{}&sslmode=require", db.url)
    } else {
        format!("{}?sslmode=require", db.url)
    };
    let e = db::connect(&url).await.unwrap_err().to_string();
    assert!(e.contains("cannot connect to PostgreSQL") && e.contains("TLS"), "{e}");
    // An unreachable remote server (TLS required by default, see db::tests): named, its password not.
    let e = db::connect("postgres://syncro:pw@db.invalid:5432/x").await.unwrap_err().to_string();
    assert!(!e.contains(":pw@"), "{e}");
}
