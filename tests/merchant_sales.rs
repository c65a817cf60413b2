//! The merchant's own sales export (CSV through a mapping file): parsing, precise errors, loading with the
//! same guarantees as a statement.

use crate::common;

use common::db::TestDb;
use rust_decimal::Decimal;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use syncrocardpay_core::formats::merchant::{parse_amount, read_merchant_sales, Mapping};
use syncrocardpay_core::model::{MerchantSale, Record};
use syncrocardpay_core::pipeline::{ingest_merchant_sales, Outcome};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A Brazilian ERP export: semicolons, latin-1, dd/mm/yyyy, "1.234,56", zero-padded codes.
const MAPPING: &str = r#"
delimiter = ";"
encoding = "latin-1"
date_format = "%d/%m/%Y"
decimal_separator = ","
thousands_separator = "."

[columns]
sale_id = "Pedido"
sale_date = "Data"
sale_time = "Hora"
gross_amount = "Valor"
nsu = "NSU"
authorization_code = "Autorização"
installments = "Parcelas"
brand = "Bandeira"
card_last_digits = "Final"
acquirer = "Adquirente"
payment_method = "Forma"
merchant_code = "Loja"
"#;

fn latin1(s: &str) -> Vec<u8> {
    s.chars().map(|c| c as u32 as u8).collect()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, latin1(text)).unwrap();
    p
}

const GOOD: &str = "Pedido;Data;Hora;Valor;NSU;Autorização;Parcelas;Bandeira;Final;Adquirente;Forma;Loja\n\
PED-0001;03/08/2026;21:16:44;1.234,56;000123;0A12B3;3;Visa;0042;Cielo;Crédito;0001\n\
PED-0002;03/08/2026;;59,90;046002;437940;1;Mastercard;3786;Rede;débito;0001\n\
\n\
PED-0003;04/08/2026;09:00:00;(10,00);000124;000001;;Elo;0007;Cielo;Crédito;0002\n";

