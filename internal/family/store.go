package family

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// The family's SQL. Every function takes the tenant transaction it runs in; callers
// (this package's service, application and casework) own the transaction.

// ErrNotFound answers unknown ids, ids of other families and of other cities alike.
var ErrNotFound = apperr.NotFound("not_found")

// ErrNoFamily: the parent has not entered the family's details yet.
var ErrNoFamily = apperr.Invalid("address", "family_address_missing", nil)

type familyRow struct {
	ID           uuid.UUID `bun:"id"`
	Street       string    `bun:"street"`
	HouseNumber  string    `bun:"house_number"`
	PLZ          string    `bun:"plz"`
	City         string    `bun:"city"`
	Municipality *string   `bun:"municipality_key"`
	Source       string    `bun:"source"`
}

// OfAccount returns the family the parent account manages (locked when lock) with its
// guardians and children, or nil.
func OfAccount(ctx context.Context, tx bun.IDB, t *tenant.Tenant, accountID uuid.UUID, lock bool) (*Family, error) {
	row, err := rowOfAccount(ctx, tx, t, accountID, lock)
	if row == nil || err != nil {
		return nil, err
	}
	return complete(ctx, tx, t, *row)
}

// HouseholdOf is OfAccount without guardians and children: the address and the
// municipality, all the rules need (one query on the busy path of filing a request).
func HouseholdOf(ctx context.Context, tx bun.IDB, t *tenant.Tenant, accountID uuid.UUID, lock bool) (*Family, error) {
	row, err := rowOfAccount(ctx, tx, t, accountID, lock)
	if row == nil || err != nil {
		return nil, err
	}
	return householdOf(*row), nil
}

// HouseholdAndChild reads, in one query, the household of the parent account (locked)
// and its child childID: (nil, nil) without a family, (family, nil) for a child that is
// not theirs.
func HouseholdAndChild(ctx context.Context, tx bun.IDB, t *tenant.Tenant, accountID, childID uuid.UUID) (*Family, *Child, error) {
	var row struct {
		familyRow
		ChildID *uuid.UUID `bun:"child_id"`
		Child   Child      `bun:"embed:c_"`
	}
	err := tx.NewRaw(`SELECT f.id, f.street, f.house_number, f.plz, f.city, f.municipality_key, f.source, ch.id AS child_id,
			ch.id AS c_id, ch.family_id AS c_family_id, coalesce(ch.first_name, '') AS c_first_name, coalesce(ch.last_name, '') AS c_last_name,
			ch.birth_date AS c_birth_date, ch.expected_birth_date AS c_expected_birth_date, coalesce(ch.special_needs, '') AS c_special_needs,
			ch.special_needs_consent_at AS c_special_needs_consent_at, ch.merged_into AS c_merged_into
		FROM family f JOIN guardian g ON g.tenant_id = f.tenant_id AND g.family_id = f.id
		LEFT JOIN child ch ON ch.tenant_id = f.tenant_id AND ch.family_id = f.id AND ch.id = ? AND ch.merged_into IS NULL
		WHERE f.tenant_id = ? AND g.user_id = ? FOR UPDATE OF f`, childID, t.ID, accountID).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read family and child: %w", err)
	}
	f := householdOf(row.familyRow)
	if row.ChildID == nil {
		return f, nil, nil
	}
	ch := row.Child
	return f, &ch, nil
}

func householdOf(row familyRow) *Family {
	f := &Family{ID: row.ID, Street: row.Street, HouseNumber: row.HouseNumber, PLZ: row.PLZ, City: row.City, Source: row.Source}
	if row.Municipality != nil {
		f.Municipality = *row.Municipality
	}
	f.Resident = f.Municipality != ""
	return f
}

func rowOfAccount(ctx context.Context, tx bun.IDB, t *tenant.Tenant, accountID uuid.UUID, lock bool) (*familyRow, error) {
	q := `SELECT f.id, f.street, f.house_number, f.plz, f.city, f.municipality_key, f.source FROM family f
		JOIN guardian g ON g.tenant_id = f.tenant_id AND g.family_id = f.id
		WHERE f.tenant_id = ? AND g.user_id = ?`
	if lock {
		q += ` FOR UPDATE OF f`
	}
	var row familyRow
	err := tx.NewRaw(q, t.ID, accountID).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read family: %w", err)
	}
	return &row, nil
}

