//! The one way a test skips: the reason is printed, appended to `SYNCRO_SKIP_LOG` (which `scripts/test.sh`
//! sums up by reason at the end of the run, where a person sees it) and, with `SYNCRO_NO_SKIP=1` (CI), turned
//! into a failure: in CI nothing may skip.

use std::io::Write;

/// Skip the current test for `reason` (or fail it when skipping is not allowed).
pub fn skip(reason: &str) {
    if std::env::var("SYNCRO_NO_SKIP").is_ok_and(|v| v == "1") {
        panic!("this test would be skipped, which SYNCRO_NO_SKIP=1 forbids: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
    if let Some(log) = std::env::var_os("SYNCRO_SKIP_LOG") {
        let test = std::thread::current().name().unwrap_or("?").to_string();
        let test_binary = std::env::args().next().unwrap_or_default();
        let binary = std::path::Path::new(&test_binary)
            .file_name()
            .map(|n| n.to_string_lossy().split('-').next().unwrap_or("").to_string())
            .unwrap_or_default();
        let line = format!("{binary}::{test}\t{}\n", reason.replace(['\n', '\t'], " "));
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(log) {
            let _ = f.write_all(line.as_bytes());
        }
    }
}