fn parse(path: &Path, mapping: &Mapping) -> (syncrocardpay_core::formats::StatementSummary, Vec<MerchantSale>) {
    let mut sales = Vec::new();
    let s = read_merchant_sales(std::fs::File::open(path).unwrap(), "erp", mapping, &mut |r| {
        if let Record::MerchantSale(m) = r {
            sales.push(*m);
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    (s, sales)
}

#[test]
fn amounts_in_the_ways_merchants_write_them() {
    assert_eq!(parse_amount("1.234,56", ',', Some('.')).unwrap(), dec("1234.56"));
    assert_eq!(parse_amount("R$ 59,90", ',', Some('.')).unwrap(), dec("59.90"));
    assert_eq!(parse_amount("(10,00)", ',', Some('.')).unwrap(), dec("-10.00"));
    assert_eq!(parse_amount("-0,00", ',', None).unwrap(), Decimal::ZERO);
    assert_eq!(parse_amount("1234.5", '.', None).unwrap(), dec("1234.5"));
    for bad in ["12,3x", "", "1,2,3", "--1", "R$", "1 2"] {
        assert!(parse_amount(bad, ',', Some('.')).unwrap_err().contains("not an amount"), "{bad:?}");
    }
    assert!(parse_amount("1,234", ',', Some('.')).unwrap_err().contains("more than 2 decimal places"));
    // Strict (issue 14, item 8): each of these was once read as another amount.
    for (bad, why) in [
        ("(-5,00)", "minus sign inside parentheses"),
        ("12.34,5", "groups of three digits"),
        ("1.2.3,45", "groups of three digits"),
        ("R$R$ 7,00", "more than one currency sign"),
        ("- R$ -3,00", "two minus signs"),
        ("12345678901234,00", "larger than any sale"),
    ] {
        let e = parse_amount(bad, ',', Some('.')).unwrap_err();
        assert!(e.contains(why), "{bad:?}: {e}");
    }
    assert_eq!(parse_amount("-R$ 5,00", ',', Some('.')).unwrap(), dec("-5.00"));
    assert_eq!(parse_amount("R$ -5,00", ',', Some('.')).unwrap(), dec("-5.00"));
    assert_eq!(parse_amount("1.234.567,89", ',', Some('.')).unwrap(), dec("1234567.89"));
    assert_eq!(parse_amount("1234567,89", ',', Some('.')).unwrap(), dec("1234567.89"));
    assert_eq!(parse_amount(",50", ',', Some('.')).unwrap(), dec("0.50"));
    assert_eq!(parse_amount("9999999999999,99", ',', None).unwrap(), dec("9999999999999.99"));
    // A mapping whose decimal and thousands separators are the same could never read "1,50".
    let same = MAPPING.replace("thousands_separator = \".\"", "thousands_separator = \",\"");
    let e = Mapping::from_toml(&same).unwrap_err();
    assert!(e.contains("thousands_separator and decimal_separator are both"), "{e}");
}

#[test]
fn an_erp_export_parses_with_codes_intact() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = Mapping::from_toml(MAPPING).unwrap();
    let (s, sales) = parse(&write(dir.path(), "erp.csv", GOOD), &mapping);
    assert!(s.is_valid(), "{:?}", s.errors);
    assert_eq!(sales.len(), 3, "the blank line is skipped");
    assert_eq!(s.merchant_sales.count, 3);
    assert_eq!(s.merchant_sales.gross, dec("1284.46"));
    let a = &sales[0];
    assert_eq!((a.sale_id.as_str(), a.merchant_code.as_str()), ("PED-0001", "0001"));
    assert_eq!((a.nsu.as_str(), a.authorization_code.as_str()), ("000123", "0A12B3"), "leading zeros are data");
    assert_eq!((a.gross_amount, a.installments), (dec("1234.56"), 3));
    assert_eq!(a.sale_date.unwrap().to_string(), "2026-08-03");
    assert_eq!(a.sale_time.unwrap().to_string(), "21:16:44");
    assert_eq!((a.brand.as_str(), a.card_last_digits.as_str(), a.acquirer.as_str()), ("Visa", "0042", "Cielo"));
    assert_eq!(a.payment_method, "Crédito", "latin-1 decoded");
    assert_eq!((sales[1].sale_time, sales[1].installments), (None, 1));
    assert_eq!((sales[2].gross_amount, sales[2].installments), (dec("-10.00"), 1), "a refund, blank installments");
    assert_eq!(s.period_start.unwrap().to_string(), "2026-08-03");
    assert_eq!(s.period_end.unwrap().to_string(), "2026-08-04");
}

#[test]
fn columns_by_position_without_a_header() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = Mapping::from_toml(
        r#"
        has_header = false
        merchant_code = "1051583117"
        [columns]
        sale_id = 1
        sale_date = 2
        gross_amount = 3
        nsu = 4
        "#,
    )
    .unwrap();
    let (s, sales) =
        parse(&write(dir.path(), "pos.csv", "T1,2026-08-03,132.11,046002\nT2,2026-08-03,5.00,000001\n"), &mapping);
    assert!(s.is_valid(), "{:?}", s.errors);
    assert_eq!(sales.len(), 2);
    assert_eq!((sales[0].merchant_code.as_str(), sales[0].nsu.as_str()), ("1051583117", "046002"));
    assert!(Mapping::from_toml(
        "has_header = false\nmerchant_code = \"1\"\n[columns]\nsale_id = \"Pedido\"\nsale_date = 2\ngross_amount = 3"
    )
    .unwrap_err()
    .contains("columns.sale_id: without a header row"));
}

#[test]
fn bad_rows_name_line_column_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = Mapping::from_toml(MAPPING).unwrap();
    let text = "Pedido;Data;Hora;Valor;NSU;Autorização;Parcelas;Bandeira;Final;Adquirente;Forma;Loja\n\
PED-1;31/02/2026;10:00:00;10,00;1;2;1;Visa;1;Cielo;C;0001\n\
PED-2;01/02/2026;10:00:00;12,3x;1;2;1;Visa;1;Cielo;C;0001\n\
PED-3;01/02/2026;25:00:00;1,00;1;2;x;Visa;1;Cielo;C;0001\n\
PED-4;01/02/2026\n";
    let (s, sales) = parse(&write(dir.path(), "bad.csv", text), &mapping);
    assert!(!s.is_valid());
    let got: Vec<(u64, Option<usize>, &str)> = s.errors.iter().map(|e| (e.line, e.column, e.field.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (2, Some(2), "sale_date"),
            (3, Some(4), "gross_amount"),
            (4, Some(3), "sale_time"),
            (4, Some(7), "installments"),
            (5, Some(3), "row"),
        ]
    );
    assert!(s.errors[0].reason.contains("\"31/02/2026\" is not a date"), "{}", s.errors[0].reason);
    assert!(s.errors[4].reason.contains("row has 2 columns, the mapping reads column Loja (merchant_code) at 12"));
    assert!(s.errors.iter().all(|e| e.raw_line.as_deref().is_some_and(|r| r.starts_with("PED-"))));
    assert_eq!(sales.len(), 0, "nothing of a rejected file reaches the sink after its first error");

    // A mapping naming a column the file does not have is caught at the header.
    let (s, _) = parse(&write(dir.path(), "other.csv", "Order;Date;Amount\n1;03/08/2026;1,00\n"), &mapping);
    assert_eq!((s.errors[0].line, s.errors[0].field.as_str()), (1, "header"));
    assert!(s.errors[0].reason.contains("no column \"Pedido\""), "{}", s.errors[0].reason);
}

