//! A Lambda binary run the way AWS runs it — by a Lambda runtime API, here the local emulator of cargo-lambda
//! (`cargo lambda watch --only-lambda-apis`) — and invoked through it (`cargo lambda invoke --data-file`). The load function's
//! sweep loads a staged file; its logs are JSON lines carrying the invocation's request id, and no password.
//! Skipped with a message when cargo-lambda is absent, unless `SYNCRO_NO_SKIP=1` (CI).

use crate::common;

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

/// `target/debug/load`, the load function's binary, as scripts/test.sh built it with the suite (`cargo build
/// --workspace --bins --tests`: nothing to do then). Built here all the same, since `cargo test` alone does
/// not build another package's binaries and one left from an earlier build would be stale.
fn load_binary() -> std::path::PathBuf {
    let status = Command::new("cargo")
        .args(["build", "--quiet", "--workspace", "--bins", "--tests"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.success(), "cargo build of the load function failed");
    let suite = std::env::current_exe().unwrap();
    suite.parent().and_then(|deps| deps.parent()).expect("target/debug/deps/suite-*").join("load")
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
    // The emulator serves the Lambda runtime API only (`--only-lambda-apis`); the function is the binary that
    // scripts/test.sh built with the suite. Left to `cargo lambda watch`, it would build the load package on
    // its own, with other dependency features than the workspace's: every dependency compiled, and kept on
    // disk, a second time.
    let watch = Command::new("cargo")
        .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port])
        .current_dir(root)
        .stdout(log.try_clone().unwrap())
        .stderr(log.try_clone().unwrap())
        .process_group(0)
        .spawn()
        .expect("start cargo lambda watch");
    let _watch = Group(watch);
    let function = load_binary();
    let function = Command::new(&function)
        .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt"))
        .env("AWS_REGION", "us-east-1") // as Lambda sets it; without it the SDK asks the instance metadata
        .env("AWS_LAMBDA_FUNCTION_NAME", "load")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "info")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", function.display()));
    let _function = Group(function);

    // The first invocation may come before the emulator listens: it is tried again, for a bounded time. A
    // running invoke is never cut short (a cut invoke may still have run the load), but a function or an
    // emulator that died never answers, so the log is looked at meanwhile and the test stops at once.
    let deadline = Instant::now() + Duration::from_secs(120);
    let output = loop {
        let mut invoke = Command::new("cargo")
            .args(["lambda", "invoke", "-A", "127.0.0.1", "-P", &port]) // the emulator's one function
            .args(["--data-file", "tests/events/load-sweep.json"])
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        while invoke.try_wait().unwrap().is_none() {
            let watch_log = std::fs::read_to_string(&log_path).unwrap_or_default();
            if watch_log.contains("ERROR") || watch_log.contains("panicked") || Instant::now() > deadline {
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
