-- The merchant's bank accounts as the acquirers' own files declare them (issue 19, item 2): where each
-- acquirer says it pays each merchant (Cielo's D records and Rede's EEFI credits carry bank, branch and
-- account). Keyed like dim_bank_account (bank and number with its check digit, digits only, no leading
-- zeros), so a bank statement's account is joined to the acquirer payments it should receive.
CREATE VIEW acquirer_declared_account AS
SELECT DISTINCT a.code AS acquirer,
       coalesce(nullif(u.payment_merchant_code, ''), e.merchant_code) AS merchant_code,
       u.bank_code AS bank, u.branch_code AS branch, u.account_number || u.account_check_digit AS number,
       coalesce(nullif(ltrim(regexp_replace(u.bank_code, '[^0-9]', '', 'g'), '0'), ''), '0') AS bank_norm,
       coalesce(nullif(ltrim(regexp_replace(u.account_number || u.account_check_digit, '[^0-9]', '', 'g'), '0'), ''),
                '0') AS number_norm
  FROM fact_receivable_unit u
  JOIN dim_establishment e ON e.establishment_key = u.establishment_key
  JOIN dim_acquirer a ON a.acquirer_key = e.acquirer_key
 WHERE u.account_number ~ '[1-9]';
COMMENT ON VIEW acquirer_declared_account IS
    'The accounts each acquirer says it pays each merchant into (from its payment records), keyed like dim_bank_account';
