-- Children by birth date: a contract entered for a new child first looks for the same
-- child already under contract (same names and birth date), which must not read every
-- child of a city of Berlin's size.
CREATE INDEX child_birth ON child (tenant_id, birth_date);
