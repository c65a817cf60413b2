//! The money identity every record with gross, fee and net obeys: **net = gross + signed fee** (the fee is
//! negative when charged). Real files sometimes carry a sign byte that contradicts it (a CIELO09 D line with
//! `+` on a fee that was deducted: 316.90 "+" 7.87 = 309.03). Such a record is re-read with the fewest sign
//! bytes changed that make it balance; exactly one such reading is used, several or none are a rejection.

use rust_decimal::Decimal;

/// What the three amounts say once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// As written.
    Balanced,
    /// The one reading (gross, fee, net) with the fewest changed signs that balances.
    Reread([Decimal; 3]),
    /// No reading balances.
    Unbalanced,
    /// Several readings with the same fewest changes balance.
    Ambiguous(Vec<[Decimal; 3]>),
}

fn balances([g, f, n]: [Decimal; 3]) -> bool {
    g.checked_add(f).is_some_and(|sum| sum == n)
}

/// Check `gross + fee == net`, else find the readings with the fewest non-zero amounts' signs changed.
pub fn reread(gross: Decimal, fee: Decimal, net: Decimal) -> Reading {
    let written = [gross, fee, net];
    if balances(written) {
        return Reading::Balanced;
    }
    // Changing the sign of a zero changes nothing: only non-zero amounts count.
    let flippable: Vec<usize> = (0..3).filter(|&i| !written[i].is_zero()).collect();
    for changes in 1..=flippable.len() {
        let mut found: Vec<[Decimal; 3]> = Vec::new();
        for mask in 0u8..8 {
            let chosen: Vec<usize> = (0..3).filter(|i| mask & (1 << i) != 0).collect();
            if chosen.len() != changes || !chosen.iter().all(|i| flippable.contains(i)) {
                continue;
            }
            let mut r = written;
            for &i in &chosen {
                r[i] = -r[i];
            }
            if balances(r) && !found.contains(&r) {
                found.push(r);
            }
        }
        match found.len() {
            0 => continue,
            1 => return Reading::Reread(found[0]),
            _ => return Reading::Ambiguous(found),
        }
    }
    Reading::Unbalanced
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn the_identity_as_written_is_balanced() {
        assert_eq!(reread(dec("245.80"), dec("-7.35"), dec("238.45")), Reading::Balanced);
        assert_eq!(reread(dec("-15.08"), dec("0.37"), dec("-14.71")), Reading::Balanced);
        assert_eq!(reread(dec("-238.45"), dec("0"), dec("-238.45")), Reading::Balanced);
    }

    #[test]
    fn a_fee_with_the_wrong_sign_is_reread_with_one_change() {
        // The real CIELO09 D line: flipping gross and net together would balance too, but takes two changes.
        assert_eq!(
            reread(dec("316.90"), dec("7.87"), dec("309.03")),
            Reading::Reread([dec("316.90"), dec("-7.87"), dec("309.03")])
        );
    }

    #[test]
    fn a_wrong_net_sign_is_reread() {
        assert_eq!(
            reread(dec("-10.00"), dec("0.50"), dec("9.50")),
            Reading::Reread([dec("-10.00"), dec("0.50"), dec("-9.50")])
        );
    }

    #[test]
    fn nothing_balances_when_the_magnitudes_disagree() {
        assert_eq!(reread(dec("100.00"), dec("-2.00"), dec("97.00")), Reading::Unbalanced);
    }

    #[test]
    fn two_single_changes_that_balance_are_ambiguous() {
        // 5 + 5 = 0 balances with either the gross or the fee negated.
        assert!(matches!(reread(dec("5"), dec("5"), dec("0")), Reading::Ambiguous(r) if r.len() == 2));
    }

    #[test]
    fn sums_past_the_decimal_range_never_balance() {
        assert_eq!(reread(Decimal::MAX, Decimal::MAX, dec("1")), Reading::Unbalanced);
    }
}
