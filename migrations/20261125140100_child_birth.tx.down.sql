DROP INDEX IF EXISTS child_birth;
