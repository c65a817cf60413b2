//! `syncrocardpay fetch`: Stone's and PagBank's statements from their APIs, against a stand-in server on
//! 127.0.0.1 (tests/servers/api_server.py) that serves the real fixtures over verified HTTPS with the
//! documented auth, paging, redirect and gzip. Each day's answer is written raw to the inbox, loads like a
//! delivered file, and a day fetched again adds nothing. Credentials never appear in what is printed.

use crate::common;

use common::db::TestDb;
use common::fixtures::fixture;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use syncrocardpay_core::pipeline::{ingest_file, IngestMode, Outcome};

const STONE_SAMPLE: &str = "stone/Roberio1210__santa-monica-os__stone_layout24_derived_sample.xml";
const PAGBANK_CREDIT_T: &str = "pagbank/emerson-matos__emerbot__pagbank_credit-installments_transactional.json";
const PAGBANK_CREDIT_F: &str = "pagbank/emerson-matos__emerbot__pagbank_credit-installments_financial.json";
const STONE_KEY: &str = "sk_test_9f3b2c7d1e";
const PAGBANK_USER: &str = "128523125";
const PAGBANK_TOKEN: &str = "edi-token-5a4e3d2c1b";

struct ApiServer {
    child: Child,
    port: u16,
    ca: PathBuf,
    home: tempfile::TempDir,
    _certs: tempfile::TempDir,
}

impl ApiServer {
    fn start(home: tempfile::TempDir, extra: &[&str]) -> Option<ApiServer> {
        let ok = Command::new("python3").args(["-c", "import cryptography"]).status();
        if !ok.is_ok_and(|s| s.success()) {
            common::skip::skip("python3 with cryptography is not installed (scripts/test.sh installs it)");
            return None;
        }
        let certs = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/servers/api_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--home")
            .arg(home.path())
            .arg("--certdir")
            .arg(certs.path())
            .args(["--stone-key", STONE_KEY, "--pagbank-user", PAGBANK_USER, "--pagbank-token", PAGBANK_TOKEN])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the API stand-in");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("READY ").and_then(|p| p.parse().ok()).expect("READY <port>");
        Some(ApiServer { child, port, ca: certs.path().join("ca.pem"), home, _certs: certs })
    }

    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.home.path().join("requests.log"))
            .unwrap_or_default()
            .lines()
            .map(Into::into)
            .collect()
    }

    /// `syncrocardpay fetch ACQUIRER --from --to --out --json` against this server, with `env`.
    fn fetch(&self, acquirer: &str, from: &str, to: &str, out: &Path, env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_syncrocardpay"));
        cmd.args(["fetch", acquirer, "--from", from, "--to", to, "--json", "--quiet"])
            .arg("--out")
            .arg(out)
            .args(["--base-url", &format!("https://127.0.0.1:{}", self.port)])
            .arg("--ca-file")
            .arg(&self.ca)
            .env_remove("SYNCROCARDPAY_SSM_PREFIX");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn everything_printed(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The stand-in's files: the Stone sample as StoneCode 900000001's file of 2026-07-22.
fn stone_home(sample: &Path) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("stone")).unwrap();
    std::fs::copy(sample, home.path().join("stone/900000001-20260722.xml")).unwrap();
    home
}