#[tokio::test]
async fn merchant_sales_load_once_and_rejected_files_keep_their_reasons() {
    let mut db = TestDb::new("merchantsales").await;
    let dir = tempfile::tempdir().unwrap();
    let mapping = Mapping::from_toml(MAPPING).unwrap();
    let path = write(dir.path(), "erp.csv", GOOD);
    let r = ingest_merchant_sales(&mut db.client, &path, "test", &mapping).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded, "{:?}", r.summary.map(|s| s.errors));
    assert_eq!(r.rows.merchant_sales, 3);
    let row = db
        .client
        .query_one(
            "SELECT count(*), sum(gross_amount), min(nsu), count(DISTINCT establishment_key),
                    (SELECT min(a.code) FROM dim_establishment e JOIN dim_acquirer a USING (acquirer_key)
                      WHERE e.establishment_key = min(s.establishment_key))
             FROM fact_merchant_sale s",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 3);
    assert_eq!(row.get::<_, Decimal>(1), dec("1284.46"));
    assert_eq!(row.get::<_, String>(2), "000123");
    assert_eq!(row.get::<_, i64>(3), 2, "two stores");
    assert_eq!(row.get::<_, String>(4), "merchant");

    // The same content again, under another name: nothing added.
    let again = write(dir.path(), "erp-copy.csv", GOOD);
    let r = ingest_merchant_sales(&mut db.client, &again, "test", &mapping).await.unwrap();
    assert_eq!(r.outcome, Outcome::Duplicate);
    assert_eq!(db.count("SELECT count(*) FROM fact_merchant_sale").await, 3);

    // A file with one bad row loads nothing and keeps the reason.
    let bad = write(dir.path(), "bad.csv", &GOOD.replace("59,90", "59,9O"));
    let r = ingest_merchant_sales(&mut db.client, &bad, "test", &mapping).await.unwrap();
    assert_eq!(r.outcome, Outcome::Rejected);
    assert_eq!(db.count("SELECT count(*) FROM fact_merchant_sale").await, 3);
    let row = db
        .client
        .query_one("SELECT line_no, byte_column, field, reason FROM rejected_line WHERE file_id = $1", &[&r.file_id])
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, i64>(0), row.get::<_, Option<i32>>(1), row.get::<_, String>(2)),
        (3, Some(4), "gross_amount".into())
    );
}

/// Values that would break SQL built by pasting strings: quotes, `;`, comments, `$1`, a backslash.
const HOSTILE: [&str; 5] = [
    "O'Brien'); DROP TABLE fact_merchant_sale; --",
    "\"; DELETE FROM statement_file; --",
    "$1 $$ E'\\x00' \\",
    "1; SELECT pg_sleep(10)",
    "Robert'); DROP TABLE statement_file;--",
];

