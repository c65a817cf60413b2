//! libFuzzer target: any bytes, as a merchant's sales CSV, through the CSV reader, the row checks and the
//! strict amount parser (`formats::fuzzing::check_merchant_csv`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    syncrocardpay_core::formats::fuzzing::check_merchant_csv(data);
});
