-- Rede EEFI 036: antecipação (RAV), an installment credit paid before its due date less the anticipation cost.
-- Loaded as a receivable unit whose gross is the credit as scheduled and whose fee is what anticipating it cost.
INSERT INTO dim_posting_type (acquirer_key, code_set, code, name, category) VALUES
    (2, 'rede-eefi', '036', 'Antecipação de crédito (RAV)', 'anticipation');
