-- Rede EEVC IATA sales (airlines and travel agencies): the RV (016), its sales (018) and its installments (020),
-- under a product of their own; the boarding fee ("taxa de embarque") is kept with each sale.
INSERT INTO dim_product (acquirer_key, code, name) VALUES
    (2, 'IAT', 'Crédito IATA (companhias aéreas e agências de turismo)');

INSERT INTO dim_posting_type (acquirer_key, code_set, code, name, category) VALUES
    (2, 'rede-eevc', '016', 'RV IATA', 'sale'),
    (2, 'rede-eevc', '018', 'CV IATA', 'sale'),
    (2, 'rede-eevc', '020', 'Parcela de RV IATA', 'sale');
