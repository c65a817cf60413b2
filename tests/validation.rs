//! Validation of whole statements: generated files are valid and their trailers match; each kind of
//! damage is rejected with an error that names the line, the column and the field.

use crate::common;

use common::statements::{first_of, lines, put, samples, write_lines};
use std::path::Path;
use syncrocardpay_core::formats::{validate_statement, Issue, StatementSummary};

fn validate(path: &Path) -> StatementSummary {
    validate_statement(std::fs::File::open(path).unwrap(), &path.display().to_string()).unwrap()
}

fn sample_03(dir: &Path) -> std::path::PathBuf {
    let files = samples(dir, 300, 7);
    files.into_iter().find(|f| f.file_type == "03").unwrap().path
}

fn only_issue(s: &StatementSummary) -> &Issue {
    assert!(!s.is_valid(), "expected a rejection");
    assert_eq!(s.errors.len(), 1, "expected exactly one issue, got {:#?}", s.errors);
    &s.errors[0]
}

#[test]
fn generated_statements_are_valid_and_match_their_trailers() {
    let dir = tempfile::tempdir().unwrap();
    for f in samples(dir.path(), 600, 1) {
        let s = validate(&f.path);
        assert!(s.is_valid(), "{}: {:?}", f.path.display(), s.errors);
        assert_eq!(s.file_type.as_ref().unwrap().code, f.file_type);
        assert_eq!(s.merchant_code.as_deref(), Some(f.merchant_code.as_str()));
        assert_eq!(s.receivable_units.count, f.receivable_units);
        assert_eq!(s.transactions.count, f.transactions);
        assert_eq!(s.receivable_units.gross, f.gross_total);
        assert_eq!(s.receivable_units.net, f.net_total);
        // Every UR is the sum of its lines in the generated files.
        assert_eq!(s.transactions.gross, s.receivable_units.gross);
        assert_eq!(s.transactions.net, s.receivable_units.net);
        assert_eq!(s.transactions.gross + s.transactions.fee, s.transactions.net);
        assert!(s.trailer.as_ref().unwrap().matches);
    }
}

#[test]
fn samples_are_deterministic_for_a_seed_and_differ_across_seeds() {
    let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let fa = samples(a.path(), 200, 5);
    let fb = samples(b.path(), 200, 5);
    let fc = samples(c.path(), 200, 6);
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(std::fs::read(&x.path).unwrap(), std::fs::read(&y.path).unwrap());
    }
    assert_ne!(std::fs::read(&fa[0].path).unwrap(), std::fs::read(&fc[0].path).unwrap());
}

#[test]
fn lf_and_crlf_are_the_same_statement() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_03(dir.path());
    let crlf = validate(&path);
    let lf_path = dir.path().join("lf.txt");
    std::fs::write(&lf_path, std::fs::read(&path).unwrap().iter().copied().filter(|&b| b != b'\r').collect::<Vec<_>>())
        .unwrap();
    let lf = validate(&lf_path);
    assert!(lf.is_valid());
    assert_eq!(lf.transactions, crlf.transactions);
    assert_eq!(lf.receivable_units, crlf.receivable_units);
}

#[test]
fn truncated_file_without_trailer_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = lines(&sample_03(dir.path()));
    l.truncate(l.len() / 2);
    let n = l.len() as u64;
    let s = validate(&write_lines(&dir.path().join("cut.txt"), &l));
    let i = only_issue(&s);
    assert_eq!(i.field, "trailer");
    assert_eq!(i.line, n + 1);
    assert!(i.reason.contains("without a trailer"), "{}", i.reason);
}

#[test]
fn trailer_with_a_wrong_count_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = lines(&sample_03(dir.path()));
    let last = l.len() - 1;
    let declared = std::str::from_utf8(&l[last][1..12]).unwrap().parse::<u64>().unwrap();
    put(&mut l[last], 2, &format!("{:011}", declared + 1));
    let s = validate(&write_lines(&dir.path().join("count.txt"), &l));
    let i = only_issue(&s);
    assert_eq!((i.line, i.column, i.field.as_str()), (last as u64 + 1, Some(2), "trailer.total_records"));
    assert!(i.reason.contains(&format!("declares {} records", declared + 1)), "{}", i.reason);
    assert!(!s.trailer.unwrap().matches);
}

