//! Fuzzing in the normal suite: hundreds of thousands of random and mutated statement lines, assembled into
//! files, thrown at the detector and every parser. Nothing may panic, and the properties of
//! `formats::fuzzing::check_statement` must hold for every input. `SYNCRO_FUZZ_LINES` raises the budget
//! (e.g. 5000000); `SYNCRO_FUZZ_SEED` replays one run. The libFuzzer target in `fuzz/` checks the same
//! properties with coverage guidance.

use crate::common;

use common::fixtures::fixture;
use common::statements::lines;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use syncrocardpay_core::formats::cielo::sample::{self, SampleSpec};
use syncrocardpay_core::formats::detect::classify;
use syncrocardpay_core::formats::fuzzing::check_statement;

/// Real-shaped lines to mutate: every generated record kind, the real fixtures when present, and headers of
/// every acquirer.
fn corpus() -> (Vec<Vec<u8>>, Vec<Vec<Vec<u8>>>) {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    let mut whole = Vec::new();
    for f in
        sample::generate(dir.path(), &SampleSpec { transactions: 40, seed: 9, merchants: 1, ..SampleSpec::default() })
            .unwrap()
    {
        out.extend(lines(&f.path));
        whole.push(lines(&f.path));
    }
    for name in [
        "williamsilva__CardSync__cielo04_v15_lines.txt",
        "williamsilva__CardSync__cielo15_v15_officialkit.txt",
        "williamsilva__CardSync__cielo16_v15_officialkit_pix_lines.txt",
        "williamsilva__CardSync__cielo_v15_E_chargeback_line.txt",
        "lavinas__cielo-edi__header_lines.txt",
        "armando-couto__goleitoredirede__eefi_lines.txt",
        "murilotuvani__redecard-extrato-reader__eevc_eefi_eevd_lines.txt",
        "libercapital__document-translator-go__getnet_v10.1_lines.txt",
    ] {
        if let Some(p) = fixture(name) {
            out.extend(lines(&p));
        }
    }
    if let Some(p) = fixture("am10tecnologia__php-edi-parser__edi-file-sample.txt") {
        out.extend(lines(&p).into_iter().take(40));
    }
    (out, whole)
}

const INTERESTING: &[&[u8]] = &[
    b"+",
    b"-",
    b" ",
    b"0",
    b"9",
    b"\r",
    b"\0",
    b"\xff",
    b"\xe3",
    b"D",
    b"E",
    b"8",
    b"A",
    b"B",
    b"C",
    b"R",
    b"1",
    b"2",
    b"CIELO",
    b"015",
    b"014",
    b"013",
    b"99999999999999999",
    b"31022026",
    b"00000000",
    b"01011001",
];

fn mutate(rng: &mut ChaCha8Rng, line: &[u8]) -> Vec<u8> {
    let mut l = line.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        match rng.gen_range(0..9) {
            0 if !l.is_empty() => {
                let i = rng.gen_range(0..l.len());
                l[i] = rng.gen();
            }
            1 if !l.is_empty() => {
                let i = rng.gen_range(0..l.len());
                l[i] = *b"0123456789+- AZ".choose(rng).unwrap();
            }
            2 => {
                let i = rng.gen_range(0..=l.len());
                let bytes = INTERESTING.choose(rng).unwrap();
                l.splice(i..i, bytes.iter().copied());
            }
            3 if !l.is_empty() => {
                let i = rng.gen_range(0..l.len());
                let bytes = INTERESTING.choose(rng).unwrap();
                let end = (i + bytes.len()).min(l.len());
                l.splice(i..end, bytes.iter().copied().take(end - i));
            }
            4 => l.truncate(rng.gen_range(0..=l.len())),
            5 if !l.is_empty() => {
                let i = rng.gen_range(0..l.len());
                l.remove(i);
            }
            6 => l.extend(std::iter::repeat_n(b' ', rng.gen_range(1..40))),
            7 => l = (0..rng.gen_range(0..800)).map(|_| rng.gen()).collect(),
            _ => {}
        }
    }
    l
}

