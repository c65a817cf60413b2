//! Configuration from SSM Parameter Store and the S3 inbox/archive, against the `moto` AWS emulator on
//! 127.0.0.1 (started and stopped by each test), and the real PostgreSQL.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_ssm::types::ParameterType;
use common::db::TestDb;
use common::moto::Moto;
use common::statements::samples;
use std::sync::Arc;
use syncrocardpay_core::config::{Config, ConfigError, SsmParameters};
use syncrocardpay_core::intake;
use syncrocardpay_core::pipeline::{Outcome, RunSummary};
use syncrocardpay_core::source::s3::S3Store;

/// A run over the S3 inbox (the one ingest path of every source).
async fn run_s3(url: &str, store: Arc<S3Store>, jobs: usize) -> syncrocardpay_core::Result<RunSummary> {
    intake::run(url, store, jobs).await
}

async fn put(ssm: &aws_sdk_ssm::Client, name: &str, value: &str, secure: bool) {
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(if secure { ParameterType::SecureString } else { ParameterType::String })
        .overwrite(true)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn ssm_parameters_are_read_and_missing_ones_named_never_their_values() {
    let Some(moto) = Moto::start() else { return };
    let ssm = moto.ssm().await;
    for (k, v) in [("host", "db.internal"), ("port", "5433"), ("user", "loader"), ("name", "recon")] {
        put(&ssm, &format!("/t/db/{k}"), v, false).await;
    }
    put(&ssm, "/t/db/password", "pa;ss'w\"ord", true).await;
    put(&ssm, "/t/ftps/host", "ftps.cielo.example", false).await;
    put(&ssm, "/t/ftps/user", "edi", false).await;
    let source = SsmParameters::new(ssm.clone());

    // FTPS half-configured: the missing parameters are named.
    let err = Config::load(&source, "/t").await.unwrap_err();
    assert_eq!(err, ConfigError::Missing(vec!["/t/ftps/port".into(), "/t/ftps/password".into()]));
    assert_eq!(err.to_string(), "missing parameter(s): /t/ftps/port, /t/ftps/password");

    put(&ssm, "/t/ftps/port", "990", false).await;
    put(&ssm, "/t/ftps/password", "ftp-secret-123", true).await;
    let c = Config::load(&source, "/t/").await.unwrap();
    let db = c.db.as_ref().unwrap();
    assert_eq!(
        (db.host.as_str(), db.port, db.user.as_str(), db.name.as_str()),
        ("db.internal", 5433, "loader", "recon")
    );
    assert_eq!(db.password.expose(), "pa;ss'w\"ord", "SecureString decrypted");
    assert_eq!(db.url().unwrap(), "postgres://loader:pa%3Bss%27w%22ord@db.internal:5433/recon");
    // The optional TLS settings: the mode, and the CA bundle's PEM text (written to a file for the driver).
    let pem = "-----BEGIN CERTIFICATE-----\nMIIBrds\n-----END CERTIFICATE-----\n";
    put(&ssm, "/t/db/sslmode", "verify-full", false).await;
    put(&ssm, "/t/db/sslrootcert", pem, false).await;
    let url = Config::load(&source, "/t").await.unwrap().db.unwrap().url().unwrap();
    assert!(
        url.starts_with("postgres://loader:pa%3Bss%27w%22ord@db.internal:5433/recon?sslmode=verify-full&sslrootcert=")
    );
    let path = url.split("sslrootcert=").nth(1).unwrap().replace("%2F", "/");
    assert_eq!(std::fs::read_to_string(path).unwrap(), pem);
    let ftps = c.ftps.as_ref().unwrap();
    assert_eq!((ftps.host.as_str(), ftps.port, ftps.password.expose()), ("ftps.cielo.example", 990, "ftp-secret-123"));
    let shown = format!("{c:?}");
    assert!(!shown.contains("ftp-secret-123") && !shown.contains("pa;ss"), "secrets never printed: {shown}");

    // Nothing under another prefix: no groups at all, and requiring the database names its parameters.
    let empty = Config::load(&source, "/other").await.unwrap();
    assert_eq!(empty, Config::default());
    assert!(empty.require_db("/other").unwrap_err().to_string().contains("/other/db/password"));

    // A bad port is named with its parameter; a bad password value is never echoed.
    put(&ssm, "/t/db/port", "54x", false).await;
    let err = Config::load(&source, "/t").await.unwrap_err();
    assert_eq!(err.to_string(), "parameter /t/db/port: \"54x\" is not a TCP port");
}

#[tokio::test]
async fn s3_inbox_is_loaded_archived_and_rejections_keep_their_reason() {
    let Some(moto) = Moto::start() else { return };
    let db = TestDb::new("s3inbox").await;
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("statements").send().await.unwrap();
    let store = Arc::new(S3Store::new(s3.clone(), "statements", "acme/"));
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 120, 5);
    let mut uploaded = Vec::new();
    for f in files.iter().filter(|f| f.merchant_code == files[0].merchant_code) {
        let name = f.path.file_name().unwrap().to_string_lossy().to_string();
        let key = format!("acme/inbox/2026/{name}");
        s3.put_object()
            .bucket("statements")
            .key(&key)
            .body(ByteStream::from_path(&f.path).await.unwrap())
            .send()
            .await
            .unwrap();
        uploaded.push(name);
    }
    // A corrupt statement, and a key that would escape its folder.
    let mut bad = std::fs::read(&files[0].path).unwrap();
    bad.truncate(bad.len() - 252); // drops the trailer line (250 bytes + CRLF)
    s3.put_object().bucket("statements").key("acme/inbox/2026/CIELO03_cut.TXT").body(bad.into()).send().await.unwrap();
    s3.put_object()
        .bucket("statements")
        .key("acme/inbox/x/../../escape.TXT")
        .body(b"0".to_vec().into())
        .send()
        .await
        .unwrap();

    let summary = run_s3(&db.url, store.clone(), 2).await.unwrap();
    assert_eq!(summary.loaded, uploaded.len(), "{:?}", summary.failures);
    assert_eq!(summary.rejected, 1);
    assert_eq!(summary.failed, 1, "the unsafe key is refused, not used");
    assert!(summary.failures[0].1.contains("\"..\" path segment"), "{:?}", summary.failures);
    let txs: i64 = db.count("SELECT count(*) FROM fact_card_transaction").await;
    assert_eq!(
        txs as u64,
        files.iter().filter(|f| f.merchant_code == files[0].merchant_code).map(|f| f.transactions).sum::<u64>()
    );

    let keys = |prefix: &'static str| {
        let s3 = s3.clone();
        async move {
            let out = s3.list_objects_v2().bucket("statements").prefix(prefix).send().await.unwrap();
            out.contents().iter().map(|o| o.key().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    assert_eq!(keys("acme/inbox/").await, ["acme/inbox/x/../../escape.TXT"], "only the refused key is left");
    let processed = keys("acme/processed/").await;
    assert_eq!(processed.len(), uploaded.len());
    assert!(processed.iter().all(|k| k.starts_with("acme/processed/2026/")));
    assert_eq!(keys("acme/rejected/").await, ["acme/rejected/2026/CIELO03_cut.TXT"]);
    let meta = store.metadata("acme/rejected/2026/CIELO03_cut.TXT").await.unwrap();
    assert!(meta["reason"].contains("field trailer: the file ends without a trailer"), "{meta:?}");
    assert_eq!(meta["source-key"], "acme/inbox/2026/CIELO03_cut.TXT");

    // The same content dropped again under another name: nothing new is loaded; it is archived as processed.
    s3.put_object()
        .bucket("statements")
        .key("acme/inbox/again.TXT")
        .body(ByteStream::from_path(&files[0].path).await.unwrap())
        .send()
        .await
        .unwrap();
    let summary = run_s3(&db.url, store.clone(), 1).await.unwrap();
    assert_eq!((summary.loaded, summary.duplicates), (0, 1));
    assert_eq!(summary.reports[0].outcome, Outcome::Duplicate);
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await, txs);
    assert!(keys("acme/processed/").await.contains(&"acme/processed/again.TXT".to_string()));

    // Raw copies of downloads from elsewhere go under raw/<acquirer>/<merchant>/<date>/<name>.
    let key =
        store.put_raw(&files[0].path, "cielo", &files[0].merchant_code, "2026-09-03", "CIELO03.TXT").await.unwrap();
    assert_eq!(key, format!("acme/raw/cielo/{}/2026-09-03/CIELO03.TXT", files[0].merchant_code));
    assert!(store.put_raw(&files[0].path, "cielo", "..", "2026-09-03", "x").await.is_err());
}

/// The CLI against the emulator: database settings from SSM, statements from an S3 inbox, and the secret
/// never in what it prints.
#[tokio::test]
async fn cli_reads_the_database_from_ssm_and_statements_from_s3() {
    let Some(moto) = Moto::start() else { return };
    let db = TestDb::new("clis3").await;
    // postgres://user:password@host:port/name → the five SSM parameters.
    let rest = db.url.strip_prefix("postgres://").unwrap();
    let (auth, rest) = rest.split_once('@').unwrap();
    let (user, password) = auth.split_once(':').unwrap();
    let (hostport, name) = rest.split_once('/').unwrap();
    let (host, port) = hostport.split_once(':').unwrap();
    let ssm = moto.ssm().await;
    for (k, v, secure) in [
        ("host", host, false),
        ("port", port, false),
        ("user", user, false),
        ("password", password, true),
        ("name", name, false),
    ] {
        put(&ssm, &format!("/cli/db/{k}"), v, secure).await;
    }
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("edi").send().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 60, 8);
    for f in files.iter().take(2) {
        let name = f.path.file_name().unwrap().to_string_lossy().to_string();
        s3.put_object()
            .bucket("edi")
            .key(format!("in/inbox/{name}"))
            .body(ByteStream::from_path(&f.path).await.unwrap())
            .send()
            .await
            .unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_syncrocardpay"))
        .args(["run", "--s3", "s3://edi/in", "--ssm-prefix", "/cli"])
        .env_remove("DATABASE_URL")
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("syncrocardpay run over s3://edi/in/"), "{stdout}");
    assert!(stdout.contains("files: 2 seen, 2 loaded, 0 duplicate, 0 rejected, 0 failed"), "{stdout}");
    assert!(!stdout.contains(password) && !stderr.contains(password), "the database password is never printed");
    assert_eq!(db.count("SELECT count(*) FROM statement_file WHERE status = 'loaded'").await, 2);
}

