-- API keys get a scope (auth/Scope). Keys made before scopes existed could do everything: they keep that (admin);
-- new keys say their scope (default write).
ALTER TABLE api_keys ADD COLUMN scope text NOT NULL DEFAULT 'admin' CHECK (scope IN ('read', 'trigger', 'write', 'admin'));
ALTER TABLE api_keys ALTER COLUMN scope SET DEFAULT 'write';