#[test]
fn trailer_with_a_wrong_net_total_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = lines(&sample_03(dir.path()));
    let last = l.len() - 1;
    put(&mut l[last], 14, "00000000000000001");
    let s = validate(&write_lines(&dir.path().join("net.txt"), &l));
    let i = only_issue(&s);
    assert_eq!((i.column, i.field.as_str()), (Some(13), "trailer.net_total"));
    assert!(i.reason.contains("declares net total 0.01"), "{}", i.reason);
}

#[test]
fn impossible_date_is_rejected_with_its_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = lines(&sample_03(dir.path()));
    let e = first_of(&l, b'E');
    put(&mut l[e], 566, "31022026");
    let s = validate(&write_lines(&dir.path().join("date.txt"), &l));
    let i = only_issue(&s);
    assert_eq!((i.line, i.column, i.field.as_str()), (e as u64 + 1, Some(566), "E.authorization_date"));
    assert!(i.reason.contains("31022026"), "{}", i.reason);
    assert!(i.raw_line.as_ref().unwrap().starts_with('E'));
}

#[test]
fn non_numeric_amount_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = lines(&sample_03(dir.path()));
    let d = first_of(&l, b'D');
    put(&mut l[d], 80, "A");
    let s = validate(&write_lines(&dir.path().join("amount.txt"), &l));
    // The bad UR amount also breaks the trailer sums (the line is not counted in them).
    let i = &s.errors[0];
    assert!(!s.is_valid());
    assert_eq!((i.line, i.column, i.field.as_str()), (d as u64 + 1, Some(80), "D.gross_amount"));
    assert!(i.reason.contains("expected 13 digits"), "{}", i.reason);
}

#[test]
fn bad_sign_byte_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = lines(&sample_03(dir.path()));
    let e = first_of(&l, b'E');
    put(&mut l[e], 261, " ");
    let s = validate(&write_lines(&dir.path().join("sign.txt"), &l));
    let i = &s.errors[0];
    assert_eq!((i.line, i.column, i.field.as_str()), (e as u64 + 1, Some(261), "E.gross_amount"));
    assert!(i.reason.contains("sign byte"), "{}", i.reason);
}

#[test]
fn wrong_line_width_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = lines(&sample_03(dir.path()));
    let e = first_of(&l, b'E');
    l[e].truncate(719);
    let s = validate(&write_lines(&dir.path().join("width.txt"), &l));
    let i = &s.errors[0];
    assert_eq!((i.line, i.column, i.field.as_str()), (e as u64 + 1, Some(720), "line"));
    assert!(i.reason.contains("must be 760 bytes wide, found 719"), "{}", i.reason);
}

#[test]
fn unsupported_layout_version_is_rejected_at_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = lines(&sample_03(dir.path()));
    put(&mut l[0], 71, "012");
    let s = validate(&write_lines(&dir.path().join("v12.txt"), &l));
    let i = only_issue(&s);
    assert_eq!((i.line, i.column, i.field.as_str()), (1, Some(71), "header.layout_version"));
    assert!(i.reason.contains("\"012\""), "{}", i.reason);
}

#[test]
fn unknown_record_types_are_ignored_but_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = lines(&sample_03(dir.path()));
    let mut extra = vec![b' '; 250];
    extra[0] = b'Z';
    l.insert(2, extra);
    // The trailer counts every record between header and trailer.
    let last = l.len() - 1;
    let declared = std::str::from_utf8(&l[last][1..12]).unwrap().parse::<u64>().unwrap();
    put(&mut l[last], 2, &format!("{:011}", declared + 1));
    let s = validate(&write_lines(&dir.path().join("unknown.txt"), &l));
    assert!(s.is_valid(), "{:?}", s.errors);
    assert_eq!(s.ignored_records, 1);
    assert_eq!(s.record_counts.get("Z"), Some(&1));
}

