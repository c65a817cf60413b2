-- PagBank (PagSeguro) EDI v3.00 (issue 20, item 3): the acquirer and the codes it writes, as data. No public
-- table of PagBank's codes exists (../shared/formats/pagbank.md): what is here is what the official test
-- scenarios and the manual's quoted pages show; any other code is loaded raw and flagged.
INSERT INTO dim_acquirer (acquirer_key, code, name) VALUES (4, 'pagbank', 'PagBank');

-- Brands as `instituicao_financeira` writes them.
INSERT INTO ref_brand (acquirer_key, code, name) VALUES
    (4, 'VISA', 'Visa'),
    (4, 'VISA ELECTRON', 'Visa'),
    (4, 'MASTERCARD', 'Mastercard'),
    (4, 'MAESTRO', 'Maestro'),
    (4, 'ELO', 'Elo'),
    (4, 'AMEX', 'Amex'),
    (4, 'HIPERCARD', 'Hipercard'),
    (4, 'BANRICOMPRAS', 'Banricompras'),
    (4, 'BOLETO', 'Boleto'),
    (4, 'BACEN', 'Pix');

INSERT INTO ref_settlement_type (acquirer_key, code, name, settlement) VALUES
    (4, '000', 'Não identificado', 'unknown'),
    (4, '001', 'Débito', 'debit'),
    (4, '002', 'Crédito', 'credit'),
    (4, '011', 'Pix', 'pix');

-- meio_pagamento (formats::pagbank::PAYMENT_MEANS: a test keeps them equal).
INSERT INTO dim_product (acquirer_key, code, name) VALUES
    (4, '1', 'Débito online'),
    (4, '2', 'Boleto'),
    (4, '3', 'Cartão de crédito'),
    (4, '8', 'Cartão de débito'),
    (4, '11', 'Pix'),
    (4, '14', 'Crédito pré-pago'),
    (4, '15', 'Débito pré-pago');

-- tipo_evento: 1 a sale (or its payment); 4 (with tipo_transacao 4) an automatic cashout to the bank.
INSERT INTO dim_posting_type (acquirer_key, code_set, code, name, category) VALUES
    (4, 'pagbank-v3', '1', 'Venda / pagamento', 'sale'),
    (4, 'pagbank-v3', '4', 'Saque automático (cashout)', 'other');

-- status_pagamento: 1 on every transactional record (forecast), 3 on every financial one (settled).
INSERT INTO ref_payment_status (acquirer_key, code_set, code, name, stage) VALUES
    (4, 'pagbank-v3', '1', 'Previsto', 'scheduled'),
    (4, 'pagbank-v3', '3', 'Pago', 'paid');
