#![allow(dead_code)]
pub mod db;
pub mod fixtures;
pub mod moto;
pub mod statements;