// Load returns family id with its guardians and children.
func Load(ctx context.Context, tx bun.IDB, t *tenant.Tenant, id uuid.UUID) (*Family, error) {
	var row familyRow
	err := tx.NewRaw(`SELECT id, street, house_number, plz, city, municipality_key, source FROM family
		WHERE tenant_id = ? AND id = ?`, t.ID, id).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read family: %w", err)
	}
	return complete(ctx, tx, t, row)
}

func complete(ctx context.Context, tx bun.IDB, t *tenant.Tenant, row familyRow) (*Family, error) {
	f := &Family{ID: row.ID, Street: row.Street, HouseNumber: row.HouseNumber, PLZ: row.PLZ, City: row.City, Source: row.Source}
	if row.Municipality != nil {
		f.Municipality = *row.Municipality
	}
	f.Resident = f.Municipality != ""
	f.Address = Address{Street: f.Street, HouseNumber: f.HouseNumber, PLZ: f.PLZ, City: f.City, Municipality: f.Municipality}
	for _, m := range t.Rules.Municipalities {
		if m.Key == f.Municipality {
			f.Address.MunicipalityName = m.Name
		}
	}
	f.Guardians = []Guardian{}
	if err := tx.NewRaw(`SELECT id, first_name, last_name, coalesce(email, '') AS email, coalesce(phone, '') AS phone, user_id
		FROM guardian WHERE tenant_id = ? AND family_id = ? ORDER BY created_at, id`, t.ID, f.ID).Scan(ctx, &f.Guardians); err != nil {
		return nil, fmt.Errorf("read guardians: %w", err)
	}
	for i := range f.Guardians {
		f.Guardians[i].HasAccount = f.Guardians[i].AccountID != nil
	}
	f.Children = []Child{}
	if err := tx.NewRaw(`SELECT `+childColumns+` FROM child
		WHERE tenant_id = ? AND family_id = ? AND merged_into IS NULL ORDER BY coalesce(birth_date, expected_birth_date), id`,
		t.ID, f.ID).Scan(ctx, &f.Children); err != nil {
		return nil, fmt.Errorf("read children: %w", err)
	}
	return f, nil
}

// HasAddress tells whether the family's address was entered (a walk-in without one, or
// an account that only added a child, has none).
func (f *Family) HasAddress() bool { return f != nil && f.PLZ != "" }

const childColumns = `id, family_id, first_name, last_name, birth_date, expected_birth_date, special_needs,
	special_needs_consent_at, merged_into`

// ChildOf returns child id if it belongs to family familyID (and was not merged away).
func ChildOf(ctx context.Context, tx bun.IDB, tenantID, familyID, id uuid.UUID) (*Child, error) {
	var ch Child
	err := tx.NewRaw(`SELECT `+childColumns+` FROM child WHERE tenant_id = ? AND family_id = ? AND id = ? AND merged_into IS NULL`,
		tenantID, familyID, id).Scan(ctx, &ch)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read child: %w", err)
	}
	return &ch, nil
}

// Create writes a new family with its guardians. accountID links the first guardian to
// a parent account (nil for a walk-in or imported family); staffID names who entered it.
func Create(ctx context.Context, tx bun.IDB, t *tenant.Tenant, in Input, source string, accountID, staffID *uuid.UUID) (uuid.UUID, error) {
	id := uuid.Must(uuid.NewV7())
	muni, err := tenant.MunicipalityOfPostcode(ctx, tx, t.ID, in.Address.PLZ)
	if err != nil {
		return uuid.Nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO family (tenant_id, id, street, house_number, plz, city, municipality_key, source, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, id, in.Address.Street, in.Address.HouseNumber, in.Address.PLZ, in.Address.City,
		nullString(muni), source, staffID); err != nil {
		return uuid.Nil, fmt.Errorf("create family: %w", err)
	}
	for i, g := range in.Guardians {
		var link *uuid.UUID
		if i == 0 {
			link = accountID
		}
		if err := insertGuardian(ctx, tx, t.ID, id, g, link); err != nil {
			return uuid.Nil, err
		}
	}
	return id, nil
}

func insertGuardian(ctx context.Context, tx bun.IDB, tenantID, familyID uuid.UUID, g GuardianInput, accountID *uuid.UUID) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO guardian (tenant_id, id, family_id, user_id, first_name, last_name, email, phone)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tenantID, uuid.Must(uuid.NewV7()), familyID, accountID, g.FirstName, g.LastName,
		nullString(g.Email), nullString(g.Phone))
	if database.IsUniqueViolation(err, "guardian_account") {
		return apperr.Conflict("account_has_family")
	}
	if err != nil {
		return fmt.Errorf("add guardian: %w", err)
	}
	return nil
}

