//! The `syncrocardpay` binary as a user runs it: exit statuses, the JSON contract, concurrent processes.

use crate::common;

use common::db::TestDb;
use common::statements::{first_of, lines, put, samples, write_lines};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_syncrocardpay"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

#[test]
fn parse_prints_a_summary_and_fails_on_a_rejected_file() {
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 120, 2);
    let good = &files[0].path;
    let out = bin().arg("parse").arg(good).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    assert!(text.contains(": VALID"), "{text}");
    assert!(text.contains("layout 015"), "{text}");
    assert!(text.contains("— matches"), "{text}");

    let mut l = lines(good);
    let e = first_of(&l, b'E');
    put(&mut l[e], 574, "00132026");
    let bad = write_lines(&dir.path().join("bad.txt"), &l);
    let out = bin().arg("parse").arg(good).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("bad.txt: REJECTED"), "{text}");
    assert!(text.contains(&format!("line {}, column 574, field E.capture_date", e + 1)), "{text}");
}

#[test]
fn parse_json_is_one_object_per_file_with_decimal_strings() {
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 90, 8);
    let out = bin().arg("parse").arg("--json").arg(&files[0].path).arg(&files[1].path).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    let objs: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(objs.len(), 2);
    let o = &objs[0];
    assert_eq!(o["status"], "valid");
    assert_eq!(o["acquirer"], "cielo");
    assert_eq!(o["layout_version"], "015");
    assert_eq!(o["file_type"]["code"], "03");
    assert_eq!(o["merchant_code"], files[0].merchant_code.as_str());
    assert!(o["receivable_units"]["gross"].is_string(), "amounts are decimal strings: {o}");
    assert_eq!(o["receivable_units"]["gross"].as_str().unwrap(), files[0].gross_total.to_string());
    assert_eq!(o["trailer"]["matches"], true);
    assert_eq!(o["record_counts"]["E"].as_u64().unwrap(), files[0].transactions);
    assert_eq!(o["errors"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn two_ingest_processes_on_the_same_file_load_it_once() {
    let db = TestDb::new("cli_concurrent").await;
    let dir = tempfile::tempdir().unwrap();
    let f = samples(dir.path(), 6000, 21).remove(0);
    let spawn = || bin().arg("ingest").arg(&f.path).env("DATABASE_URL", &db.url).spawn().unwrap();
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    assert_eq!(db.count("SELECT count(*) FROM statement_delivery WHERE outcome = 'loaded'").await, 1);
    assert_eq!(db.count("SELECT count(*) FROM statement_delivery WHERE outcome = 'duplicate'").await, 1);
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, f.transactions);
    assert_eq!(db.count("SELECT count(*) FROM fact_receivable_unit").await as u64, f.receivable_units);
}

#[tokio::test]
async fn two_runs_at_once_over_the_same_inbox_load_every_file_once() {
    let db = TestDb::new("cli_two_runs").await;
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 3000, 24);
    // A copy under another name too: the same content must not load twice either.
    std::fs::copy(&files[0].path, dir.path().join("COPY_OF_FIRST.TXT")).unwrap();
    let spawn = || {
        bin().args(["run", "--json", "--jobs", "2", "--inbox"]).arg(dir.path()).env("DATABASE_URL", &db.url).output()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(spawn);
        let b = s.spawn(spawn);
        (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
    });
    let mut loaded = 0;
    for out in [&a, &b] {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let first = stdout(out).lines().next().unwrap().to_string();
        let summary: serde_json::Value = serde_json::from_str(&first).unwrap();
        assert_eq!(summary["failed"], 0, "{first}");
        loaded += summary["loaded"].as_u64().unwrap();
    }
    assert_eq!(loaded, files.len() as u64, "each content loaded by exactly one of the runs");
    assert_eq!(db.count("SELECT count(*) FROM statement_file WHERE status = 'loaded'").await, files.len() as i64);
    let want_tx: u64 = files.iter().map(|f| f.transactions).sum();
    let want_ur: u64 = files.iter().map(|f| f.receivable_units).sum();
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, want_tx);
    assert_eq!(db.count("SELECT count(*) FROM fact_receivable_unit").await as u64, want_ur);
}

#[tokio::test]
async fn ingest_reports_each_outcome_and_exit_status() {
    let db = TestDb::new("cli_ingest").await;
    let dir = tempfile::tempdir().unwrap();
    let f = samples(dir.path(), 100, 22).remove(0);
    let out = bin().arg("ingest").arg(&f.path).env("DATABASE_URL", &db.url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains(": loaded ("), "{}", stdout(&out));
    let out = bin().arg("ingest").arg(&f.path).env("DATABASE_URL", &db.url).output().unwrap();
    assert!(stdout(&out).contains(": duplicate ("), "{}", stdout(&out));
    let mut l = lines(&f.path);
    l.pop();
    let cut = write_lines(&dir.path().join("cut.txt"), &l);
    let out = bin().arg("ingest").arg(&cut).env("DATABASE_URL", &db.url).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("cut.txt: rejected"), "{}", stdout(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("without a trailer"));
    let out = bin().arg("ingest").arg(&f.path).env_remove("DATABASE_URL").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("set DATABASE_URL"));
}

