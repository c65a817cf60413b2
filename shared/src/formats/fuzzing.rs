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
            + s.anticipation_offsets.count
            + s.merchant_sales.count;
        assert_eq!(records, body, "every counted record of a valid file was handed out");
        assert_eq!(t.declared.total_records, t.computed.total_records);
    }
}

/// The mapping the CSV fuzz target reads with: a Brazilian ERP export (semicolons, latin-1, "1.234,56").
pub const FUZZ_MAPPING: &str = r#"
delimiter = ";"
encoding = "latin-1"
date_format = "%d/%m/%Y"
decimal_separator = ","
thousands_separator = "."
[columns]
sale_id = 1
sale_date = 2
gross_amount = 3
nsu = 4
merchant_code = 5
"#;

/// Parse `data` as a merchant's sales CSV and check what must hold for any input: no panic, an honest hash
/// and size, the issue cap, every issue on a line of the file, and every sale handed out storable — no NUL
/// in its text, its amount within what the facts hold.
pub fn check_merchant_csv(data: &[u8]) {
    use crate::formats::merchant::{read_merchant_sales, Mapping};
    let mut mapping = Mapping::from_toml(FUZZ_MAPPING).expect("the fuzz mapping is valid");
    mapping.has_header = data.first().is_some_and(|b| b % 2 == 0);
    let limit = rust_decimal::Decimal::from(10i64.pow(crate::formats::field::MAX_INTEGER_DIGITS as u32));
    let s = read_merchant_sales(data, "fuzz.csv", &mapping, &mut |r: Record| {
        if let Record::MerchantSale(m) = r {
            for text in [&m.sale_id, &m.merchant_code, &m.nsu, &m.authorization_code, &m.brand] {
                assert!(!text.contains('\0'), "a NUL reached a sale: {text:?}");
            }
            assert!(m.gross_amount.abs() < limit, "amount {} past numeric(15, 2)", m.gross_amount);
        }
        ControlFlow::Continue(())
    })
    .expect("reading from memory cannot fail");
    let (sha, size) = sha256_of(data).expect("hash");
    assert_eq!((s.sha256.as_str(), s.size_bytes), (sha.as_str(), size), "hash and size of what was read");
    assert!(s.errors.len() <= MAX_KEPT_ISSUES && s.error_count >= s.errors.len() as u64, "issue cap");
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    for i in &s.errors {
        assert!(i.line <= lines + 1, "issue line {} past the file's {lines} lines", i.line);
        assert!(!i.field.is_empty() && !i.reason.is_empty(), "issue names a field and a reason");
    }
}

/// Parse `data` as a contract rates CSV: no panic, and every rate accepted is a percentage below 100 with at
/// most the 4 places kept, an installment range within 1..=99, and a validity that does not end before it
/// starts.
pub fn check_rates_csv(data: &[u8]) {
    if let Ok(rates) = crate::reconcile::fees::read_rates(data) {
        for r in rates {
            assert!(r.rate >= rust_decimal::Decimal::ZERO && r.rate < rust_decimal::Decimal::ONE_HUNDRED);
            assert!(r.rate.scale() <= 4, "rate {} keeps more than 4 places", r.rate);
            assert!(1 <= r.installments_from && r.installments_from <= r.installments_to && r.installments_to <= 99);
            assert!(r.valid_to.is_none_or(|to| to >= r.valid_from));
        }
    }
}