#[test]
fn records_after_the_trailer_and_empty_files_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = lines(&sample_03(dir.path()));
    let d = first_of(&l, b'D');
    l.push(l[d].clone());
    let s = validate(&write_lines(&dir.path().join("after.txt"), &l));
    let i = only_issue(&s);
    assert_eq!(i.line, l.len() as u64);
    assert!(i.reason.contains("after the trailer"));

    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, b"").unwrap();
    let s = validate(&empty);
    assert_eq!(only_issue(&s).reason, "the file is empty");
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = lines(&sample_03(dir.path()));
    let es: Vec<usize> = l.iter().enumerate().filter(|(_, x)| x[0] == b'E').map(|(i, _)| i).take(3).collect();
    for &e in &es {
        put(&mut l[e], 566, "99999999");
    }
    let s = validate(&write_lines(&dir.path().join("many.txt"), &l));
    assert_eq!(s.error_count, 3);
    let lines_reported: Vec<u64> = s.errors.iter().map(|i| i.line).collect();
    assert_eq!(lines_reported, es.iter().map(|&e| e as u64 + 1).collect::<Vec<_>>());
}

#[test]
fn a_line_without_end_does_not_grow_memory() {
    // 8 MiB of one "line": reported as over-long, never held whole.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.txt");
    let mut l = lines(&sample_03(dir.path()));
    l.insert(1, vec![b'E'; 8 << 20]);
    write_lines(&path, &l);
    let s = validate(&path);
    assert!(!s.is_valid());
    assert_eq!(s.errors[0].line, 2);
    assert!(s.errors[0].reason.contains("over the 4096-byte limit"), "{}", s.errors[0].reason);
    assert_eq!(s.transactions.gross + s.transactions.fee, s.transactions.net);
}

#[test]
fn a_duplicated_trailer_is_rejected_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = lines(&sample_03(dir.path()));
    l.push(l.last().unwrap().clone());
    let s = validate(&write_lines(&dir.path().join("two_trailers.txt"), &l));
    let i = only_issue(&s);
    assert_eq!((i.line, i.column, i.field.as_str()), (l.len() as u64, Some(1), "line"));
    assert!(i.reason.contains("record after the trailer"), "{}", i.reason);
}

#[test]
fn a_header_of_one_type_with_records_of_another_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 300, 7);
    let relabel = |file_type: &str, as_type: &str, name: &str| {
        let f = files.iter().find(|f| f.file_type == file_type).unwrap();
        let mut l = lines(&f.path);
        put(&mut l[0], 48, as_type); // header 48-49: the file type
        (validate(&write_lines(&dir.path().join(name), &l)), l)
    };
    // A sales file whose header says Pix: every D and E record is named, none is loaded as Pix.
    let (s, l) = relabel("03", "16", "sales_as_pix.txt");
    let details: Vec<u64> =
        l.iter().enumerate().filter(|(_, x)| matches!(x[0], b'D' | b'E')).map(|(i, _)| i as u64 + 1).collect();
    let misplaced: Vec<&Issue> = s.errors.iter().filter(|i| i.field == "record_type").collect();
    assert_eq!(misplaced.iter().map(|i| i.line).collect::<Vec<_>>(), details[..misplaced.len()].to_vec());
    assert!(misplaced.len() >= 100.min(details.len()), "every misplaced record is reported");
    let i = misplaced[0];
    assert_eq!((i.column, i.field.as_str()), (Some(1), "record_type"));
    assert!(
        i.reason.contains("cannot appear in a file of type 16") && i.reason.contains("holds 8 only"),
        "{}",
        i.reason
    );
    assert_eq!(s.transactions.count, 0, "nothing counted as what the header says");
    // A Pix file whose header says sales.
    let (s, _) = relabel("16", "03", "pix_as_sales.txt");
    assert!(!s.is_valid());
    assert!(s.errors.iter().all(|i| i.field == "record_type" && i.reason.contains("record 8 cannot appear")));
    // A negotiation file whose header says payments.
    let (s, _) = relabel("15", "04", "negotiation_as_payments.txt");
    assert!(
        s.errors.iter().any(|i| i.reason.contains("record A cannot appear in a file of type 04")),
        "{:?}",
        s.errors
    );
}