#[tokio::test]
async fn stone_days_come_with_the_merchant_key_through_a_gzipped_redirect_and_load_once() {
    let Some(sample) = fixture(STONE_SAMPLE) else { return };
    let home = stone_home(&sample);
    let Some(server) = ApiServer::start(home, &["--gzip-stone", "--redirect-stone"]) else { return };
    let inbox = tempfile::tempdir().unwrap();
    let env = [("SYNCROCARDPAY_STONE_STONE_CODE", "900000001"), ("SYNCROCARDPAY_STONE_SECRET_KEY", STONE_KEY)];

    let out = server.fetch("stone", "2026-07-21", "2026-07-22", inbox.path(), &env);
    assert!(out.status.success(), "{}", everything_printed(&out));
    let said = lines(&out);
    assert_eq!(said.len(), 2, "{said:?}");
    assert_eq!(said[0]["status"], "nothing", "no file on the 21st: {said:?}");
    assert!(said[0]["reason"].as_str().unwrap().contains("404"));
    assert_eq!(said[1]["status"], "written");
    assert_eq!(said[1]["name"], "stone-900000001-20260722.xml");
    // The raw answer, gunzipped: the file as Stone wrote it.
    let fetched = inbox.path().join("stone-900000001-20260722.xml");
    assert_eq!(std::fs::read(&fetched).unwrap(), std::fs::read(&sample).unwrap());
    assert!(!everything_printed(&out).contains(STONE_KEY));
    // The key went to the API, never to the pre-signed address the API redirected to.
    let requests = server.requests();
    assert!(requests.iter().any(|r| r.starts_with("GET /v2/merchant/900000001/conciliation-file/20260722 Basic")));
    assert!(requests.iter().any(|r| r.starts_with("GET /blob/900000001/20260722?sig=abc -")), "{requests:?}");

    // Loaded like a delivered file; the same day fetched again is unchanged and adds nothing.
    let mut db = TestDb::new("fetchstone").await;
    let first = ingest_file(&mut db.client, &fetched, "fetch", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(first.outcome, Outcome::Loaded, "{:?}", first.summary.map(|s| s.errors));
    let facts = db.count("SELECT count(*) FROM fact_card_transaction").await;
    assert!(facts > 0);
    let again = server.fetch("stone", "2026-07-22", "2026-07-22", inbox.path(), &env);
    assert_eq!(lines(&again)[0]["status"], "unchanged");
    let second = ingest_file(&mut db.client, &fetched, "fetch", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(second.outcome, Outcome::Duplicate);
    assert_eq!(db.count("SELECT count(*) FROM fact_card_transaction").await, facts);

    // A wrong key: refused at once, said in words, the key never printed; nothing written.
    let wrong = "sk_wrong_0000";
    let empty = tempfile::tempdir().unwrap();
    let env = [("SYNCROCARDPAY_STONE_STONE_CODE", "900000001"), ("SYNCROCARDPAY_STONE_SECRET_KEY", wrong)];
    let out = server.fetch("stone", "2026-07-22", "2026-07-22", empty.path(), &env);
    assert_eq!(out.status.code(), Some(1));
    let said = lines(&out);
    assert_eq!(said[0]["status"], "failed");
    let error = said[0]["error"].as_str().unwrap();
    assert!(error.contains("HTTP 401") && error.contains("credentials were refused"), "{error}");
    assert!(!everything_printed(&out).contains(wrong));
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn pagbank_days_are_fetched_page_by_page_into_one_document_per_movement_that_loads() {
    let (Some(t), Some(f)) = (fixture(PAGBANK_CREDIT_T), fixture(PAGBANK_CREDIT_F)) else { return };
    // The sale of the transactional scenario is in 3 installments (its `totalElements`): the day served with
    // all three, one record per installment, two records per page.
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&t).unwrap()).unwrap();
    let first = doc["detalhes"][0].clone();
    let records: Vec<serde_json::Value> = (1..=3)
        .map(|n| {
            let mut r = first.clone();
            r["parcela"] = serde_json::json!(n.to_string());
            r["movimento_api_codigo"] = serde_json::json!(format!("{:0>32}", n));
            r["data_prevista_pagamento"] = serde_json::json!(format!("2024-0{}-09", 4 + n));
            r
        })
        .collect();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("pagbank")).unwrap();
    std::fs::write(
        home.path().join("pagbank/transactional-2024-04-09.json"),
        serde_json::to_vec(&serde_json::json!({ "detalhes": records })).unwrap(),
    )
    .unwrap();
    std::fs::copy(&f, home.path().join("pagbank/financial-2024-05-09.json")).unwrap();
    let Some(server) = ApiServer::start(home, &["--page-size", "2"]) else { return };
    let inbox = tempfile::tempdir().unwrap();
    let env = [("SYNCROCARDPAY_PAGBANK_USER", PAGBANK_USER), ("SYNCROCARDPAY_PAGBANK_TOKEN", PAGBANK_TOKEN)];

    let out = server.fetch("pagbank", "2024-04-09", "2024-04-09", inbox.path(), &env);
    assert!(out.status.success(), "{}", everything_printed(&out));
    let said = lines(&out);
    let status: Vec<(&str, &str)> =
        said.iter().map(|s| (s["status"].as_str().unwrap(), s["name"].as_str().unwrap_or(""))).collect();
    assert_eq!(status, [("written", "pagbank-128523125-transactional-2024-04-09.json"), ("nothing", "")]);
    let pages: Vec<String> =
        server.requests().into_iter().filter(|r| r.contains("/transactional/2024-04-09")).collect();
    assert_eq!(pages.len(), 2, "two pages of two: {pages:?}");
    assert!(pages[0].contains("pageNumber=1&") && pages[1].contains("pageNumber=2&") && pages[1].ends_with(" Basic"));
    // One document, every record of every page as PagBank wrote it, and whole (page 1 of 1).
    let t_path = inbox.path().join("pagbank-128523125-transactional-2024-04-09.json");
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&t_path).unwrap()).unwrap();
    assert_eq!(written["detalhes"].as_array().unwrap(), &records);
    assert_eq!(written["pagination"]["totalPages"], 1);

    let out = server.fetch("pagbank", "2024-05-09", "2024-05-09", inbox.path(), &env);
    assert!(out.status.success(), "{}", everything_printed(&out));
    let f_path = inbox.path().join("pagbank-128523125-financial-2024-05-09.json");
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&f_path).unwrap()).unwrap();
    let original: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
    assert_eq!(written["detalhes"], original["detalhes"]);
    assert!(!everything_printed(&out).contains(PAGBANK_TOKEN));

    // Both load: the three installments forecast, the first one settled; fetched again, nothing new.
    let mut db = TestDb::new("fetchpagbank").await;
    for path in [&t_path, &f_path] {
        let r = ingest_file(&mut db.client, path, "fetch", IngestMode::StageAndLoad).await.unwrap();
        assert_eq!(r.outcome, Outcome::Loaded, "{:?}", r.summary.map(|s| s.errors));
    }
    let units = "SELECT count(*) FROM fact_receivable_unit";
    assert_eq!(db.count(units).await, 4, "3 installments forecast, 1 settled");
    let again = server.fetch("pagbank", "2024-04-09", "2024-04-09", inbox.path(), &env);
    assert_eq!(lines(&again)[0]["status"], "unchanged");
    let r = ingest_file(&mut db.client, &t_path, "fetch", IngestMode::StageAndLoad).await.unwrap();
    assert_eq!(r.outcome, Outcome::Duplicate);
    assert_eq!(db.count(units).await, 4);

    // A wrong token: the day fails, said in words, the token never printed.
    let wrong = [("SYNCROCARDPAY_PAGBANK_USER", PAGBANK_USER), ("SYNCROCARDPAY_PAGBANK_TOKEN", "not-the-token-77")];
    let out = server.fetch("pagbank", "2024-04-09", "2024-04-09", tempfile::tempdir().unwrap().path(), &wrong);
    assert_eq!(out.status.code(), Some(1));
    assert!(lines(&out).iter().all(|s| s["status"] == "failed"));
    assert!(everything_printed(&out).contains("HTTP 401"));
    assert!(!everything_printed(&out).contains("not-the-token-77"));
}

