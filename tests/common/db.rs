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

/// Replace the database name of a `postgres://…/db` URL.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let slash = base.rfind('/').expect("URL with a database path");
    let mut out = format!("{}/{db}", &base[..slash]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub async fn new(label: &str) -> TestDb {
        let admin = syncrocardpay_core::db::connect(&admin_url()).await.expect("connect to DATABASE_URL");
        let name = format!(
            "t_{}_{}_{}",
            label.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).await.expect("drop old test database");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create test database");
        let url = with_database(&admin_url(), &name);
        let mut client = syncrocardpay_core::db::connect(&url).await.expect("connect to test database");
        syncrocardpay_core::db::migrate(&mut client).await.expect("migrate");
        TestDb { url, client }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.client.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
    }
}