#[test]
fn random_and_mutated_statements_never_break_the_parsers() {
    let budget: u64 = std::env::var("SYNCRO_FUZZ_LINES").ok().and_then(|v| v.parse().ok()).unwrap_or(300_000);
    let seed: u64 = std::env::var("SYNCRO_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(20261125);
    eprintln!("fuzz: {budget} lines, seed {seed} (SYNCRO_FUZZ_LINES / SYNCRO_FUZZ_SEED)");
    let (corpus, whole_files) = corpus();
    let headers: Vec<&Vec<u8>> =
        corpus.iter().filter(|l| l.first() == Some(&b'0') || l.starts_with(b"00") || l.starts_with(b"03")).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut lines_done, mut files, mut valid) = (0u64, 0u64, 0u64);
    while lines_done < budget {
        if rng.gen_bool(0.03) {
            // A whole valid file with other line endings: the valid path must keep its properties too.
            let lines = whole_files.choose(&mut rng).unwrap();
            let mut file = lines.join(if rng.gen_bool(0.5) { &b"\r\n"[..] } else { &b"\n"[..] });
            if rng.gen_bool(0.5) {
                file.push(b'\n');
            }
            check_statement(&file);
            assert!(syncrocardpay_core::formats::validate_statement(&file[..], "f").unwrap().is_valid());
            valid += 1;
            lines_done += lines.len() as u64;
            files += 1;
            continue;
        }
        // A file: a (possibly mutated) header, then real lines, some mutated, some in the wrong place.
        let n = rng.gen_range(0..30);
        let mut file = Vec::new();
        let header = headers.choose(&mut rng).unwrap();
        let header = if rng.gen_bool(0.3) { mutate(&mut rng, header) } else { header.to_vec() };
        let _ = classify(&header); // the detector alone, on every header shape
        file.extend_from_slice(&header);
        for _ in 0..n {
            let src = corpus.choose(&mut rng).unwrap();
            let line = if rng.gen_bool(0.5) { mutate(&mut rng, src) } else { src.clone() };
            file.extend_from_slice(if rng.gen_bool(0.9) { b"\n" } else { b"\r\n" });
            file.extend_from_slice(&line);
        }
        if rng.gen_bool(0.8) {
            file.push(b'\n');
        }
        let result = std::panic::catch_unwind(|| check_statement(&file));
        if let Err(e) = result {
            let path = std::env::temp_dir().join(format!("syncrocardpay-fuzz-crash-{seed}-{files}.txt"));
            std::fs::write(&path, &file).unwrap();
            panic!("property failed on file {files} of seed {seed}, saved to {}: {e:?}", path.display());
        }
        if syncrocardpay_core::formats::validate_statement(&file[..], "f").unwrap().is_valid() {
            valid += 1;
        }
        lines_done += n + 1;
        files += 1;
    }
    eprintln!("fuzz: {files} files, {lines_done} lines, {valid} still valid");
    assert!(files > 1000);
}

#[test]
fn edge_inputs_are_rejected_with_a_reason_not_a_panic() {
    let mut cases: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"\n".to_vec(),
        b"\r\n\r\n".to_vec(),
        vec![0u8; 10_000],
        vec![b'9'; 100_000], // one very long line without a newline
        (0..=255u8).cycle().take(50_000).collect(),
    ];
    let dir = tempfile::tempdir().unwrap();
    let f =
        &sample::generate(dir.path(), &SampleSpec { transactions: 10, seed: 1, merchants: 1, ..SampleSpec::default() })
            .unwrap()[0];
    let good = std::fs::read(&f.path).unwrap();
    cases.push(good.iter().copied().filter(|&b| b != b'\n').collect()); // no newlines at all
    cases.push([good.clone(), good.clone()].concat()); // two statements glued together
    cases.push(good[..good.len() / 2].to_vec()); // cut in the middle of a line
    for c in &cases {
        check_statement(c);
        let s = syncrocardpay_core::formats::validate_statement(&c[..], "edge").unwrap();
        assert!(!s.is_valid(), "{:?}…: should be rejected", String::from_utf8_lossy(&c[..c.len().min(40)]));
        assert!(!s.errors.is_empty());
    }
}

