//! A fresh, migrated database per test, on the PostgreSQL given by `DATABASE_URL` (scripts/test.sh starts a
//! throwaway cluster and sets it).

use std::sync::atomic::{AtomicU32, Ordering};
use tokio_postgres::Client;

pub struct TestDb {
    pub url: String,
    pub client: Client,
}

fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "integration tests need PostgreSQL: run `bash scripts/test.sh` (it starts a throwaway cluster), \
             or set DATABASE_URL to a database whose user may CREATE DATABASE"
        )
    })
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub async fn new(label: &str) -> TestDb {
        let mut db = TestDb::empty(label).await;
        syncrocardpay_core::db::migrate(&mut db.client).await.expect("migrate");
        db
    }

    /// A fresh database with no schema at all (what a deploy's migrate step starts from).
    pub async fn empty(label: &str) -> TestDb {
        let name = format!(
            "t_{}_{}_{}",
            label.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let url =
            syncrocardpay_core::db::recreate_database(&admin_url(), &name).await.expect("create the test database");
        let client = syncrocardpay_core::db::connect(&url).await.expect("connect to test database");
        TestDb { url, client }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.client.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
    }

    /// Rows waiting to be loaded (of one file, or of all): in `stage_record`, and bulk facts written but not
    /// attached.
    pub async fn staged_rows(&self, file_id: Option<i64>) -> i64 {
        let filter = file_id.map_or("true".to_string(), |id| format!("file_id = {id}"));
        self.count(&format!(
            "SELECT (SELECT count(*) FROM stage_record WHERE {filter})
                  + (SELECT count(*) FROM fact_card_transaction_all t WHERE {filter}
                        AND EXISTS (SELECT 1 FROM unattached_file u WHERE u.file_id = t.file_id))
                  + (SELECT count(*) FROM fact_receivable_unit_all t WHERE {filter}
                        AND EXISTS (SELECT 1 FROM unattached_file u WHERE u.file_id = t.file_id))"
        ))
        .await
    }

    /// What a server crash does to the staging: `stage_record` is UNLOGGED and emptied (one file's rows, or
    /// all); the bulk facts are logged and stay.
    pub async fn lose_staging(&self, file_id: Option<i64>) {
        let sql = match file_id {
            Some(id) => format!("DELETE FROM stage_record WHERE file_id = {id}"),
            None => "TRUNCATE stage_record".to_string(),
        };
        self.client.execute(&sql, &[]).await.unwrap();
    }
}
