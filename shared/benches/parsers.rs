//! Parser throughput (issue 8): per record type (one line parsed and validated field by field) and per whole
//! file (detection, line splitting, hashing, every record, the trailer check), in records/s and MB/s.
//! `cargo bench -p syncrocardpay-core --bench parsers`. Inputs come from the sample generator (Cielo v15 of
//! every type, the merchant CSV) and, when `../shared/fixtures` is present, the real v13 file.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use syncrocardpay_core::formats::cielo::sample::{self, SampleSpec};
use syncrocardpay_core::formats::cielo::v15;
use syncrocardpay_core::formats::field::FieldReader;
use syncrocardpay_core::formats::merchant::{read_merchant_sales, Mapping};
use syncrocardpay_core::formats::read_statement;

struct Inputs {
    _dir: tempfile::TempDir,
    /// (file type, path, bytes, records)
    files: Vec<(String, PathBuf, Vec<u8>, u64)>,
    merchant_csv: (PathBuf, Mapping),
}

fn inputs() -> Inputs {
    let dir = tempfile::tempdir().unwrap();
    let spec = SampleSpec { transactions: 20_000, seed: 1, merchants: 1, ..SampleSpec::default() };
    let mut files = Vec::new();
    for f in sample::generate(dir.path(), &spec).unwrap() {
        let bytes = std::fs::read(&f.path).unwrap();
        let records = bytes.split(|&b| b == b'\n').filter(|l| l.len() > 1).count() as u64;
        files.push((format!("cielo-v15-{}", f.file_type), f.path.clone(), bytes, records));
    }
    let v13 = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/am10tecnologia__php-edi-parser__edi-file-sample.txt");
    if let Ok(bytes) = std::fs::read(&v13) {
        let records = bytes.split(|&b| b == b'\n').filter(|l| l.len() > 1).count() as u64;
        files.push(("cielo-v13-08-real".into(), v13, bytes, records));
    } else {
        eprintln!("note: {} is absent; the v13 benchmark is skipped", v13.display());
    }
    let (csv, mapping) = sample::write_merchant_sales(&dir.path().join("merchant"), &spec).unwrap();
    let mapping = Mapping::from_file(&mapping).unwrap();
    Inputs { _dir: dir, files, merchant_csv: (csv, mapping) }
}

/// The first line of a record type in a file.
fn line_of(bytes: &[u8], kind: u8) -> Vec<u8> {
    let line = bytes.split(|&b| b == b'\n').find(|l| l.first() == Some(&kind)).expect("record type present");
    line.strip_suffix(b"\r").unwrap_or(line).to_vec()
}

fn per_record_type(c: &mut Criterion) {
    let inputs = inputs();
    let by_type = |t: &str| &inputs.files.iter().find(|f| f.0 == format!("cielo-v15-{t}")).unwrap().2;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("D receivable unit (400 B)", line_of(by_type("03"), b'D')),
        ("E transaction (760 B)", line_of(by_type("03"), b'E')),
        ("8 Pix (400 B)", line_of(by_type("16"), b'8')),
        ("A negotiation (250 B)", line_of(by_type("15"), b'A')),
    ];
    let mut group = c.benchmark_group("record");
    for (name, line) in &cases {
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::from_parameter(name), line, |b, line| {
            b.iter(|| {
                let mut r = FieldReader::new(black_box(line));
                match line[0] {
                    b'D' => drop(black_box(v15::parse_receivable_unit(1, &mut r))),
                    b'E' => drop(black_box(v15::parse_transaction(1, &mut r))),
                    b'8' => drop(black_box(v15::parse_pix(1, &mut r))),
                    _ => drop(black_box(v15::parse_negotiation(1, &mut r, "0000000001"))),
                }
                assert!(r.errors.is_empty());
            })
        });
    }
    group.finish();
}

fn whole_files(c: &mut Criterion) {
    let inputs = inputs();
    for (unit, throughput) in [("records", 0), ("bytes", 1)] {
        let mut group = c.benchmark_group(format!("file ({unit}/s)"));
        group.sample_size(20);
        for (name, path, bytes, records) in &inputs.files {
            group.throughput(if throughput == 0 {
                Throughput::Elements(*records)
            } else {
                Throughput::Bytes(bytes.len() as u64)
            });
            group.bench_with_input(BenchmarkId::from_parameter(name), bytes, |b, bytes| {
                b.iter(|| {
                    let mut n = 0u64;
                    let s = read_statement(&bytes[..], &path.display().to_string(), &mut |r| {
                        n += 1;
                        black_box(r);
                        ControlFlow::Continue(())
                    })
                    .unwrap();
                    assert!(s.is_valid(), "{name}: {:?}", s.errors.first());
                    n
                })
            });
        }
        let (csv, mapping) = &inputs.merchant_csv;
        let bytes = std::fs::read(csv).unwrap();
        let rows = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        group.throughput(if throughput == 0 {
            Throughput::Elements(rows)
        } else {
            Throughput::Bytes(bytes.len() as u64)
        });
        group.bench_function("merchant-csv", |b| {
            b.iter(|| {
                let s = read_merchant_sales(&bytes[..], "pos.csv", mapping, &mut |r| {
                    black_box(r);
                    ControlFlow::Continue(())
                })
                .unwrap();
                assert!(s.is_valid());
            })
        });
        group.finish();
    }
}

criterion_group!(benches, per_record_type, whole_files);
criterion_main!(benches);
