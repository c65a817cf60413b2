#![allow(dead_code)]
pub mod db;
pub mod fixtures;
pub mod ftps;
pub mod moto;
pub mod roundtrip;
pub mod sessions;
pub mod skip;
pub mod statements;
pub mod vsftpd;
