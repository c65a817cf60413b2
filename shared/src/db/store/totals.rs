//! What the database holds: loaded facts per merchant and file type.

use super::*;

/// Loaded facts per merchant and file type: what the database now holds.
#[derive(Debug, Clone, Serialize)]
pub struct FactTotals {
    pub merchant_code: String,
    pub file_type: String,
    pub files: i64,
    pub receivable_units: i64,
    pub transactions: i64,
    pub sales: i64,
    pub adjustments: i64,
    pub gross: Decimal,
    pub fee: Decimal,
    pub net: Decimal,
}

pub async fn fact_totals(db: &impl GenericClient) -> Result<Vec<FactTotals>> {
    let rows = db
        .query(
            "SELECT e.merchant_code, t.file_type, count(DISTINCT t.file_id),
                    (SELECT count(*) FROM fact_receivable_unit u JOIN dim_establishment ue USING (establishment_key)
                      WHERE ue.merchant_code = e.merchant_code AND u.file_type = t.file_type),
                    count(*), count(*) FILTER (WHERE pt.is_sale), count(*) FILTER (WHERE NOT pt.is_sale),
                    coalesce(sum(t.gross_amount), 0), coalesce(sum(t.fee_amount), 0), coalesce(sum(t.net_amount), 0)
             FROM fact_card_transaction t
             JOIN dim_establishment e USING (establishment_key)
             JOIN dim_posting_type pt USING (posting_type_key)
             GROUP BY e.merchant_code, t.file_type
             UNION ALL
             -- Pix: lines are Pix records; sales are type 01, the rest adjustments.
             SELECT e.merchant_code, p.file_type, count(DISTINCT p.file_id), 0, count(*),
                    count(*) FILTER (WHERE tt.is_sale), count(*) FILTER (WHERE NOT coalesce(tt.is_sale, false)),
                    sum(p.gross_amount), sum(p.fee_amount), sum(p.net_amount)
             FROM fact_pix_transaction p
             JOIN dim_establishment e USING (establishment_key)
             LEFT JOIN ref_pix_transaction_type tt ON tt.acquirer_key = e.acquirer_key AND tt.code = p.transaction_type_code
             GROUP BY e.merchant_code, p.file_type
             UNION ALL
             -- Negotiations (v15 file 15, layout 001 anticipation file 06): lines are receivables sold (B);
             -- gross/net of the summaries (A), fee = the discount. In a file type that also carries sales
             -- (Getnet's daily payment, PagBank's cashouts), a row of their own: other money, never added to
             -- the sales'.
             SELECT e.merchant_code,
                    CASE WHEN f.file_type IN (SELECT DISTINCT file_type FROM fact_card_transaction)
                         THEN f.file_type || ' negotiations' ELSE f.file_type END,
                    count(DISTINCT n.file_id), 0,
                    (SELECT count(*) FROM fact_negotiated_receivable b JOIN dim_establishment be USING (establishment_key)
                      JOIN statement_file bf ON bf.file_id = b.file_id
                      WHERE be.merchant_code = e.merchant_code AND bf.file_type = f.file_type),
                    0, 0, sum(n.gross_amount), sum(n.net_amount - n.gross_amount), sum(n.net_amount)
             FROM fact_receivables_negotiation n
             JOIN dim_establishment e USING (establishment_key)
             JOIN statement_file f ON f.file_id = n.file_id
             GROUP BY e.merchant_code, f.file_type
             ORDER BY 1, 2",
            &[],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| FactTotals {
            merchant_code: r.get(0),
            file_type: r.get(1),
            files: r.get(2),
            receivable_units: r.get(3),
            transactions: r.get(4),
            sales: r.get(5),
            adjustments: r.get(6),
            gross: r.get(7),
            fee: r.get(8),
            net: r.get(9),
        })
        .collect())
}