// update replaces the address and the guardians' details of family f. The guardian
// linked to account keeps its link; a second guardian is added, changed or removed
// (unless they have an account of their own: then only they can leave).
func update(ctx context.Context, tx bun.IDB, t *tenant.Tenant, f *Family, in Input, accountID uuid.UUID, now time.Time) error {
	muni, err := tenant.MunicipalityOfPostcode(ctx, tx, t.ID, in.Address.PLZ)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE family SET street = ?, house_number = ?, plz = ?, city = ?, municipality_key = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`, in.Address.Street, in.Address.HouseNumber, in.Address.PLZ, in.Address.City, nullString(muni), now,
		t.ID, f.ID); err != nil {
		return fmt.Errorf("update family: %w", err)
	}
	var self *Guardian
	var others []Guardian
	for i := range f.Guardians {
		if g := f.Guardians[i]; g.AccountID != nil && *g.AccountID == accountID {
			self = &f.Guardians[i]
		} else {
			others = append(others, g)
		}
	}
	if self == nil {
		return ErrNotFound
	}
	if err := setGuardian(ctx, tx, t.ID, self.ID, in.Guardians[0], now); err != nil {
		return err
	}
	var second *GuardianInput
	if len(in.Guardians) > 1 {
		second = &in.Guardians[1]
	}
	switch {
	case len(others) == 0 && second != nil:
		return insertGuardian(ctx, tx, t.ID, f.ID, *second, nil)
	case len(others) > 0 && others[0].AccountID != nil:
		// The other guardian manages their own details.
		return nil
	case len(others) > 0 && second != nil:
		return setGuardian(ctx, tx, t.ID, others[0].ID, *second, now)
	case len(others) > 0:
		_, err := tx.ExecContext(ctx, `DELETE FROM guardian WHERE tenant_id = ? AND id = ?`, t.ID, others[0].ID)
		return err
	}
	return nil
}

func setGuardian(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, g GuardianInput, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE guardian SET first_name = ?, last_name = ?, email = ?, phone = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`, g.FirstName, g.LastName, nullString(g.Email), nullString(g.Phone), now, tenantID, id)
	return err
}

// NewChild is a checked child ready to be written.
type NewChild struct {
	Input    ChildInput
	Birth    *date.Date
	Expected *date.Date
}

// CheckChild validates a child as typed (see cleanChild).
func CheckChild(in ChildInput, today date.Date) (NewChild, error) {
	c, b, e, err := cleanChild(in, today)
	return NewChild{Input: c, Birth: b, Expected: e}, err
}

// CheckInput validates a family as typed.
func CheckInput(in Input) (Input, error) { return cleanInput(in) }

// LockChildIdentity takes a transaction-scoped advisory lock on a child's identity in
// tenant tenantID: its folded names and birth (or expected birth) date, as DedupeKey
// folds them. Every path that writes a child takes it before it looks for the same child,
// so concurrent entries of one child run one after the other and each sees the child the
// one before it committed. The fold is coarser than lower(trim(...)), so entries that a
// case-insensitive lookup would match always share the lock.
func LockChildIdentity(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, first, last string, birth date.Date) error {
	key := "child:" + tenantID.String() + ":" + DedupeKey(strings.TrimSpace(first), strings.TrimSpace(last), birth)
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, key); err != nil {
		return fmt.Errorf("lock child identity: %w", err)
	}
	return nil
}

