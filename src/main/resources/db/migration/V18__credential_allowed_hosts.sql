-- Issue 22: a credential is bound to the hosts it may be sent to (exact hosts, or *.example.com for any subdomain); a
-- step whose URL goes elsewhere fails its attempt without sending. Existing credentials get the hosts of the steps
-- that use them with a fixed URL; one used only behind a templated URL gets none, and its first attempt says which
-- host to add (refused rather than sent anywhere).
ALTER TABLE credentials ADD COLUMN allowed_hosts text[] NOT NULL DEFAULT '{}';

UPDATE credentials c
   SET allowed_hosts = coalesce((
         SELECT array_agg(DISTINCT lower(substring(s ->> 'url' from '^[A-Za-z]+://(?:[^@/]*@)?(\[[^]]+\]|[^/:?#]+)')))
           FROM workflows w, jsonb_array_elements(CASE WHEN jsonb_typeof(w.steps) = 'array' THEN w.steps ELSE '[]'::jsonb END) s
          WHERE w.workspace_id = c.workspace_id AND s ->> 'credential' = c.name
            AND s ->> 'url' ~* '^https?://' AND position('{{' in s ->> 'url') = 0), '{}');
