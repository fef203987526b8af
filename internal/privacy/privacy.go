// Package privacy is the family's data rights: erasure (refused while an offer is open)
// and the export (export.go, export_job.go); retention will live here. It sits above the owners of the data (account, family, application, offer,
// contract) and has each delete or keep its own rows, in one transaction.
package privacy

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/account"
	"kitaportal/internal/application"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/contract"
	"kitaportal/internal/family"
	"kitaportal/internal/offer"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
)

// Service carries out the data rights.
type Service struct {
	db       bun.IDB
	clock    clock.Clock
	accounts *account.Service
}

// Deps are what the service needs.
type Deps struct {
	DB       bun.IDB
	Clock    clock.Clock
	Accounts *account.Service
}

// NewService returns the data rights' service.
func NewService(d Deps) *Service { return &Service{db: d.DB, clock: d.Clock, accounts: d.Accounts} }

// Deletion says what deleting an account did.
type Deletion struct {
	FamiliesDeleted int
	FamiliesKept    int // with contracts: kept as the law requires, contact data removed
}

// DeleteAccount removes a parent account (DSGVO Art. 17) after checking the password:
//   - families without any contract are deleted with their children, requests and offers;
//   - families with a contract are kept as far as the law requires (contract and the
//     names of the parties), with the account's e-mail and phone removed from them;
//   - the account becomes an anonymous tombstone (no name, address or password), so the
//     audit log keeps pointing at "a deleted account" and the address is free again;
//   - every session and token ends; a last mail confirms the deletion and says what was kept.
func (s *Service) DeleteAccount(ctx context.Context, c auth.Caller, password string) (Deletion, error) {
	var out Deletion
	a, err := s.accounts.ConfirmDeletion(ctx, c, password)
	if err != nil {
		return out, err
	}
	t := c.Tenant
	now := s.clock.Now()
	var refused error
	err = database.InTenantTx(ctx, s.db, t.ID, func(ctx context.Context, tx bun.Tx) error {
		families, err := family.AccountFamilies(ctx, tx, t.ID, a.ID)
		if err != nil {
			return err
		}
		var children []uuid.UUID
		for _, f := range families {
			children = append(children, f.ChildIDs...)
		}
		contracted, err := contract.ChildIDsContracted(ctx, tx, t.ID, children)
		if err != nil {
			return err
		}
		underContract := make(map[uuid.UUID]bool, len(contracted))
		for _, id := range contracted {
			underContract[id] = true
		}
		var drop []uuid.UUID
		for _, f := range families {
			// A family another guardian still manages stays theirs; this account only
			// leaves it (its guardian row is unlinked below).
			if f.Others > 0 || anyOf(f.ChildIDs, underContract) {
				out.FamiliesKept++
			} else {
				drop = append(drop, f.ID)
			}
		}
		// An offer still to be answered (or accepted, its contract not yet made) would
		// vanish with the family: the parent answers it first.
		dropped, err := family.ChildIDsOfFamilies(ctx, tx, t.ID, drop)
		if err != nil {
			return err
		}
		if open, err := offer.OpenForChildren(ctx, tx, t.ID, dropped); err != nil || open {
			if err != nil {
				return err
			}
			refused = ErrOfferOpen
			// Committed although nothing is deleted: the refused attempt is the record.
			return audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: ActionDeletionRefused, ObjectKind: "account",
				ObjectID: a.ID.String(), ChildIDs: dropped, Details: map[string]any{"reason": "offer_open"}})
		}
		out.FamiliesDeleted = len(drop)
		if err := eraseFamilies(ctx, tx, t.ID, drop); err != nil {
			return err
		}
		if err := family.UnlinkAccount(ctx, tx, t.ID, a.ID, now); err != nil {
			return err
		}
		if err := s.accounts.Tombstone(ctx, tx, t.ID, a, now); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, t.ID, audit.By(c), audit.Event{Action: audit.ActionAccountDeleted, ObjectKind: "account", ObjectID: a.ID.String(),
			Details: map[string]any{"families_deleted": out.FamiliesDeleted, "families_kept": out.FamiliesKept}}); err != nil {
			return err
		}
		return s.accounts.TellDeleted(ctx, tx, t, a, out.FamiliesKept > 0)
	})
	if err == nil && refused != nil {
		return Deletion{}, refused
	}
	return out, err
}

// ErrOfferOpen refuses an erasure while a child it would erase has an offer to answer.
var ErrOfferOpen = apperr.Conflict("account_offer_open")

// ActionDeletionRefused is the audit action of an erasure refused (an open offer).
const ActionDeletionRefused = "account.deletion_refused"

// eraseFamilies removes families that have no contract, with everything hanging off
// them, children last (foreign keys point at them).
func eraseFamilies(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	children, err := family.ChildIDsOfFamilies(ctx, tx, tenantID, ids)
	if err != nil {
		return err
	}
	if err := offer.DeleteForChildren(ctx, tx, tenantID, children); err != nil {
		return err
	}
	if err := application.DeleteForChildren(ctx, tx, tenantID, children); err != nil {
		return err
	}
	return family.DeleteFamilies(ctx, tx, tenantID, ids)
}

func anyOf(ids []uuid.UUID, set map[uuid.UUID]bool) bool {
	for _, id := range ids {
		if set[id] {
			return true
		}
	}
	return false
}
