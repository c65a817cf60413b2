//! docs/reliability.md names the test behind each row: every one must exist, so the table stays true.

use std::path::Path;

#[test]
fn every_test_named_in_the_reliability_table_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/reliability.md")).unwrap();
    let mut named = 0;
    for cell in doc.split('`').filter(|c| c.starts_with("tests/") && c.contains(".rs::")) {
        let (file, test) = cell.split_once("::").unwrap();
        let source = std::fs::read_to_string(root.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(
            source.contains(&format!("async fn {test}(")) || source.contains(&format!("fn {test}(")),
            "docs/reliability.md names {file}::{test}, which does not exist"
        );
        named += 1;
    }
    assert!(named >= 20, "only {named} tests named");
}

/// ARCHITECTURE.md's code map names every module of the core crate, so a module cannot appear (or stay
/// after it is gone) without the map saying what it is.
#[test]
fn the_code_map_names_every_module_of_the_core() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let mut missing = Vec::new();
    let src = root.join("shared/src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            if !map.contains(&format!("`{name}/")) {
                missing.push(format!("{name}/"));
            }
            for inner in std::fs::read_dir(&path).unwrap() {
                let inner = inner.unwrap().path();
                let file = inner.file_name().unwrap().to_string_lossy().to_string();
                if file.ends_with(".rs") && file != "mod.rs" && !map.contains(&file) {
                    missing.push(format!("{name}/{file}"));
                }
            }
        } else if name.ends_with(".rs") && name != "lib.rs" && !map.contains(&format!("`{name}`")) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "ARCHITECTURE.md does not name: {missing:?}");
}
