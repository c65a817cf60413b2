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

/// The layers around the sources import one way only (issue 15, item 3): the sources know no pipeline, no
/// database and no deployment; the pipeline (local files) knows no source's discovery or deployment; the
/// intake (discover and ingest over any source) knows no deployment. `remote` (a deployment's sources) sits
/// on top of them all.
#[test]
fn sources_pipeline_intake_and_remote_import_one_way() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("shared/src");
    let read = |p: &str| std::fs::read_to_string(core.join(p)).unwrap();
    let code = |text: &str| -> String {
        // Comments may name other modules; only code counts.
        text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
    };
    let imports = |text: &str, module: &str| {
        let t = code(text);
        t.contains(&format!("crate::{module}::"))
            || t.contains(&format!("crate::{module};"))
            || t.contains(&format!("crate::{module}}}"))
            || t.contains(&format!("use crate::{{{module}"))
    };
    let mut sources = String::new();
    for f in ["source/mod.rs", "source/s3.rs", "source/ftps.rs", "source/api.rs"] {
        sources.push_str(&read(f));
    }
    for m in ["pipeline", "intake", "remote", "db", "workflow"] {
        assert!(!imports(&sources, m), "source/ imports {m}");
    }
    let pipeline = read("pipeline.rs");
    for m in ["intake", "remote", "workflow"] {
        assert!(!imports(&pipeline, m), "pipeline.rs imports {m}");
    }
    let intake = read("intake.rs");
    for m in ["remote", "workflow"] {
        assert!(!imports(&intake, m), "intake.rs imports {m}");
    }
    assert!(imports(&intake, "pipeline") && imports(&read("remote.rs"), "intake"), "the check sees imports");
}
