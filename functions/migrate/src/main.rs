// The handler's future (lambda_runtime around reqwest's) is deeper than rustc's default layout query limit.
#![recursion_limit = "256"]

use lambda_runtime::{service_fn, Error};
use std::sync::Arc;
use syncrocardpay_migrate::Migrate;

#[tokio::main]
async fn main() -> Result<(), Error> {
    syncrocardpay_core::logging::init_lambda();
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build()?;
    let state = Arc::new(Migrate { target: None, http });
    lambda_runtime::run(service_fn(move |event| {
        let state = state.clone();
        async move { state.handle(event).await }
    }))
    .await
}
