//! Crash mid-load (reliability): the loader process is killed with SIGKILL while it copies a large file into
//! staging, and again while it inserts the facts. Each time, the database is left with no fact of the file and
//! its control row saying it was received, not loaded; the next ingest then loads it exactly once, and one more
//! adds nothing. Against the real PostgreSQL; the kill points are found by watching what the loader's session
//! is executing (`pg_stat_activity`), not by timing.

mod common;

use common::db::TestDb;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use syncrocardpay_core::formats::cielo::sample::{self, SampleSpec};

/// Start `syncrocardpay ingest FILE` and kill it (SIGKILL) as soon as its session runs a statement starting
/// with `phase`. Panics if the load finishes first.
async fn kill_during(db: &TestDb, file: &std::path::Path, phase: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_syncrocardpay"))
        .arg("ingest")
        .arg(file)
        .env("DATABASE_URL", &db.url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pattern = format!("{phase}%");
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let seen = db
            .client
            .query_opt(
                "SELECT pid FROM pg_stat_activity
                  WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
                    AND ltrim(query, E' \n\r\t') LIKE $1",
                &[&pattern],
            )
            .await
            .unwrap();
        if seen.is_some() {
            child.kill().unwrap(); // SIGKILL: no destructor, no rollback by the client
            child.wait().unwrap();
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the load ended ({status}) before reaching {phase:?}: make the file larger");
        }
        assert!(Instant::now() < deadline, "never saw {phase:?}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // The server notices the dead client and rolls its transaction back; wait until its session is gone.
    let deadline = Instant::now() + Duration::from_secs(60);
    while db
        .count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        .await
        > 0
    {
        assert!(Instant::now() < deadline, "the killed loader's session did not end");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_loader_killed_mid_load_leaves_no_fact_and_the_next_run_loads_the_file_once() {
    let db = TestDb::new("crash").await;
    let dir = tempfile::tempdir().unwrap();
    let spec = SampleSpec { transactions: 40_000, seed: 8, merchants: 1, ..SampleSpec::default() };
    let files = sample::generate(dir.path(), &spec).unwrap();
    let sales = files.iter().find(|f| f.file_type == "03").unwrap();
    assert!(sales.transactions > 50_000, "a file large enough to be caught in the act: {}", sales.transactions);

    for phase in ["COPY stage_record", "INSERT INTO fact_card_transaction"] {
        kill_during(&db, &sales.path, phase).await;
        assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await, 0, "killed during {phase}");
        assert_eq!(db.count("SELECT count(*) FROM fact_receivable_unit").await, 0, "killed during {phase}");
        assert_eq!(db.count("SELECT count(*) FROM stage_record").await, 0, "staging rolled back ({phase})");
        let status: String = db.client.query_one("SELECT status FROM statement_file", &[]).await.unwrap().get(0);
        assert_eq!(status, "received", "the control row says the file was received, not loaded ({phase})");
    }
    let attempts: i32 = db.client.query_one("SELECT attempts FROM statement_file", &[]).await.unwrap().get(0);
    assert_eq!(attempts, 2, "both interrupted attempts are counted");

    // The next run loads it exactly once; one more changes nothing.
    for expected in ["loaded", "duplicate"] {
        let out = Command::new(env!("CARGO_BIN_EXE_syncrocardpay"))
            .args(["ingest", "--json"])
            .arg(&sales.path)
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["outcome"], expected);
        assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, sales.transactions);
        assert_eq!(db.count("SELECT count(*) FROM fact_receivable_unit").await as u64, sales.receivable_units);
    }
}