#[tokio::test]
async fn values_with_quotes_and_semicolons_are_stored_verbatim() {
    let mut db = TestDb::new("sqlquotes").await;
    let dir = tempfile::tempdir().unwrap();
    let mapping = Mapping::from_toml(
        r#"
merchant_code = "0001"
[columns]
sale_id = "id"
sale_date = "date"
gross_amount = "amount"
brand = "brand"
payment_method = "method"
"#,
    )
    .unwrap();
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut csv = String::from("id,date,amount,brand,method\n");
    for (i, v) in HOSTILE.iter().enumerate() {
        csv.push_str(&format!("{},2026-08-0{},1.0{i},{},{}\n", quote(v), i + 1, quote(v), quote(v)));
    }
    // The file's own name is hostile too.
    let path = dir.path().join("o'brien; DROP TABLE statement_file;--.csv");
    std::fs::write(&path, &csv).unwrap();
    let r = ingest_merchant_sales(&mut db.client, &path, "it's; --", &mapping).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded, "{:?}", r.summary.map(|s| s.errors));

    let rows = db
        .client
        .query("SELECT sale_id, brand, payment_method FROM fact_merchant_sale ORDER BY line_no", &[])
        .await
        .unwrap();
    let stored: Vec<(String, String, String)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    let expected: Vec<(String, String, String)> =
        HOSTILE.iter().map(|v| (v.to_string(), v.to_string(), v.to_string())).collect();
    assert_eq!(stored, expected, "every value stored exactly as written");
    let name: String = db.client.query_one("SELECT file_name FROM statement_file", &[]).await.unwrap().get(0);
    assert_eq!(name, "o'brien; DROP TABLE statement_file;--.csv");
    let source: String = db.client.query_one("SELECT source FROM statement_delivery", &[]).await.unwrap().get(0);
    assert_eq!(source, "it's; --");

    // A rejected row keeps its hostile text in rejected_line, verbatim too.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, format!("id,date,amount,brand,method\n{},2026-08-01,1.O0,x,y\n", quote(HOSTILE[0]))).unwrap();
    let r = ingest_merchant_sales(&mut db.client, &bad, "test", &mapping).await.unwrap();
    assert_eq!(r.outcome, Outcome::Rejected);
    let raw: String = db
        .client
        .query_one("SELECT raw_line FROM rejected_line WHERE file_id = $1", &[&r.file_id])
        .await
        .unwrap()
        .get(0);
    assert!(raw.contains(HOSTILE[0]), "{raw}");
    // Every table is still there and whole.
    assert_eq!(db.count("SELECT count(*) FROM fact_merchant_sale").await, HOSTILE.len() as i64);
    assert_eq!(db.count("SELECT count(*) FROM statement_file").await, 2);
}

/// A merchant export with a NUL in a text column, or an amount larger than any sale, is rejected at that
/// row and column by the parser — never left to fail at the database (issue 14, item 3).
#[tokio::test]
async fn a_nul_or_a_huge_amount_in_a_merchant_export_is_rejected_at_its_column() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = Mapping::from_toml(MAPPING).unwrap();
    let text = "Pedido;Data;Hora;Valor;NSU;Autorização;Parcelas;Bandeira;Final;Adquirente;Forma;Loja\n\
PED-1;01/02/2026;10:00:00;10,00;1;2;1;Vi\0sa;1;Cielo;C;0001\n\
PED-2;01/02/2026;10:00:00;99.999.999.999.999,00;1;2;1;Visa;1;Cielo;C;0001\n";
    let (s, _) = parse(&write(dir.path(), "nul.csv", text), &mapping);
    let got: Vec<(u64, Option<usize>, &str)> = s.errors.iter().map(|e| (e.line, e.column, e.field.as_str())).collect();
    assert_eq!(got, vec![(2, Some(8), "brand"), (3, Some(4), "gross_amount")]);
    assert!(s.errors[1].reason.contains("larger than any sale"), "{}", s.errors[1].reason);
    let mut db = common::db::TestDb::new("merchantnul").await;
    let r =
        ingest_merchant_sales(&mut db.client, &write(dir.path(), "nul2.csv", text), "test", &mapping).await.unwrap();
    assert_eq!(r.outcome, Outcome::Rejected);
}