/// Small files to cut lines in: every generated Cielo type (valid), Rede headers of each kind with lines of
/// their shape (written here, not copied), and the real fixtures when present.
fn files_to_cut() -> Vec<(String, Vec<Vec<u8>>, bool)> {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    let generated =
        sample::generate(dir.path(), &SampleSpec { transactions: 6, seed: 3, merchants: 1, ..SampleSpec::default() })
            .unwrap();
    for f in &generated {
        out.push((f.file_type.to_string(), lines(&f.path), true));
    }
    // The quirk files too (a cut in a layout-001 line's "uso Cielo" tail is read, as an anomaly, so these only
    // have to be reported without a panic).
    for q in sample::write_quirks(&dir.path().join("quirks"), &generated).unwrap() {
        if q.quirk != "zipped" {
            out.push((format!("quirk-{}", q.quirk), lines(&q.path), false));
        }
    }
    let rede = |header: String, body: &[&str]| -> Vec<Vec<u8>> {
        std::iter::once(header.into_bytes()).chain(body.iter().map(|l| l.as_bytes().to_vec())).collect()
    };
    out.push((
        "rede-eefi".into(),
        rede(
            format!("03003072019RedecardExtrato de Movimentacao Financeira{:<22}000110014797470DIARIO         V3.01 - 09/06 - EEFI", "LOJA"),
            &["0520001000002014797470000200000000000000000000000000000000000000000000000000000000000000000000000000000"],
        ),
        false,
    ));
    out.push((
        "rede-eevc".into(),
        rede(
            format!("00201062019REDECARDEXTRATO DE MOVIMENTO DE VENDAS{:<22}000078014797470DIARIO         V2.01 - 09/06 - EEVC", "LOJA"),
            &["028000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"],
        ),
        false,
    ));
    out.push((
        "rede-eevd".into(),
        rede(
            "00,021644942,22092021,21092021,Movimentacao diaria - Cartoes de Debito,Redecard,LOJA,000427,DIARIO,V1.04 - 07/10 - EEVD".into(),
            &[
                "01,021644942,23092021,22092021,000123456,000001,000000000010000,000000000000150,000000000009850,D,341,001646,00000508679,2",
                "05,021644942,000123456,22092021,000000000010000,000000000000150,000000000009850,498407******3786,V,000000046002,23092021,00,101010,WW000001,01,00000,000000000010000,000000000000000,2",
                "04,021644942,000001,000001,000000000010000,000000000000150,000000000009850,000000000000000,000000000000000,000000000000000,000004",
            ],
        ),
        false,
    ));
    for name in [
        "murilotuvani__redecard-extrato-reader__eevc_eefi_eevd_lines.txt",
        "armando-couto__goleitoredirede__eefi_lines.txt",
        "williamsilva__CardSync__cielo15_v15_officialkit.txt",
        "williamsilva__CardSync__cielo16_v15_officialkit_pix_lines.txt",
        "libercapital__document-translator-go__getnet_v10.1_lines.txt",
        // Documents (PagBank's JSON, Stone's XML): every line cut, the document around it kept.
        "pagbank/emerson-matos__emerbot__pagbank_credit-installments_financial.json",
        "stone/Roberio1210__santa-monica-os__stone_layout24_derived_sample.xml",
    ] {
        if let Some(p) = fixture(name) {
            out.push((name.into(), lines(&p).into_iter().take(200).collect(), false));
        }
    }
    out
}

