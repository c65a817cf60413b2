-- Rede (ex-Redecard) EEVC / EEVD / EEFI: the acquirer, its reference data, and the columns its credits need.
-- Rede's record type is the posting type (code sets 'rede-eevc', 'rede-eevd', 'rede-eefi'); products are the
-- four sale modalities its files distinguish. Brand codes (one character) are loaded as they come, flagged
-- uncatalogued until a source for their names is at hand.

INSERT INTO dim_acquirer (acquirer_key, code, name) VALUES (2, 'rede', 'Rede');

INSERT INTO ref_settlement_type (acquirer_key, code, name, settlement) VALUES
    (2, '000', 'Não identificado', 'unknown'),
    (2, '001', 'Débito', 'debit'),
    (2, '002', 'Crédito', 'credit');

INSERT INTO dim_product (acquirer_key, code, name) VALUES
    (2, 'ROT', 'Crédito à vista (rotativo)'),
    (2, 'PSJ', 'Crédito parcelado sem juros (parcelado loja)'),
    (2, 'DEB', 'Débito à vista'),
    (2, 'PRE', 'Débito pré-datado'),
    (2, '000', 'Não informado (ajuste)');

INSERT INTO dim_posting_type (acquirer_key, code_set, code, name, category) VALUES
    (2, 'rede-eevc', '006', 'RV rotativo (crédito à vista)', 'sale'),
    (2, 'rede-eevc', '008', 'CV rotativo (venda a crédito à vista)', 'sale'),
    (2, 'rede-eevc', '012', 'CV parcelado sem juros', 'sale'),
    (2, 'rede-eevc', '014', 'Parcela de RV parcelado sem juros', 'sale'),
    (2, 'rede-eevc', '011', 'Ajuste a crédito', 'adjustment'),
    (2, 'rede-eevd', '11', 'Ajuste Net', 'adjustment'),
    (2, 'rede-eevd', '01', 'Resumo de vendas a débito', 'sale'),
    (2, 'rede-eevd', '05', 'CV de venda a débito', 'sale'),
    (2, 'rede-eefi', '034', 'Crédito de vendas (ordem de crédito)', 'sale'),
    (2, 'rede-eefi', '035', 'Ajuste Net / desagendamento', 'adjustment'),
    (2, 'rede-eefi', '043', 'Ajuste a crédito', 'adjustment'),
    (2, 'rede-eefi', '045', 'Débito liquidado', 'adjustment'),
    -- Not yet taken: the amount compensated so far is the net, the rest is in pending_amount.
    (2, 'rede-eefi', '044', 'Débito pendente', 'other'),
    (2, 'rede-eefi', '049', 'Desagendamento de parcela', 'cancellation');

ALTER TABLE fact_receivable_unit
    ADD COLUMN credit_document  text NOT NULL DEFAULT '',
    ADD COLUMN transaction_type text NOT NULL DEFAULT '';
ALTER TABLE fact_card_transaction ADD COLUMN adjustment_reason text NOT NULL DEFAULT '';
ALTER TABLE stage_record ADD COLUMN credit_document text, ADD COLUMN adjustment_reason text;
