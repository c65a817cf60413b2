//! The integration suite, in one test binary: each module is one area (`aws`, `load`, `reconcile`, …) and
//! `common` holds what they share (a fresh database per test, the AWS emulator, the FTPS server, statements).
//!
//! One binary, not one per file: each test binary links the core, the AWS SDKs and the Lambdas, so one per
//! file meant some 24 links of ~100 MB each, which filled a CI machine's disk before a test ran. Run one area
//! with `cargo test --test suite load::`, one test by its name.

mod common;

mod api_fetch;
mod aws;
mod bank_statements;
mod bench;
mod cielo_edi_oracle;
mod cielo_fixtures;
mod cielo_v15_records;
mod cli;
mod crash;
mod db_faults;
mod db_tls;
mod deploy_definitions;
mod ftps;
mod fuzz_parsers;
mod getnet;
mod lambda;
mod lambda_emulator;
mod load;
mod merchant_sales;
mod pagbank;
mod reconcile;
mod rede;
mod reliability_doc;
mod stone;
mod structure;
mod validation;
mod vsftpd;