/// Every record kind's line cut at every byte, in place and again as an extra copy of the header: the cut
/// is reported, never a panic (libFuzzer found a Rede header cut inside its date: an index out of range).
/// In a valid generated file the cut line itself is named.
#[test]
fn a_line_cut_at_any_byte_is_reported_not_a_panic() {
    let mut cases = 0u64;
    for (name, file, valid) in files_to_cut() {
        let mut kinds = std::collections::HashSet::new();
        for (i, line) in file.iter().enumerate() {
            let kind = line.iter().take_while(|&&b| b != b',').take(3).copied().collect::<Vec<u8>>();
            if !kinds.insert(kind) {
                continue;
            }
            for cut in 0..line.len() {
                let mut in_place = file.clone();
                in_place[i].truncate(cut);
                let mut variants = vec![("in place", in_place)];
                if i == 0 {
                    let mut header_again = file.clone();
                    header_again.insert(1, file[0][..cut].to_vec());
                    variants.push(("as a second header", header_again));
                }
                for (what, lines) in &variants {
                    let bytes = lines.join(&b"\n"[..]);
                    if let Err(e) = std::panic::catch_unwind(|| check_statement(&bytes)) {
                        let why =
                            e.downcast_ref::<String>().cloned().or(e.downcast_ref::<&str>().map(|s| s.to_string()));
                        panic!("{name}: line {} cut at byte {cut} {what}: {}", i + 1, why.unwrap_or_default());
                    }
                    cases += 1;
                    if valid && *what == "in place" {
                        let s = syncrocardpay_core::formats::validate_statement(&bytes[..], &name).unwrap();
                        assert!(
                            s.errors.iter().any(|e| e.line == i as u64 + 1),
                            "{name}: line {} cut at byte {cut} not reported on its line: {:?}",
                            i + 1,
                            s.errors
                        );
                    }
                }
            }
        }
    }
    eprintln!("{cases} cut lines parsed");
    assert!(cases > 5_000, "{cases}");
}

/// The CSV formats under the same kind of fuzzing as the statements (libFuzzer runs them in CI too): a
/// merchant export and a rates file, mutated byte by byte, keep their properties — no panic, honest hash,
/// nothing unstorable handed out, no rate changed on its way in.
#[test]
fn mutated_merchant_and_rates_csvs_keep_their_properties() {
    use rand::{Rng, SeedableRng};
    use syncrocardpay_core::formats::fuzzing::{check_merchant_csv, check_rates_csv};
    let merchant: &[u8] = b"Pedido;Data;Valor;NSU;Loja\nPED-1;03/08/2026;1.234,56;000123;0001\n\
PED-2;03/08/2026;\"59,90\";046002;0001\nPED-3;04/08/2026;(10,00);000124;0002\n";
    let rates: &[u8] =
        b"merchant_code,acquirer,brand,product,installments_from,installments_to,rate_percent,valid_from,valid_to\n\
0001,cielo,001,*,1,1,2.48,2026-01-01,\n0001,cielo,*,*,2,12,3.1%,01/01/2026,2026-12-31\n";
    // The bases themselves are valid: the mutations start from files that load.
    let mapping =
        syncrocardpay_core::formats::merchant::Mapping::from_toml(syncrocardpay_core::formats::fuzzing::FUZZ_MAPPING)
            .unwrap();
    let s = syncrocardpay_core::formats::merchant::read_merchant_sales(merchant, "m", &mapping, &mut |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert!(s.is_valid() && s.merchant_sales.count == 3, "{:?}", s.errors);
    assert_eq!(syncrocardpay_core::reconcile::fees::read_rates(rates).unwrap().len(), 2);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let bytes = b"0123456789,;.-()R$\"\n\r\x00\x1b e%";
    let mut cases = 0;
    for _ in 0..5_000 {
        for (base, check) in [(merchant, check_merchant_csv as fn(&[u8])), (rates, check_rates_csv as fn(&[u8]))] {
            let mut data = base.to_vec();
            for _ in 0..rng.gen_range(1..6) {
                let at = rng.gen_range(0..data.len());
                match rng.gen_range(0..3) {
                    0 => data[at] = bytes[rng.gen_range(0..bytes.len())],
                    1 => data.insert(at, bytes[rng.gen_range(0..bytes.len())]),
                    _ => {
                        data.remove(at);
                    }
                }
            }
            check(&data);
            cases += 1;
        }
    }
    assert_eq!(cases, 10_000);
}
