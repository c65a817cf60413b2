//! Loading into the real PostgreSQL star schema: round-trips, idempotence, rejection, atomicity.

use crate::common;

use common::db::TestDb;
use common::fixtures::fixture;
use common::statements::{first_of, lines, put, samples, write_lines};
use rust_decimal::Decimal;
use std::str::FromStr;
use syncrocardpay_core::formats::validate_statement;
use syncrocardpay_core::pipeline::{ingest_file, load_files, FileLoad, IngestMode, Outcome};

/// Rows of the bulk kinds (receivable units, transactions) written, attached to the facts or not.
const WRITTEN_BULK_ROWS: &str =
    "SELECT (SELECT count(*) FROM fact_card_transaction_all) + (SELECT count(*) FROM fact_receivable_unit_all)";

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[tokio::test]
async fn generated_files_round_trip_into_the_facts() {
    let mut db = TestDb::new("roundtrip").await;
    let dir = tempfile::tempdir().unwrap();
    for f in samples(dir.path(), 900, 11) {
        let expected = validate_statement(std::fs::File::open(&f.path).unwrap(), "x").unwrap();
        let r = ingest_file(&mut db.client, &f.path, "test", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(r.outcome, Outcome::Loaded);
        assert_eq!(r.rows.receivable_units, expected.receivable_units.count);
        assert_eq!(r.rows.transactions, expected.transactions.count);
        assert_eq!(r.rows.pix_transactions, f.pix_transactions);
        assert_eq!(
            r.rows.negotiations + r.rows.negotiated_receivables + r.rows.negotiation_credits,
            f.negotiation_records
        );
        let row = db
            .client
            .query_one(
                "SELECT count(*), coalesce(sum(gross_amount), 0), coalesce(sum(fee_amount), 0), coalesce(sum(net_amount), 0)
                 FROM fact_pix_transaction WHERE file_id = $1",
                &[&r.file_id],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, i64>(0) as u64, expected.pix.count);
        assert_eq!(row.get::<_, Decimal>(1), expected.pix.gross);
        assert_eq!(row.get::<_, Decimal>(2), expected.pix.fee);
        assert_eq!(row.get::<_, Decimal>(3), expected.pix.net);
        let row = db
            .client
            .query_one(
                "SELECT coalesce(sum(n.net_amount), 0),
                        (SELECT coalesce(sum(net_amount), 0) FROM fact_negotiated_receivable WHERE file_id = $1),
                        (SELECT coalesce(sum(deposited_amount), 0) FROM fact_negotiation_credit WHERE file_id = $1)
                 FROM fact_receivables_negotiation n WHERE n.file_id = $1",
                &[&r.file_id],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, Decimal>(0), f.negotiated_total, "A net = the trailer's negotiated total");
        assert_eq!(row.get::<_, Decimal>(1), f.negotiated_total, "B nets add up to their A");
        assert_eq!(row.get::<_, Decimal>(2), f.negotiated_total, "C credits the negotiated net");
        let row = db
            .client
            .query_one(
                "SELECT count(*), coalesce(sum(gross_amount), 0), coalesce(sum(fee_amount), 0), coalesce(sum(net_amount), 0) FROM fact_receivable_unit WHERE file_id = $1",
                &[&r.file_id],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, i64>(0) as u64, expected.receivable_units.count);
        assert_eq!(row.get::<_, Decimal>(1), expected.receivable_units.gross);
        assert_eq!(row.get::<_, Decimal>(2), expected.receivable_units.fee);
        assert_eq!(row.get::<_, Decimal>(3), expected.receivable_units.net);
        let row = db
            .client
            .query_one(
                "SELECT count(*), coalesce(sum(gross_amount), 0), coalesce(sum(fee_amount), 0), coalesce(sum(net_amount), 0) FROM fact_card_transaction WHERE file_id = $1",
                &[&r.file_id],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, i64>(0) as u64, expected.transactions.count);
        assert_eq!(row.get::<_, Decimal>(1), expected.transactions.gross);
        assert_eq!(row.get::<_, Decimal>(2), expected.transactions.fee);
        assert_eq!(row.get::<_, Decimal>(3), expected.transactions.net);
        let status: String = db
            .client
            .query_one("SELECT status FROM statement_file WHERE file_id = $1", &[&r.file_id])
            .await
            .unwrap()
            .get(0);
        assert_eq!(status, "loaded");
        assert_eq!(db.staged_rows(Some(r.file_id)).await, 0);
    }
    // Codes keep their leading zeros all the way into the dimensions.
    assert!(
        db.count(
            "SELECT count(*) FROM dim_establishment WHERE merchant_code LIKE '00%' AND length(merchant_code) = 10"
        )
        .await
            >= 1
    );
    // Cancellations and chargebacks are facts, but never sales.
    let adjustments = db
        .count(
            "SELECT count(*) FROM fact_card_transaction t JOIN dim_posting_type p USING (posting_type_key)
             WHERE p.code IN ('06', '08') AND NOT p.is_sale AND t.gross_amount < 0",
        )
        .await;
    assert!(adjustments > 0, "samples carry cancellations/chargebacks");
    // Referential integrity is the loader's job (no declared FKs on facts): no fact key without its row.
    let orphans = db
        .count(
            "SELECT count(*) FROM fact_card_transaction t
             LEFT JOIN statement_file f USING (file_id)
             LEFT JOIN dim_establishment e USING (establishment_key)
             LEFT JOIN dim_payment_method pm USING (payment_method_key)
             LEFT JOIN dim_product p USING (product_key)
             LEFT JOIN dim_posting_type pt USING (posting_type_key)
             LEFT JOIN dim_date d1 ON d1.date_key = t.authorization_date
             LEFT JOIN dim_date d2 ON d2.date_key = t.capture_date
             LEFT JOIN dim_date d3 ON d3.date_key = t.original_due_date
             WHERE f.file_id IS NULL OR e.establishment_key IS NULL OR pm.payment_method_key IS NULL
                OR p.product_key IS NULL OR pt.posting_type_key IS NULL
                OR (t.authorization_date IS NOT NULL AND d1.date_key IS NULL)
                OR (t.capture_date IS NOT NULL AND d2.date_key IS NULL)
                OR (t.original_due_date IS NOT NULL AND d3.date_key IS NULL)",
        )
        .await;
    assert_eq!(orphans, 0);
    let orphans = db
        .count(
            "SELECT count(*) FROM fact_receivable_unit u
             LEFT JOIN dim_establishment e USING (establishment_key)
             LEFT JOIN dim_payment_method pm USING (payment_method_key)
             LEFT JOIN dim_posting_type pt USING (posting_type_key)
             LEFT JOIN dim_date d ON d.date_key = u.payment_date
             WHERE e.establishment_key IS NULL OR pm.payment_method_key IS NULL OR pt.posting_type_key IS NULL
                OR (u.payment_date IS NOT NULL AND d.date_key IS NULL)",
        )
        .await;
    assert_eq!(orphans, 0);
    // Every fact points at a catalogued product and posting type from the seeded reference data.
    assert_eq!(
        db.count("SELECT count(*) FROM fact_card_transaction t JOIN dim_product p USING (product_key) WHERE NOT p.catalogued").await,
        0
    );
}

#[tokio::test]
async fn real_cielo04_lines_load_with_their_values() {
    let Some(path) = fixture("williamsilva__CardSync__cielo04_v15_lines.txt") else {
        return;
    };
    let mut db = TestDb::new("real04").await;
    let r = ingest_file(&mut db.client, &path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded);
    let row = db
        .client
        .query_one(
            "SELECT u.gross_amount, u.fee_amount, u.net_amount, u.payment_date::text, pm.brand_name, pm.settlement,
                    u.account_number, e.merchant_code
             FROM fact_receivable_unit u JOIN dim_payment_method pm USING (payment_method_key)
             JOIN dim_establishment e USING (establishment_key) WHERE u.file_id = $1",
            &[&r.file_id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Decimal>(0), dec("132.11"));
    assert_eq!(row.get::<_, Decimal>(1), dec("-3.28"));
    assert_eq!(row.get::<_, Decimal>(2), dec("128.83"));
    assert_eq!(row.get::<_, String>(3), "2026-08-03");
    assert_eq!(row.get::<_, String>(4), "Visa");
    assert_eq!(row.get::<_, String>(5), "credit");
    assert_eq!(row.get::<_, String>(6), "00000000000000024515");
    assert_eq!(row.get::<_, String>(7), "1051583117");
    let row = db
        .client
        .query_one(
            "SELECT t.nsu, t.authorization_code, p.name, pt.name, pt.is_sale, t.mdr_rate, t.capture_date::text
             FROM fact_card_transaction t JOIN dim_product p USING (product_key)
             JOIN dim_posting_type pt USING (posting_type_key) WHERE t.file_id = $1",
            &[&r.file_id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "046002");
    assert_eq!(row.get::<_, String>(1), "437940");
    assert_eq!(row.get::<_, String>(2), "Visa crédito à vista");
    assert_eq!(row.get::<_, String>(3), "Venda crédito");
    assert!(row.get::<_, bool>(4));
    assert_eq!(row.get::<_, Decimal>(5), dec("2.48"));
    assert_eq!(row.get::<_, String>(6), "2026-07-04");
}

#[tokio::test]
async fn same_content_twice_or_under_another_name_adds_nothing() {
    let mut db = TestDb::new("dup").await;
    let dir = tempfile::tempdir().unwrap();
    let f = samples(dir.path(), 200, 3).remove(0);
    let first = ingest_file(&mut db.client, &f.path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(first.outcome, Outcome::Loaded);
    let facts = "SELECT (SELECT count(*) FROM fact_card_transaction) + (SELECT count(*) FROM fact_receivable_unit)";
    let before = db.count(facts).await;
    assert!(before > 0);

    let again = ingest_file(&mut db.client, &f.path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!((again.outcome, again.file_id), (Outcome::Duplicate, first.file_id));
    let renamed = dir.path().join("renamed-copy.txt");
    std::fs::copy(&f.path, &renamed).unwrap();
    let other = ingest_file(&mut db.client, &renamed, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!((other.outcome, other.file_id), (Outcome::Duplicate, first.file_id));

    assert_eq!(db.count(facts).await, before);
    assert_eq!(db.count("SELECT count(*) FROM statement_file").await, 1);
    assert_eq!(db.count("SELECT count(*) FROM statement_delivery WHERE outcome = 'duplicate'").await, 2);
    assert_eq!(db.count("SELECT count(*) FROM statement_delivery WHERE file_name = 'renamed-copy.txt'").await, 1);
}

#[tokio::test]
async fn rejected_files_load_nothing_and_keep_their_reasons() {
    let mut db = TestDb::new("reject").await;
    let dir = tempfile::tempdir().unwrap();
    let good = samples(dir.path(), 200, 4).into_iter().find(|f| f.file_type == "03").unwrap().path;
    let base = lines(&good);
    let e = first_of(&base, b'E');
    let d = first_of(&base, b'D');
    let last = base.len() - 1;

    let mut cases: Vec<(&str, Vec<Vec<u8>>, u64, &str)> = Vec::new();
    let mut l = base.clone();
    l.truncate(base.len() - 1);
    cases.push(("no-trailer", l, base.len() as u64, "trailer"));
    let mut l = base.clone();
    put(&mut l[last], 31, "00000000000");
    cases.push(("bad-count", l, last as u64 + 1, "trailer.transaction_count"));
    let mut l = base.clone();
    put(&mut l[e], 574, "32132026");
    cases.push(("bad-date", l, e as u64 + 1, "E.capture_date"));
    let mut l = base.clone();
    put(&mut l[d], 105, "12X4");
    cases.push(("bad-amount", l, d as u64 + 1, "D.net_amount"));
    let mut l = base.clone();
    l[e].push(b' ');
    cases.push(("bad-width", l, e as u64 + 1, "line"));

    for (name, l, line, field) in cases {
        let path = write_lines(&dir.path().join(format!("{name}.txt")), &l);
        let r = ingest_file(&mut db.client, &path, "test", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(r.outcome, Outcome::Rejected, "{name}");
        let row = db
            .client
            .query_one("SELECT status, error_count, error FROM statement_file WHERE file_id = $1", &[&r.file_id])
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "rejected", "{name}");
        assert!(row.get::<_, i64>(1) >= 1);
        let first = db
            .client
            .query_one(
                "SELECT line_no, byte_column, field, reason, raw_line FROM rejected_line WHERE file_id = $1 ORDER BY rejected_line_id LIMIT 1",
                &[&r.file_id],
            )
            .await
            .unwrap();
        assert_eq!(first.get::<_, i64>(0) as u64, line, "{name}");
        assert_eq!(first.get::<_, String>(2), field, "{name}");
        assert!(!first.get::<_, String>(3).is_empty());
        if field != "trailer" {
            assert!(first.get::<_, Option<i32>>(1).is_some(), "{name}: a column is given");
            assert!(first.get::<_, Option<String>>(4).is_some(), "{name}: the raw line is kept");
        }
    }
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await, 0);
    assert_eq!(db.count("SELECT count(*) FROM fact_receivable_unit").await, 0);
    assert_eq!(db.staged_rows(None).await, 0);
    assert_eq!(db.count("SELECT count(*) FROM statement_file WHERE status = 'rejected'").await, 5);

    // The good original still loads afterwards.
    let r = ingest_file(&mut db.client, &good, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded);
}

#[tokio::test]
async fn stage_then_load_in_two_steps_as_the_lambdas_do() {
    let mut db = TestDb::new("twostep").await;
    let dir = tempfile::tempdir().unwrap();
    let f = samples(dir.path(), 150, 9).remove(0);
    let staged = ingest_file(&mut db.client, &f.path, "lambda", IngestMode::StageOnly).await.unwrap();
    assert_eq!(staged.outcome, Outcome::Staged);
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await, 0);
    assert_eq!(db.count(WRITTEN_BULK_ROWS).await as u64, f.receivable_units + f.transactions);
    // Staging the same content again is a no-op.
    let again = ingest_file(&mut db.client, &f.path, "lambda", IngestMode::StageOnly).await.unwrap();
    assert_eq!(again.outcome, Outcome::Duplicate);
    assert_eq!(db.count(WRITTEN_BULK_ROWS).await as u64, f.receivable_units + f.transactions);

    let loaded = load_files(&mut db.client, &[staged.file_id]).await.unwrap();
    let FileLoad::Done(Outcome::Loaded, rows) = &loaded[0].1 else { panic!("{loaded:?}") };
    assert_eq!(rows.transactions, f.transactions);
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, f.transactions);
    assert_eq!(db.staged_rows(None).await, 0);
    let twice = load_files(&mut db.client, &[staged.file_id]).await.unwrap();
    assert!(matches!(twice[0].1, FileLoad::Done(Outcome::Duplicate, _)), "{twice:?}");
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, f.transactions);
}

/// The bulk kinds' declared columns are every column of their table, and the fact view readers read shows
/// every one of them (but a generated one, `sale_code`, which the server computes and the view shows): a
/// column added to a fact by a migration and not declared (or not in the view) fails
/// here, not as a silent NULL in production.
#[tokio::test]
async fn the_bulk_kinds_declare_every_fact_column_and_the_views_show_them() {
    let db = TestDb::new("bulkcolumns").await;
    // Every column, or only those a load writes (not the generated ones, which the server computes: V39).
    let columns_of = |table: &'static str, written_only: bool| {
        let client = &db.client;
        async move {
            let rows = client
                .query(
                    "SELECT column_name::text FROM information_schema.columns
                      WHERE table_name = $1 AND (NOT $2 OR is_generated = 'NEVER') ORDER BY 1",
                    &[&table, &written_only],
                )
                .await
                .unwrap();
            rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>()
        }
    };
    for k in &syncrocardpay_core::db::bulk::BULK_KINDS {
        let mut declared: Vec<String> = k.columns.iter().map(|c| c.to_string()).collect();
        declared.sort();
        let written = columns_of(k.table, true).await;
        assert!(!written.is_empty(), "{}", k.table);
        assert_eq!(declared, written, "{} declares every column of {} it writes", k.kind, k.table);
        let table = columns_of(k.table, false).await;
        assert_eq!(columns_of(k.fact, false).await, table, "the view {} shows every column of {}", k.fact, k.table);
    }
}

/// A server crash empties the UNLOGGED `stage_record`: a staged Pix statement (its records wait there) is
/// detected by its counts and sent back to be staged again, and loads once it is. A staged sales statement
/// loses nothing: its receivable units and transactions are written, unattached, in the logged fact tables.
#[tokio::test]
async fn lost_staging_is_detected_and_the_file_sent_back() {
    let mut db = TestDb::new("lost").await;
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 100, 10);
    let pix = files.iter().find(|f| f.file_type == "16" && f.pix_transactions > 0).unwrap();
    let sales = files.iter().find(|f| f.file_type == "03").unwrap();
    let staged = ingest_file(&mut db.client, &pix.path, "lambda", IngestMode::StageOnly).await.unwrap();
    let staged_sales = ingest_file(&mut db.client, &sales.path, "lambda", IngestMode::StageOnly).await.unwrap();
    assert_eq!(db.count("SELECT count(*) FROM unattached_file").await, 2);
    // What a server crash does to the UNLOGGED staging table.
    db.lose_staging(None).await;
    let r = load_files(&mut db.client, &[staged.file_id, staged_sales.file_id]).await.unwrap();
    let FileLoad::StagingLost(err) = &r[0].1 else { panic!("{r:?}") };
    assert!(err.contains("staged rows lost"), "{err}");
    let FileLoad::Done(Outcome::Loaded, rows) = &r[1].1 else { panic!("the sales file loads: {r:?}") };
    assert_eq!((rows.transactions, rows.receivable_units), (sales.transactions, sales.receivable_units));
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, sales.transactions);
    let failed = db.count("SELECT count(*) FROM statement_delivery WHERE outcome = 'failed' AND source = 'load'").await;
    assert_eq!(failed, 1, "the failure is recorded with the file");
    assert_eq!(db.count("SELECT count(*) FROM fact_pix_transaction").await, 0);
    let status: String = db
        .client
        .query_one("SELECT status FROM statement_file WHERE file_id = $1", &[&staged.file_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "received");
    assert_eq!(db.count("SELECT count(*) FROM unattached_file").await, 0, "nothing left unattached");
    let r = ingest_file(&mut db.client, &pix.path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded);
    assert_eq!(db.count("SELECT count(*) FROM fact_pix_transaction").await as u64, pix.pix_transactions);
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, sales.transactions);
}