#[tokio::test]
async fn a_fetch_with_credentials_from_ssm_writes_into_the_s3_inbox_the_deployment_loads() {
    let Some(sample) = fixture(STONE_SAMPLE) else { return };
    let home = stone_home(&sample);
    let Some(server) = ApiServer::start(home, &[]) else { return };
    let Some(moto) = common::moto::Moto::start() else { return };
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("statements").send().await.unwrap();
    let ssm = moto.ssm().await;
    for (name, value) in [("/t/stone/stone_code", "900000001"), ("/t/stone/secret_key", STONE_KEY)] {
        ssm.put_parameter()
            .name(name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .unwrap();
    }
    let aws = |c: &mut Command| {
        c.env("AWS_ENDPOINT_URL", &moto.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("SYNCROCARDPAY_STONE_STONE_CODE")
            .env_remove("SYNCROCARDPAY_STONE_SECRET_KEY");
    };
    let mut fetch = Command::new(env!("CARGO_BIN_EXE_syncrocardpay"));
    fetch
        .args(["fetch", "stone", "--from", "2026-07-22", "--json", "--quiet", "--ssm-prefix", "/t"])
        .args(["--out", "s3://statements/acme", "--base-url", &format!("https://127.0.0.1:{}", server.port)])
        .arg("--ca-file")
        .arg(&server.ca);
    aws(&mut fetch);
    let out = fetch.output().unwrap();
    assert!(out.status.success(), "{}", everything_printed(&out));
    assert_eq!(lines(&out)[0]["path"], "s3://statements/acme/inbox/stone-900000001-20260722.xml");
    assert!(!everything_printed(&out).contains(STONE_KEY));
    let object = s3.get_object().bucket("statements").key("acme/inbox/stone-900000001-20260722.xml").send().await;
    let body = object.unwrap().body.collect().await.unwrap().into_bytes();
    assert_eq!(body.as_ref(), std::fs::read(&sample).unwrap().as_slice());

    // The deployment's discovery finds it in the inbox and loads it like any delivery.
    let db = TestDb::new("fetchs3").await;
    let mut run = Command::new(env!("CARGO_BIN_EXE_syncrocardpay"));
    run.args(["run", "--s3", "s3://statements/acme", "--quiet"]).env("DATABASE_URL", &db.url);
    aws(&mut run);
    let out = run.output().unwrap();
    assert!(out.status.success(), "{}", everything_printed(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 loaded"), "{}", everything_printed(&out));
    assert!(db.count("SELECT count(*) FROM fact_card_transaction").await > 0);
}

/// The deployed nightly run fetches by itself (issue 20, item 6): discovery asks each API with credentials for
/// the last days up to yesterday in Brasília, writes each day's document into the S3 inbox and lists it with
/// the rest, so the same run loads it; a day with nothing is said; the next run asks the same days again and
/// delivers nothing already loaded. The key is in no answer.
#[tokio::test]
async fn the_nightly_discovery_fetches_the_last_days_into_the_inbox_once() {
    use std::sync::Arc;
    use syncrocardpay_core::config::Secret;
    use syncrocardpay_core::formats::bank::sample::AcquirerSampleSpec;
    use syncrocardpay_core::formats::stone::sample as stone_sample;
    use syncrocardpay_core::remote::Sources;
    use syncrocardpay_core::source::api::{Api, ApiClient, Fetched, StoneApi};
    use syncrocardpay_core::source::s3::S3Store;
    use syncrocardpay_core::workflow::{self, DiscoverLimits, DiscoverRequest, Trigger};
    // Yesterday's day in Brasília, as a Stone file of the sample merchant, where the stand-in serves it.
    let yesterday = (chrono::Utc::now() - chrono::Duration::hours(3)).date_naive().pred_opt().unwrap();
    let generated = tempfile::tempdir().unwrap();
    let spec = AcquirerSampleSpec { seed: 9, sales: 12, first: yesterday, days: 1, settle_until: yesterday };
    let written = stone_sample::write(generated.path(), &spec).unwrap();
    assert_eq!(written.files.len(), 1, "{written:?}");
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("stone")).unwrap();
    let served = format!("stone/{}-{}.xml", stone_sample::STONE_CODE, yesterday.format("%Y%m%d"));
    std::fs::copy(&written.files[0], home.path().join(&served)).unwrap();
    let Some(server) = ApiServer::start(home, &[]) else { return };
    let Some(moto) = common::moto::Moto::start() else { return };
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("nightly").send().await.unwrap();
    let store = Arc::new(S3Store::new(s3.clone(), "nightly", "acme"));
    let client = ApiClient::new(&format!("https://127.0.0.1:{}", server.port), Some(&server.ca)).unwrap();
    let stone = StoneApi::new(client, stone_sample::STONE_CODE, Secret::new(STONE_KEY)).unwrap();
    let sources = Sources { s3: Some(store.clone()), ftps: None, apis: vec![Arc::new(Api::Stone(stone))] };
    let db = TestDb::new("nightlyfetch").await;
    let limits = DiscoverLimits { max_concurrency: 4, max_files: 100, fetch_days: 3 };
    let request = DiscoverRequest { trigger: Trigger::Schedule, force: false };

    let first = workflow::discover(&db.client, &sources, request, limits).await.unwrap();
    let said = serde_json::to_string(&first).unwrap();
    assert!(!said.contains(STONE_KEY), "{said}");
    let name = format!("stone-{}-{}.xml", stone_sample::STONE_CODE, yesterday.format("%Y%m%d"));
    let statuses: Vec<_> = first
        .fetched
        .iter()
        .map(|f| match f {
            Fetched::Written { name, .. } => format!("written {name}"),
            Fetched::Nothing { .. } => "nothing".to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(statuses, ["nothing", "nothing", format!("written {name}").as_str()], "3 days, the last yesterday");
    assert_eq!(first.discovered, 1, "the fetched day is listed in the same run: {said}");
    let object = s3.get_object().bucket("nightly").key(format!("acme/inbox/{name}")).send().await.unwrap();
    let body = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(body.as_ref(), std::fs::read(&written.files[0]).unwrap().as_slice(), "the API's bytes, raw");

    // The run loads it (as the Map's ingest does: each file of the inbox, then archived) and ends.
    let mut run = Command::new(env!("CARGO_BIN_EXE_syncrocardpay"));
    run.args(["run", "--s3", "s3://nightly/acme", "--quiet"])
        .env("DATABASE_URL", &db.url)
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
    let out = run.output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 loaded"), "{}", everything_printed(&out));
    assert_eq!(db.count("SELECT count(DISTINCT nsu) FROM fact_card_transaction").await, 12);
    syncrocardpay_core::db::store::release_run_lease(&db.client, first.lease.as_deref().unwrap()).await.unwrap();

    // The next night asks the same days again: the loaded day is not delivered again.
    let second = workflow::discover(&db.client, &sources, request, limits).await.unwrap();
    assert!(second.fetched.contains(&Fetched::Unchanged { name: name.clone() }), "{second:?}");
    assert_eq!(second.discovered, 0, "{second:?}");
    let inbox = s3.list_objects_v2().bucket("nightly").prefix("acme/inbox/").send().await.unwrap();
    assert_eq!(inbox.key_count(), Some(0), "nothing new in the inbox: {inbox:?}");
    assert_eq!(db.count("SELECT count(*) FROM statement_file").await, 1);
}
