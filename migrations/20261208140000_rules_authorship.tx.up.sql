-- A version saved in the staff area names who saved it and why (rules editor, branding,
-- restore); a version from a file names the file in source.
ALTER TABLE tenant_rules ADD COLUMN author_id uuid;
ALTER TABLE tenant_rules ADD COLUMN reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 1000);