/// A zip dropped in the S3 inbox is opened like any file: each member loads as a statement of its own, and
/// the archive is archived to processed/ (issue 13, item 4).
#[tokio::test]
async fn a_zip_in_the_s3_inbox_loads_each_member_and_is_archived() {
    let Some(moto) = Moto::start() else { return };
    let db = TestDb::new("s3zip").await;
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("statements").send().await.unwrap();
    let store = Arc::new(S3Store::new(s3.clone(), "statements", "acme/"));
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 40, 8);
    let zip = dir.path().join("night.zip");
    let members: Vec<(String, &std::path::Path)> =
        files.iter().take(3).enumerate().map(|(i, f)| (format!("F{i}.TXT"), f.path.as_path())).collect();
    let members: Vec<(&str, &std::path::Path)> = members.iter().map(|(n, p)| (n.as_str(), *p)).collect();
    syncrocardpay_core::archive::write_zip(&zip, &members).unwrap();
    s3.put_object()
        .bucket("statements")
        .key("acme/inbox/night.zip")
        .body(ByteStream::from_path(&zip).await.unwrap())
        .send()
        .await
        .unwrap();
    let summary = run_s3(&db.url, store.clone(), 1).await.unwrap();
    assert_eq!(summary.reports.len(), 1, "{:?}", summary.failures);
    let r = &summary.reports[0];
    assert_eq!((r.outcome, r.members.len()), (Outcome::Loaded, 3));
    assert_eq!(r.members[1].file, "night.zip!F1.TXT");
    let expected: u64 = files.iter().take(3).map(|f| f.transactions).sum();
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, expected);
    let out = s3.list_objects_v2().bucket("statements").prefix("acme/").send().await.unwrap();
    let keys: Vec<&str> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["acme/processed/night.zip"]);
}