// CreateChild writes a child of family familyID and flags every other record of the
// city that looks like the same child (same folded names and birth date) for staff. The
// flag is not shown to the family: that another record exists is someone else's data.
func CreateChild(ctx context.Context, tx bun.IDB, tenantID, familyID uuid.UUID, nc NewChild, now time.Time) (*Child, error) {
	ch := &Child{ID: uuid.Must(uuid.NewV7()), FamilyID: familyID, FirstName: nc.Input.FirstName, LastName: nc.Input.LastName,
		BirthDate: nc.Birth, ExpectedBirthDate: nc.Expected, SpecialNeeds: nc.Input.SpecialNeeds}
	if ch.SpecialNeeds != "" {
		ch.ConsentAt = &now
	}
	key := DedupeKey(ch.FirstName, ch.LastName, ch.Birth())
	// Without the lock two entries of one child at the same moment would not see each
	// other and neither would be flagged.
	if err := LockChildIdentity(ctx, tx, tenantID, ch.FirstName, ch.LastName, ch.Birth()); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date, expected_birth_date,
		special_needs, special_needs_consent_at, dedupe_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tenantID, ch.ID, familyID, ch.FirstName, ch.LastName, ch.BirthDate, ch.ExpectedBirthDate, ch.SpecialNeeds, ch.ConsentAt, key); err != nil {
		return nil, fmt.Errorf("create child: %w", err)
	}
	return ch, flagDuplicates(ctx, tx, tenantID, ch.ID, key)
}

// flagDuplicates records a possible duplicate for every other live record with the same
// key (including one in the same family: the second guardian entered the child again).
func flagDuplicates(ctx context.Context, tx bun.IDB, tenantID, childID uuid.UUID, key string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO child_duplicate (tenant_id, id, child_id, other_child_id)
		SELECT ?0, gen_random_uuid(), ?1, o.id FROM child o
		WHERE o.tenant_id = ?0 AND o.dedupe_key = ?2 AND o.id <> ?1 AND o.merged_into IS NULL
		ON CONFLICT DO NOTHING`, tenantID, childID, key)
	if err != nil {
		return fmt.Errorf("flag duplicates: %w", err)
	}
	return nil
}

// updateChild changes a child's details and checks again for duplicates.
func updateChild(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ch *Child, nc NewChild, now time.Time) error {
	consent := ch.ConsentAt
	switch {
	case nc.Input.SpecialNeeds == "":
		consent = nil
	case consent == nil || nc.Input.SpecialNeeds != ch.SpecialNeeds:
		consent = &now
	}
	key := DedupeKey(nc.Input.FirstName, nc.Input.LastName, birthOr(nc.Birth, nc.Expected))
	if _, err := tx.ExecContext(ctx, `UPDATE child SET first_name = ?, last_name = ?, birth_date = ?, expected_birth_date = ?,
		special_needs = ?, special_needs_consent_at = ?, dedupe_key = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		nc.Input.FirstName, nc.Input.LastName, nc.Birth, nc.Expected, nc.Input.SpecialNeeds, consent, key, now, tenantID, ch.ID); err != nil {
		return fmt.Errorf("update child: %w", err)
	}
	return flagDuplicates(ctx, tx, tenantID, ch.ID, key)
}

func birthOr(b, e *date.Date) date.Date {
	if b != nil {
		return *b
	}
	if e != nil {
		return *e
	}
	return date.Date{}
}

// Linking codes: twelve letters and digits without look-alikes, shown as XXXX-XXXX-XXXX;
// only their hash is stored.
const codeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// NewLinkCode creates a single-use code that lets a parent account take over (walk_in)
// or join (guardian_invite) family familyID until it expires.
func NewLinkCode(ctx context.Context, tx bun.IDB, tenantID, familyID uuid.UUID, purpose, email string, createdBy *uuid.UUID, expires time.Time) (string, error) {
	raw := make([]byte, 12)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	var b strings.Builder
	for i, x := range raw {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(codeAlphabet[int(x)%len(codeAlphabet)])
	}
	code := b.String()
	if _, err := tx.ExecContext(ctx, `INSERT INTO family_link (tenant_id, id, family_id, purpose, code_hash, email, expires_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tenantID, uuid.Must(uuid.NewV7()), familyID, purpose, auth.HashToken(NormaliseCode(code)),
		nullString(email), expires, createdBy); err != nil {
		return "", fmt.Errorf("create linking code: %w", err)
	}
	return code, nil
}

// NormaliseCode accepts a code as people type it: any case, with or without dashes and
// spaces.
func NormaliseCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
