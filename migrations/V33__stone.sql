-- Stone conciliation XML, layout 2.x (issue 20, item 2): the acquirer and its codes, as data. BrandId: only 1
-- (Visa), 2 (Mastercard) and 171 (Elo) are agreed by the sources (../shared/formats/stone.md 5.3); any other is
-- loaded raw and flagged.
INSERT INTO dim_acquirer (acquirer_key, code, name) VALUES (5, 'stone', 'Stone');

INSERT INTO ref_brand (acquirer_key, code, name) VALUES
    (5, '1', 'Visa'),
    (5, '2', 'Mastercard'),
    (5, '171', 'Elo');

INSERT INTO ref_settlement_type (acquirer_key, code, name, settlement) VALUES
    (5, '000', 'Não identificado', 'unknown'),
    (5, '001', 'Débito', 'debit'),
    (5, '002', 'Crédito', 'credit'),
    (5, '004', 'Voucher', 'voucher');

-- InstallmentType is the product.
INSERT INTO dim_product (acquirer_key, code, name) VALUES
    (5, '1', 'À vista'),
    (5, '2', 'Parcelado lojista'),
    (5, '3', 'Parcelado emissor');

INSERT INTO dim_posting_type (acquirer_key, code_set, code, name, category) VALUES
    (5, 'stone-v2', 'CAPTURE', 'Captura (venda)', 'sale'),
    (5, 'stone-v2', 'CANCELLATION', 'Cancelamento', 'cancellation'),
    (5, 'stone-v2', 'CHARGEBACK', 'Chargeback', 'chargeback'),
    (5, 'stone-v2', 'CHARGEBACK_REFUND', 'Reapresentação de chargeback', 'chargeback'),
    (5, 'stone-v2', 'ANTICIPATION', 'Parcela antecipada', 'anticipation'),
    (5, 'stone-v2', 'EV2', 'Transferência interna', 'other'),
    (5, 'stone-v2', 'EV5', 'Ajuste financeiro', 'adjustment'),
    (5, 'stone-v2', 'EV8', 'Split', 'other'),
    (5, 'stone-v2', 'EV10', 'Cobrança (aluguel, tarifa)', 'rental'),
    (5, 'stone-v2', 'EV12', 'Retenção de empréstimo', 'other'),
    (5, 'stone-v2', 'EV14', 'Garantia', 'lien'),
    (5, 'stone-v2', 'EV15', 'Cessão', 'negotiation'),
    (5, 'stone-v2', 'EV17', 'Antecipação: desembolso', 'anticipation'),
    (5, 'stone-v2', 'EV20', 'Antecipação: taxa', 'anticipation'),
    (5, 'stone-v2', 'EV22', 'Aluguel de POS', 'rental'),
    (5, 'stone-v2', 'EV23', 'Transferência interna', 'other'),
    (5, 'stone-v2', 'EV27', 'Ajuste financeiro', 'adjustment');

INSERT INTO ref_payment_status (acquirer_key, code_set, code, name, stage) VALUES
    (5, 'stone-v2', 'PREVISION', 'Previsto (FinancialTransactions)', 'scheduled'),
    (5, 'stone-v2', 'PAID', 'Liquidado (FinancialTransactionsAccounts)', 'paid');
