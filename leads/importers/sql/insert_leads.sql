-- Every row SQL judged ('ok', 'noat') or Python resolved gets one verdict, in file order:
-- invalid (no @-sign), a duplicate of an earlier row, suppressed, already in the campaign, or
-- none: then it is inserted as a lead, with the values flagged for it. One statement returns the
-- counters of the report.
-- The placeholders: the field columns, the suppression look-ups (only the kinds the client has),
-- the report's reasons by verdict, and the temporary tables' names.
WITH
candidates AS (
    SELECT ord, raw, email, normalized, domain, $fields, state
    FROM $checked_table WHERE state IS NOT NULL
    UNION ALL
    SELECT ord, raw, email, normalized, domain, $fields, 'ok' FROM $resolved_table
),
ranked AS (
    SELECT c.*, row_number() OVER (PARTITION BY normalized ORDER BY ord) AS nth
    FROM candidates c
),
verdicts AS MATERIALIZED (
    SELECT r.*,
           CASE WHEN r.state = 'noat' THEN 'invalid'
                WHEN r.nth > 1 THEN 'duplicate_in_file'
                $suppression_cases
                WHEN l.id IS NOT NULL THEN 'duplicate_in_campaign' END AS verdict
    FROM ranked r
    $suppression_joins
    LEFT JOIN leads_lead l
           ON l.campaign_id = %(campaign)s AND l.normalized_email = r.normalized
),
inserted AS (
    INSERT INTO leads_lead (
        $lead_columns, campaign_id, source, source_import_id, enrichment,
        score, state, state_reason, created_at, updated_at
    )
    SELECT email, normalized, domain, $fields, %(campaign)s, %(source)s, %(import)s,
           '{}'::jsonb, 0, 'new', '', %(now)s, %(now)s
    FROM verdicts WHERE verdict IS NULL
    -- No ORDER BY: the rows already come in index order from the window above, and a second
    -- sort of every row is costly (docs/PERFORMANCE.md). No ON CONFLICT (it probes the unique
    -- index twice per row): addresses already in the campaign were classified above; one that
    -- another import adds meanwhile raises a unique violation (or a deadlock), and the batch
    -- path imports the file instead.
    RETURNING 1
),
issues AS (
    INSERT INTO leads_leadimportissue (lead_import_id, row_number, kind, field, reason, value)
    SELECT %(import)s, ord + 1, split_part(verdict, ':', 1), 'email',
           CASE verdict $reason_cases END,
           -- As the batch path files them: the address as given, trimmed for rows already in
           -- the campaign.
           left(CASE WHEN verdict = 'duplicate_in_campaign' THEN email ELSE raw END,
                %(issue_value_max_length)s)
    FROM verdicts WHERE verdict IS NOT NULL
    ORDER BY ord
    RETURNING kind
),
warned AS (
    INSERT INTO leads_leadimportissue (lead_import_id, row_number, kind, field, reason, value)
    SELECT %(import)s, w.ord + 1, 'flagged', w.field, w.reason, w.value
    FROM $warnings_table w JOIN verdicts v ON v.ord = w.ord AND v.verdict IS NULL
    ORDER BY w.seq
    RETURNING row_number
)
SELECT (SELECT count(*) FROM inserted),
       count(*) FILTER (WHERE kind = 'invalid'),
       count(*) FILTER (WHERE kind = 'duplicate_in_file'),
       count(*) FILTER (WHERE kind = 'suppressed'),
       count(*) FILTER (WHERE kind = 'duplicate_in_campaign'),
       (SELECT count(DISTINCT row_number) FROM warned)
FROM issues
