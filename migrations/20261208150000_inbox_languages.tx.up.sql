-- An inbox message keeps what was sent: subject and body stay the wording the recipient
-- got (and, when mailed, the mail's), and lang names that language. The city's other
-- languages are worded from the same facts at the same moment and kept beside it, so a
-- parent who reads the portal in English can read a German notice in English without the
-- record of what was sent changing. Messages from before have lang '' and one wording.
ALTER TABLE inbox_message
    ADD COLUMN lang   text    NOT NULL DEFAULT '' CHECK (lang = '' OR lang ~ '^[a-z]{2}$'),
    ADD COLUMN mailed boolean NOT NULL DEFAULT false;

CREATE TABLE inbox_message_translation (
    tenant_id  uuid NOT NULL,
    message_id uuid NOT NULL,
    lang       text NOT NULL CHECK (lang ~ '^[a-z]{2}$'),
    subject    text NOT NULL CHECK (length(subject) <= 300),
    body       text NOT NULL CHECK (length(body) <= 10000),
    PRIMARY KEY (tenant_id, message_id, lang),
    FOREIGN KEY (tenant_id, message_id) REFERENCES inbox_message (tenant_id, id) ON DELETE CASCADE
);
SELECT kitaportal_enable_tenant_rls('inbox_message_translation');
