-- Did the money land? (issue 19, item 3): a run's fourth area, `bank`, says what became of each payment an
-- acquirer announced (deposited, late, short, into another account, not at all) and which card-money credits
-- nobody announced. The code decides (reconcile::deposits); its items are kept whole in recon_item, settled
-- ones too (a deposit links payments and credits, which recon_link's one pair of lines cannot hold).
ALTER TABLE recon_item DROP CONSTRAINT recon_item_area_check;
ALTER TABLE recon_item ADD CONSTRAINT recon_item_area_check
    CHECK (area IN ('sales', 'receivables', 'adjustments', 'fees', 'bank'));
ALTER TABLE recon_item DROP CONSTRAINT recon_item_status_check;
ALTER TABLE recon_item ADD CONSTRAINT recon_item_status_check CHECK (
    (area = 'sales' AND status IN ('matched', 'divergent', 'missing_at_acquirer', 'missing_in_merchant', 'duplicate'))
    OR (area = 'receivables' AND status IN ('paid', 'paid_late', 'paid_divergent', 'overdue', 'pending', 'unexpected_payment'))
    OR (area = 'adjustments' AND status IN ('adjustment', 'cancellation', 'chargeback', 'unexplained_cancellation', 'unexplained_chargeback', 'rental', 'negotiation', 'lien', 'compensation', 'anticipation', 'other'))
    OR (area = 'fees' AND status IN ('ok', 'overcharged', 'undercharged', 'no_contract'))
    OR (area = 'bank' AND status IN ('deposited', 'deposited_late', 'deposited_short', 'not_deposited', 'wrong_account', 'unexpected_credit'))
);

-- Days no bank clears besides weekends ("feriados bancários nacionais"): a deposit's lateness is counted in
-- business days. National holidays (Lei 662/1949, Lei 6.802/1980, Lei 14.759/2023 for 20 November) and the
-- movable Carnival Monday and Tuesday, Good Friday and Corpus Christi, on which FEBRABAN's calendar closes
-- the banks. A year not listed here has only its weekends: add its rows (a test checks the movable dates
-- against Easter for the years listed).
CREATE TABLE ref_bank_holiday (
    day  date PRIMARY KEY,
    name text NOT NULL
);
INSERT INTO ref_bank_holiday (day, name)
SELECT make_date(y, m, d), name
  FROM generate_series(2020, 2030) y,
       (VALUES (1, 1, 'Confraternização Universal'), (4, 21, 'Tiradentes'), (5, 1, 'Dia do Trabalho'),
               (9, 7, 'Independência do Brasil'), (10, 12, 'Nossa Senhora Aparecida'), (11, 2, 'Finados'),
               (11, 15, 'Proclamação da República'), (12, 25, 'Natal')) fixed(m, d, name);
INSERT INTO ref_bank_holiday (day, name)
SELECT make_date(y, 11, 20), 'Dia Nacional de Zumbi e da Consciência Negra' FROM generate_series(2024, 2030) y;
-- Easter Sunday of each year; Carnival is 48 and 47 days before, Good Friday 2, Corpus Christi 60 after.
INSERT INTO ref_bank_holiday (day, name)
SELECT easter + offset_days, name
  FROM (VALUES (DATE '2020-04-12'), (DATE '2021-04-04'), (DATE '2022-04-17'), (DATE '2023-04-09'),
               (DATE '2024-03-31'), (DATE '2025-04-20'), (DATE '2026-04-05'), (DATE '2027-03-28'),
               (DATE '2028-04-16'), (DATE '2029-04-01'), (DATE '2030-04-21')) e(easter),
       (VALUES (-48, 'Carnaval (segunda-feira)'), (-47, 'Carnaval (terça-feira)'), (-2, 'Sexta-feira Santa'),
               (60, 'Corpus Christi')) movable(offset_days, name)
ON CONFLICT (day) DO NOTHING;
