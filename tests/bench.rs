//! `syncrocardpay bench` end to end on a small statement: every measure is taken on the same rows (our load,
//! the raw binary COPY and `psql \copy` of them count the same), and peak memory is read for each size.

use std::process::Command;

#[test]
fn bench_measures_every_path_on_the_same_rows() {
    let admin = std::env::var("DATABASE_URL").expect("DATABASE_URL (scripts/test.sh sets it)");
    let work = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_syncrocardpay"))
        .args(["bench", "--sales", "400", "--memory-sales", "100,400", "--reconcile-sales", "60,300", "--no-python"])
        .args(["--deposit-accounts", "4", "--acquirer-sales", "150", "--json", "--work-dir"])
        .arg(work.path())
        .env("DATABASE_URL", &admin)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fact_rows = r["fact_rows"].as_u64().unwrap();
    assert!(fact_rows > 1000, "{r}");
    assert_eq!(r["parse"][0]["rows"], r["lines"]);
    let load = r["load"].as_array().unwrap();
    let rows = |what: &str| {
        load.iter().find(|m| m["what"].as_str().unwrap().starts_with(what)).map(|m| m["rows"].as_u64().unwrap())
    };
    assert_eq!(rows("file → facts"), Some(fact_rows));
    assert_eq!(rows("raw binary COPY"), Some(fact_rows), "the raw COPY loads the very rows we loaded");
    assert_eq!(rows("staged path"), Some(fact_rows), "the AWS path (stage, then load) loads the same rows");
    if let Some(n) = rows("psql") {
        assert_eq!(n, fact_rows);
    }
    for m in load {
        assert!(m["rows_per_second"].as_f64().unwrap() > 0.0, "{m}");
    }
    let run = r["run"].as_array().unwrap();
    assert!(!run.is_empty() && run[0]["what"].as_str().unwrap().starts_with("run over 50 files, 1 job"), "{r}");
    assert!(run.iter().all(|m| m["rows"] == run[0]["rows"]), "every run loads the same facts: {r}");
    let memory = r["memory"].as_array().unwrap();
    assert_eq!(memory.len(), 2);
    for p in memory {
        let rss = p["peak_rss_mib"].as_f64().unwrap();
        assert!(rss > 1.0 && rss < 1024.0, "{p}");
    }
    assert!(memory[1]["transactions"].as_u64() > memory[0]["transactions"].as_u64());
    // The reconciliation of one merchant at each size: every sale of the books matched, items counted, the
    // settled ones among them kept as links.
    let reconcile = r["reconcile"].as_array().unwrap();
    assert_eq!(reconcile.len(), 2, "{r}");
    for (p, sales) in reconcile.iter().zip([60, 300]) {
        assert_eq!(p["sales"], sales);
        let (items, listed) = (p["items"].as_u64().unwrap(), p["listed"].as_u64().unwrap());
        assert!(items > 3 * sales && listed < items, "{p}");
        assert!(p["sales_lines"].as_u64().unwrap() >= sales && p["input_rows"].as_u64().unwrap() > items / 2, "{p}");
        let rss = p["peak_rss_mib"].as_f64().unwrap();
        assert!(rss > 1.0 && rss < 256.0, "{p}");
        assert!(p["seconds"].as_f64().unwrap() > 0.0, "{p}");
    }
    // The bank area over a year of 4 accounts: five payments a day each, every kind of finding planted.
    let d = &r["deposits"];
    assert_eq!((d["accounts"].as_u64(), d["days"].as_u64()), (Some(4), Some(365)), "{d}");
    assert_eq!(d["payments"].as_u64(), Some(4 * 365 * 5), "{d}");
    for status in ["deposited", "deposited_late", "deposited_short", "not_deposited"] {
        assert!(d["by_status"][status].as_u64().unwrap_or(0) > 0, "{status}: {d}");
    }
    assert!(d["seconds"].as_f64().unwrap() > 0.0, "{d}");
    // The other acquirers' formats, each its sample of 150 sales: every file parsed and loaded.
    let acquirers = r["acquirers"].as_array().unwrap();
    let names: Vec<_> = acquirers.iter().map(|a| a["acquirer"].as_str().unwrap()).collect();
    assert_eq!(names, ["Getnet V10.1", "PagBank EDI", "Stone conciliation"], "{r}");
    for a in acquirers {
        assert_eq!(a["sales"], 150);
        assert!(a["files"].as_u64().unwrap() >= 3 && a["bytes"].as_u64().unwrap() > 10_000, "{a}");
        // At least a record per sale read; at least a sale line and a forecast per sale loaded.
        assert!(a["parse"]["rows"].as_u64().unwrap() >= 150, "{a}");
        assert!(a["load"]["rows"].as_u64().unwrap() >= 300, "{a}");
        assert!(a["parse"]["rows_per_second"].as_f64().unwrap() > 0.0, "{a}");
    }
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0, "the work files are removed");
}