/// A key longer than any file name (S3 allows 1 024 bytes, a file system 255) is downloaded under a short
/// name of ours and loads, the key's last segment kept as the delivery's name (issue 14, item 17).
#[tokio::test]
async fn an_s3_key_longer_than_a_file_name_is_processed() {
    let Some(moto) = Moto::start() else { return };
    let db = TestDb::new("s3longkey").await;
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("statements").send().await.unwrap();
    let store = Arc::new(S3Store::new(s3.clone(), "statements", "acme/"));
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 20, 12);
    let long = format!("CIELO03_{}.TXT", "x".repeat(300));
    s3.put_object()
        .bucket("statements")
        .key(format!("acme/inbox/{long}"))
        .body(ByteStream::from_path(&files[0].path).await.unwrap())
        .send()
        .await
        .unwrap();
    let summary = run_s3(&db.url, store.clone(), 1).await.unwrap();
    assert_eq!((summary.loaded, summary.failed), (1, 0), "{:?}", summary.failures);
    let name: String = db.client.query_one("SELECT file_name FROM statement_file", &[]).await.unwrap().get(0);
    assert_eq!(name, long);
    let out = s3.list_objects_v2().bucket("statements").prefix("acme/processed/").send().await.unwrap();
    assert_eq!(out.contents().len(), 1);
}

