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