/// A sales statement staged by the ingest Lambda counts nowhere until its load: its rows are written, but the
/// fact views every reader reads (reconciliation, reports, a finance team's SQL) leave them out; if its
/// staging must be redone (the file's other staged records lost), its written rows are forgotten first, so
/// staging it again never doubles them.
#[tokio::test]
async fn staged_rows_count_nowhere_until_loaded_and_are_never_written_twice() {
    let mut db = TestDb::new("unattached").await;
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 60, 12);
    let sales = files.iter().find(|f| f.file_type == "03").unwrap();
    let loaded = files.iter().find(|f| f.file_type == "04").unwrap();
    ingest_file(&mut db.client, &loaded.path, "test", IngestMode::StageAndLoad).await.unwrap();
    let staged = ingest_file(&mut db.client, &sales.path, "lambda", IngestMode::StageOnly).await.unwrap();
    let visible = "SELECT (SELECT count(*) FROM fact_card_transaction) + (SELECT count(*) FROM fact_receivable_unit)";
    assert_eq!(db.count(visible).await as u64, loaded.transactions + loaded.receivable_units);
    assert_eq!(
        db.count(WRITTEN_BULK_ROWS).await as u64,
        loaded.transactions + loaded.receivable_units + sales.transactions + sales.receivable_units
    );
    let totals = syncrocardpay_core::db::store::fact_totals(&db.client).await.unwrap();
    assert_eq!(totals.iter().map(|t| t.transactions).sum::<i64>() as u64, loaded.transactions, "{totals:?}");
    // The staging is redone (as after a crash that lost rows of it in stage_record: here the counts say one
    // Pix record is missing): the load sends it back …
    db.client.execute("UPDATE statement_file SET pix_count = 1 WHERE file_id = $1", &[&staged.file_id]).await.unwrap();
    let r = load_files(&mut db.client, &[staged.file_id]).await.unwrap();
    assert!(matches!(&r[0].1, FileLoad::StagingLost(_)), "{r:?}");
    assert_eq!(db.count(WRITTEN_BULK_ROWS).await as u64, loaded.transactions + loaded.receivable_units, "forgotten");
    // … and staging and loading it again writes each row once.
    let again = ingest_file(&mut db.client, &sales.path, "lambda", IngestMode::StageOnly).await.unwrap();
    assert_eq!(again.outcome, Outcome::Staged);
    let r = load_files(&mut db.client, &[staged.file_id]).await.unwrap();
    assert!(matches!(&r[0].1, FileLoad::Done(Outcome::Loaded, _)), "{r:?}");
    assert_eq!(
        db.count(visible).await as u64,
        loaded.transactions + loaded.receivable_units + sales.transactions + sales.receivable_units
    );
    assert_eq!(db.count(WRITTEN_BULK_ROWS).await, db.count(visible).await);
    assert_eq!(db.count("SELECT count(*) FROM unattached_file").await, 0);
}