#[tokio::test]
async fn run_over_an_inbox_loads_new_files_and_skips_them_next_time() {
    let db = TestDb::new("cli_run").await;
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 500, 23);
    // A partial download and a hidden file are not statements yet.
    std::fs::write(dir.path().join("CIELO03_x.TXT.part"), b"0").unwrap();
    std::fs::write(dir.path().join(".hidden"), b"0").unwrap();
    let out =
        bin().args(["run", "--jobs", "2", "--inbox"]).arg(dir.path()).env("DATABASE_URL", &db.url).output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "files: {} seen, {} loaded, 0 duplicate, 0 rejected, 0 failed",
            files.len(),
            files.len()
        )),
        "{text}"
    );
    let txs: u64 = files.iter().map(|f| f.transactions).sum();
    assert!(text.contains(&format!(" {txs} transactions")), "{text}");
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, txs);
    // Money in one format (R$ with pt-BR separators), and sales, payments and open balance never added up as
    // one money: a subtotal per file type, no grand total (issue 18, item 5).
    let table: Vec<&str> = text.lines().skip_while(|l| !l.starts_with("database now holds")).collect();
    assert!(table.iter().skip(2).take(3).all(|l| l.contains("R$ ")), "{text}");
    assert!(table.iter().any(|l| l.trim_start().starts_with("all          03")), "{text}");
    assert!(!table.iter().any(|l| l.trim_start().starts_with("total")), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("facts added") && l.contains("gross")), "{text}");

    let out = bin().args(["run", "--inbox"]).arg(dir.path()).env("DATABASE_URL", &db.url).output().unwrap();
    assert!(out.status.success());
    assert!(
        stdout(&out).contains(&format!("files: {} seen, 0 loaded, {} duplicate", files.len(), files.len())),
        "{}",
        stdout(&out)
    );
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await as u64, txs);
}

#[test]
fn sample_writes_the_requested_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["sample", "--transactions", "50", "--seed", "3", "--merchants", "2", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let names = |d: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
        v.sort();
        v
    };
    let top = names(dir.path());
    assert_eq!(top.len(), 13, "{top:?}");
    for kind in ["CIELO03_", "CIELO04_", "CIELO09_", "CIELO15_", "CIELO16_"] {
        assert_eq!(top.iter().filter(|n| n.starts_with(kind)).count(), 2, "{kind}: {top:?}");
    }
    // The bank statements the payments would produce: an OFX and a CNAB 240, one per merchant's account,
    // each read back as a valid statement of its format.
    let statements: Vec<&String> = top.iter().filter(|n| n.starts_with("extrato_")).collect();
    assert_eq!(statements.len(), 2, "{top:?}");
    for (name, format) in statements.iter().zip(["ofx", "cnab240"]) {
        let bytes = std::fs::read(dir.path().join(name)).unwrap();
        let (summary, entries) = syncrocardpay_core::formats::bank::read_all(&bytes, name);
        assert!(summary.is_valid(), "{name}: {:?}", summary.errors);
        assert_eq!(summary.format.map(|f| f.as_str()), Some(format), "{name}");
        assert!(entries.iter().any(|e| e.memo.starts_with("CIELO")), "{name}");
    }
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("planted: not_deposited"), "{text}");
    // The merchants' side of a reconciliation, apart from the statements.
    assert_eq!(names(&dir.path().join("merchant")), ["taxas_contratadas.csv", "vendas_pdv.csv", "vendas_pdv.toml"]);
    let pos = std::fs::read_to_string(dir.path().join("merchant/vendas_pdv.csv")).unwrap();
    assert_eq!(pos.lines().count(), 51, "a header and one row per sale");
}

#[test]
fn merchant_sales_check_validates_a_csv_through_its_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("pos.toml");
    std::fs::write(
        &mapping,
        "merchant_code = \"0001\"\n[columns]\nsale_id = \"id\"\nsale_date = \"date\"\ngross_amount = \"amount\"\n",
    )
    .unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "id,date,amount\nA1,2026-08-03,10.50\nA2,2026-08-04,0.99\n").unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "id,date,amount\nA1,2026-08-03,10.5x\n").unwrap();
    let out = bin().args(["merchant-sales", "--check", "--mapping"]).arg(&mapping).arg(&good).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("VALID"), "{}", stdout(&out));
    assert!(stdout(&out).contains("merchant sales            2  gross           11.49"), "{}", stdout(&out));
    let out = bin().args(["merchant-sales", "--check", "--mapping"]).arg(&mapping).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("line 2, column 3, field gross_amount: not an amount: \"10.5x\""),
        "{}",
        stdout(&out)
    );
}

