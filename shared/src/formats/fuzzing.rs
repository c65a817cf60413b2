//! The properties every input must keep, whatever its bytes: shared by the in-suite fuzz test
//! (`tests/fuzz_parsers.rs`) and the libFuzzer target (`fuzz/`).

use super::{lines::sha256_of, read_statement, Record, MAX_KEPT_ISSUES, MAX_LINE_BYTES};
use std::ops::ControlFlow;

/// Parse `data` as a statement and check what must hold for any input: no panic, an honest hash, size and
/// line count, every issue located inside the file, the issue cap kept, and a valid file's trailer matching
/// the records handed out. Panics (with the reason) when a property fails.
pub fn check_statement(data: &[u8]) {
    let mut records = 0u64;
    let s = read_statement(data, "fuzz", &mut |r: Record| {
        if !matches!(r, Record::Header(_) | Record::Trailer(_)) {
            records += 1;
        }
        ControlFlow::Continue(())
    })
    .expect("reading from memory cannot fail");
    let (sha, size) = sha256_of(data).expect("hash");
    assert_eq!((s.sha256.as_str(), s.size_bytes), (sha.as_str(), size), "hash and size of what was read");
    let lines = data.split(|&b| b == b'\n').count() as u64 - u64::from(data.ends_with(b"\n") || data.is_empty());
    assert_eq!(s.lines, lines, "line count");
    assert!(s.errors.len() <= MAX_KEPT_ISSUES && s.error_count >= s.errors.len() as u64, "issue cap");
    assert_eq!(s.is_valid(), s.error_count == 0, "valid iff no issue");
    for i in &s.errors {
        assert!(i.line >= 1 && i.line <= lines.max(1) + 1, "issue line {} outside 1..={}", i.line, lines + 1);
        if let Some(c) = i.column {
            assert!((1..=MAX_LINE_BYTES + 1).contains(&c), "issue column {c}");
        }
        assert!(!i.field.is_empty() && !i.reason.is_empty(), "issue names a field and a reason");
    }
    if s.is_valid() {
        let t = s.trailer.as_ref().expect("a valid file has a checked trailer");
        assert!(t.matches, "a valid file's trailer matches");
        let body = s.receivable_units.count
            + s.transactions.count
            + s.pix.count
            + s.negotiations.count
            + s.negotiated_receivables.count
            + s.negotiation_credits.count
            + s.financial_reserves.count
            + s.merchant_sales.count;
        assert_eq!(records, body, "every counted record of a valid file was handed out");
        assert_eq!(t.declared.total_records, t.computed.total_records);
    }
}