/// One file that cannot be loaded (its staged rows lost in a crash) is recorded as failed with its reason, and
/// the files after it in the same load still load (issue 16, item 5).
#[tokio::test]
async fn one_file_that_cannot_be_loaded_never_stops_the_others() {
    let mut db = TestDb::new("isolation").await;
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 80, 21);
    let pix = files.iter().find(|f| f.file_type == "16" && f.pix_transactions > 0).unwrap();
    let others: Vec<_> = files.iter().filter(|f| f.file_type == "03").take(2).collect();
    let mut ids = Vec::new();
    for f in std::iter::once(pix).chain(others.iter().copied()) {
        ids.push(ingest_file(&mut db.client, &f.path, "lambda", IngestMode::StageOnly).await.unwrap().file_id);
    }
    // The first file's staging is lost (what a crash does to the UNLOGGED table).
    db.lose_staging(Some(ids[0])).await;
    let r = load_files(&mut db.client, &ids).await.unwrap();
    assert!(matches!(&r[0].1, FileLoad::StagingLost(e) if e.contains("staged rows lost")), "{r:?}");
    assert!(r[1..].iter().all(|(_, l)| matches!(l, FileLoad::Done(Outcome::Loaded, _))), "{r:?}");
    let expected: u64 = others.iter().map(|f| f.transactions).sum();
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, expected);
    let row =
        db.client.query_one("SELECT status, error FROM statement_file WHERE file_id = $1", &[&ids[0]]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "received", "sent back to be ingested again");
    assert!(row.get::<_, String>(1).contains("staged rows lost"));
}

