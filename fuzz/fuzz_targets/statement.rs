//! libFuzzer target: any bytes, as a statement file, through format detection and every parser. The
//! properties checked are those of the in-suite fuzz test (`formats::fuzzing::check_statement`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    syncrocardpay_core::formats::fuzzing::check_statement(data);
});
