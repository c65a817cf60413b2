//! libFuzzer target: any bytes, as a contract rates CSV (`formats::fuzzing::check_rates_csv`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    syncrocardpay_core::formats::fuzzing::check_rates_csv(data);
});