/// Every file loaded is reconciled, whatever happened to the load that loaded it: a load that committed and
/// died before reconciling (a Lambda timeout) leaves its files queued in the same transaction, and the next
/// load — where the retried files come back as duplicates, loading nothing — reconciles them (issue 16, item 2).
#[tokio::test]
async fn a_file_loaded_by_a_load_that_died_before_reconciling_is_reconciled_by_the_next() {
    use syncrocardpay_core::workflow::{self, Ack, Item, LoadRequest};
    let mut db = TestDb::new("outbox").await;
    let dir = tempfile::tempdir().unwrap();
    let f = samples(dir.path(), 60, 22).remove(0);
    let staged = ingest_file(&mut db.client, &f.path, "lambda", IngestMode::StageOnly).await.unwrap();
    // The first attempt: the file's transaction commits, then the Lambda dies (nothing reconciles).
    let first = load_files(&mut db.client, &[staged.file_id]).await.unwrap();
    assert!(matches!(first[0].1, FileLoad::Done(Outcome::Loaded, _)));
    assert_eq!(db.count("SELECT count(*) FROM recon_pending").await, 1, "queued with the facts");
    assert_eq!(db.count("SELECT count(*) FROM recon_run").await, 0);
    // The retry: the same item, now a duplicate; the pending reconciliation runs all the same.
    let item = Item {
        file: None,
        ack: Some(Ack::Staged { file_id: staged.file_id, sha256: staged.sha256.clone(), name: "f".into() }),
        error: None,
    };
    let summary = workflow::load(
        &mut db.client,
        &Default::default(),
        &LoadRequest { items: vec![item], sweep: false, lease: None, ..Default::default() },
    )
    .await
    .unwrap();
    assert_eq!((summary.loaded.len(), summary.duplicates), (0, 1));
    assert_eq!(summary.reconciliation.len(), 1, "{summary:?}");
    let merchant: String = db
        .client
        .query_one("SELECT merchant_code FROM statement_file WHERE file_id = $1", &[&staged.file_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(summary.reconciliation[0].merchant.as_deref(), Some(merchant.as_str()));
    // A sales file alone (no books, contract or payments loaded): its lines wait for those inputs, counted.
    let r = &summary.reconciliation[0];
    // Each sale at least twice: against the books, and its fee against the contract.
    let sales = db.count("SELECT count(DISTINCT unique_sale_code) FROM fact_card_transaction").await as u64;
    assert!(r.items + r.left_aside >= 2 * sales && sales > 0, "{summary:?}");
    assert_eq!(db.count("SELECT count(*) FROM recon_run").await, 1);
    assert_eq!(db.count("SELECT count(*) FROM recon_pending").await, 0, "drained");
    // Drained once: a further load reconciles nothing more.
    let again = workflow::load(
        &mut db.client,
        &Default::default(),
        &LoadRequest { items: vec![], sweep: false, lease: None, ..Default::default() },
    )
    .await
    .unwrap();
    assert!(again.reconciliation.is_empty());
}

#[tokio::test]
async fn concurrent_ingests_of_the_same_content_load_it_once() {
    let db = TestDb::new("concurrent").await;
    let dir = tempfile::tempdir().unwrap();
    let f = samples(dir.path(), 3000, 12).remove(0);
    let copy = dir.path().join("same-content-other-name.txt");
    std::fs::copy(&f.path, &copy).unwrap();
    let mut tasks = Vec::new();
    for i in 0..4 {
        let url = db.url.clone();
        let path = if i % 2 == 0 { f.path.clone() } else { copy.clone() };
        tasks.push(tokio::spawn(async move {
            let mut c = syncrocardpay_core::db::connect(&url).await.unwrap();
            ingest_file(&mut c, &path, "test", IngestMode::StageAndLoad).await.unwrap().outcome
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| **o == Outcome::Loaded).count(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| **o == Outcome::Duplicate).count(), 3, "{outcomes:?}");
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, f.transactions);
}

#[tokio::test]
async fn real_v13_file_loads_with_v14_code_tables() {
    let Some(path) = fixture("am10tecnologia__php-edi-parser__edi-file-sample.txt") else { return };
    let mut db = TestDb::new("realv13").await;
    let r = ingest_file(&mut db.client, &path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded, "{:?}", r.summary.map(|s| s.errors));
    assert_eq!((r.rows.receivable_units, r.rows.transactions), (578, 320));
    let row = db
        .client
        .query_one(
            "SELECT count(*), sum(net_amount), count(*) FILTER (WHERE pt.code_set = 'cielo-v14' AND pt.is_sale),
                    count(DISTINCT p.name)
             FROM fact_receivable_unit u JOIN dim_posting_type pt USING (posting_type_key)
             LEFT JOIN dim_product p USING (product_key) WHERE u.file_id = $1",
            &[&r.file_id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 578);
    assert_eq!(row.get::<_, Decimal>(1), dec("118334.43"));
    assert!(row.get::<_, i64>(2) > 0, "v14 'Venda' ROs are sales in the v14 code set");
    assert!(row.get::<_, i64>(3) >= 2, "RO products resolve to the reference table");
    let row = db
        .client
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE fee_amount IS NULL AND net_amount IS NULL),
                    count(*) FILTER (WHERE card_last_digits ~ '^[0-9]{4}$')
             FROM fact_card_transaction WHERE file_id = $1",
            &[&r.file_id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 320);
    assert_eq!(row.get::<_, i64>(1), 320, "CVs carry no fee/net");
    assert_eq!(row.get::<_, i64>(2), 320);
    // Each CV joins its RO by the RO's unique number.
    let unmatched = db
        .count(&format!(
            "SELECT count(*) FROM fact_card_transaction t WHERE t.file_id = {0} AND NOT EXISTS
               (SELECT 1 FROM fact_receivable_unit u WHERE u.file_id = {0} AND u.ur_key = t.ur_key)",
            r.file_id
        ))
        .await;
    assert_eq!(unmatched, 0);
}

#[tokio::test]
async fn adjustments_are_never_sales_and_keep_the_link_to_their_sale() {
    let mut db = TestDb::new("adjustlink").await;
    let dir = tempfile::tempdir().unwrap();
    for f in samples(dir.path(), 3000, 31) {
        let r = ingest_file(&mut db.client, &f.path, "test", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(r.outcome, Outcome::Loaded);
    }
    // Only Cielo posting types 01/02/03/42 are sales.
    let sale_codes: Vec<String> = db
        .client
        .query("SELECT code FROM dim_posting_type WHERE code_set = 'cielo-v15' AND is_sale ORDER BY code", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(sale_codes, ["01", "02", "03", "42"]);
    let row = db
        .client
        .query_one(
            "SELECT count(*) FILTER (WHERE pt.code = '06'), count(*) FILTER (WHERE pt.code = '08'),
                    bool_and(NOT pt.is_sale),
                    count(*) FILTER (WHERE t.original_sale_code = ''),
                    count(*) FILTER (WHERE NOT EXISTS (
                        SELECT 1 FROM fact_card_transaction s JOIN dim_posting_type spt USING (posting_type_key)
                        WHERE spt.is_sale AND s.unique_sale_code = t.original_sale_code)),
                    min(pt.category) FILTER (WHERE pt.code = '08'), min(pt.category) FILTER (WHERE pt.code = '06')
             FROM fact_card_transaction t JOIN dim_posting_type pt USING (posting_type_key)
             WHERE pt.code IN ('06', '08')",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, i64>(0) > 0 && row.get::<_, i64>(1) > 0, "the sample has cancellations and chargebacks");
    assert!(row.get::<_, bool>(2), "no cancellation or chargeback is a sale");
    assert_eq!(row.get::<_, i64>(3), 0, "every adjustment names its original sale");
    assert_eq!(row.get::<_, i64>(4), 0, "and that sale is in the facts");
    assert_eq!(row.get::<_, String>(5), "chargeback");
    assert_eq!(row.get::<_, String>(6), "cancellation");
}

/// Cielo's official v15 test kit into the facts: every file loads; the ARV debit is an anticipation debit of
/// 238.45 (not a sale); the blank product is kept as an anomaly with the file; the CIELO04 day nets to 0.00.
#[tokio::test]
async fn official_kit_files_load_with_their_figures_and_anomalies() {
    let Some(dir) = fixture("cielo-official-kit-v15/cielo04-pagamento.txt").map(|p| p.parent().unwrap().to_path_buf())
    else {
        return;
    };
    let mut db = TestDb::new("officialkit").await;
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    for path in &names {
        let r = ingest_file(&mut db.client, path, "test", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(r.outcome, Outcome::Loaded, "{}: {:?}", path.display(), r.summary.map(|s| s.errors));
    }
    let c = &db.client;
    let debit = c
        .query_one(
            "SELECT t.gross_amount, t.fee_amount, t.net_amount, pt.category, pt.is_sale, pr.code
               FROM fact_card_transaction t
               JOIN statement_file f USING (file_id)
               JOIN dim_posting_type pt USING (posting_type_key)
               JOIN dim_product pr USING (product_key)
              WHERE f.file_name = 'cielo03-debito-arv.txt'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(debit.get::<_, Decimal>(0), dec("-238.45"));
    assert_eq!(debit.get::<_, Option<Decimal>>(1), Some(dec("0")));
    assert_eq!(debit.get::<_, Option<Decimal>>(2), Some(dec("-238.45")));
    assert_eq!(debit.get::<_, String>(3), "anticipation");
    assert!(!debit.get::<_, bool>(4), "an ARV debit is not a sale");
    assert_eq!(debit.get::<_, String>(5), "");

    let day = c
        .query_one(
            "SELECT sum(u.net_amount), sum(u.gross_amount), count(*) FROM fact_receivable_unit u
               JOIN statement_file f USING (file_id) WHERE f.file_name = 'cielo04-pagamento.txt'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((day.get::<_, Decimal>(0), day.get::<_, Decimal>(1), day.get::<_, i64>(2)), (dec("0"), dec("7.35"), 2));

    let pix = c
        .query_one(
            "SELECT count(*), sum(gross_amount), sum(net_amount) FROM fact_pix_transaction p
               JOIN statement_file f USING (file_id) WHERE f.file_name = 'cielo16-pix.txt'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (pix.get::<_, i64>(0), pix.get::<_, Decimal>(1), pix.get::<_, Decimal>(2)),
        (16, dec("10028.78"), dec("10027.38"))
    );

    let anomalies = c
        .query(
            "SELECT f.file_name, a.line_no, a.byte_column, a.field, a.kind, f.anomaly_count, f.trailer_reading
               FROM statement_anomaly a JOIN statement_file f USING (file_id) ORDER BY f.file_name, a.line_no",
            &[],
        )
        .await
        .unwrap();
    let got: Vec<(String, i64, Option<i32>, String, String, i64)> =
        anomalies.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))).collect();
    assert_eq!(
        got,
        vec![
            ("cielo03-debito-arv.txt".into(), 2, Some(156), "E.product_code".into(), "blank_code".into(), 1),
            ("cielo04-pagamento.txt".into(), 5, Some(156), "E.product_code".into(), "blank_code".into(), 1),
        ]
    );
    let readings: Vec<(String, Option<String>)> = c
        .query("SELECT file_name, trailer_reading FROM statement_file ORDER BY file_name", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(readings[0], ("cielo03-debito-arv.txt".into(), Some("detail_totals_no_units".into())));
    assert_eq!(readings[4], ("cielo16-pix.txt".into(), Some("unit_totals_with_pix_not_counted".into())));
    // The report counts them over a scope.
    let scope = syncrocardpay_core::reconcile::Scope {
        from: "2026-01-01".parse().unwrap(),
        to: "2026-03-31".parse().unwrap(),
        merchant: Some("1234567890".into()),
    };
    let counted = syncrocardpay_core::db::recon::anomaly_count(&db.client, &scope).await.unwrap();
    assert_eq!((counted.anomalies, counted.files), (2, 2));
}

/// What the database could not store is rejected by the parser, and a rejection is always stored: a NUL in
/// a text field, a binary file (gzip bytes, NULs in its "lines"). Each file ends `rejected` with its lines
/// kept (escaped), never stuck in `received`, and the next file loads (issue 14, item 3).
#[tokio::test]
async fn a_nul_in_text_or_a_binary_file_is_rejected_and_stored_and_the_next_file_loads() {
    let mut db = TestDb::new("binary").await;
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 30, 5);
    let sales = files.iter().find(|f| f.file_type == "03").unwrap();
    let mut l = lines(&sales.path);
    let e = first_of(&l, b'E');
    l[e][211] = 0; // order_reference (212-231)
    let with_nul = write_lines(&dir.path().join("nul.TXT"), &l);
    let binary = dir.path().join("statement.TXT");
    std::fs::write(&binary, b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\\\n\x1b[31mred\x00\xff").unwrap();
    let gzip = dir.path().join("statement.TXT.gz");
    std::fs::write(&gzip, b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x00\x01\\\n\x1b[31mred\x00\xff").unwrap();

    for (path, field) in [(&with_nul, "E.order_reference"), (&binary, "header"), (&gzip, "archive")] {
        let r = ingest_file(&mut db.client, path, "test", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(r.outcome, Outcome::Rejected, "{}", path.display());
        let row = db
            .client
            .query_one(
                "SELECT f.status, r.field, r.reason, r.raw_line FROM statement_file f
                   JOIN rejected_line r USING (file_id) WHERE f.file_id = $1 ORDER BY r.line_no LIMIT 1",
                &[&r.file_id],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "rejected");
        assert_eq!(row.get::<_, String>(1), field);
        let raw: String = row.get::<_, Option<String>>(3).unwrap_or_default();
        assert!(!raw.contains('\0') && !raw.contains('\x1b'), "{raw:?}");
        let reason: String = row.get(2);
        match field {
            "header" => {
                assert!(raw.starts_with("\\x7fELF\\x02\\x01"), "{raw:?}");
                assert!(raw.contains("\\x5c"), "a backslash is escaped too: {raw:?}");
            }
            "archive" => assert!(reason.contains("not a readable gzip archive"), "{reason}"),
            _ => assert!(reason.contains("control character \\x00"), "{reason}"),
        }
    }
    let r = ingest_file(&mut db.client, &sales.path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded);
    assert_eq!(r.rows.transactions, sales.transactions);
}

/// Compressed deliveries are opened wherever a file is ingested: a zip of several statements and a gzip of
/// one load each member as its own statement (own hash, delivery `archive!member`); a member that is not a
/// statement is rejected alone; a re-delivery adds nothing; a zip bomb or a corrupt archive is rejected with
/// its reason (issue 13, item 4).
#[tokio::test]
async fn zip_and_gzip_deliveries_load_each_member_once_and_bad_archives_are_rejected() {
    use syncrocardpay_core::archive::{write_gzip, write_zip};
    let mut db = TestDb::new("archives").await;
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 40, 9);
    let (a, b, c) = (&files[0], &files[1], &files[2]);
    let junk = dir.path().join("README.txt");
    std::fs::write(&junk, "not a statement\n").unwrap();
    let zip = dir.path().join("delivery.zip");
    write_zip(&zip, &[("2026/A_CIELO.TXT", &a.path), ("B_CIELO.TXT", &b.path), ("README.txt", &junk)]).unwrap();
    let gz = dir.path().join("C_CIELO.TXT.gz");
    write_gzip(&gz, &c.path).unwrap();

    let r = ingest_file(&mut db.client, &zip, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Rejected, "one member is not a statement");
    assert_eq!(r.members.len(), 3);
    assert_eq!(
        r.members.iter().map(|m| (m.file.as_str(), m.outcome)).collect::<Vec<_>>(),
        [
            ("delivery.zip!2026/A_CIELO.TXT", Outcome::Loaded),
            ("delivery.zip!B_CIELO.TXT", Outcome::Loaded),
            ("delivery.zip!README.txt", Outcome::Rejected)
        ]
    );
    assert_eq!(r.rows.transactions, a.transactions + b.transactions);
    let r = ingest_file(&mut db.client, &gz, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!((r.outcome, r.members.len()), (Outcome::Loaded, 1));
    assert_eq!(r.members[0].file, "C_CIELO.TXT.gz!C_CIELO.TXT");
    let total = a.transactions + b.transactions + c.transactions;
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, total);
    // Each member is a statement of its own, hashed as itself (the same content as the plain file).
    let plain = validate_statement(std::fs::File::open(&a.path).unwrap(), "a").unwrap();
    let row = db
        .client
        .query_one("SELECT file_name, status FROM statement_file WHERE sha256 = $1", &[&plain.sha256])
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("delivery.zip!2026/A_CIELO.TXT".into(), "loaded".into())
    );

    // Delivered again, zipped or plain: nothing new.
    let r = ingest_file(&mut db.client, &zip, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.members.iter().filter(|m| m.outcome == Outcome::Duplicate).count(), 2);
    let r = ingest_file(&mut db.client, &c.path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Duplicate);
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, total);

    // A bomb (far past the expansion ratio) and a cut archive: rejected with the reason, never stuck.
    let zeros = dir.path().join("zeros");
    std::fs::write(&zeros, vec![b' '; 100 << 20]).unwrap();
    let bomb = dir.path().join("bomb.zip");
    write_zip(&bomb, &[("CIELO03.TXT", &zeros)]).unwrap();
    std::fs::remove_file(&zeros).unwrap();
    let mut cut = std::fs::read(&zip).unwrap();
    cut.truncate(cut.len() / 2);
    let cut_path = dir.path().join("cut.zip");
    std::fs::write(&cut_path, cut).unwrap();
    for (path, expected) in [(&bomb, "times its own size"), (&cut_path, "not a readable zip archive")] {
        let r = ingest_file(&mut db.client, path, "test", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(r.outcome, Outcome::Rejected, "{}", path.display());
        let row = db
            .client
            .query_one(
                "SELECT f.status, r.field, r.reason FROM statement_file f JOIN rejected_line r USING (file_id)
                  WHERE f.file_id = $1",
                &[&r.file_id],
            )
            .await
            .unwrap();
        assert_eq!((row.get::<_, String>(0), row.get::<_, String>(1)), ("rejected".into(), "archive".into()));
        assert!(row.get::<_, String>(2).contains(expected), "{}", row.get::<_, String>(2));
    }
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, total);
}

/// The real layout-001 CIELO03P into the facts: 682 receivable units (ROs) netting 109 974.91 and 936
/// transactions (CVs) tied to them, from a year-old archive a merchant back-loads.
#[tokio::test]
async fn real_layout_001_sales_file_loads_into_the_same_facts_as_v13() {
    let Some(path) = fixture("cielo-layout-001/adrianolaselva__doctrine-orm-batch__cielo03p_modelo_1.RET") else {
        return;
    };
    let mut db = TestDb::new("layout001").await;
    let r = ingest_file(&mut db.client, &path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded, "{:?}", r.summary.map(|s| s.errors));
    assert_eq!((r.rows.receivable_units, r.rows.transactions), (682, 936));
    let row = db
        .client
        .query_one(
            "SELECT sum(net_amount), sum(fee_amount) FROM fact_receivable_unit WHERE file_id = $1",
            &[&r.file_id],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, Decimal>(0), row.get::<_, Decimal>(1)), (dec("109974.91"), dec("-2340.36")));
    let layout: String = db
        .client
        .query_one("SELECT layout_version FROM statement_file WHERE file_id = $1", &[&r.file_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(layout, "001");
}

/// The real layout-001 anticipation file into the facts: the operation and its deposit, the 235 ROs it
/// anticipated each naming its RO (so the sales and payment files' ROs can be found), and the 11 debits offset
/// against them; an RO's original net less its offsets is what was anticipated for it.
#[tokio::test]
async fn real_layout_001_anticipation_file_loads_into_the_negotiation_facts() {
    let Some(path) = fixture("cielo-layout-001/adrianolaselva__doctrine-orm-batch__cielo06.txt") else { return };
    let mut db = TestDb::new("layout001arv").await;
    let r = ingest_file(&mut db.client, &path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded, "{:?}", r.summary.map(|s| s.errors));
    assert_eq!((r.rows.negotiations, r.rows.negotiated_receivables, r.rows.negotiation_credits), (1, 235, 1));
    assert_eq!((r.rows.anticipation_offsets, r.rows.transactions), (11, 278));
    let row = db
        .client
        .query_one(
            "SELECT n.operation_code, n.payment_date::text, n.nominal_rate, n.gross_amount, n.net_amount,
                    c.account_number, c.deposited_amount
             FROM fact_receivables_negotiation n JOIN fact_negotiation_credit c USING (file_id)
             WHERE n.file_id = $1",
            &[&r.file_id],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, String>(0), row.get::<_, String>(1)), ("190832236".into(), "2016-06-06".into()));
    assert_eq!(
        (row.get::<_, Decimal>(2), row.get::<_, Decimal>(3), row.get::<_, Decimal>(4)),
        (dec("1.30"), dec("23256.33"), dec("22116.98"))
    );
    assert_eq!((row.get::<_, String>(5), row.get::<_, Decimal>(6)), ("0000484911".into(), dec("22116.98")));
    let row = db
        .client
        .query_one(
            "SELECT count(*), sum(b.gross_amount), sum(b.net_amount), sum(b.original_net_amount),
                    count(DISTINCT b.ur_key), count(*) FILTER (WHERE b.summary_number IS NULL)
             FROM fact_negotiated_receivable b WHERE b.file_id = $1",
            &[&r.file_id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 235);
    assert_eq!((row.get::<_, Decimal>(1), row.get::<_, Decimal>(2)), (dec("23256.33"), dec("22116.98")));
    assert_eq!(row.get::<_, Decimal>(3), dec("24317.79"), "what the ROs were worth before the debits");
    assert_eq!((row.get::<_, i64>(4), row.get::<_, i64>(5)), (235, 0));
    // Every RO: original net + its offsets = anticipated gross, in the facts too.
    let off = db
        .count(&format!(
            "SELECT count(*) FROM fact_negotiated_receivable b
             WHERE b.file_id = {id} AND b.original_net_amount + coalesce(
                 (SELECT sum(o.offset_amount) FROM fact_anticipation_offset o
                  WHERE o.file_id = b.file_id AND o.ur_key = b.ur_key), 0) <> b.gross_amount",
            id = r.file_id
        ))
        .await;
    assert_eq!(off, 0);
    let offsets: Decimal = db
        .client
        .query_one("SELECT sum(offset_amount) FROM fact_anticipation_offset WHERE file_id = $1", &[&r.file_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(offsets, dec("-1061.46"));
    // Loading the same file again adds nothing.
    let again = ingest_file(&mut db.client, &path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(again.outcome, Outcome::Duplicate);
    assert_eq!(db.count("SELECT count(*) FROM fact_anticipation_offset").await, 11);
}

/// Count and gross of the live transactions and receivable units.
async fn fact_totals(db: &TestDb) -> (i64, Decimal, i64, Decimal) {
    let r = db
        .client
        .query_one(
            "SELECT (SELECT count(*) FROM fact_card_transaction), (SELECT coalesce(sum(gross_amount), 0) FROM fact_card_transaction),
                    (SELECT count(*) FROM fact_receivable_unit), (SELECT coalesce(sum(gross_amount), 0) FROM fact_receivable_unit)",
            &[],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1), r.get(2), r.get(3))
}

/// The same facts in two statements of different identities — Cielo's recovered file (sequence 9999999)
/// beside the daily file it recovers — never count twice: the later statement's facts replace the earlier's
/// (transactions by NSU + authorization + date + installment, payment URs by UR key and date), the later file
/// names the earlier in a `restates_earlier_facts` anomaly, and an earlier file left with nothing is
/// `superseded` (issue 13, item 5).
#[tokio::test]
async fn a_recovered_statement_beside_its_original_never_doubles_a_fact() {
    let mut db = TestDb::new("restated").await;
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 60, 23);
    for kind in ["03", "04"] {
        let original = files.iter().find(|f| f.file_type == kind).unwrap();
        let mut l = lines(&original.path);
        put(&mut l[0], 36, "9999999"); // another identity: a recovered file
        let recovered = write_lines(&dir.path().join(format!("CIELO{kind}_recovered.TXT")), &l);

        let first = ingest_file(&mut db.client, &original.path, "test", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(first.outcome, Outcome::Loaded);
        let before = fact_totals(&db).await;
        let second = ingest_file(&mut db.client, &recovered, "test", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(second.outcome, Outcome::Loaded, "{:?}", second.summary.map(|s| s.errors));
        assert_eq!(fact_totals(&db).await, before, "file {kind}: facts doubled");
        let left = db
            .count(&format!(
                "SELECT (SELECT count(*) FROM fact_card_transaction WHERE file_id = {id})
                      + (SELECT count(*) FROM fact_receivable_unit WHERE file_id = {id})",
                id = first.file_id
            ))
            .await;
        assert_eq!(left, 0, "file {kind}: every fact of the original is the recovered file's now");
        let row = db
            .client
            .query_one("SELECT status, superseded_by FROM statement_file WHERE file_id = $1", &[&first.file_id])
            .await
            .unwrap();
        assert_eq!(
            (row.get::<_, String>(0), row.get::<_, Option<i64>>(1)),
            ("superseded".into(), Some(second.file_id))
        );
        let notes = db
            .client
            .query(
                "SELECT field, found FROM statement_anomaly WHERE file_id = $1 AND kind = 'restates_earlier_facts'
                  ORDER BY field",
                &[&second.file_id],
            )
            .await
            .unwrap();
        let found: Vec<String> = notes.iter().map(|r| r.get::<_, String>(1)).collect();
        assert!(
            !found.is_empty() && found.iter().all(|f| f.contains(&format!("live from file {}", first.file_id))),
            "{found:?}"
        );
        assert!(found.iter().any(|f| f.starts_with(&format!("{} transactions", original.transactions))), "{found:?}");
    }
    // A statement whose facts are not those of another (the next day's) adds them.
    let other = files.iter().filter(|f| f.file_type == "03").nth(1).unwrap();
    let before = db.count("SELECT count(*) FROM fact_card_transaction").await;
    let r = ingest_file(&mut db.client, &other.path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded);
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await, before + other.transactions as i64);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM statement_anomaly WHERE file_id = {} AND kind = 'restates_earlier_facts'",
            r.file_id
        ))
        .await,
        0
    );
}

/// Cielo re-sends a statement (same merchant, type, date and sequence) with some bytes changed: the new one
/// replaces the old in one transaction — the old file's facts are gone, its row kept as `superseded` with a
/// pointer to its successor — so payments never double; the old content delivered again adds nothing
/// (issue 13, item 5).
#[tokio::test]
async fn a_re_sent_statement_supersedes_the_earlier_one_and_never_adds() {
    let mut db = TestDb::new("resent").await;
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 60, 17);
    let payments = files.iter().find(|f| f.file_type == "04").unwrap();
    let mut l = lines(&payments.path);
    let e = first_of(&l, b'E');
    put(&mut l[e], 212, "RESENT-WITH-A-FIX"); // order reference: another content, same identity and money
    let resent = write_lines(&dir.path().join("CIELO04_resent.TXT"), &l);

    let first = ingest_file(&mut db.client, &payments.path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(first.outcome, Outcome::Loaded);
    let units = db.count("SELECT count(*) FROM fact_receivable_unit").await;
    let txs = db.count("SELECT count(*) FROM fact_card_transaction").await;
    assert_eq!((units as u64, txs as u64), (payments.receivable_units, payments.transactions));

    let second = ingest_file(&mut db.client, &resent, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(second.outcome, Outcome::Loaded);
    assert_ne!(second.sha256, first.sha256);
    assert_eq!(db.count("SELECT count(*) FROM fact_receivable_unit").await, units, "payments doubled");
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await, txs);
    let live =
        db.count(&format!("SELECT count(*) FROM fact_card_transaction WHERE file_id = {}", second.file_id)).await;
    assert_eq!(live, txs, "every fact is the re-sent file's");
    let row = db
        .client
        .query_one("SELECT status, superseded_by FROM statement_file WHERE file_id = $1", &[&first.file_id])
        .await
        .unwrap();
    assert_eq!((row.get::<_, String>(0), row.get::<_, Option<i64>>(1)), ("superseded".into(), Some(second.file_id)));

    // The old content again: a duplicate, the re-sent statement stays.
    let again = ingest_file(&mut db.client, &payments.path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(again.outcome, Outcome::Duplicate);
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await, txs);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM statement_file WHERE status = 'loaded' AND file_id = {}",
            second.file_id
        ))
        .await,
        1
    );
    // A statement of another sequence is another statement and loads; stating the very same payments, its
    // facts replace the live ones rather than doubling them (the fact-level key, tested on its own below).
    let mut other = lines(&payments.path);
    put(&mut other[0], 36, "0000777");
    let other = write_lines(&dir.path().join("CIELO04_seq777.TXT"), &other);
    let r = ingest_file(&mut db.client, &other, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded);
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await, txs);
    let live = db.count(&format!("SELECT count(*) FROM fact_card_transaction WHERE file_id = {}", r.file_id)).await;
    assert_eq!(live, txs);
}

/// A code outside the reference tables (a product Cielo added, a new posting type) loads with its raw code and
/// is kept as an `unknown_code` anomaly of the file, once per distinct code, at the first line using it; an
/// unknown posting type is never a sale (issue 13, item 2).
#[tokio::test]
async fn codes_outside_the_reference_tables_load_raw_and_are_kept_as_anomalies() {
    let mut db = TestDb::new("unknowncodes").await;
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 30, 21);
    let sales = files.iter().find(|f| f.file_type == "03").unwrap();
    let mut l = lines(&sales.path);
    let e = first_of(&l, b'E');
    put(&mut l[e], 156, "998");
    put(&mut l[e + 1], 156, "998");
    put(&mut l[e + 1], 28, "77");
    let path = write_lines(&dir.path().join("CIELO03_new_codes.TXT"), &l);
    let r = ingest_file(&mut db.client, &path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded, "{:?}", r.summary.map(|s| s.errors));
    let rows: Vec<(i64, String, String, String)> = db
        .client
        .query(
            "SELECT line_no, field, kind, found FROM statement_anomaly WHERE file_id = $1 ORDER BY field",
            &[&r.file_id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let (e1, e2) = (e as i64 + 1, e as i64 + 2);
    assert_eq!(
        rows,
        [
            (e2, "posting_type_code".into(), "unknown_code".into(), "77".into()),
            (e1, "product_code".into(), "unknown_code".into(), "998".into())
        ]
    );
    let count: i64 = db
        .client
        .query_one("SELECT anomaly_count FROM statement_file WHERE file_id = $1", &[&r.file_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 2);
    let is_sale: bool = db
        .client
        .query_one(
            "SELECT pt.is_sale FROM fact_card_transaction t JOIN dim_posting_type pt USING (posting_type_key)
              WHERE t.file_id = $1 AND t.line_no = $2",
            &[&r.file_id, &e2],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!is_sale);
}

/// A file the database refuses (here a test trigger raising a data exception, SQLSTATE 22003, on its facts)
/// fails alone: the error is recorded on the file — a `failed` delivery and the control row's error —, it is
/// not classified transient, and the next file loads (issue 14, item 3).
#[tokio::test]
async fn a_file_the_database_refuses_is_recorded_as_failed_and_the_next_loads() {
    let mut db = TestDb::new("dbrefuses").await;
    db.client
        .batch_execute(
            "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF (SELECT file_name FROM statement_file WHERE file_id = NEW.file_id) LIKE 'POISON%' THEN
                 RAISE EXCEPTION 'value out of range for this test' USING ERRCODE = '22003';
               END IF;
               RETURN NEW;
             END $$;
             CREATE TRIGGER refuse_poison BEFORE INSERT ON fact_card_transaction_all
               FOR EACH ROW EXECUTE FUNCTION refuse_poison();",
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 20, 23);
    let sales = files.iter().find(|f| f.file_type == "03").unwrap();
    let poison = dir.path().join("POISON_CIELO03.TXT");
    let mut l = lines(&sales.path);
    put(&mut l[0], 36, "0000333"); // another sequence: not a re-send of the good file
    std::fs::write(&poison, l.join(&b"\n"[..])).unwrap();
    let e = ingest_file(&mut db.client, &poison, "test", IngestMode::StageAndLoad).await.unwrap_err();
    assert!(!e.is_transient() && !e.is_retryable_db(), "{e}");
    let row = db
        .client
        .query_one(
            "SELECT f.status, f.error, d.outcome, d.detail FROM statement_file f
               JOIN statement_delivery d USING (file_id) WHERE f.file_name = 'POISON_CIELO03.TXT'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, String>(0), row.get::<_, String>(2)), ("received".into(), "failed".into()));
    assert!(row.get::<_, Option<String>>(1).unwrap().contains("value out of range for this test"));
    assert!(row.get::<_, Option<String>>(3).unwrap().contains("22003"), "{:?}", row.get::<_, Option<String>>(3));
    let r = ingest_file(&mut db.client, &sales.path, "test", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Loaded);
}

/// A backlog drains in bounded chunks (issue 17, item 2): a load whose time is up stops starting files and
/// says `more`; called again (as the state machine does) it goes on where it stopped, each call idempotent,
/// until nothing is left staged — and only the last call ends the run (its lease goes back).
#[tokio::test]
async fn a_backlog_loads_in_bounded_chunks_until_nothing_is_left() {
    use syncrocardpay_core::workflow::{load_within, LoadRequest};
    let mut db = TestDb::new("chunks").await;
    let dir = tempfile::tempdir().unwrap();
    let spec = syncrocardpay_core::formats::cielo::sample::SampleSpec {
        transactions: 60,
        merchants: 6,
        seed: 5,
        ..Default::default()
    };
    let files = syncrocardpay_core::formats::cielo::sample::generate(dir.path(), &spec).unwrap();
    assert!(files.len() > 16, "{} files", files.len());
    for f in &files {
        ingest_file(&mut db.client, &f.path, "lambda", IngestMode::StageOnly).await.unwrap();
    }
    assert!(syncrocardpay_core::db::store::acquire_run_lease(&db.client, "run-c", 60).await.unwrap().is_none());
    let request = LoadRequest { sweep: true, lease: Some("run-c".into()), ..Default::default() };
    let mut calls = 0;
    let mut loaded = 0;
    loop {
        calls += 1;
        let s =
            load_within(&mut db.client, &Default::default(), &request, Some(std::time::Duration::ZERO)).await.unwrap();
        assert!(s.loaded_count >= 1, "every call makes progress");
        loaded += s.loaded_count;
        let held = db.count("SELECT count(*) FROM run_lease").await;
        if !s.more {
            assert_eq!(held, 0, "the last call gives the lease back");
            break;
        }
        assert_eq!(held, 1, "the run goes on while files are left");
    }
    assert_eq!(loaded, files.len());
    assert!(calls >= 3, "{calls} calls for {} files", files.len());
    assert_eq!(db.count("SELECT count(*) FROM statement_file WHERE status = 'loaded'").await as usize, files.len());
    let expected: u64 = files.iter().map(|f| f.transactions).sum();
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, expected);
}

/// Everything in the facts and dimensions, by natural codes (surrogate keys differ between databases), one
/// text per table: what must be equal whichever path loaded the files.
async fn star_contents(db: &TestDb) -> Vec<(String, String)> {
    const FACTS_WITH_EVERY_DIMENSION: [&str; 2] = ["fact_card_transaction", "fact_receivable_unit"];
    let mut out = Vec::new();
    let tables: Vec<String> = db
        .client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_name LIKE 'fact\\_%' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for table in tables {
        let has = |c: &str| {
            let (client, table) = (&db.client, table.clone());
            let c = c.to_string();
            async move {
                client
                    .query_one(
                        "SELECT count(*) FROM information_schema.columns WHERE table_name = $1 AND column_name = $2",
                        &[&table, &c],
                    )
                    .await
                    .unwrap()
                    .get::<_, i64>(0)
                    == 1
            }
        };
        let mut naturals = Vec::new();
        let mut joins = String::new();
        if has("establishment_key").await {
            naturals.push("'merchant', e.merchant_code");
            joins += " LEFT JOIN dim_establishment e USING (establishment_key)";
        }
        if FACTS_WITH_EVERY_DIMENSION.contains(&table.as_str()) {
            naturals.extend([
                "'brand', pm.brand_code, 'settlement', pm.settlement_type_code, 'product', p.code",
                "'posting', pt.code, 'code_set', pt.code_set",
            ]);
            joins += " LEFT JOIN dim_payment_method pm USING (payment_method_key)
                       LEFT JOIN dim_product p USING (product_key) LEFT JOIN dim_posting_type pt USING (posting_type_key)";
        }
        let sql = format!(
            "SELECT count(*) || ' ' || coalesce(md5(string_agg(
                    (to_jsonb(t) - 'establishment_key' - 'payment_method_key' - 'product_key' - 'posting_type_key'
                     || jsonb_build_object({}))::text, '|' ORDER BY t.file_id, t.line_no)), '')
             FROM {table} t{joins}",
            if naturals.is_empty() { "'-', 0".to_string() } else { naturals.join(", ") },
        );
        let digest: String = db.client.query_one(&sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0);
        out.push((table, digest));
    }
    for (dim, key) in [
        ("dim_establishment", "establishment_key"),
        ("dim_payment_method", "payment_method_key"),
        ("dim_product", "product_key"),
        ("dim_posting_type", "posting_type_key"),
        ("dim_date", ""),
    ] {
        let sql = format!(
            "SELECT count(*) || ' ' || md5(string_agg((to_jsonb(d) - '{key}')::text, '|' ORDER BY (to_jsonb(d) - '{key}')::text))
             FROM {dim} d"
        );
        out.push((dim.to_string(), db.client.query_one(&sql, &[]).await.unwrap().get(0)));
    }
    out
}

/// The AWS path (the ingest Lambda stages, the load Lambda moves: `IngestMode::StageOnly`, then
/// `load_files`) puts into the star schema exactly what the one-go load puts, value for value: every fact
/// table and dimension, on every generated statement kind and on Cielo's official kit and the real
/// layout-001 files.
#[tokio::test]
async fn the_staged_path_loads_exactly_what_the_one_go_load_loads() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths: Vec<std::path::PathBuf> = samples(dir.path(), 120, 33).into_iter().map(|f| f.path).collect();
    for kit in [
        "cielo-official-kit-v15/cielo04-pagamento.txt",
        "cielo-layout-001/adrianolaselva__doctrine-orm-batch__cielo06.txt",
    ] {
        if let Some(d) = fixture(kit).map(|p| p.parent().unwrap().to_path_buf()) {
            let mut more: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()).collect();
            more.sort();
            paths.extend(more);
        }
    }
    let mut one_go = TestDb::new("onego").await;
    let mut staged = TestDb::new("stagedpath").await;
    let mut loaded = 0;
    for path in &paths {
        let a = ingest_file(&mut one_go.client, path, "test", IngestMode::StageAndLoad).await.unwrap();
        let b = ingest_file(&mut staged.client, path, "test", IngestMode::StageOnly).await.unwrap();
        assert_eq!(a.file_id, b.file_id, "{}", path.display());
        if a.outcome != Outcome::Loaded {
            assert_eq!(b.outcome, Outcome::Rejected, "{}: rejected by both paths or by neither", path.display());
            continue;
        }
        assert_eq!(b.outcome, Outcome::Staged, "{}", path.display());
        let l = load_files(&mut staged.client, &[b.file_id]).await.unwrap();
        let FileLoad::Done(Outcome::Loaded, rows) = &l[0].1 else { panic!("{}: {l:?}", path.display()) };
        assert_eq!(*rows, a.rows, "{}", path.display());
        loaded += 1;
    }
    assert!(loaded >= 5, "{loaded} files loaded");
    assert_eq!(staged.staged_rows(None).await, 0, "nothing left in staging");
    let (a, b) = (star_contents(&one_go).await, star_contents(&staged).await);
    assert!(a.iter().any(|(t, d)| t == "fact_card_transaction" && !d.starts_with("0 ")), "{a:?}");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "{} holds the same on both paths", x.0);
    }
    assert_eq!(a.len(), b.len());
}

