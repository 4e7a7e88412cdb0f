-- What each attempt sent: {method, url, headers, body, body_is_payload, body_truncated}. The body is kept (its first
-- 4 KiB, like the response's) only when it is not the run's payload byte for byte (body_is_payload: the inspector shows
-- the payload). Credentials in it are [redacted], like everywhere in the attempt log. NULL for attempts that sent
-- nothing (a refused URL, a failing expression) and for attempts made before this column.
ALTER TABLE attempts ADD COLUMN request jsonb;
