//! Access to the shared real-statement fixtures (`../shared/fixtures` beside the checkout, or
//! `SYNCRO_FIXTURES`). A user's clone may not have them: tests then skip with a printed reason.

use std::path::PathBuf;

pub fn fixture(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("SYNCRO_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"));
    let path = dir.join(name);
    if path.is_file() {
        Some(path)
    } else {
        super::skip::skip(&format!(
            "fixture {} not found (set SYNCRO_FIXTURES to the shared fixtures folder)",
            path.display()
        ));
        None
    }
}
