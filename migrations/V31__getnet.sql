-- Getnet (Santander) Extrato Eletrônico V10.x (issue 20, item 1): the acquirer and its code tables, as data.
-- Products (Tabela I) say the brand and whether a sale settles as debit or credit; adjustments (Tabela II) are
-- posting types `AJ` + reason; the RV's "indicador de tipo de pagamento" is its payment status. The parser
-- holds the same tables (formats::getnet::PRODUCTS, ADJUSTMENT_REASONS): a test keeps them equal.
-- A Getnet merchant code (EC) is read without its padding, so no digit count is declared for it.
INSERT INTO dim_acquirer (acquirer_key, code, name) VALUES (3, 'getnet', 'Getnet');

INSERT INTO ref_brand (acquirer_key, code, name) VALUES
    (3, 'VISA', 'Visa'),
    (3, 'MASTERCARD', 'Mastercard'),
    (3, 'ELO', 'Elo'),
    (3, 'AMEX', 'Amex'),
    (3, 'HIPERCARD', 'Hipercard');

INSERT INTO ref_settlement_type (acquirer_key, code, name, settlement) VALUES
    (3, '000', 'Não identificado', 'unknown'),
    (3, '001', 'Débito', 'debit'),
    (3, '002', 'Crédito', 'credit');

INSERT INTO dim_product (acquirer_key, code, name) VALUES
    (3, '1', 'Título'),
    (3, '2', 'Convênio'),
    (3, '3', 'Crédito Digital'),
    (3, '00', 'Cupom Eletrônico'),
    (3, 'CE', 'Cupom Eletrônico'),
    (3, 'CP', 'Cupom Papel'),
    (3, 'SM', 'Cartão Crédito Mastercard'),
    (3, 'SV', 'Cartão Crédito Visa'),
    (3, 'SR', 'Cartão Débito Maestro'),
    (3, 'SE', 'Cartão Débito Visa Electron'),
    (3, 'PV', 'Pagamento Carnê – Débito Visa Electron'),
    (3, 'PM', 'Pagamento Carnê – Débito Maestro'),
    (3, 'PE', 'Pagamento Carnê – Débito Elo'),
    (3, 'PC', 'Cartão Crédito Pré-Pago Mastercard'),
    (3, 'PT', 'Cartão Débito Pré-Pago Maestro'),
    (3, 'PS', 'Cartão Crédito Pré-Pago Visa'),
    (3, 'PN', 'Cartão Débito Pré-Pago Visa Electron'),
    (3, 'PR', 'Pagamento Recorrente'),
    (3, 'BM', 'BNDES – Crédito Mastercard'),
    (3, 'BV', 'BNDES – Crédito Visa'),
    (3, 'EC', 'Cartão Crédito Elo'),
    (3, 'ED', 'Cartão Débito Elo'),
    (3, 'AC', 'Cartão Crédito Amex'),
    (3, 'HC', 'Cartão Crédito Hiper/Hipercard'),
    (3, 'CM', 'Crediário Mastercard'),
    (3, 'CV', 'Crediário Visa'),
    (3, 'CL', 'Crediário Elo'),
    (3, 'CA', 'Crediário Amex'),
    (3, 'CH', 'Crediário Hiper/Hipercard'),
    (3, 'PL', 'Cartão Crédito Pré-Pago Elo'),
    (3, 'PO', 'Cartão Débito Pré-Pago Elo'),
    (3, 'PH', 'Cartão Crédito Pré-Pago Hipercard'),
    (3, 'PX', 'Cartão Crédito Pré-Pago Amex');

INSERT INTO dim_posting_type (acquirer_key, code_set, code, name, category) VALUES
    (3, 'getnet-v10', 'RV', 'Resumo de vendas (RV)', 'sale'),
    (3, 'getnet-v10', 'CV', 'Comprovante de venda (CV)', 'sale'),
    (3, 'getnet-v10', 'AJ01', 'Ajuste: Ajuste a crédito ou a débito', 'adjustment'),
    (3, 'getnet-v10', 'AJ02', 'Ajuste: Aluguel de POS', 'rental'),
    (3, 'getnet-v10', 'AJ03', 'Ajuste: Cancelamento', 'cancellation'),
    (3, 'getnet-v10', 'AJ04', 'Ajuste: Chargeback', 'chargeback'),
    (3, 'getnet-v10', 'AJ05', 'Ajuste: Recarga telecom', 'other'),
    (3, 'getnet-v10', 'AJ06', 'Ajuste: Bilhetagem', 'other'),
    (3, 'getnet-v10', 'AJ07', 'Ajuste: Consulta Serasa', 'other'),
    (3, 'getnet-v10', 'AJ08', 'Ajuste: Aluguel de verticais', 'rental'),
    (3, 'getnet-v10', 'AJ09', 'Ajuste: Carga e recarga cartão pré-pago', 'other'),
    (3, 'getnet-v10', 'AJ10', 'Ajuste: Manutenção de cartão', 'other'),
    (3, 'getnet-v10', 'AJ11', 'Ajuste: Venda de cartão', 'other'),
    (3, 'getnet-v10', 'AJ12', 'Ajuste: Cancelamento com motivo de estorno', 'cancellation'),
    (3, 'getnet-v10', 'AJ13', 'Ajuste: Recarga com cartão', 'other'),
    (3, 'getnet-v10', 'AJ14', 'Ajuste: Plataforma digital', 'other'),
    (3, 'getnet-v10', 'AJ15', 'Ajuste: GetData', 'other'),
    (3, 'getnet-v10', 'AJ16', 'Ajuste: Reversão de chargeback', 'chargeback'),
    (3, 'getnet-v10', 'AJ20', 'Ajuste: Revogação de contrato (CIP)', 'other');

-- Indicador de tipo de pagamento (type 1 seq 20, type 3 seq 16): LQ is not in the manual; real V10.1 files
-- write it for a settled RV (../shared/formats/getnet.md, 11.3).
INSERT INTO ref_payment_status (acquirer_key, code_set, code, name, stage) VALUES
    (3, 'getnet-v10', 'PF', 'Previsão de pagamento futuro', 'scheduled'),
    (3, 'getnet-v10', 'PG', 'Pagamento normal', 'paid'),
    (3, 'getnet-v10', 'LQ', 'Liquidado', 'paid'),
    (3, 'getnet-v10', 'AC', 'Antecipação de crédito', 'paid'),
    (3, 'getnet-v10', 'RA', 'Rejeição de antecipação', 'rejected'),
    (3, 'getnet-v10', 'PR', 'Pagamento da antecipação rejeitada', 'paid'),
    (3, 'getnet-v10', 'PD', 'Pagamento pendente', 'pending'),
    (3, 'getnet-v10', 'CI', 'Cobrança interna', 'debited'),
    (3, 'getnet-v10', 'CS', 'Cessão de crédito', 'paid');

-- A line longer than its record whose extra bytes are blank (real Getnet headers are 401 bytes).
ALTER TABLE statement_anomaly DROP CONSTRAINT statement_anomaly_kind_check;
ALTER TABLE statement_anomaly ADD CONSTRAINT statement_anomaly_kind_check
    CHECK (kind IN ('sign_contradicts_amounts', 'blank_code', 'right_trimmed_line', 'padded_line', 'unknown_code',
                    'restates_earlier_facts', 'charset_not_as_declared', 'unreadable_optional_field',
                    'comma_decimal', 'missing_id', 'repeated_id', 'balance_not_final'));
