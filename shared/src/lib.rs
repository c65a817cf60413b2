//! syncrocardpay core: card-statement formats, the domain model, the PostgreSQL store and the pipeline
//! steps (discover → ingest → load). Parsing and validation are pure and synchronous ([`formats`]);
//! I/O lives in [`db`], [`source`] and [`pipeline`].

pub mod archive;
pub mod config;
pub mod db;
pub mod error;
pub mod formats;
pub mod logging;
pub mod model;
pub mod pipeline;
pub mod progress;
pub mod reconcile;
#[cfg(feature = "sources")]
pub mod remote;
pub mod source;
pub mod tls;
#[cfg(feature = "sources")]
pub mod workflow;

pub use error::{Error, Result};
