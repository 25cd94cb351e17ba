-- Each row of the copied file with the SQL's verdict on it, in "state":
--   'ok'    the address passes the fast-path rules and every value can be kept: normalized here;
--   'noat'  invalid for one reason only, no @-sign (filed with email-validator's own words);
--   NULL    anything else: leads.importers.rows.check_row decides it in Python.
--
-- The rules come in as parameters built from their public names in leads.normalization
-- (address pattern, lengths, special-use TLDs, dot-and-tag-blind domains) and
-- leads.importers.rows (countries, time zones, field lengths); see PostgresFileImport.params().
-- The placeholders are the column lists built for this file's column layout.
-- OFFSET 0 keeps every step a subquery of its own, so each expression is computed once per row.
WITH
trimmed AS (
    -- The cells, trimmed of what str.strip() removes when some cell may need it.
    SELECT f.*, $trimmed_cells
    FROM $file_table f
    OFFSET 0
),
shaped AS (
    -- The address split at its @-sign; first and last name taken from a full name if need be.
    SELECT a.*,
           a.low ~ %(email_re)s AS shaped,
           split_part(a.low, '@', 1) AS local,
           split_part(a.low, '@', 2) AS dom,
           $field_values
    FROM trimmed a
    OFFSET 0
),
judged AS (
    SELECT b.*,
           CASE WHEN ($fields_ok) AND (
                    -- email_ok: the fast-path address rules (normalization.validate_and_normalize_email)
                    b.shaped
                    AND char_length(b.low) <= %(email_max_length)s
                    AND char_length(b.local) <= %(local_part_max_length)s
                    AND char_length(b.dom) <= %(domain_max_length)s
                    -- Cheap guards first: PostgreSQL's regex engine is slow with bounded repetition.
                    AND CASE WHEN char_length(b.dom) > %(label_max_length)s
                             THEN b.dom !~ %(too_long_label)s ELSE true END
                    AND CASE WHEN strpos(b.dom, '--') > 0 THEN b.dom !~ %(double_dash_label)s ELSE true END
                    AND reverse(split_part(reverse(b.dom), '.', 1)) <> ALL(%(special_tlds)s)
                    AND NOT (%(blind)s::jsonb ? b.dom AND replace(split_part(b.local, '+', 1), '.', '') = '')
                ) THEN 'ok'
                WHEN ($fields_ok) AND (
                    -- no_at: email-validator would refuse it for the missing @-sign alone.
                    NOT b.shaped AND b.addr <> '' AND octet_length(b.addr) = char_length(b.addr)
                    AND strpos(b.addr, '@') = 0 AND strpos(b.addr, '<') = 0 AND strpos(b.addr, '"') = 0
                ) THEN 'noat'
           END AS state,
           $kept_values
    FROM shaped b
    OFFSET 0
)
SELECT c.ord, c.raw, c.addr AS email, c.state,
       (CASE WHEN c.state <> 'ok' THEN NULL
             WHEN (%(blind)s::jsonb ->> c.dom) IS NOT NULL
             THEN replace(split_part(c.local, '+', 1), '.', '') || '@' || (%(blind)s::jsonb ->> c.dom)
             ELSE c.low END) COLLATE "C" AS normalized,
       (CASE WHEN c.state = 'ok' THEN coalesce((%(blind)s::jsonb ->> c.dom), c.dom) END) COLLATE "C" AS domain,
       $kept_columns,
       CASE WHEN c.state IS NULL THEN ARRAY[$raw_cells] END AS cells
FROM judged c
