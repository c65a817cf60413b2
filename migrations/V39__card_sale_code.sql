-- A card transaction's sale code, kept with it (issue 18, item 1): the identity of its sale at its acquirer,
-- which every reconciliation groups and sorts a million lines by. Computed on every line at every run it cost
-- ~0.7 s of the acquirer sales query alone (300 000 sales); a stored generated column costs it once, at load,
-- and is the rule's one definition.
--
-- The unique sale code when there is one (a digit other than 0 in it), else NSU, authorization code and sale
-- date (the authorization date, else the capture date), as `db::recon::inputs` groups installments into
-- sales. The date is spelled YYYY-MM-DD whatever the session's DateStyle (to_char with a fixed numeric
-- pattern does not depend on it: hence IMMUTABLE, which a generated column requires).
CREATE FUNCTION card_sale_code(unique_sale_code text, nsu text, authorization_code text, sale_date date)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN translate(unique_sale_code, '123456789', '') <> unique_sale_code THEN unique_sale_code
            ELSE nsu || '/' || authorization_code || '/' || to_char(sale_date, 'YYYY-MM-DD') END;

ALTER TABLE fact_card_transaction_all ADD COLUMN sale_code text GENERATED ALWAYS AS (
    card_sale_code(unique_sale_code, nsu, authorization_code, coalesce(authorization_date, capture_date))) STORED;
COMMENT ON COLUMN fact_card_transaction_all.sale_code IS
    'The sale at its acquirer: the unique sale code when it has a digit other than 0, else NSU/authorization code/sale date';

-- The view lists the table's columns as they were when it was made: made again, with the new one.
CREATE OR REPLACE VIEW fact_card_transaction AS
    SELECT * FROM fact_card_transaction_all t
     WHERE NOT EXISTS (SELECT 1 FROM unattached_file u WHERE u.file_id = t.file_id);
