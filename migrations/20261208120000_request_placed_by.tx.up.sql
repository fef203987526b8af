-- The register contract that ended a request (application.PlacedByContract): when that
-- contract is cancelled or ends early, the city's rule (contract.reopen_requests) may give
-- the request back. No foreign key: the contract is the register's row, and a request
-- outlives a contract erased with its child's file only together with it.
ALTER TABLE application ADD COLUMN placed_by uuid;
CREATE INDEX application_placed_by ON application (tenant_id, placed_by) WHERE placed_by IS NOT NULL;