#[test]
fn parse_on_each_real_fixture_names_its_type_or_says_why_not() {
    let cases: &[(&str, bool, &[&str])] = &[
        (
            "am10tecnologia__php-edi-parser__edi-file-sample.txt",
            true,
            &[
                "acquirer cielo, layout 013, file type 08 (pending_installments)",
                "receivable units        578",
                "matches",
            ],
        ),
        (
            "williamsilva__CardSync__cielo04_v15_lines.txt",
            true,
            &["layout 015, file type 04 (payments)", "net 128.83/128.83"],
        ),
        (
            "williamsilva__CardSync__cielo15_v15_officialkit.txt",
            true,
            &["file type 15 (receivables_negotiation)", "negotiated 237.93/237.93"],
        ),
        (
            "williamsilva__CardSync__cielo16_v15_officialkit_pix_lines.txt",
            false,
            &["not a recognised statement header"],
        ),
        (
            "lavinas__cielo-edi__header_lines.txt",
            false,
            &["line 1, column 74, field line: record 0 must be 250 bytes wide, found 73"],
        ),
        (
            "libercapital__document-translator-go__getnet_v10.1_lines.txt",
            false,
            // Seven of a real file's 47 records: read, and rejected on the trailer's count.
            &["acquirer getnet, layout 10.1", "trailer.total_records: declares 47 records, the file has 7"],
        ),
        (
            "murilotuvani__redecard-extrato-reader__eevc_eefi_eevd_lines.txt",
            false,
            &["not a recognised statement header"],
        ),
        (
            "armando-couto__goleitoredirede__eefi_lines.txt",
            false,
            &[
                "acquirer rede, layout V3.01, file type EEFI",
                // Not one coherent file: its real trailer counts the 381 RAVs of the whole day.
                "trailer.anticipated_total: declares 381 anticipated credits of 1708672.58, the file has 1 of 39224.50",
            ],
        ),
    ];
    for (name, valid, needles) in cases {
        let Some(path) = common::fixtures::fixture(name) else { return };
        let out = bin().arg("parse").arg(&path).output().unwrap();
        let text = stdout(&out);
        assert_eq!(out.status.success(), *valid, "{name}: {text}");
        assert!(text.contains(if *valid { ": VALID" } else { ": REJECTED" }), "{name}: {text}");
        for n in *needles {
            assert!(text.contains(n), "{name}: {n:?} not in\n{text}");
        }
    }
}

#[tokio::test]
async fn file_names_with_newlines_or_control_characters_are_refused_with_the_name_escaped() {
    let db = TestDb::new("cli_badnames").await;
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 60, 4);
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    // A good statement, and another one whose name would forge a line in any log or report.
    std::fs::copy(&files[0].path, inbox.join("CIELO03_GOOD.TXT")).unwrap();
    let forged = "bad\nfiles: 0 seen, 99 loaded\u{1b}[2K.TXT";
    std::fs::copy(&files[1].path, inbox.join(forged)).unwrap();

    let out = bin().args(["run", "--inbox"]).arg(&inbox).env("DATABASE_URL", &db.url).output().unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "a refused file fails the run: {text}");
    assert!(
        text.contains(r"bad\nfiles: 0 seen, 99 loaded\u{1b}[2K.TXT: FAILED: bad\nfiles: 0 seen, 99 loaded\u{1b}[2K.TXT: file name refused: it contains control characters"),
        "{text}"
    );
    assert!(!text.lines().any(|l| l.starts_with("files: 0 seen")), "no forged line: {text}");
    assert!(!text.contains('\u{1b}'), "no raw escape sequence");
    assert!(text.contains("files: 2 seen, 1 loaded, 0 duplicate, 0 rejected, 1 failed"), "{text}");
    let names: Vec<String> =
        db.client.query("SELECT file_name FROM statement_file", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(names, vec!["CIELO03_GOOD.TXT".to_string()], "the refused file was never registered");

    // Given by path, the same: refused, escaped, nothing registered.
    let out = bin().arg("ingest").arg(inbox.join(forged)).env("DATABASE_URL", &db.url).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains(r"file name refused") && err.contains(r"bad\nfiles"), "{err}");
    assert_eq!(db.count("SELECT count(*) FROM statement_file").await, 1);
}