/// A bank statement on the AWS path (issue 19, item 4): the ingest step loads it (it has nothing to stage) and
/// says so; the load step counts it loaded — not a duplicate — and reconciles the merchant whose account it
/// covers, whose stored run then has its bank area. Withdrawn, the runs it touched are reconciled again.
#[tokio::test]
async fn a_bank_statement_ingested_on_the_aws_path_is_counted_loaded_and_reconciles_its_merchant() {
    use syncrocardpay_core::formats::bank::sample as bank_sample;
    use syncrocardpay_core::formats::cielo::sample;
    use syncrocardpay_core::workflow::{self, Ack, Item, LoadRequest};
    let mut db = TestDb::new("bank_aws").await;
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 60, 23);
    let merchant = files[0].merchant_code.clone();
    let of_one: Vec<_> = files.iter().filter(|f| f.merchant_code == merchant).cloned().collect();
    for f in &of_one {
        let r = ingest_file(&mut db.client, &f.path, "lambda", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(r.outcome, Outcome::Loaded);
    }
    syncrocardpay_core::db::recon::reconcile_pending(
        &mut db.client,
        chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(db.count("SELECT count(*) FROM recon_item WHERE area = 'bank'").await, 0, "no statement yet");
    let bank = bank_sample::write(&dir.path().join("bank"), &sample::announced_payments(&of_one), false).unwrap();
    assert_eq!(bank.files.len(), 1);
    let report = ingest_file(&mut db.client, &bank.files[0], "lambda", IngestMode::StageOnly).await.unwrap();
    assert_eq!(report.outcome, Outcome::Loaded, "loaded by the ingest");
    let ack = Ack::from_report(&report).unwrap();
    assert!(matches!(ack, Ack::Loaded { rows, .. } if rows.bank_entries > 0), "{ack:?}");
    let summary = workflow::load(
        &mut db.client,
        &Default::default(),
        &LoadRequest { items: vec![Item { file: None, ack: Some(ack), error: None }], ..Default::default() },
    )
    .await
    .unwrap();
    assert_eq!((summary.loaded.len(), summary.duplicates), (1, 0), "{summary:?}");
    assert!(summary.facts.bank_entries > 0);
    assert!(
        summary.reconciliation.iter().any(|r| r.merchant.as_deref() == Some(merchant.as_str())),
        "the merchant whose account it covers: {summary:?}"
    );
    let deposited = "SELECT count(*) FROM recon_item i JOIN recon_run r USING (run_id)
                      WHERE i.area = 'bank' AND i.status = 'deposited' AND r.merchant_code = ";
    let deposited = format!("{deposited}'{merchant}'");
    assert!(db.count(&deposited).await > 0, "its stored runs have the bank area");
    assert_eq!(db.count("SELECT count(*) FROM recon_pending").await, 0);
    // Withdrawn: every run it touched is reconciled again, without it.
    syncrocardpay_core::db::store::withdraw(&mut db.client, &report.file_id.to_string()).await.unwrap();
    syncrocardpay_core::db::recon::reconcile_pending(
        &mut db.client,
        chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(db.count(&deposited).await, 0, "no run still says deposited");
}

/// The statuses the code knows are the ones the database admits, table by table: each CHECK's list of
/// values equals its Rust enum's (a value only one side knows would be refused on write, or fail on read);
/// so do the record kinds' codes, and each kind has its count column.
#[tokio::test]
async fn every_status_the_code_knows_is_the_one_list_the_database_admits() {
    use syncrocardpay_core::db::store::{FileStatus, RemoteFileStatus};
    let db = TestDb::new("status_lists").await;
    let admitted = |table: &'static str| {
        let client = &db.client;
        async move {
            let def: String = client
                .query_one(
                    "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
                      WHERE c.conrelid = $1::text::regclass AND c.contype = 'c' AND c.conname = $1 || '_status_check'",
                    &[&table],
                )
                .await
                .unwrap_or_else(|e| panic!("{table}: {e}"))
                .get(0);
            // CHECK ((status = ANY (ARRAY['a'::text, 'b'::text, …])))
            let mut values: Vec<String> = def.split('\'').skip(1).step_by(2).map(String::from).collect();
            values.sort();
            assert!(!values.is_empty(), "{table}: {def}");
            values
        }
    };
    fn sorted(mut v: Vec<&str>) -> Vec<&str> {
        v.sort();
        v
    }
    assert_eq!(admitted("statement_file").await, sorted(FileStatus::ALL.iter().map(|s| s.as_str()).collect()));
    assert_eq!(admitted("remote_file").await, sorted(RemoteFileStatus::ALL.iter().map(|s| s.as_str()).collect()));
    // Record kinds: the codes `stage_record` admits, and the column counting each on `statement_file`.
    use syncrocardpay_core::model::RecordKind;
    let def: String = db
        .client
        .query_one("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'stage_record_kind_check'", &[])
        .await
        .unwrap()
        .get(0);
    let mut codes: Vec<String> = def.split('\'').skip(1).step_by(2).map(String::from).collect();
    codes.sort();
    assert_eq!(codes, sorted(RecordKind::ALL.iter().map(|k| k.code()).collect()));
    for kind in RecordKind::ALL {
        let n = db
            .count(&format!(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'statement_file' \
                 AND column_name = '{}'",
                kind.count_column()
            ))
            .await;
        assert_eq!(n, 1, "statement_file has no {} for {kind:?}", kind.count_column());
    }
}