/// An unterminated quote swallowing the rest of a 100 MB export is rejected at its row, in bounded memory —
/// it once peaked at 1.3 GB for a 400 MB file (issue 14, item 12).
#[test]
fn an_unterminated_quote_is_rejected_in_bounded_memory() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("map.toml");
    std::fs::write(&mapping, MAPPING).unwrap();
    let path = dir.path().join("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    f.write_all(b"Pedido;Data;Hora;Valor;NSU;Autoriza\xe7\xe3o;Parcelas;Bandeira;Final;Adquirente;Forma;Loja\n")
        .unwrap();
    f.write_all(b"PED-1;01/02/2026;10:00:00;\"10,00;1;2;1;Visa;1;Cielo;C;0001\n").unwrap();
    let row = b"PED-2;01/02/2026;10:00:00;10,00;1;2;1;Visa;1;Cielo;C;0001\n";
    for _ in 0..(100 << 20) / row.len() {
        f.write_all(row).unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_syncrocardpay"))
        .arg("merchant-sales")
        .arg(&path)
        .arg("--mapping")
        .arg(&mapping)
        .arg("--check")
        .stdout(std::fs::File::create(dir.path().join("stdout")).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The child's own high-water mark (VmHWM of its address space, read while it runs: wait4's ru_maxrss
    // would also count the copy of this test process it was forked from).
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let status = loop {
        // Only once it runs our binary (before exec, the forked copy of this test process is measured).
        let ours = std::fs::read(format!("/proc/{}/cmdline", child.id()))
            .is_ok_and(|c| c.windows(14).any(|w| w == b"merchant-sales"));
        if let (true, Ok(text)) = (ours, std::fs::read_to_string(&status_file)) {
            if let Some(kib) = text.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
                peak_kib = peak_kib.max(kib.trim().trim_end_matches("kB").trim().parse().unwrap_or(0));
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let peak_mib = peak_kib as f64 / 1024.0;
    let out = std::fs::read_to_string(dir.path().join("stdout")).unwrap();
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(out.contains("line 2, field row: a record longer than 1048576 bytes"), "{out}");
    assert!(peak_mib > 1.0, "the child's memory was never read");
    assert!(peak_mib < 64.0, "peak memory {peak_mib:.1} MiB for a 100 MB file");
}

/// Cumulative exports: day 2's export repeats day 1's sales (one of them corrected) and adds one. Each sale
/// — a store and its sale id — is counted once, as the latest export says (issue 14, item 13).
#[tokio::test]
async fn a_cumulative_export_replaces_the_earlier_rows_of_the_same_sales() {
    let mut db = common::db::TestDb::new("merchantcumulative").await;
    let dir = tempfile::tempdir().unwrap();
    let mapping = Mapping::from_toml(MAPPING).unwrap();
    let header = "Pedido;Data;Hora;Valor;NSU;Autorização;Parcelas;Bandeira;Final;Adquirente;Forma;Loja\n";
    let day1 = format!(
        "{header}PED-1;03/08/2026;10:00:00;100,00;000001;A1;1;Visa;0001;Cielo;Crédito;0001\n\
         PED-2;03/08/2026;11:00:00;50,00;000002;A2;1;Visa;0002;Cielo;Crédito;0001\n"
    );
    let day2 = format!(
        "{header}PED-1;03/08/2026;10:00:00;100,00;000001;A1;1;Visa;0001;Cielo;Crédito;0001\n\
         PED-2;03/08/2026;11:00:00;55,00;000002;A2;1;Visa;0002;Cielo;Crédito;0001\n\
         PED-3;04/08/2026;09:00:00;10,00;000003;A3;1;Visa;0003;Cielo;Crédito;0001\n"
    );
    for (name, text) in [("day1.csv", &day1), ("day2.csv", &day2)] {
        let r = ingest_merchant_sales(&mut db.client, &write(dir.path(), name, text), "test", &mapping).await.unwrap();
        assert_eq!(r.outcome, Outcome::Loaded);
    }
    let rows: Vec<(String, Decimal)> = db
        .client
        .query("SELECT sale_id, gross_amount FROM fact_merchant_sale ORDER BY sale_id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        rows,
        [
            ("PED-1".to_string(), dec("100.00")),
            ("PED-2".to_string(), dec("55.00")),
            ("PED-3".to_string(), dec("10.00"))
        ]
    );
}