/// A one-request HTTP server on 127.0.0.1 standing in for CloudFormation's presigned response URL: returns its
/// URL and what it will have received (method and body).
async fn response_url() -> (String, tokio::task::JoinHandle<(String, serde_json::Value)>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cfn-response?X-Amz-Signature=abc", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = socket.read(&mut chunk).await.unwrap();
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if buf.len() >= end + 4 + length {
                    socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await.unwrap();
                    let method = text.split(' ').next().unwrap().to_string();
                    return (method, serde_json::from_slice(&buf[end + 4..end + 4 + length]).unwrap());
                }
            }
            if n == 0 {
                panic!("connection closed early: {text}");
            }
        }
    });
    (url, server)
}

fn custom_resource(kind: &str, url: &str) -> serde_json::Value {
    let mut r = serde_json::json!({
        "RequestType": kind, "ServiceToken": "arn:aws:lambda:sa-east-1:123456789012:function:s-migrate",
        "ResponseURL": url, "StackId": "arn:aws:cloudformation:sa-east-1:123456789012:stack/s/1",
        "RequestId": "req-1", "LogicalResourceId": "SchemaMigration", "ResourceType": "Custom::SchemaMigration",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:sa-east-1:123456789012:function:s-migrate",
                               "MigrationsVersion": "18"}
    });
    if kind != "Create" {
        r["PhysicalResourceId"] = serde_json::json!(syncrocardpay_migrate::PHYSICAL_ID);
        r["OldResourceProperties"] = r["ResourceProperties"].clone();
    }
    r
}

