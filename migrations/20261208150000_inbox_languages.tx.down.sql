DROP TABLE IF EXISTS inbox_message_translation;
ALTER TABLE inbox_message DROP COLUMN IF EXISTS mailed, DROP COLUMN IF EXISTS lang;
