package casework

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/contract"
	"kitaportal/internal/family"
	"kitaportal/internal/offer"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/ticket"
)

// Duplicate children: the same child entered twice (online and at a facility, or by
// both guardians) is flagged when the second record is written (family.CreateChild).
// Case workers decide: merge — the record kept takes over the other's requests where it
// has none for that period, the other's remaining requests are closed, and the other
// record points to the one kept — or dismiss (twins with one name do not exist, but
// namesakes born the same day do).

// DuplicateSide is one of the two records.
type DuplicateSide struct {
	ChildID      uuid.UUID `bun:"child_id" json:"child_id"`
	FirstName    string    `bun:"first_name" json:"first_name"`
	LastName     string    `bun:"last_name" json:"last_name"`
	BirthDate    date.Date `bun:"birth_date" json:"birth_date"`
	Source       string    `bun:"source" json:"family_source"`
	PLZ          string    `bun:"plz" json:"plz"`
	Applications int       `bun:"applications" json:"applications"`
}

// Duplicate is an open flag.
type Duplicate struct {
	ID         uuid.UUID     `json:"id"`
	DetectedAt time.Time     `json:"detected_at"`
	New        DuplicateSide `json:"new"`
	Existing   DuplicateSide `json:"existing"`
}

// Duplicates lists the open flags, oldest first.
func (s *Service) Duplicates(ctx context.Context, c auth.Caller) ([]Duplicate, error) {
	out := []Duplicate{}
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		flags, err := family.OpenDuplicates(ctx, tx, c.Tenant.ID, 200)
		if err != nil {
			return err
		}
		var ids []uuid.UUID
		for _, f := range flags {
			ids = append(ids, f.ChildID, f.OtherChildID)
		}
		sides, err := duplicateSides(ctx, tx, c.Tenant.ID, ids)
		if err != nil {
			return err
		}
		for _, f := range flags {
			out = append(out, Duplicate{ID: f.ID, DetectedAt: f.DetectedAt, New: sides[f.ChildID], Existing: sides[f.OtherChildID]})
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: "duplicates.listed", ObjectKind: "child", ChildIDs: ids})
	})
	return out, database.Classify(err)
}

// duplicateSides describes the children ids: names and birth, their family's source and
// postcode (family), how many requests they have (application).
func duplicateSides(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]DuplicateSide, error) {
	cards, err := family.ChildCards(ctx, tx, tenantID, ids)
	if err != nil {
		return nil, err
	}
	var famIDs []uuid.UUID
	for _, ch := range cards {
		famIDs = append(famIDs, ch.FamilyID)
	}
	fams, err := family.FamilyCards(ctx, tx, tenantID, famIDs)
	if err != nil {
		return nil, err
	}
	counts, err := application.CountByChild(ctx, tx, tenantID, ids)
	if err != nil {
		return nil, err
	}
	out := map[uuid.UUID]DuplicateSide{}
	for id, ch := range cards {
		f := fams[ch.FamilyID]
		out[id] = DuplicateSide{ChildID: id, FirstName: ch.FirstName, LastName: ch.LastName, BirthDate: ch.Birth(), Source: f.Source,
			PLZ: f.PLZ, Applications: counts[id]}
	}
	return out, nil
}

// ResolveDuplicate merges (keep names the record that stays) or dismisses a flag.
func (s *Service) ResolveDuplicate(ctx context.Context, c auth.Caller, id uuid.UUID, merge bool, keep uuid.UUID) error {
	now := s.now()
	return database.Classify(database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		flag, err := family.LockOpenDuplicate(ctx, tx, c.Tenant.ID, id)
		if err != nil {
			return err
		}
		if flag == nil {
			return ErrNotFound
		}
		status, action := family.DuplicateDismissed, ActionDuplicateKept
		if merge {
			drop := flag.ChildID
			switch keep {
			case flag.ChildID:
				drop = flag.OtherChildID
			case flag.OtherChildID:
			default:
				return apperr.Invalid("keep", "merge_keep_unknown", nil)
			}
			actor := application.Actor{Kind: "staff", ID: c.Principal.ID}
			if err := mergeChild(ctx, tx, c.Tenant.ID, keep, drop, actor, now); err != nil {
				return err
			}
			if err := s.settleWaitlists(ctx, tx, c, keep, actor); err != nil {
				return err
			}
			status, action = family.DuplicateMerged, ActionDuplicateMerged
		}
		if err := family.ResolveDuplicate(ctx, tx, c.Tenant.ID, id, status, c.Principal.ID, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: action, ObjectKind: "child", ObjectID: keep.String(),
			ChildIDs: []uuid.UUID{flag.ChildID, flag.OtherChildID}})
	}))
}

// mergeChild folds record drop into keep, each owner moving what it holds: requests of
// drop move to keep where keep has none active for that period, the others are closed
// with a note (application); offers, contracts and decided tickets move too (a clash with
// keep's own contracts is refused by the database and reported); drop points to keep and
// its open flags are settled (family).
func mergeChild(ctx context.Context, tx bun.IDB, tenantID, keep, drop uuid.UUID, actor application.Actor, now time.Time) error {
	for _, move := range []func() error{
		func() error { return application.MergeChild(ctx, tx, tenantID, keep, drop, actor, now) },
		func() error { return offer.MoveChild(ctx, tx, tenantID, drop, keep, now) },
		func() error { return contract.MoveChild(ctx, tx, tenantID, drop, keep, now) },
		func() error { return ticket.MoveChild(ctx, tx, tenantID, drop, keep) },
		func() error { return family.MergeChildInto(ctx, tx, tenantID, drop, keep, now) },
	} {
		if err := move(); err != nil {
			if database.IsExclusionViolation(err, "") || database.IsUniqueViolation(err, "") {
				return apperr.Conflict("merge_conflict")
			}
			return err
		}
	}
	return nil
}

// settleWaitlists: the merged record may now hold a contract beside requests for the
// time it covers (one record had the contract, the other the requests); those requests
// end as a contract entered in the register ends them.
func (s *Service) settleWaitlists(ctx context.Context, tx bun.Tx, c auth.Caller, child uuid.UUID, actor application.Actor) error {
	placed, err := contract.PlacementsOfChild(ctx, tx, c.Tenant.ID, child, date.In(s.now()))
	if err != nil {
		return err
	}
	for _, p := range placed {
		p.Actor = actor
		if _, err := s.apps.PlacedByContract(ctx, tx, c.Tenant, p, s.now()); err != nil {
			return err
		}
	}
	return nil
}