/// Numeric options are validated before anything runs: a negative tolerance once turned every fee into an
/// overcharge and replaced the stored run (issue 14, item 14).
#[test]
fn numeric_options_out_of_range_are_refused_before_anything_runs() {
    for (args, expected) in [
        (vec!["reconcile", "--tolerance=-1"], "not an amount"),
        (vec!["reconcile", "--tolerance", "0.001"], "more than two decimal places"),
        (vec!["reconcile", "--tolerance", "1e1"], "not an amount"),
        (vec!["reconcile", "--tolerance", "1000"], "out of range"),
        (vec!["reconcile", "--date-window=-3"], "-3"),
        (vec!["reconcile", "--date-window", "400"], "400"),
        (vec!["run", "--jobs", "0"], "out of range"),
        (vec!["sample", "--out", "/nonexistent", "--merchants", "0"], "out of range"),
        (vec!["sample", "--out", "/nonexistent", "--transactions", "0"], "0"),
    ] {
        // No database is reachable: a refused option must fail before any connection is tried.
        let out = bin().args(&args).env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

/// `db stop` removes only a folder `db start` made, and `db start` refuses a folder with anything in it (a
/// folder holding contract.pdf was once removed, and another chowned) (issue 14, item 7).
#[test]
fn db_start_and_stop_touch_only_folders_the_tool_made() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let precious = dir.path().join("contract.pdf");
    std::fs::write(&precious, b"%PDF-1.4").unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let before = std::fs::metadata(dir.path()).unwrap();

    let out = bin().args(["db", "stop", "--dir"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("was not made by `syncrocardpay db start`"));
    assert!(precious.is_file(), "a folder the tool did not make was removed");

    let out = bin().args(["db", "start", "--dir"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not empty"));
    let after = std::fs::metadata(dir.path()).unwrap();
    assert_eq!((after.uid(), after.mode()), (before.uid(), before.mode()), "owner or mode changed");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "something was created");

    // A folder it made (new, or empty) is started, and stopped and removed.
    let made = dir.path().join("cluster");
    let out = bin().args(["db", "start", "--dir"]).arg(&made).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = bin().args(["db", "stop", "--dir"]).arg(&made).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!made.exists());
    assert!(precious.is_file());
}

/// `parse` opens compressed deliveries too: one summary per member, named `archive!member`.
#[test]
fn parse_opens_a_zip_and_validates_each_member() {
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 20, 3);
    let zip = dir.path().join("d.zip");
    syncrocardpay_core::archive::write_zip(&zip, &[("A.TXT", &files[0].path), ("B.TXT", &files[1].path)]).unwrap();
    let out = bin().arg("parse").arg("--json").arg(&zip).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let names: Vec<String> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["file"].as_str().unwrap().to_string())
        .collect();
    let z = zip.display();
    assert_eq!(names, [format!("{z}!A.TXT"), format!("{z}!B.TXT")]);
}

/// What came from input is escaped wherever it is printed: a file name with an escape sequence and a
/// newline, the header text of a rates CSV — no raw control character reaches the terminal (issue 14,
/// item 16).
#[test]
fn terminal_escape_sequences_from_input_are_never_printed_raw() {
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 10, 2);
    let named = dir.path().join("evil\x1b]0;owned\x07\x1b[2J\nname.TXT");
    std::fs::copy(&files[0].path, &named).unwrap();
    let junk = dir.path().join("junk\x1b[31m.TXT");
    std::fs::write(&junk, "0\x1b[31mnot a statement\x1b[0m\n").unwrap();
    let out = bin().arg("parse").arg(&named).arg(&junk).output().unwrap();
    let rates = dir.path().join("rates\x1b[1m.csv");
    std::fs::write(&rates, "merchant_code,\x1b[31macquirer\x1b[0m,brand\n1,2,3\n").unwrap();
    let out2 = bin().args(["rates", "import"]).arg(&rates).output().unwrap();
    for o in [&out, &out2] {
        let all = [o.stdout.as_slice(), o.stderr.as_slice()].concat();
        assert!(!all.contains(&0x1b) && !all.contains(&0x07), "{}", String::from_utf8_lossy(&all));
    }
    let text = stdout(&out);
    assert!(text.contains("evil\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\nname.TXT: VALID"), "{text}");
}

/// An inbox holding a link to a file outside it, a dangling link and a FIFO: each is refused on its own,
/// saying why, and never read (no byte of the outside file is stored or printed); the statements beside them
/// load; `parse` and `ingest` refuse a FIFO or `/dev/zero` at once instead of reading for ever (issue 14,
/// items 10 and 11).
#[tokio::test]
async fn links_leaving_the_inbox_and_odd_entries_are_refused_alone_and_the_rest_loads() {
    let db = TestDb::new("clisymlinks").await;
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let files = samples(&inbox, 20, 7);
    let outside = dir.path().join("secret.txt");
    std::fs::write(&outside, "0TOP-SECRET first line of a file outside the inbox\n").unwrap();
    std::os::unix::fs::symlink(&outside, inbox.join("LINK_OUT.TXT")).unwrap();
    std::os::unix::fs::symlink(inbox.join("gone.TXT"), inbox.join("DANGLING.TXT")).unwrap();
    std::os::unix::fs::symlink(&files[0].path, inbox.join("LINK_IN.TXT")).unwrap();
    let fifo = inbox.join("PIPE.TXT");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());

    let out = bin().args(["run", "--inbox"]).arg(&inbox).env("DATABASE_URL", &db.url).output().unwrap();
    let (text, err) = (stdout(&out), String::from_utf8_lossy(&out.stderr).to_string());
    assert_eq!(out.status.code(), Some(1), "{text}{err}");
    assert!(text.contains("LINK_OUT.TXT: FAILED") && text.contains("outside the inbox"), "{text}");
    assert!(text.contains("DANGLING.TXT: FAILED") && text.contains("cannot be reached"), "{text}");
    assert!(text.contains("PIPE.TXT: FAILED") && text.contains("a FIFO"), "{text}");
    assert!(!text.contains("TOP-SECRET") && !err.contains("TOP-SECRET"), "{text}{err}");
    assert_eq!(db.count("SELECT count(*) FROM statement_file WHERE status = 'loaded'").await as usize, files.len());
    assert_eq!(db.count("SELECT count(*) FROM rejected_line WHERE raw_line LIKE '%TOP-SECRET%'").await, 0);

    for args in [vec!["parse"], vec!["ingest"]] {
        for target in [fifo.as_path(), std::path::Path::new("/dev/zero")] {
            let started = std::time::Instant::now();
            let out = bin().args(&args).arg(target).env("DATABASE_URL", &db.url).output().unwrap();
            assert!(!out.status.success());
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("not a regular file"), "{args:?} {}: {err}", target.display());
            assert!(started.elapsed() < std::time::Duration::from_secs(30));
        }
    }
}

