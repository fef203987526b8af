-- A contract the portal entered when a family accepted an offer (issue 11): the offer
-- it came from (one contract per offer, whoever clicks twice), its care contract
-- document (Betreuungsvertrag, PDF in storage, made by a job after commit), and when
-- the signed papers came back to the facility.
ALTER TABLE contract
    ADD COLUMN offer_id           uuid,
    ADD COLUMN document_key       text CHECK (length(document_key) <= 512),
    ADD COLUMN document_at        timestamptz,
    ADD COLUMN papers_received_at timestamptz,
    ADD COLUMN papers_received_by uuid;
CREATE UNIQUE INDEX contract_one_per_offer ON contract (tenant_id, offer_id) WHERE offer_id IS NOT NULL;
