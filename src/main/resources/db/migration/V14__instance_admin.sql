-- The instance administrator: the first registered user (here, on an existing instance, the oldest one) may change
-- instance-wide settings and make other users administrators. auth owns both.
ALTER TABLE users ADD COLUMN instance_admin boolean NOT NULL DEFAULT false;

UPDATE users SET instance_admin = true
 WHERE id = (SELECT id FROM users ORDER BY created_at, id LIMIT 1);

-- One row at most: settings an instance administrator changed at run time, over the configuration's defaults.
-- registration NULL = as configured (kikonect.auth.registration).
CREATE TABLE instance_settings (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    registration text CHECK (registration IN ('open', 'invitation', 'closed')),
    updated_at   timestamptz NOT NULL,
    updated_by   bigint REFERENCES users (id) ON DELETE SET NULL
);
