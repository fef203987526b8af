package contract

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/audit"
	"kitaportal/internal/availability"
	"kitaportal/internal/family"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/outbox"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
)

// SourcePortal marks a contract the portal entered when a family accepted an offer.
const SourcePortal = "portal"

// FromOffer is the accepted offer a contract is entered for.
type FromOffer struct {
	OfferID    uuid.UUID
	ChildID    uuid.UUID
	FacilityID uuid.UUID
	GroupID    *uuid.UUID
	CareHours  int
	Start      date.Date
}

// EnterForOffer enters the contract of an accepted offer in the register, in the
// caller's transaction, under the register's rules (one contract per child and period,
// ages, scope, the planned end); the facility's availability follows, and the care
// contract's document is made by a job after commit. For an offer already entered it
// answers that contract (a second acceptance is the first one).
func EnterForOffer(ctx context.Context, tx bun.Tx, t *tenant.Tenant, in FromOffer, today date.Date) (uuid.UUID, error) {
	existing, err := OfOffer(ctx, tx, t.ID, in.OfferID)
	if err == nil {
		return existing, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return uuid.Nil, err
	}
	f, err := provider.RefOf(ctx, tx, t.ID, in.FacilityID)
	if err != nil {
		return uuid.Nil, err
	}
	var group uuid.UUID
	if in.GroupID != nil {
		group = *in.GroupID
	}
	groupHours, err := groupTerms(ctx, tx, t.ID, f, group)
	if err != nil {
		return uuid.Nil, err
	}
	names, err := family.ChildNames(ctx, tx, t.ID, []uuid.UUID{in.ChildID})
	if err != nil {
		return uuid.Nil, err
	}
	if len(names) == 0 {
		return uuid.Nil, ErrNotFound
	}
	k := &Contract{ID: uuid.Must(uuid.NewV7()), FacilityID: f.ID, Facility: f.Name, ChildID: in.ChildID, GroupID: in.GroupID,
		CareHours: in.CareHours, Start: in.Start, Status: StatusActive, Source: SourcePortal,
		FirstName: names[0].FirstName, LastName: names[0].LastName, BirthDate: names[0].Birth}
	if k.End, err = Check(termsOf(t, f, k, groupHours), k.Start, date.Date{}); err != nil {
		return uuid.Nil, err
	}
	if err := insertContract(ctx, tx, t.ID, k, &in.OfferID); err != nil {
		return uuid.Nil, err
	}
	if err := availability.Refresh(ctx, tx, t, today, k.FacilityID); err != nil {
		return uuid.Nil, err
	}
	if err := audit.Record(ctx, tx, t.ID, audit.Actor{Kind: "system", Label: "offer accepted"}, audit.Event{Action: ActionCreated,
		ObjectKind: "contract", ObjectID: k.ID.String(), ChildIDs: []uuid.UUID{k.ChildID},
		Details: map[string]any{"facility_id": k.FacilityID, "source": SourcePortal, "offer_id": in.OfferID,
			"start_date": k.Start, "end_date": k.End, "care_hours": k.CareHours}}); err != nil {
		return uuid.Nil, err
	}
	return k.ID, outbox.Add(ctx, tx, outbox.Message{Type: TaskDocument, TenantID: &t.ID,
		Payload: documentJob{TenantID: t.ID, ContractID: k.ID}, TaskID: uuid.NewSHA1(k.ID, []byte(TaskDocument))})
}

// OfOffer is the contract entered for offer offerID; ErrNotFound while there is none.
func OfOffer(ctx context.Context, tx bun.IDB, tenantID, offerID uuid.UUID) (contractID uuid.UUID, err error) {
	err = tx.QueryRowContext(ctx, `SELECT id FROM contract WHERE tenant_id = ? AND offer_id = ?`, tenantID, offerID).Scan(&contractID)
	if errors.Is(err, sql.ErrNoRows) {
		return uuid.Nil, ErrNotFound
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("contract: of offer: %w", err)
	}
	return contractID, nil
}