/// A setting that is wrong fails at once with what to fix — never retried six times as if the server were
/// restarting: another scheme, a port that is not a number, no password for a server that wants one, TLS
/// required of a server without it.
#[tokio::test]
async fn configuration_errors_fail_at_once_saying_what_to_fix() {
    let db = TestDb::new("cliconfig").await;
    let (base, _) = db.url.split_once('?').unwrap_or((&db.url, ""));
    let no_password = {
        let (scheme, rest) = base.split_once("://").unwrap();
        let (userinfo, host) = rest.split_once('@').unwrap();
        format!("{scheme}://{}@{host}", userinfo.split(':').next().unwrap())
    };
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 5, 1);
    for (url, expected) in [
        ("mysql://u:secret@127.0.0.1/x".to_string(), "give postgres://"),
        ("postgres://u:secret@127.0.0.1:notaport/x".to_string(), "invalid connection string"),
        (no_password, "password missing"),
        (format!("{base}?sslmode=require"), "TLS"),
    ] {
        let started = std::time::Instant::now();
        let out = bin().arg("ingest").arg(&files[0].path).env("DATABASE_URL", &url).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{url}: {err}");
        assert!(err.contains(expected), "{url}: {err}");
        assert!(!err.contains("retrying") && !err.contains("attempts"), "{url} was retried: {err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{url}: {:?}", started.elapsed());
        assert!(!err.contains("secret"));
    }
}

/// `syncrocardpay parse … | head`: the reader leaving ends the program quietly (SIGPIPE, as Unix tools do),
/// never a broken-pipe panic with exit 101.
#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 30, 3);
    let mut args: Vec<std::path::PathBuf> = Vec::new();
    for _ in 0..200 {
        args.extend(files.iter().map(|f| f.path.clone()));
    }
    let mut child = bin()
        .arg("parse")
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let status = child.wait().unwrap();
    assert_ne!(status.code(), Some(101), "{err}");
    const SIGPIPE: i32 = 13;
    assert_eq!(status.signal(), Some(SIGPIPE), "{status:?} {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// `ingest A B C`: a file that cannot be ingested at all (a FIFO, a missing path) fails alone, named, and
/// the files after it are still loaded; the exit status says something failed (issue 14, item 3).
#[tokio::test]
async fn ingest_goes_on_past_a_file_that_fails() {
    let db = TestDb::new("cliingestgoeson").await;
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 10, 8);
    let fifo = dir.path().join("PIPE.TXT");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let out = bin()
        .arg("ingest")
        .arg(&fifo)
        .arg(dir.path().join("missing.TXT"))
        .args(files.iter().map(|f| &f.path))
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("PIPE.TXT: FAILED") && err.contains("missing.TXT: FAILED"), "{err}");
    assert_eq!(db.count("SELECT count(*) FROM statement_file WHERE status = 'loaded'").await as usize, files.len());
}

/// `run` without a database starts a throwaway PostgreSQL; when it ends with a rejected file (exit 1) the
/// cluster is still stopped and its folder removed — it used to `process::exit` with the server running.
#[test]
fn a_run_that_fails_stops_its_throwaway_database() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    samples(&inbox, 10, 4);
    std::fs::write(inbox.join("BROKEN.TXT"), "0not a statement\n").unwrap();
    let out = bin()
        .args(["run", "--inbox"])
        .arg(&inbox)
        .env_remove("DATABASE_URL")
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("syncrocardpay-pg-"))
        .collect();
    assert!(left.is_empty(), "the throwaway cluster's folder is left: {left:?}");
    let ps = Command::new("ps").args(["-eo", "args"]).output().unwrap();
    let running = String::from_utf8_lossy(&ps.stdout).lines().any(|l| l.contains(&tmp.path().display().to_string()));
    assert!(!running, "a PostgreSQL of this run is still running");
}

