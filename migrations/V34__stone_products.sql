-- Stone's product is the card's AccountType and the sale's InstallmentType together (issue 20, item 5):
-- InstallmentType alone ('1' at once) made a debit sale and a credit sale at once one product, which no
-- contract prices alike, so the fee audit could not tell them apart. Codes `{AccountType}-{InstallmentType}`
-- (formats::stone::PRODUCTS; a test keeps the two the same).
INSERT INTO dim_product (acquirer_key, code, name) VALUES
    (5, '1-1', 'Débito'),
    (5, '2-1', 'Crédito à vista'),
    (5, '2-2', 'Crédito parcelado lojista'),
    (5, '2-3', 'Crédito parcelado emissor'),
    (5, '3-1', 'Pré-pago débito'),
    (5, '4-1', 'Pré-pago crédito à vista'),
    (5, '4-2', 'Pré-pago crédito parcelado lojista'),
    (5, '4-3', 'Pré-pago crédito parcelado emissor'),
    (5, '5-1', 'Voucher')
ON CONFLICT (acquirer_key, code) DO UPDATE SET name = EXCLUDED.name, catalogued = true;

-- Facts loaded before keep what they said, in the new codes: the account type from their settlement type
-- (001 debit → 1, 002 credit → 2, 004 voucher → 5; a prepaid card, 3 or 4, is read as debit or credit, the
-- only thing the old facts kept of it). A contracted rate written against the old codes ('1', '2', '3') no
-- longer applies: the fee audit says "no contracted rate" of those sales until the contract is re-imported.
UPDATE fact_card_transaction t SET product_key = r.new_key
  FROM (SELECT o.product_key AS old_key, pm.payment_method_key, n.product_key AS new_key
                FROM dim_product o
                JOIN dim_payment_method pm ON pm.acquirer_key = 5
                JOIN dim_product n ON n.acquirer_key = 5
                     AND n.code = CASE pm.settlement_type_code WHEN '001' THEN '1' WHEN '002' THEN '2'
                                                               WHEN '004' THEN '5' END || '-' || o.code
               WHERE o.acquirer_key = 5 AND o.code IN ('1', '2', '3')) r
 WHERE t.product_key = r.old_key AND t.payment_method_key = r.payment_method_key;

UPDATE fact_receivable_unit u SET product_key = r.new_key
  FROM (SELECT o.product_key AS old_key, pm.payment_method_key, n.product_key AS new_key
                FROM dim_product o
                JOIN dim_payment_method pm ON pm.acquirer_key = 5
                JOIN dim_product n ON n.acquirer_key = 5
                     AND n.code = CASE pm.settlement_type_code WHEN '001' THEN '1' WHEN '002' THEN '2'
                                                               WHEN '004' THEN '5' END || '-' || o.code
               WHERE o.acquirer_key = 5 AND o.code IN ('1', '2', '3')) r
 WHERE u.product_key = r.old_key AND u.payment_method_key = r.payment_method_key;

DELETE FROM dim_product p
 WHERE p.acquirer_key = 5 AND p.code IN ('1', '2', '3')
   AND NOT EXISTS (SELECT 1 FROM fact_card_transaction t WHERE t.product_key = p.product_key)
   AND NOT EXISTS (SELECT 1 FROM fact_receivable_unit u WHERE u.product_key = p.product_key);
