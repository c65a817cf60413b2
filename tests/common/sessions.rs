//! Watching what other sessions of the database run (`pg_stat_activity`): the fault tests act at the moment a
//! loader's session reaches a statement, not after a guessed delay.

use std::process::Child;
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// What a session is doing when we look for it.
#[derive(Debug, Clone, Copy)]
pub enum Doing {
    /// Running the statement.
    Running,
    /// Waiting for a lock while running it.
    WaitingForALock,
}

/// Wait until another session of this database runs a statement starting with `statement` (as `doing` says).
/// Panics if `child` (the process that should get there) ends first, or after five minutes.
pub async fn wait_for(client: &Client, statement: &str, doing: Doing, child: &mut Child) {
    let condition = match doing {
        Doing::Running => "state = 'active'",
        Doing::WaitingForALock => "wait_event_type = 'Lock'",
    };
    let sql = format!(
        "SELECT pid FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND {condition}
            AND ltrim(query, E' \\n\\r\\t') LIKE $1"
    );
    let pattern = format!("{statement}%");
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if client.query_opt(&sql, &[&pattern]).await.unwrap().is_some() {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the process ended ({status}) before its session reached {statement:?} ({doing:?})");
        }
        assert!(Instant::now() < deadline, "no session reached {statement:?} ({doing:?})");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Wait until no other session of this database is left (a killed client's session ends once the server
/// notices, rolling back what it had not committed).
pub async fn wait_until_alone(client: &Client) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let others: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if others == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "a killed client's session did not end");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