/// `rates import` takes what a person types — brand and product names, any case or accents, the brand's name
/// and the product ("Visa" + "Crédito à vista") — refuses what matches nothing naming the valid choices, and
/// a merchant code whose leading zeros a spreadsheet removed naming the code it was; importing the same
/// contract again says "unchanged" (issue 18, item 4).
#[tokio::test]
async fn rates_import_resolves_names_refuses_what_matches_nothing_and_says_unchanged() {
    let db = TestDb::new("cli_rates").await;
    let dir = tempfile::tempdir().unwrap();
    // A merchant whose code starts with zeros (what a spreadsheet cuts).
    let f = (24..)
        .find_map(|seed| samples(dir.path(), 40, seed).into_iter().find(|f| f.merchant_code.starts_with('0')))
        .unwrap();
    let out = bin().arg("ingest").arg(&f.path).env("DATABASE_URL", &db.url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let merchant = f.merchant_code.clone();
    assert!(merchant.starts_with('0'), "the sample's merchant code has leading zeros: {merchant}");
    let header =
        "merchant_code;acquirer;brand;product;installments_from;installments_to;rate_percent;valid_from;valid_to";
    let good = dir.path().join("taxas.csv");
    std::fs::write(
        &good,
        format!(
            "{header}\n{merchant};Cielo;VISA;Crédito à vista;1;1;2,49;01/01/2026;\n\
             {merchant};cielo;Elo;debito;1;1;1,10;01/01/2026;\n\
             {merchant};cielo;Master;Mastercard parcelado loja;2;6;3,10;2026-01-01;\n\
             {merchant};cielo;*;*;1;12;4,00;2026-01-01;\n"
        ),
    )
    .unwrap();
    let import = |path: &std::path::Path| {
        bin().args(["rates", "import"]).arg(path).env("DATABASE_URL", &db.url).output().unwrap()
    };
    let out = import(&good);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("4 contracted rate(s) added, 0 changed, 0 unchanged"), "{}", stdout(&out));
    let rows = db
        .client
        .query("SELECT brand, product, rate_percent::text FROM contract_rate ORDER BY rate_percent", &[])
        .await
        .unwrap();
    let got: Vec<(String, String, String)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    assert_eq!(
        got,
        [
            ("007".to_string(), "071".to_string(), "1.1000".to_string()),
            ("001".into(), "040".into(), "2.4900".into()),
            ("002".into(), "012".into(), "3.1000".into()),
            ("*".into(), "*".into(), "4.0000".into()),
        ]
    );
    let out = import(&good);
    assert!(out.status.success());
    assert!(stdout(&out).contains("unchanged (4 contracted rate(s)"), "{}", stdout(&out));

    let cut = merchant.trim_start_matches('0');
    let bad = dir.path().join("ruim.csv");
    std::fs::write(
        &bad,
        format!(
            "{header}\n{cut};cielo;Visa;Crédito à vista;1;1;2,49;01/01/2026;\n\
             {merchant};cielo;VIZA;Crédito à vista;1;1;2,49;01/01/2026;\n\
             {merchant};cielo;Visa;Crédito rotativo;1;1;2,49;01/01/2026;\n\
             {merchant};safrapay;Visa;*;1;1;2,49;01/01/2026;\n"
        ),
    )
    .unwrap();
    let out = import(&bad);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("line 2, column merchant_code: \"{cut}\" is not a known establishment, {merchant} is")),
        "{err}"
    );
    assert!(err.contains("line 3, column brand: \"VIZA\" is no cielo brand; valid: 001 Visa, 002 Mastercard"), "{err}");
    assert!(err.contains("line 4, column product: \"Crédito rotativo\" matches no product of Visa"), "{err}");
    assert!(err.contains("040 Visa crédito à vista"), "the valid choices of the brand: {err}");
    assert!(
        err.contains(
            "line 5, column acquirer: \"safrapay\" is not an acquirer; valid: cielo, getnet, pagbank, rede, stone"
        ),
        "{err}"
    );
    assert!(err.contains("4 problem(s), nothing imported"), "{err}");
    assert_eq!(db.count("SELECT count(*) FROM contract_rate").await, 4, "nothing of the bad file");
}

