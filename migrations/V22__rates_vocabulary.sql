-- What a person types in a rates file, resolved against the reference tables (issue 18, item 4): a brand or
-- product by its code, its name or an alias (accents, case and spacing aside), and a merchant code checked
-- for the leading zeros a spreadsheet removes. Code tables are data: aliases are rows, not code.

-- The digits of a merchant's code at the acquirer (Cielo's EC: 10; Rede's PV: 9): a shorter all-digit code
-- in a rates file lost its leading zeros.
ALTER TABLE dim_acquirer ADD COLUMN merchant_code_digits smallint CHECK (merchant_code_digits BETWEEN 1 AND 20);
UPDATE dim_acquirer SET merchant_code_digits = 10 WHERE code = 'cielo';
UPDATE dim_acquirer SET merchant_code_digits = 9 WHERE code = 'rede';

-- Other names people use for a brand or a product; `alias` is written as people do, compared without accents,
-- case or extra spaces. A product alias may be qualified by the brand's name ("Visa débito").
CREATE TABLE ref_alias (
    acquirer_key smallint NOT NULL REFERENCES dim_acquirer,
    kind         text NOT NULL CHECK (kind IN ('brand', 'product')),
    alias        text NOT NULL,
    code         text NOT NULL,
    PRIMARY KEY (acquirer_key, kind, alias)
);

INSERT INTO ref_alias (acquirer_key, kind, alias, code) VALUES
    (1, 'brand', 'Master', '002'),
    (1, 'brand', 'MasterCard', '002'),
    (1, 'brand', 'American Express', '003'),
    (1, 'brand', 'Diners Club', '009'),
    (1, 'brand', 'JCB', '060'),
    (1, 'product', 'Visa débito', '041'),
    (1, 'product', 'Visa Electron', '041'),
    (1, 'product', 'Visa parcelado sem juros', '043'),
    (1, 'product', 'Mastercard débito', '011'),
    (1, 'product', 'Maestro débito', '011'),
    (1, 'product', 'Mastercard parcelado sem juros', '012'),
    (1, 'product', 'Elo débito', '071'),
    (1, 'product', 'Elo parcelado sem juros', '072'),
    (1, 'product', 'Amex parcelado sem juros', '083'),
    (1, 'product', 'Hipercard parcelado sem juros', '165');
