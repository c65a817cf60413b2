//! A Lambda binary run the way AWS runs it — by a Lambda runtime API, here the local emulator of cargo-lambda
//! (`cargo lambda watch`) — and invoked through it (`cargo lambda invoke --data-file`). The load function's
//! sweep loads a staged file; its logs are JSON lines carrying the invocation's request id, and no password.
//! Skipped with a message when cargo-lambda is absent, unless `SYNCRO_NO_SKIP=1` (CI).

mod common;

use common::db::TestDb;
use common::statements::samples;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use syncrocardpay_core::pipeline::{ingest_file, IngestMode, Outcome};
use syncrocardpay_core::workflow::LoadSummary;

fn cargo_lambda_installed() -> bool {
    let ok = Command::new("cargo").args(["lambda", "--version"]).output().is_ok_and(|o| o.status.success());
    if !ok {
        let msg = "cargo-lambda is not installed (scripts/test.sh installs it: scripts/test-tools.txt)";
        common::skip::skip(msg);
    }
    ok
}

/// Kills the emulator and the function it started (one process group) when dropped.
struct Group(std::process::Child);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", "--", &format!("-{}", self.0.id())]).status();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_load_function_runs_under_a_lambda_runtime_emulator() {
    if !cargo_lambda_installed() {
        return;
    }
    let mut db = TestDb::new("emulator").await;
    let dir = tempfile::tempdir().unwrap();
    let sample = &samples(dir.path(), 40, 21)[0];
    let staged = ingest_file(&mut db.client, &sample.path, "test", IngestMode::StageOnly).await.unwrap();
    assert_eq!(staged.outcome, Outcome::Staged);

    // The test cluster's URL carries a password: it must never reach the logs.
    let url = db.url.clone();
    let password = url.split_once("://").and_then(|(_, r)| r.split_once('@')).and_then(|(u, _)| u.split_once(':'));
    let password = password.map(|(_, p)| p.to_string()).expect("a password in DATABASE_URL");
    assert!(password.len() >= 8);

    let root = env!("CARGO_MANIFEST_DIR");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let log_path = dir.path().join("watch.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let watch = Command::new("cargo")
        .args(["lambda", "watch", "-A", "127.0.0.1", "-P", &port, "--ignore-changes"])
        .args(["--manifest-path", "functions/load/Cargo.toml"])
        .args(["--env-var", &format!("DATABASE_URL={url}"), "--env-var", "RUST_LOG=info"])
        .current_dir(root)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .expect("start cargo lambda watch");
    let _watch = Group(watch);

    // The first invocation waits for the emulator to build and start the function.
    let deadline = Instant::now() + Duration::from_secs(900);
    let output = loop {
        // The invoke waits while the emulator builds the function (minutes on a cold build): it is never cut
        // short (a cut invoke may still have run the load), but a build that failed never serves, so the
        // watch log is looked at meanwhile and the test stops at once.
        let mut invoke = Command::new("cargo")
            .args(["lambda", "invoke", "load", "-A", "127.0.0.1", "-P", &port])
            .args(["--data-file", "tests/events/load-sweep.json"])
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        while invoke.try_wait().unwrap().is_none() {
            let watch_log = std::fs::read_to_string(&log_path).unwrap_or_default();
            if watch_log.contains("ERROR command exited") || Instant::now() > deadline {
                let _ = invoke.kill();
                panic!("cargo lambda watch did not serve the function:\n{watch_log}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let out = invoke.wait_with_output().unwrap();
        if out.status.success() {
            break String::from_utf8(out.stdout).unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "invoke failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_secs(2));
    };
    let summary: LoadSummary = serde_json::from_str(output.trim()).unwrap_or_else(|e| panic!("{e}: {output}"));
    assert_eq!(summary.loaded.len(), 1, "{summary:?}");
    assert_eq!(summary.loaded[0].file_id, staged.file_id);
    assert_eq!(summary.facts.transactions, sample.transactions);
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, sample.transactions);

    // The function's own log lines are JSON, inside the runtime's span with the request id.
    let logs = std::fs::read_to_string(&log_path).unwrap();
    let finished = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["fields"]["message"] == "load finished")
        .unwrap_or_else(|| panic!("no JSON 'load finished' line in:\n{logs}"));
    assert_eq!(finished["fields"]["loaded"], 1);
    assert!(finished["span"]["requestId"].as_str().is_some_and(|id| id.len() >= 32), "{finished}");
    assert!(!logs.contains(&password), "the password appears in the logs");
}
