//! Database and source faults (reliability): PostgreSQL restarted in the middle of a load, refusing
//! connections when a run starts, a statement cancelled by `statement_timeout`, and an S3 endpoint that does
//! not answer. Each time the error is clear and transient, the work is retried with backoff on a new
//! connection, nothing partial is left, and the process ends in bounded time. Against real PostgreSQL
//! clusters (each restart test has its own, so restarting it disturbs no other test).

use crate::common;

use common::db::TestDb;
use common::sessions::{wait_for, Doing};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use syncrocardpay_core::db::{self, localpg::LocalPostgres};
use syncrocardpay_core::formats::cielo::sample::{self, SampleFile, SampleSpec};

fn sales_file(dir: &Path, transactions: u64) -> SampleFile {
    let spec = SampleSpec { transactions, seed: 17, merchants: 1, ..SampleSpec::default() };
    sample::generate(dir, &spec).unwrap().into_iter().find(|f| f.file_type == "03").unwrap()
}

/// `syncrocardpay ingest --json FILE` against `url`, its stderr read line by line into a channel.
fn spawn_ingest(url: &str, file: &Path, extra_env: &[(&str, &str)]) -> (Child, mpsc::Receiver<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_syncrocardpay"));
    cmd.args(["ingest", "--json"])
        .arg(file)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Wait for a child with a deadline (a hang is a failure), and gather what it printed.
fn finish(mut child: Child, stderr: mpsc::Receiver<String>, limit: Duration) -> (Output, String) {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the process did not end within {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let err: Vec<String> = stderr.iter().collect();
    (out, err.join("\n"))
}

async fn count(url: &str, sql: &str) -> i64 {
    db::connect(url).await.unwrap().query_one(sql, &[]).await.unwrap().get(0)
}

fn own_cluster() -> Option<LocalPostgres> {
    if db::localpg::server_bin_dir().is_none() {
        common::skip::skip("PostgreSQL server binaries are not installed (apt-get install postgresql)");
        return None;
    }
    Some(LocalPostgres::start(None, None).expect("start a throwaway cluster"))
}

#[tokio::test]
async fn the_database_restarting_mid_load_is_retried_and_the_file_loads_once() {
    let Some(mut pg) = own_cluster() else { return };
    let url = pg.url().to_string();
    db::migrate(&mut db::connect(&url).await.unwrap()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sales = sales_file(dir.path(), 40_000);

    let (mut child, stderr) = spawn_ingest(&url, &sales.path, &[]);
    {
        let watcher = db::connect(&url).await.unwrap();
        wait_for(&watcher, "COPY fact_card_transaction", Doing::Running, &mut child).await;
    }
    // A crash of the server in the middle of the COPY, down for two seconds, then back.
    pg.stop();
    std::thread::sleep(Duration::from_secs(2));
    pg.start_again().unwrap();

    let (out, err) = finish(child, stderr, Duration::from_secs(240));
    assert!(out.status.success(), "the ingest recovers from the restart: {err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["outcome"], "loaded");
    assert!(err.contains("database failure, retrying"), "the retry is logged: {err}");
    assert!(!err.contains(pg.url().split(':').nth(2).unwrap().split('@').next().unwrap()), "no password");
    assert_eq!(count(&url, "SELECT count(*) FROM fact_card_transaction").await as u64, sales.transactions);
    assert_eq!(count(&url, "SELECT count(*) FROM fact_receivable_unit").await as u64, sales.receivable_units);
    assert_eq!(
        count(&url, "SELECT (SELECT count(*) FROM stage_record) + (SELECT count(*) FROM unattached_file)").await,
        0
    );
    assert_eq!(count(&url, "SELECT count(*) FROM statement_file WHERE status = 'loaded'").await, 1);
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported_clearly_and_a_server_coming_up_meanwhile_is_used() {
    let Some(mut pg) = own_cluster() else { return };
    let url = pg.url().to_string();
    let password = url.split(':').nth(2).unwrap().split('@').next().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let sales = sales_file(dir.path(), 200);
    pg.stop();

    // Nothing listens: three attempts with backoff, then a clear error naming the server, not the password.
    let started = Instant::now();
    let (child, stderr) = spawn_ingest(&url, &sales.path, &[("SYNCROCARDPAY_DB_ATTEMPTS", "3")]);
    let (out, err) = finish(child, stderr, Duration::from_secs(60));
    assert!(!out.status.success());
    let port = pg.port();
    assert!(
        err.contains(&format!(
            "cannot connect to PostgreSQL at postgres://syncro:***@127.0.0.1:{port}/syncrocardpay (after 3 attempts)"
        )),
        "{err}"
    );
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
    assert_eq!(err.matches("cannot connect to the database, retrying").count(), 2, "{err}");
    assert!(started.elapsed() >= Duration::from_secs(3), "backoff of 1 s then 2 s");
    assert!(!err.contains(&password), "the password is never printed");

    // The server comes up while the ingest is waiting: it connects and loads.
    let (child, stderr) = spawn_ingest(&url, &sales.path, &[]);
    std::thread::sleep(Duration::from_millis(1500));
    pg.start_again().unwrap();
    let (out, err) = finish(child, stderr, Duration::from_secs(120));
    assert!(out.status.success(), "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["outcome"], "loaded");
    assert_eq!(count(&url, "SELECT count(*) FROM fact_card_transaction").await as u64, sales.transactions);
}

#[tokio::test]
async fn a_statement_timeout_is_retried_and_leaves_no_partial_data() {
    let db = TestDb::new("stmt_timeout").await;
    let dir = tempfile::tempdir().unwrap();
    let sales = sales_file(dir.path(), 300);
    // The database's own limit on a statement (as a DBA would set it), 1.5 s; and a lock the load must wait
    // for, held by another session.
    let sep = if db.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}options=-c%20statement_timeout%3D1500", db.url);
    let mut locker = db::connect(&db.url).await.unwrap();
    let tx = locker.transaction().await.unwrap();
    tx.batch_execute("LOCK TABLE fact_card_transaction IN ACCESS EXCLUSIVE MODE").await.unwrap();

    let (child, stderr) = spawn_ingest(&url, &sales.path, &[]);
    // The first attempt is cancelled by the timeout; nothing of the file is visible meanwhile.
    let mut seen = Vec::new();
    loop {
        let line = stderr.recv_timeout(Duration::from_secs(120)).expect("a retry is logged");
        let retry = line.contains("database failure, retrying");
        seen.push(line);
        if retry {
            break;
        }
    }
    let log = seen.join("\n");
    assert!(log.contains("canceling statement due to statement timeout"), "{log}");
    let facts: i64 = tx.query_one("SELECT count(*) FROM fact_card_transaction", &[]).await.unwrap().get(0);
    assert_eq!(facts, 0, "no partial data after the cancelled attempt");
    tx.rollback().await.unwrap(); // the lock goes: the next attempt succeeds

    let (out, err) = finish(child, stderr, Duration::from_secs(120));
    assert!(out.status.success(), "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["outcome"], "loaded");
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, sales.transactions);
    assert_eq!(db.count("SELECT count(*) FROM statement_file WHERE status = 'loaded'").await, 1);
}

#[tokio::test]
async fn an_s3_endpoint_that_does_not_answer_fails_the_run_clearly_and_in_bounded_time() {
    let db = TestDb::new("s3_down").await;
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_syncrocardpay"))
        .args(["run", "--s3", "s3://statements/acme"])
        .env("DATABASE_URL", &db.url)
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "s3cr3t-never-printed")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    drop(tx);
    let (out, _) = finish(child, rx, Duration::from_secs(120));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("statements"), "the bucket is named: {err}");
    assert!(err.to_lowercase().contains("connect") || err.to_lowercase().contains("dispatch"), "{err}");
    assert!(!err.contains("s3cr3t-never-printed"));
    assert!(started.elapsed() < Duration::from_secs(120));
    assert_eq!(db.count("SELECT count(*) FROM statement_file").await, 0, "nothing registered");
}
