//! Sample PagBank EDI responses ("extrato EDI", v3.00 JSON) for demos, tests and benchmarks: one
//! establishment's card sales over the sample's days, each day's transactional movement (one record per
//! installment, its forecast), the financial movement of each day an installment settles (the installments
//! paid, and the automatic cashout of the day's money to the merchant's bank account, `tipo_evento` 4 /
//! `tipo_transacao` 4), and those cashouts as payments the bank sample credits. Everything is paid exactly as
//! forecast: the known answer of a round trip is "every settled installment paid, every cashout deposited".
//! The same seed gives byte-identical files. The sales are in the merchant's POS export too, and the contract
//! in the rates file: the rate of each product and plan, and the fixed R$ 0,40 on a credit sale.

use crate::formats::bank::sample::{AcquirerSample, AcquirerSampleSpec, AnnouncedPayment, PosSale, SampleRate};
use chrono::{Duration, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// The sample establishment ("estabelecimento").
pub const ESTABLISHMENT: &str = "136625414";
/// The account the cashouts go to: bank, branch, number, check digit.
pub const ACCOUNT: (&str, &str, &str, &str) = ("341", "4321", "765432", "1");

struct Installment {
    sale: usize,
    number: u32,
    due: NaiveDate,
    net: Decimal,
}

fn money(d: Decimal) -> Value {
    // A JSON number with two decimals, from its decimal text (as PagBank writes `300.00`).
    serde_json::from_str(&format!("{:.2}", d.round_dp(2))).expect("a decimal is a JSON number")
}

/// PagBank's intermediation rate in percent: debit, or credit in `of` installments.
fn rate_percent(debit: bool, of: u32) -> Decimal {
    if debit {
        Decimal::new(199, 2)
    } else {
        Decimal::new(319 + 100 * (of as i64 - 1), 2)
    }
}

/// The fixed intermediation tariff of a sale ("tarifa"): R$ 0,40 on credit.
fn tariff(debit: bool) -> Decimal {
    if debit {
        Decimal::ZERO
    } else {
        Decimal::new(40, 2)
    }
}

/// The sample `spec` says, into `dir`.
pub fn write(dir: &Path, spec: &AcquirerSampleSpec) -> io::Result<AcquirerSample> {
    let AcquirerSampleSpec { seed, sales, first, days, settle_until } = *spec;
    std::fs::create_dir_all(dir)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0070_6167_6261_6e6b);
    let brands = [
        ("VISA", "CREDIT_VISA", "DEBIT_VISA"),
        ("MASTERCARD", "CREDIT_MASTERCARD", "DEBIT_MASTERCARD"),
        ("ELO", "CREDIT_ELO", "DEBIT_ELO"),
    ];
    let mut out = AcquirerSample::default();
    let mut transactional: BTreeMap<NaiveDate, Vec<Value>> = BTreeMap::new();
    let mut settlements: BTreeMap<NaiveDate, Vec<(Value, Decimal)>> = BTreeMap::new();
    for s in 0..sales {
        let day = first + Duration::days((s as u32 % days.max(1)) as i64);
        let (brand, credit_arrangement, debit_arrangement) = brands[rng.gen_range(0..brands.len())];
        let debit = rng.gen_bool(0.3);
        let of: u32 = if debit { 1 } else { rng.gen_range(1..=3) };
        let total = Decimal::new(rng.gen_range(1_000..=150_000), 2);
        // PagBank's intermediation rate by product, and a fixed fee per sale.
        let rate = rate_percent(debit, of) / Decimal::ONE_HUNDRED;
        let fee = (total * rate).round_dp(2);
        let tariff = tariff(debit);
        let net_total = total - fee - tariff;
        let share = (net_total / Decimal::from(of)).round_dp(2);
        let code = format!("{:032X}", (seed as u128) << 64 | 0xA000_0000 | s as u128);
        let nsu = format!("{:012}", 410_000_000_000u64 + s as u64);
        let auth = format!("{:06}", 100_000 + (s * 7919) % 900_000);
        let hour = format!("{:02}:{:02}:{:02}", 9 + s % 10, (s * 7) % 60, (s * 13) % 60);
        out.books.push(PosSale {
            merchant_code: ESTABLISHMENT.into(),
            sale_id: format!("PEDIDO-{:06}", s + 1),
            date: day,
            time: hour.clone(),
            nsu: nsu.clone(),
            authorization_code: auth.clone(),
            total,
            installments: of,
            brand: if brand == "MASTERCARD" { "MASTER" } else { brand },
            card_last_digits: format!("{:04}", 1000 + s % 9000),
            debit,
        });
        out.sales += 1;
        out.gross += total;
        for k in 1..=of {
            let due = if debit { day + Duration::days(1) } else { day + Duration::days(30 * k as i64) };
            let net = if k == of { net_total - share * Decimal::from(of - 1) } else { share };
            let i = Installment { sale: s, number: k, due, net };
            let mut record = json!({
                "movimento_api_codigo": format!("{:032X}", (seed as u128) << 64 | (s as u128) << 8 | k as u128),
                "tipo_registro": "1",
                "estabelecimento": ESTABLISHMENT,
                "data_inicial_transacao": day.to_string(),
                "hora_inicial_transacao": hour,
                "data_venda_ajuste": day.to_string(),
                "hora_venda_ajuste": hour,
                "tipo_evento": "1",
                "tipo_transacao": "1",
                "codigo_transacao": code,
                "codigo_venda": format!("PEDIDO-{:06}", i.sale + 1),
                "valor_total_transacao": money(total),
                "valor_parcela": money(i.net),
                "pagamento_prazo": if of > 1 { "M" } else { "U" },
                "plano": of.to_string(),
                "parcela": i.number.to_string(),
                "quantidade_parcelas": if debit { "0".to_string() } else { of.to_string() },
                "data_prevista_pagamento": i.due.to_string(),
                "valor_original_transacao": money(total),
                "taxa_intermediacao": money(fee),
                "tarifa_intermediacao": money(tariff),
                "valor_liquido_transacao": money(net_total),
                "status_pagamento": "1",
                "meio_pagamento": if debit { "8" } else { "3" },
                "instituicao_financeira": brand,
                "canal_entrada": "MP",
                "meio_captura": "3",
                "nsu": nsu,
                "cartao_bin": "411111",
                "cartao_holder": format!("{:04}", 1000 + s % 9000),
                "codigo_autorizacao": auth,
                "codigo_ur": format!("{:032X}", 0xB000_0000u128 | (s as u128) << 8 | k as u128),
                "arranjo_ur": if debit { debit_arrangement } else { credit_arrangement },
            });
            out.installments += 1;
            transactional.entry(day).or_default().push(record.clone());
            if i.due <= settle_until {
                let m = record.as_object_mut().expect("an object");
                m.insert(
                    "movimento_api_codigo".into(),
                    json!(format!("{:032X}", (seed as u128) << 64 | 0xF000_0000 | (s as u128) << 8 | k as u128)),
                );
                m.insert("data_movimentacao".into(), json!(i.due.to_string()));
                m.insert("status_pagamento".into(), json!("3"));
                m.insert("taxa_antecipacao".into(), money(Decimal::ZERO));
                m.insert("valor_liquido_antecipacao".into(), money(Decimal::ZERO));
                settlements.entry(i.due).or_default().push((record, i.net));
                out.settled += 1;
            }
        }
    }
    // The contract, in PagBank's own codes: the brand, and the payment means (`meio_pagamento`: 3 credit, 8
    // debit) as the product.
    for (brand, ..) in brands {
        let rate = |product: &'static str, debit: bool, of: u32| SampleRate {
            merchant_code: ESTABLISHMENT.into(),
            acquirer: "pagbank",
            brand,
            product,
            installments: (of, of),
            rate_percent: rate_percent(debit, of),
            fixed_fee: tariff(debit),
        };
        out.rates.push(rate("8", true, 1));
        out.rates.extend((1..=3).map(|of| rate("3", false, of)));
    }
    let document = |records: Vec<Value>, balances: Vec<Value>| {
        let n = records.len();
        let mut doc = json!({
            "detalhes": records,
            "pagination": {"elements": 1000, "totalPages": 1, "page": 1, "totalElements": n},
        });
        if !balances.is_empty() {
            doc["saldos"] = Value::Array(balances);
        }
        serde_json::to_vec_pretty(&doc).expect("JSON")
    };
    for (day, records) in transactional {
        let path = dir.join(format!("pagbank-{ESTABLISHMENT}-transactional-{day}.json"));
        std::fs::write(&path, document(records, Vec::new()))?;
        out.files.push(path);
    }
    let (bank, branch, number, digit) = ACCOUNT;
    for (n, (day, settled)) in settlements.into_iter().enumerate() {
        let amount: Decimal = settled.iter().map(|(_, net)| *net).sum();
        let mut records: Vec<Value> = settled.into_iter().map(|(r, _)| r).collect();
        // The day's money leaves PagBank for the merchant's bank account: the automatic cashout.
        records.push(json!({
            "movimento_api_codigo": format!("{:032X}", (seed as u128) << 64 | 0xC000_0000 | n as u128),
            "tipo_registro": "1",
            "estabelecimento": ESTABLISHMENT,
            "data_venda_ajuste": day.to_string(),
            "data_movimentacao": day.to_string(),
            "tipo_evento": "4",
            "tipo_transacao": "4",
            "codigo_transacao": format!("SAQUE{:027}", n + 1),
            "valor_total_transacao": money(amount),
            "valor_parcela": money(amount),
            "valor_liquido_transacao": money(amount),
            "taxa_intermediacao": money(Decimal::ZERO),
            "tarifa_intermediacao": money(Decimal::ZERO),
            "status_pagamento": "3",
            "cod_banco": bank,
            "banco_agencia": branch,
            "conta_banco": format!("{number}-{digit}"),
        }));
        let balances = vec![
            json!({"estabelecimento": ESTABLISHMENT, "tipo_evento": 7, "data_movimentacao": day.to_string(), "valor_saldo": 0.00}),
        ];
        let path = dir.join(format!("pagbank-{ESTABLISHMENT}-financial-{day}.json"));
        std::fs::write(&path, document(records, balances))?;
        out.files.push(path);
        out.deposits.push(AnnouncedPayment::daily(
            ESTABLISHMENT,
            "PAGSEGURO",
            ACCOUNT,
            day,
            amount,
            "TRANSF PAGSEGURO INTERNET",
        ));
    }
    Ok(out)
}
