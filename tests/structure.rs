//! The shape of the code, checked: the pure core builds without the edges.

use std::path::Path;
use std::process::Command;

/// Without its features the core crate is formats, model, reconciliation rules and archives only: nothing of
/// tokio, PostgreSQL, the AWS SDK or an HTTP client in its dependency tree (issue 15, item 7) — what the
/// fuzz targets build.
#[test]
fn the_pure_core_depends_on_no_runtime_database_or_cloud_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["tree", "-p", "syncrocardpay-core", "--no-default-features", "-e", "normal", "--prefix", "none"])
        .args(["--offline", "--locked"])
        .output()
        .expect("cargo tree");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8(out.stdout).unwrap();
    let crates: std::collections::BTreeSet<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(crates.contains("syncrocardpay-core") && crates.contains("rust_decimal"), "{crates:?}");
    let forbidden = ["tokio", "postgres", "aws", "reqwest", "hyper", "suppaftp", "refinery", "deadpool", "rustls"];
    let found: Vec<&&str> = crates.iter().filter(|c| forbidden.iter().any(|f| c.contains(f))).collect();
    assert!(found.is_empty(), "the pure core pulls in {found:?}");
}