#[test]
fn a_file_in_another_encoding_is_rejected_at_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = lines(&sample_03(dir.path()));
    // The statements are single-byte (ASCII / Latin-1): an accented letter in the header's free text is one byte.
    put(&mut l[0], 51, "S\u{c3}O PAULO");
    l[0] = l[0].iter().flat_map(|&b| if b == 0xC3 { b"\xC3".to_vec() } else { vec![b] }).collect();
    let latin1 = write_lines(&dir.path().join("latin1.txt"), &l);
    assert!(validate(&latin1).is_valid(), "{:?}", validate(&latin1).errors);

    // The same file converted to UTF-8: the accented letter takes two bytes and the header is one byte too wide.
    // Everything after it shifts by one byte: the layout version is read off by one and refused.
    let utf8: Vec<Vec<u8>> = l.iter().map(|x| x.iter().map(|&b| b as char).collect::<String>().into_bytes()).collect();
    let s = validate(&write_lines(&dir.path().join("utf8.txt"), &utf8));
    let i = only_issue(&s);
    assert_eq!((i.line, i.column, i.field.as_str()), (1, Some(71), "header.layout_version"));
    assert!(i.reason.contains("is not supported"), "{}", i.reason);

    // UTF-16 (with its byte-order mark): not a statement header at all.
    let text: String = lines(&latin1)[0].iter().map(|&b| b as char).collect();
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let path = dir.path().join("utf16.txt");
    std::fs::write(&path, utf16).unwrap();
    let i = only_issue(&validate(&path)).clone();
    assert_eq!((i.line, i.column, i.field.as_str()), (1, Some(1), "header"));
    assert!(i.reason.contains("not a recognised statement header"), "{}", i.reason);
}

#[tokio::test]
async fn negative_zero_and_the_widest_amounts_load_exactly() {
    use rust_decimal::Decimal;
    use std::str::FromStr;
    let db = common::db::TestDb::new("widest").await;
    let dir = tempfile::tempdir().unwrap();
    let mut l = lines(&sample_03(dir.path()));
    let es: Vec<usize> = l.iter().enumerate().filter(|(_, x)| x[0] == b'E').map(|(i, _)| i).take(2).collect();
    // E gross at 261 (sign) + 13 digits, net at 275, fee at 289: the widest value, and a negative zero.
    put(&mut l[es[0]], 261, "+9999999999999+9999999999999-0000000000000");
    put(&mut l[es[1]], 261, "-0000000000000-0000000000000-0000000000000");
    let path = write_lines(&dir.path().join("widest.txt"), &l);
    let s = validate(&path);
    assert!(s.is_valid(), "{:?}", s.errors);
    let r = syncrocardpay_core::pipeline::ingest_file(
        &mut syncrocardpay_core::db::connect(&db.url).await.unwrap(),
        &path,
        "test",
        syncrocardpay_core::pipeline::IngestMode::StageAndLoad,
    )
    .await
    .unwrap();
    assert_eq!(r.outcome, syncrocardpay_core::pipeline::Outcome::Loaded);
    let widest = Decimal::from_str("99999999999.99").unwrap();
    let row = db
        .client
        .query_one(
            "SELECT gross_amount, net_amount, fee_amount FROM fact_card_transaction WHERE line_no = $1",
            &[&(es[0] as i64 + 1)],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, Decimal>(0), row.get::<_, Decimal>(1)), (widest, widest), "no overflow, no rounding");
    let zero = db
        .client
        .query_one(
            "SELECT gross_amount::text, net_amount::text FROM fact_card_transaction WHERE line_no = $1",
            &[&(es[1] as i64 + 1)],
        )
        .await
        .unwrap();
    assert_eq!((zero.get::<_, String>(0), zero.get::<_, String>(1)), ("0.00".into(), "0.00".into()), "never -0");
    // The totals of the file and of the facts agree to the cent.
    let (file_gross, fact_gross): (Decimal, Decimal) = {
        let r = db
            .client
            .query_one(
                "SELECT f.tx_gross_total, (SELECT sum(gross_amount) FROM fact_card_transaction) FROM statement_file f",
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(file_gross, fact_gross);
    assert!(fact_gross > widest);
}
