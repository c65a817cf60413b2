//! Crash mid-load (reliability): the loader process is killed with SIGKILL while it copies a large file into
//! its facts, just before it commits, and while it commits. Each time, the database is left with no fact of the file and
//! its control row saying it was received, not loaded; the next ingest then loads it exactly once, and one more
//! adds nothing. Against the real PostgreSQL; the kill points are found by watching what the loader's session
//! is executing (`pg_stat_activity`), not by timing.

use crate::common;

use common::db::TestDb;
use common::sessions::{wait_for, wait_until_alone, Doing};
use std::process::{Command, Stdio};
use syncrocardpay_core::formats::cielo::sample::{self, SampleSpec};

/// Start `syncrocardpay ingest FILE`, its output discarded.
fn spawn_ingest(db: &TestDb, file: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_syncrocardpay"))
        .arg("ingest")
        .arg(file)
        .env("DATABASE_URL", &db.url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Start `syncrocardpay ingest FILE` and kill it (SIGKILL: no destructor, no rollback by the client) as soon
/// as its session runs a statement starting with `phase`; then wait until the server has ended its session.
async fn kill_during(db: &TestDb, file: &std::path::Path, phase: &str) {
    let mut child = spawn_ingest(db, file);
    wait_for(&db.client, phase, Doing::Running, &mut child).await;
    child.kill().unwrap();
    child.wait().unwrap();
    wait_until_alone(&db.client).await;
}

#[tokio::test]
async fn a_loader_killed_mid_load_leaves_no_fact_and_the_next_run_loads_the_file_once() {
    let db = TestDb::new("crash").await;
    let dir = tempfile::tempdir().unwrap();
    let spec = SampleSpec { transactions: 40_000, seed: 8, merchants: 1, ..SampleSpec::default() };
    let files = sample::generate(dir.path(), &spec).unwrap();
    let sales = files.iter().find(|f| f.file_type == "03").unwrap();
    assert!(sales.transactions > 50_000, "a file large enough to be caught in the act: {}", sales.transactions);

    // `ingest` writes transactions straight into their fact table with one long COPY (receivable units and
    // the dates follow): killed in the middle of it, twice.
    let phase = "COPY fact_card_transaction";
    for _ in 0..2 {
        kill_during(&db, &sales.path, phase).await;
        assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await, 0, "killed during {phase}");
        assert_eq!(db.count("SELECT count(*) FROM fact_receivable_unit").await, 0, "killed during {phase}");
        assert_eq!(db.staged_rows(None).await, 0, "staging rolled back ({phase})");
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

/// Make the loader's session wait, at `point`, for an advisory lock this test holds: a trigger on the control
/// row's change to `loaded`, fired by the last statement before COMMIT (`before_commit`) or by the COMMIT
/// itself (a deferred constraint trigger). Returns the lock's key.
async fn hold_the_loader(db: &TestDb, point: &str) -> i64 {
    let (key, kind) = match point {
        "before_commit" => (4242_i64, "CREATE TRIGGER test_hold BEFORE UPDATE ON statement_file FOR EACH ROW"),
        _ => (
            4243,
            "CREATE CONSTRAINT TRIGGER test_hold AFTER UPDATE ON statement_file DEFERRABLE INITIALLY DEFERRED \
             FOR EACH ROW",
        ),
    };
    db.client
        .batch_execute(&format!(
            "CREATE FUNCTION test_hold() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF NEW.status = 'loaded' THEN PERFORM pg_advisory_xact_lock({key}); END IF;
               RETURN NEW;
             END $$;
             {kind} EXECUTE FUNCTION test_hold();
             SELECT pg_advisory_lock({key});"
        ))
        .await
        .unwrap();
    key
}

/// Start `syncrocardpay ingest FILE`, wait until its session waits for the held lock while running a
/// statement starting with `statement`, SIGKILL it there, then let the server go on.
async fn kill_while_held(db: &TestDb, file: &std::path::Path, statement: &str, key: i64) {
    let mut child = spawn_ingest(db, file);
    wait_for(&db.client, statement, Doing::WaitingForALock, &mut child).await;
    child.kill().unwrap();
    child.wait().unwrap();
    db.client.execute("SELECT pg_advisory_unlock($1)", &[&key]).await.unwrap();
    wait_until_alone(&db.client).await;
    db.client.batch_execute("DROP TRIGGER test_hold ON statement_file; DROP FUNCTION test_hold()").await.unwrap();
}

fn ingest_json(db: &TestDb, file: &std::path::Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_syncrocardpay"))
        .args(["ingest", "--json"])
        .arg(file)
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn a_loader_killed_just_before_commit_loads_nothing_and_one_killed_during_commit_loads_once() {
    let dir = tempfile::tempdir().unwrap();
    let spec = SampleSpec { transactions: 500, seed: 9, merchants: 1, ..SampleSpec::default() };
    let files = sample::generate(dir.path(), &spec).unwrap();
    let sales = files.iter().find(|f| f.file_type == "03").unwrap();

    // Killed while its last statement before COMMIT (the control row becoming `loaded`) runs, every fact
    // already inserted in its transaction: the server rolls all of it back.
    let db = TestDb::new("crash_before_commit").await;
    let key = hold_the_loader(&db, "before_commit").await;
    kill_while_held(&db, &sales.path, "UPDATE statement_file SET status = 'loaded'", key).await;
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await, 0);
    assert_eq!(db.count("SELECT count(*) FROM fact_receivable_unit").await, 0);
    assert_eq!(db.staged_rows(None).await, 0);
    let status: String = db.client.query_one("SELECT status FROM statement_file", &[]).await.unwrap().get(0);
    assert_eq!(status, "received");
    assert_eq!(ingest_json(&db, &sales.path)["outcome"], "loaded", "the next run loads it");
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, sales.transactions);

    // Killed after sending COMMIT, while the server is committing: the server finishes the commit on its own.
    // The client never heard back, but the control row says `loaded`, so the next run adds nothing.
    let db = TestDb::new("crash_during_commit").await;
    let key = hold_the_loader(&db, "commit").await;
    kill_while_held(&db, &sales.path, "COMMIT", key).await;
    let status: String = db.client.query_one("SELECT status FROM statement_file", &[]).await.unwrap().get(0);
    assert_eq!(status, "loaded", "a commit the server received completes without its client");
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, sales.transactions);
    // …with its delivery logged: it is written in the same transaction (issue 14, item 15).
    assert_eq!(db.count("SELECT count(*) FROM statement_delivery WHERE outcome = 'loaded'").await, 1);
    assert_eq!(ingest_json(&db, &sales.path)["outcome"], "duplicate");
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, sales.transactions);
    assert_eq!(db.count("SELECT count(*) FROM fact_receivable_unit").await as u64, sales.receivable_units);
}