/// `unload` withdraws a loaded file with all its facts, in one transaction, and reconciles again what it
/// touched: withdrawing the payments statement turns its installments from paid back to unpaid; the control
/// row stays `withdrawn`, the withdrawal is a delivery, and the same content can be ingested again (issue 18,
/// item 6). A file that is not loaded is refused, saying why.
#[tokio::test]
async fn unload_withdraws_a_file_and_its_facts_and_reconciles_again() {
    let db = TestDb::new("cli_unload").await;
    let dir = tempfile::tempdir().unwrap();
    let files = samples(dir.path(), 60, 25);
    let sales = files.iter().find(|f| f.file_type == "03").unwrap();
    let payments = files.iter().find(|f| f.file_type == "04" && f.merchant_code == sales.merchant_code).unwrap();
    let out = bin().arg("ingest").arg(&sales.path).arg(&payments.path).env("DATABASE_URL", &db.url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let paid = "SELECT count(*) FROM recon_result WHERE area = 'receivables' AND status IN ('paid', 'paid_late')";
    let reconcile = bin().arg("reconcile").env("DATABASE_URL", &db.url).output().unwrap();
    assert!(reconcile.status.success(), "{}", String::from_utf8_lossy(&reconcile.stderr));
    let paid_before = db.count(paid).await;
    assert!(paid_before > 0);
    let facts = "SELECT (SELECT count(*) FROM fact_card_transaction) + (SELECT count(*) FROM fact_receivable_unit)";
    let before = db.count(facts).await;
    let (id, sha): (i64, String) = {
        let r = db
            .client
            .query_one(
                "SELECT file_id, sha256 FROM statement_file WHERE file_name = $1",
                &[&payments.path.file_name().unwrap().to_str().unwrap()],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    let out = bin().args(["unload", &sha]).env("DATABASE_URL", &db.url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    let removed = payments.transactions + payments.receivable_units;
    assert!(
        text.contains(&format!("file {id} ("))
            && text.contains(&format!("withdrawn (was loaded): {removed} fact row(s) removed")),
        "{text}"
    );
    assert!(text.contains("reconciliation (1 scope(s)"), "{text}");
    assert_eq!(db.count(facts).await as u64, before as u64 - removed);
    assert_eq!(db.count(&format!("SELECT count(*) FROM fact_receivable_unit_all WHERE file_id = {id}")).await, 0);
    assert_eq!(
        db.count(&format!("SELECT count(*) FROM statement_file WHERE file_id = {id} AND status = 'withdrawn'")).await,
        1
    );
    assert_eq!(
        db.count("SELECT count(*) FROM statement_delivery WHERE outcome = 'withdrawn' AND source = 'unload'").await,
        1
    );
    assert_eq!(db.count("SELECT count(*) FROM recon_pending").await, 0, "reconciled");
    // The merchant's scope was reconciled without the payments: none of its installments is paid any more.
    let merchant_paid = format!(
        "SELECT count(*) FROM recon_result i JOIN recon_run r USING (run_id)
          WHERE r.merchant_code = '{}' AND i.area = 'receivables' AND i.status IN ('paid', 'paid_late')",
        sales.merchant_code
    );
    assert_eq!(db.count(&merchant_paid).await, 0);

    // Not loaded any more: refused, saying why; an unknown file likewise.
    let out = bin().args(["unload", &id.to_string(), "999999"]).env("DATABASE_URL", &db.url).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is withdrawn: only a loaded or staged file can be withdrawn"), "{err}");
    assert!(err.contains("no statement file 999999"), "{err}");

    // The same content again: loaded again, its facts back.
    let out = bin().arg("ingest").arg(&payments.path).env("DATABASE_URL", &db.url).output().unwrap();
    assert!(stdout(&out).contains(": loaded ("), "{}", stdout(&out));
    assert_eq!(db.count(facts).await, before);
}

/// `report` takes `reconcile`'s scope by default (no --from/--to needed), and a scope with nothing loaded —
/// an unknown merchant, a period before anything — is refused saying why, never reported as "0 items, all
/// well" (issue 18, item 3).
#[tokio::test]
async fn an_empty_scope_is_refused_saying_why_and_report_defaults_to_what_is_loaded() {
    let db = TestDb::new("cli_scope").await;
    let dir = tempfile::tempdir().unwrap();
    let f = samples(dir.path(), 40, 26).remove(0);
    let run = |args: &[&str]| bin().args(args).env("DATABASE_URL", &db.url).output().unwrap();
    let out = run(&["reconcile"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "nothing to reconcile: no statement or merchant export of any merchant is loaded (load statements first)"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bin().arg("ingest").arg(&f.path).env("DATABASE_URL", &db.url).output().unwrap();
    assert!(out.status.success());
    let out = run(&["reconcile", "--merchant", "9999"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "no statement or merchant export of merchant 9999 is loaded (loaded: {})",
            f.merchant_code
        )),
        "{err}"
    );
    let html = dir.path().join("r.html");
    let out = run(&["report", "--from", "2001-01-01", "--to", "2001-01-31", "--html", html.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nothing of any merchant is loaded between 2001-01-01 and 2001-01-31 (what is loaded covers 20"),
        "{err}"
    );
    assert!(!html.exists(), "no report of nothing");
    let out = run(&["report", "--html", html.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("r.html: report of run"), "{}", stdout(&out));
    assert!(std::fs::metadata(&html).unwrap().len() > 1000);
}

/// A run killed outright — SIGKILL here; SIGPIPE in `syncrocardpay run | head` or a crash do the same — never
/// leaves its throwaway PostgreSQL running: a watchdog in a session of its own stops it and deletes its
/// folder once the run is gone (it was found running hours after a `bench | head`).
#[test]
fn a_run_killed_outright_leaves_no_database_running() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = bin()
        .args(["run", "--sample-transactions", "200000"])
        .current_dir(tmp.path())
        .env_remove("DATABASE_URL")
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let cluster = |tmp: &std::path::Path| {
        std::fs::read_dir(tmp)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("syncrocardpay-pg-"))
    };
    let running = |dir: &std::path::Path| {
        let ps = Command::new("ps").args(["-eo", "args"]).output().unwrap();
        String::from_utf8_lossy(&ps.stdout)
            .lines()
            .any(|l| l.contains("postgres") && l.contains(&dir.display().to_string()))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let dir = loop {
        // Serving: initdb done (its password file gone) and the server up.
        if let Some(d) = cluster(tmp.path())
            .filter(|d| !d.join("pwfile").exists() && d.join("data/postmaster.pid").exists() && running(d))
        {
            break d;
        }
        assert!(std::time::Instant::now() < deadline, "the run's cluster never started");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while (dir.exists() || running(&dir)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let ps =
        String::from_utf8_lossy(&Command::new("ps").args(["-eo", "pid,args"]).output().unwrap().stdout).to_string();
    assert!(!running(&dir), "the killed run's PostgreSQL is still running: {ps}");
    assert!(
        !dir.exists(),
        "its folder is left: {} {:?} {ps}",
        dir.display(),
        std::fs::read_dir(&dir).map(|d| d.map(|e| e.unwrap().file_name()).collect::<Vec<_>>())
    );
}

/// The demo ends with something to open: `run --report` writes the HTML report of everything loaded and says
/// where. Long work shows progress — plain lines on standard error when it is not a terminal (here at every
/// report: SYNCROCARDPAY_PROGRESS_SECONDS=0), nothing with --quiet (issue 18, item 5).
#[tokio::test]
async fn a_run_writes_its_report_and_shows_progress_unless_quiet() {
    let db = TestDb::new("cli_run_report").await;
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let out = bin()
        .args(["run", "--sample-transactions", "300", "--report"])
        .arg(&html)
        .env("DATABASE_URL", &db.url)
        .env("SYNCROCARDPAY_PROGRESS_SECONDS", "0")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stderr);
    let report = std::fs::read_to_string(&html).unwrap();
    assert!(report.starts_with("<!DOCTYPE html><html lang=\"pt-BR\">") && report.contains("Divergências em aberto"));
    let shown = std::path::absolute(&html).unwrap();
    assert!(said.contains(&format!("open the report in a browser: file://{}", shown.display())), "{said}");
    assert!(said.lines().any(|l| l.contains("CIELO03_") && l.contains("100% read (") && l.contains(" rows")), "{said}");
    assert!(said.contains("reconciling ") && said.contains(": sales and fees, "), "the reconciliation's areas: {said}");
    // The demo covers every acquirer: Getnet's, PagBank's and Stone's days beside Cielo's files, all loaded,
    // every installment of theirs paid as forecast and every deposit credited by the sample bank statements.
    for acquirer in ["cielo", "getnet", "pagbank", "stone"] {
        let loaded = format!("SELECT count(*) FROM statement_file WHERE acquirer = '{acquirer}' AND status = 'loaded'");
        assert!(db.count(&loaded).await >= 3, "{acquirer}: {said}");
    }
    assert_eq!(db.count("SELECT count(*) FROM statement_file WHERE status <> 'loaded'").await, 0);
    let open = "SELECT count(*) FROM recon_item WHERE is_open AND area IN ('receivables', 'bank')
                  AND acquirer IN ('getnet', 'pagbank', 'stone')";
    assert_eq!(db.count(open).await, 0);
    let credited =
        "SELECT count(*) FROM recon_item WHERE status = 'deposited' AND acquirer IN ('getnet', 'pagbank', 'stone')";
    assert!(db.count(credited).await >= 9, "their deposits are found in the bank statements");
    // Their sales are in the merchants' POS export (each matched), and their contracts in the rates file (each
    // fee as contracted: Stone's debit and credit at once priced apart, PagBank's R$ 0,40 per credit sale).
    let linked = |acquirer: &str, status: &str| {
        format!(
            "SELECT count(DISTINCT (l.actual_file_id, l.actual_line_no)) FROM recon_link l
               JOIN statement_file f ON f.file_id = l.actual_file_id
              WHERE f.acquirer = '{acquirer}' AND l.status = '{status}'"
        )
    };
    for acquirer in ["getnet", "pagbank", "stone"] {
        assert_eq!(db.count(&linked(acquirer, "matched")).await, 30, "{acquirer}: a tenth of 300 sales");
    }
    for acquirer in ["getnet", "pagbank", "stone"] {
        assert_eq!(db.count(&linked(acquirer, "ok")).await, 30, "{acquirer}'s fees");
    }
    let open = "SELECT count(*) FROM recon_item WHERE is_open AND acquirer IN ('getnet', 'pagbank', 'stone')";
    assert_eq!(db.count(open).await, 0, "nothing of theirs is open in any area");

    let quiet = bin()
        .args(["run", "--quiet", "--sample-transactions", "300"])
        .env("DATABASE_URL", &db.url)
        .env("SYNCROCARDPAY_PROGRESS_SECONDS", "0")
        .output()
        .unwrap();
    assert!(quiet.status.success());
    let said = String::from_utf8_lossy(&quiet.stderr);
    assert!(!said.contains("% read") && !said.contains("reconciling "), "--quiet: {said}");
}
