package casework

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
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

const sideQuery = `SELECT ch.id AS child_id, ch.first_name, ch.last_name, coalesce(ch.birth_date, ch.expected_birth_date) AS birth_date,
	f.source, f.plz, (SELECT count(*) FROM application a WHERE a.tenant_id = ch.tenant_id AND a.child_id = ch.id) AS applications
	FROM child ch JOIN family f ON f.tenant_id = ch.tenant_id AND f.id = ch.family_id WHERE ch.tenant_id = ? AND ch.id = ?`

// Duplicates lists the open flags, oldest first.
func (s *Service) Duplicates(ctx context.Context, c auth.Caller) ([]Duplicate, error) {
	out := []Duplicate{}
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var flags []struct {
			ID         uuid.UUID `bun:"id"`
			Child      uuid.UUID `bun:"child_id"`
			Other      uuid.UUID `bun:"other_child_id"`
			DetectedAt time.Time `bun:"detected_at"`
		}
		if err := tx.NewRaw(`SELECT id, child_id, other_child_id, detected_at FROM child_duplicate WHERE tenant_id = ? AND status = 'open'
			ORDER BY detected_at, id LIMIT 200`, c.Tenant.ID).Scan(ctx, &flags); err != nil {
			return err
		}
		var ids []uuid.UUID
		for _, f := range flags {
			d := Duplicate{ID: f.ID, DetectedAt: f.DetectedAt}
			if err := tx.NewRaw(sideQuery, c.Tenant.ID, f.Child).Scan(ctx, &d.New); err != nil {
				return err
			}
			if err := tx.NewRaw(sideQuery, c.Tenant.ID, f.Other).Scan(ctx, &d.Existing); err != nil {
				return err
			}
			out = append(out, d)
			ids = append(ids, f.Child, f.Other)
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: "duplicates.listed", ObjectKind: "child", ChildIDs: ids})
	})
	return out, database.Classify(err)
}

// ResolveDuplicate merges (keep names the record that stays) or dismisses a flag.
func (s *Service) ResolveDuplicate(ctx context.Context, c auth.Caller, id uuid.UUID, merge bool, keep uuid.UUID) error {
	now := s.now()
	return database.Classify(database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		var flag struct {
			Child uuid.UUID `bun:"child_id"`
			Other uuid.UUID `bun:"other_child_id"`
		}
		err := tx.NewRaw(`SELECT child_id, other_child_id FROM child_duplicate WHERE tenant_id = ? AND id = ? AND status = 'open' FOR UPDATE`,
			c.Tenant.ID, id).Scan(ctx, &flag)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		status, action := "dismissed", ActionDuplicateKept
		if merge {
			drop := flag.Child
			switch keep {
			case flag.Child:
				drop = flag.Other
			case flag.Other:
			default:
				return apperr.Invalid("keep", "merge_keep_unknown", nil)
			}
			if err := mergeChild(ctx, tx, c.Tenant.ID, keep, drop, application.Actor{Kind: "staff", ID: c.Principal.ID}, now); err != nil {
				return err
			}
			status, action = "merged", ActionDuplicateMerged
		}
		if _, err := tx.ExecContext(ctx, `UPDATE child_duplicate SET status = ?, resolved_at = ?, resolved_by = ? WHERE tenant_id = ? AND id = ?`,
			status, now, c.Principal.ID, c.Tenant.ID, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: action, ObjectKind: "child", ObjectID: keep.String(),
			ChildIDs: []uuid.UUID{flag.Child, flag.Other}})
	}))
}

// mergeChild folds record drop into keep. Requests of drop move to keep where keep has
// none active for that period; the others are closed with a note (application). Contracts
// and offers move too (a clash with keep's own contracts is refused by the database and
// reported).
func mergeChild(ctx context.Context, tx bun.IDB, tenantID, keep, drop uuid.UUID, actor application.Actor, now time.Time) error {
	if err := application.MergeChild(ctx, tx, tenantID, keep, drop, actor, now); err != nil {
		return mergeErr(err)
	}
	for _, q := range []string{
		`UPDATE offer SET child_id = ?0, updated_at = ?3 WHERE tenant_id = ?1 AND child_id = ?2`,
		`UPDATE contract SET child_id = ?0, updated_at = ?3 WHERE tenant_id = ?1 AND child_id = ?2`,
		`UPDATE access_ticket SET child_id = ?0 WHERE tenant_id = ?1 AND child_id = ?2 AND status NOT IN ('requested', 'granted')`,
		`UPDATE child SET merged_into = ?0, updated_at = ?3 WHERE tenant_id = ?1 AND id = ?2`,
		`UPDATE child_duplicate SET status = 'merged', resolved_at = ?3 WHERE tenant_id = ?1 AND status = 'open' AND (child_id = ?2 OR other_child_id = ?2)`,
	} {
		if _, err := tx.ExecContext(ctx, q, keep, tenantID, drop, now); err != nil {
			return mergeErr(err)
		}
	}
	return nil
}

// mergeErr reports a clash of the two records' contracts or requests as such.
func mergeErr(err error) error {
	if database.IsExclusionViolation(err, "") || database.IsUniqueViolation(err, "") {
		return apperr.Conflict("merge_conflict")
	}
	return err
}