/// The database as production runs it (issue 16, item 9): the deploy's migrate step (a custom resource)
/// migrates an empty database as the schema's owner and gives the runtime user read/write rights and no DDL;
/// CloudFormation always gets its answer; the functions only check the schema, and say what to do when it is
/// behind; deleting the stack keeps the data.
#[tokio::test]
async fn the_deploy_migrates_as_the_owner_and_the_runtime_user_only_reads_and_writes() {
    use syncrocardpay_core::workflow::MigrationTarget;
    let db = TestDb::empty("migrate").await;
    // Before the deploy: a function's cold start refuses the schema, saying what to do.
    let err = syncrocardpay_core::db::check_schema(&db.client).await.unwrap_err().to_string();
    assert!(err.contains("is at V0") && err.contains("migrate"), "{err}");
    // The runtime user, who is not the owner.
    let runtime = format!("runtime_{}", std::process::id());
    db.client
        .batch_execute(&format!("DROP ROLE IF EXISTS {runtime}; CREATE ROLE {runtime} LOGIN PASSWORD 'rt-pass'"))
        .await
        .unwrap();
    let migrate = syncrocardpay_migrate::Migrate {
        target: Some(MigrationTarget { url: db.url.clone(), runtime_user: Some(runtime.clone()) }),
        http: reqwest::Client::new(),
    };
    let (url, answer) = response_url().await;
    let event = lambda_runtime::LambdaEvent::new(custom_resource("Create", &url), lambda_runtime::Context::default());
    migrate.handle(event).await.unwrap();
    let (method, body) = answer.await.unwrap();
    assert_eq!(method, "PUT");
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["PhysicalResourceId"], syncrocardpay_migrate::PHYSICAL_ID);
    assert_eq!(
        (body["RequestId"].as_str(), body["LogicalResourceId"].as_str()),
        (Some("req-1"), Some("SchemaMigration"))
    );
    let latest = syncrocardpay_core::db::latest_migration();
    assert_eq!(body["Data"]["SchemaVersion"], latest.to_string());
    syncrocardpay_core::db::check_schema(&db.client).await.expect("the functions now start");

    // The runtime user reads and writes the data, and cannot change the schema.
    let runtime_url = {
        let (head, rest) = db.url.split_once("://").unwrap();
        let at = rest.rfind('@').unwrap();
        format!("{head}://{runtime}:rt-pass@{}", &rest[at + 1..])
    };
    let rt = syncrocardpay_core::db::connect(&runtime_url).await.unwrap();
    rt.execute("INSERT INTO recon_pending (file_id) SELECT 1 WHERE false", &[]).await.expect("DML allowed");
    rt.query("SELECT count(*) FROM fact_card_transaction", &[]).await.expect("reads the fact views");
    rt.execute("DELETE FROM unattached_file WHERE false", &[]).await.expect("attaches");
    let ddl = rt.batch_execute("CREATE TABLE sneaky (x int)").await.unwrap_err();
    assert!(format!("{ddl:?}").contains("42501"), "DDL refused: {ddl:?}"); // insufficient_privilege
    let ddl = rt.batch_execute("ALTER TABLE fact_card_transaction_all ADD COLUMN y int").await.unwrap_err();
    assert!(format!("{ddl:?}").contains("42501"), "{ddl:?}");

    // An update with nothing new applies nothing and succeeds; a delete keeps everything.
    let (url, answer) = response_url().await;
    migrate
        .handle(lambda_runtime::LambdaEvent::new(custom_resource("Update", &url), lambda_runtime::Context::default()))
        .await
        .unwrap();
    let (_, body) = answer.await.unwrap();
    assert_eq!((body["Status"].as_str(), body["Data"]["Applied"].as_str()), (Some("SUCCESS"), Some("")));
    let (url, answer) = response_url().await;
    migrate
        .handle(lambda_runtime::LambdaEvent::new(custom_resource("Delete", &url), lambda_runtime::Context::default()))
        .await
        .unwrap();
    assert_eq!(answer.await.unwrap().1["Status"], "SUCCESS");
    assert_eq!(syncrocardpay_core::db::schema_version(&db.client).await.unwrap(), latest, "kept");

    // A migration that cannot run is a FAILED answer with the reason (and no password), never silence.
    let broken = syncrocardpay_migrate::Migrate {
        target: Some(MigrationTarget {
            url: "postgres://owner:owner-secret@127.0.0.1:1/nowhere?connect_timeout=2".into(),
            runtime_user: None,
        }),
        http: reqwest::Client::new(),
    };
    let (url, answer) = response_url().await;
    broken
        .handle(lambda_runtime::LambdaEvent::new(custom_resource("Update", &url), lambda_runtime::Context::default()))
        .await
        .unwrap();
    let (_, body) = answer.await.unwrap();
    assert_eq!(body["Status"], "FAILED");
    let reason = body["Reason"].as_str().unwrap();
    assert!(reason.starts_with("migration failed: ") && !reason.contains("owner-secret"), "{reason}");
    db.client.batch_execute(&format!("DROP OWNED BY {runtime}; DROP ROLE {runtime}")).await.unwrap();
}
