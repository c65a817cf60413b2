//! syncrocardpay core: card-statement formats, the domain model, the PostgreSQL store and the pipeline
//! steps (discover → ingest → load). Parsing and validation are pure and synchronous ([`formats`]);
//! I/O lives in `db`, [`source`] and `pipeline`.
//!
//! Without its features (`store`, `sources`, both on by default) the crate is the pure core alone —
//! [`formats`], [`model`], [`reconcile`], [`archive`] — with no tokio, PostgreSQL or AWS SDK in its tree.

pub mod archive;
pub mod config;
#[cfg(feature = "store")]
pub mod db;
pub mod error;
pub mod formats;
#[cfg(feature = "store")]
pub mod intake;
pub mod logging;
pub mod model;
#[cfg(feature = "store")]
pub mod pipeline;
pub mod progress;
pub mod reconcile;
#[cfg(feature = "sources")]
pub mod remote;
pub mod source;
#[cfg(feature = "store")]
pub mod tls;
#[cfg(feature = "sources")]
pub mod workflow;

pub use error::{Error, Result};
