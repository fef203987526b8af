package childfile

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/account"
	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/contract"
	"kitaportal/internal/family"
	"kitaportal/internal/notify"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
)

// The child file (Kinderakte). Who reaches it:
//   - the guardians of the child (parent accounts linked to its family): read, and keep
//     the pick-up persons and emergency contacts, give the health consent and data;
//   - staff (facility_lead, facility_staff) of a facility where the child has a contract
//     running today: read, and open the emergency sheet with a reason;
//   - the facility lead of such a facility: everything (health, notes).
// Everyone else — other facilities, other roles, other cities — gets "not found".
// Health data, notes and emergency reasons are sealed (Keyring); the audit log names the
// child and the part read, never its content.

// Audit actions of the child file.
const (
	ActionFileRead    = "childfile.read"
	ActionFileChanged = "childfile.changed"
	ActionEmergency   = "childfile.emergency_access"
)

// Access levels.
const (
	AccessGuardian = "guardian"
	AccessStaff    = "staff"
	AccessLead     = "lead"
)

// Limits of the input.
const (
	maxPersons   = 10
	maxName      = 100
	maxPhone     = 40
	maxRelation  = 60
	maxHealthLen = 2000
	maxNote      = 4000
	minReason    = 5
	maxReason    = 500
	maxNotes     = 200
)

// Files is the child file service.
type Files struct {
	db    bun.IDB
	clock clock.Clock
	keys  *Keyring
	mails *notify.Templates
	links *notify.Links
}

// FilesDeps are what Files needs.
type FilesDeps struct {
	DB    bun.IDB
	Clock clock.Clock
	Keys  *Keyring
	Mails *notify.Templates
	Links *notify.Links
}

// NewFiles returns the child file service.
func NewFiles(d FilesDeps) *Files {
	return &Files{db: d.DB, clock: d.Clock, keys: d.Keys, mails: d.Mails, links: d.Links}
}

// Person is a pick-up person or an emergency contact.
type Person struct {
	Name     string `json:"name"`
	Relation string `json:"relation,omitempty"`
	Phone    string `json:"phone"`
}

// Health is the sealed part of the file (special categories, Art. 9 DSGVO).
type Health struct {
	Allergies     string     `json:"allergies"`
	Conditions    string     `json:"conditions"`
	Medication    string     `json:"medication"`
	MeaslesSeenOn *date.Date `json:"measles_proof_seen_on,omitempty"` // §20 IfSG
	MeaslesSeenBy string     `json:"measles_proof_seen_by,omitempty"`
}

// Note is a dated staff note.
type Note struct {
	At     time.Time `json:"at"`
	Author string    `json:"author"`
	Body   string    `json:"body"`
}

// File is the child file as the caller may see it.
type File struct {
	ChildID         uuid.UUID  `json:"child_id"`
	FirstName       string     `json:"first_name"`
	LastName        string     `json:"last_name"`
	BirthDate       *date.Date `json:"birth_date,omitempty"`
	Access          string     `json:"access"`
	Guardians       []Person   `json:"guardians"`
	Pickup          []Person   `json:"pickup_persons"`
	Emergency       []Person   `json:"emergency_contacts"`
	HealthConsentAt *time.Time `json:"health_consent_at,omitempty"`
	Health          *Health    `json:"health,omitempty"`
	Notes           []Note     `json:"notes,omitempty"`
}

// Errors of the child file.
var (
	errReason  = apperr.Invalid("reason", "childfile.reason_required", map[string]any{"min": minReason, "max": maxReason})
	errConsent = apperr.Invalid("consent", "childfile.consent_required", nil)
	errLead    = apperr.Forbidden("childfile.lead_only")
)

type access struct {
	level      string
	child      *family.ChildAtHome
	facilities []uuid.UUID // running contracts today (staff levels)
}

// resolve finds what the caller may do with child id's file; ErrNotFound otherwise.
func (s *Files) resolve(ctx context.Context, tx bun.Tx, c auth.Caller, id uuid.UUID) (*access, error) {
	p := c.Principal
	if p == nil {
		return nil, ErrNotFound
	}
	ch, err := family.ChildWithAddress(ctx, tx, c.Tenant.ID, id)
	if errors.Is(err, family.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	a := &access{child: ch}
	switch {
	case p.Kind == auth.KindParent:
		rs, err := family.Recipients(ctx, tx, c.Tenant.ID, ch.FamilyID)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if r.AccountID != nil && *r.AccountID == p.ID {
				a.level = AccessGuardian
				return a, nil
			}
		}
		return nil, ErrNotFound
	case p.Kind == auth.KindStaff && p.MFADone:
		running, err := contract.FacilitiesOfChildOn(ctx, tx, c.Tenant.ID, id, date.Today(s.clock))
		if err != nil {
			return nil, err
		}
		roles, err := authz.StaffRolesOf(ctx, tx, c.Tenant.ID, []uuid.UUID{p.ID})
		if err != nil {
			return nil, err
		}
		for _, r := range roles[p.ID] {
			for _, f := range running {
				if r.FacilityID == nil || *r.FacilityID != f {
					continue
				}
				switch r.Role {
				case authz.RoleLead:
					a.level = AccessLead
					a.facilities = append(a.facilities, f)
				case authz.RoleStaff:
					if a.level == "" {
						a.level = AccessStaff
					}
					a.facilities = append(a.facilities, f)
				}
			}
		}
		if a.level == "" {
			return nil, ErrNotFound
		}
		return a, nil
	}
	return nil, ErrNotFound
}

type fileRow struct {
	Pickup    json.RawMessage `bun:"pickup_persons"`
	Emergency json.RawMessage `bun:"emergency_contacts"`
	Sealed    []byte          `bun:"health_sealed"`
	KeyID     *string         `bun:"health_key_id"`
	ConsentAt *time.Time      `bun:"health_consent_at"`
}

func readRow(ctx context.Context, tx bun.IDB, tenantID, childID uuid.UUID, lock bool) (*fileRow, error) {
	q := `SELECT pickup_persons, emergency_contacts, health_sealed, health_key_id, health_consent_at FROM child_file
		WHERE tenant_id = ? AND child_id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var r fileRow
	err := tx.NewRaw(q, tenantID, childID).Scan(ctx, &r)
	if errors.Is(err, sql.ErrNoRows) {
		return &fileRow{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("childfile: read: %w", err)
	}
	return &r, nil
}

func sealContext(tenantID, childID uuid.UUID, field string) string {
	return "childfile|" + tenantID.String() + "|" + childID.String() + "|" + field
}

// build assembles the file for level from the row.
func (s *Files) build(ctx context.Context, tx bun.IDB, c auth.Caller, a *access, r *fileRow, withNotes bool) (*File, error) {
	f := &File{ChildID: a.child.ID, FirstName: a.child.FirstName, LastName: a.child.LastName, BirthDate: a.child.BirthDate,
		Access: a.level, Pickup: []Person{}, Emergency: []Person{}, Guardians: []Person{}, HealthConsentAt: r.ConsentAt}
	if len(r.Pickup) > 0 {
		if err := json.Unmarshal(r.Pickup, &f.Pickup); err != nil {
			return nil, err
		}
	}
	if len(r.Emergency) > 0 {
		if err := json.Unmarshal(r.Emergency, &f.Emergency); err != nil {
			return nil, err
		}
	}
	gs, err := family.GuardianContacts(ctx, tx, c.Tenant.ID, a.child.FamilyID)
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		p := Person{Name: strings.TrimSpace(g.FirstName + " " + g.LastName)}
		if g.Phone != nil {
			p.Phone = *g.Phone
		}
		f.Guardians = append(f.Guardians, p)
	}
	if r.Sealed != nil && r.KeyID != nil {
		plain, err := s.keys.Open(r.Sealed, *r.KeyID, sealContext(c.Tenant.ID, a.child.ID, "health"))
		if err != nil {
			return nil, fmt.Errorf("childfile: open health: %w", err)
		}
		var h Health
		if err := json.Unmarshal(plain, &h); err != nil {
			return nil, err
		}
		f.Health = &h
	}
	if withNotes && a.level == AccessLead {
		var ns []struct {
			ID     uuid.UUID `bun:"id"`
			At     time.Time `bun:"created_at"`
			Author string    `bun:"author_label"`
			Sealed []byte    `bun:"body_sealed"`
			KeyID  string    `bun:"key_id"`
		}
		if err := tx.NewRaw(`SELECT id, created_at, author_label, body_sealed, key_id FROM child_file_note
			WHERE tenant_id = ? AND child_id = ? ORDER BY created_at DESC, id LIMIT ?`, c.Tenant.ID, a.child.ID, maxNotes).Scan(ctx, &ns); err != nil {
			return nil, fmt.Errorf("childfile: notes: %w", err)
		}
		for _, n := range ns {
			body, err := s.keys.Open(n.Sealed, n.KeyID, sealContext(c.Tenant.ID, a.child.ID, "note:"+n.ID.String()))
			if err != nil {
				return nil, fmt.Errorf("childfile: open note: %w", err)
			}
			f.Notes = append(f.Notes, Note{At: n.At, Author: n.Author, Body: string(body)})
		}
	}
	return f, nil
}

// Get shows child id's file. Staff reads are audited (naming the child, not the content).
func (s *Files) Get(ctx context.Context, c auth.Caller, id uuid.UUID) (*File, error) {
	var out *File
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := s.resolve(ctx, tx, c, id)
		if err != nil {
			return err
		}
		r, err := readRow(ctx, tx, c.Tenant.ID, id, false)
		if err != nil {
			return err
		}
		if out, err = s.build(ctx, tx, c, a, r, true); err != nil {
			return err
		}
		if a.level == AccessGuardian {
			return nil
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionFileRead, ObjectKind: "child",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{id}, Details: map[string]any{"access": a.level}})
	})
	return out, err
}

// ContactsInput are the pick-up persons and emergency contacts.
type ContactsInput struct {
	Pickup    []Person `json:"pickup_persons"`
	Emergency []Person `json:"emergency_contacts"`
}

func cleanPersons(field string, ps []Person, errs *apperr.List) []Person {
	if len(ps) > maxPersons {
		*errs = append(*errs, apperr.Invalid(field, "childfile.too_many", map[string]any{"max": maxPersons}))
		return nil
	}
	out := make([]Person, 0, len(ps))
	for i, p := range ps {
		p.Name, p.Phone, p.Relation = strings.TrimSpace(p.Name), strings.TrimSpace(p.Phone), strings.TrimSpace(p.Relation)
		f := fmt.Sprintf("%s.%d", field, i)
		switch {
		case p.Name == "" || utf8.RuneCountInString(p.Name) > maxName || !printable(p.Name):
			*errs = append(*errs, apperr.Invalid(f+".name", "childfile.name_invalid", map[string]any{"max": maxName}))
		case p.Phone == "" || len(p.Phone) > maxPhone || strings.Trim(p.Phone, "+0123456789 /-()") != "":
			*errs = append(*errs, apperr.Invalid(f+".phone", "childfile.phone_invalid", nil))
		case utf8.RuneCountInString(p.Relation) > maxRelation || !printable(p.Relation):
			*errs = append(*errs, apperr.Invalid(f+".relation", "childfile.relation_invalid", map[string]any{"max": maxRelation}))
		}
		out = append(out, p)
	}
	return out
}

// printable refuses control and bidi-override characters and invalid UTF-8.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return false
		}
	}
	return true
}

// UpdateContacts replaces the pick-up persons and emergency contacts (guardians, lead).
func (s *Files) UpdateContacts(ctx context.Context, c auth.Caller, id uuid.UUID, in ContactsInput) (*File, error) {
	var errs apperr.List
	in.Pickup = cleanPersons("pickup_persons", in.Pickup, &errs)
	in.Emergency = cleanPersons("emergency_contacts", in.Emergency, &errs)
	var out *File
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := s.resolve(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if a.level == AccessStaff {
			return errLead
		}
		if len(errs) > 0 {
			return errs
		}
		pj, _ := json.Marshal(in.Pickup)
		ej, _ := json.Marshal(in.Emergency)
		if _, err := tx.NewRaw(`INSERT INTO child_file (tenant_id, child_id, pickup_persons, emergency_contacts, updated_at)
			VALUES (?, ?, ?::jsonb, ?::jsonb, ?) ON CONFLICT (tenant_id, child_id) DO UPDATE
			SET pickup_persons = EXCLUDED.pickup_persons, emergency_contacts = EXCLUDED.emergency_contacts, updated_at = EXCLUDED.updated_at`,
			c.Tenant.ID, id, string(pj), string(ej), s.clock.Now()).Exec(ctx); err != nil {
			return fmt.Errorf("childfile: contacts: %w", err)
		}
		if err := audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionFileChanged, ObjectKind: "child",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{id}, Details: map[string]any{"part": "contacts"}}); err != nil {
			return err
		}
		r, err := readRow(ctx, tx, c.Tenant.ID, id, false)
		if err != nil {
			return err
		}
		out, err = s.build(ctx, tx, c, a, r, false)
		return err
	})
	return out, err
}

// HealthInput is the health part with the guardians' consent.
type HealthInput struct {
	Consent bool   `json:"consent"`
	Health  Health `json:"health"`
}

// UpdateHealth stores the health part sealed. A guardian must give the consent with it;
// the lead may only change it (e.g. record the measles proof) once a guardian consented.
func (s *Files) UpdateHealth(ctx context.Context, c auth.Caller, id uuid.UUID, in HealthInput) (*File, error) {
	var errs apperr.List
	h := in.Health
	for _, f := range []struct {
		name string
		v    *string
	}{{"health.allergies", &h.Allergies}, {"health.conditions", &h.Conditions}, {"health.medication", &h.Medication}, {"health.measles_proof_seen_by", &h.MeaslesSeenBy}} {
		*f.v = strings.TrimSpace(*f.v)
		if utf8.RuneCountInString(*f.v) > maxHealthLen || !utf8.ValidString(*f.v) || strings.ContainsRune(*f.v, 0) {
			errs = append(errs, apperr.Invalid(f.name, "childfile.text_invalid", map[string]any{"max": maxHealthLen}))
		}
	}
	var out *File
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := s.resolve(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if a.level == AccessStaff {
			return errLead
		}
		if len(errs) > 0 {
			return errs
		}
		r, err := readRow(ctx, tx, c.Tenant.ID, id, true)
		if err != nil {
			return err
		}
		consentAt, consentBy := r.ConsentAt, (*uuid.UUID)(nil)
		switch {
		case a.level == AccessGuardian && !in.Consent:
			return errConsent
		case a.level == AccessGuardian:
			now := s.clock.Now()
			consentAt, consentBy = &now, &c.Principal.ID
		case consentAt == nil: // the lead cannot consent for the guardians
			return errConsent
		}
		plain, _ := json.Marshal(h)
		sealed, keyID := s.keys.Seal(plain, sealContext(c.Tenant.ID, id, "health"))
		if _, err := tx.NewRaw(`INSERT INTO child_file (tenant_id, child_id, health_sealed, health_key_id, health_consent_at, health_consent_by, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, child_id) DO UPDATE
			SET health_sealed = EXCLUDED.health_sealed, health_key_id = EXCLUDED.health_key_id,
			    health_consent_at = EXCLUDED.health_consent_at,
			    health_consent_by = coalesce(EXCLUDED.health_consent_by, child_file.health_consent_by), updated_at = EXCLUDED.updated_at`,
			c.Tenant.ID, id, sealed, keyID, consentAt, consentBy, s.clock.Now()).Exec(ctx); err != nil {
			return fmt.Errorf("childfile: health: %w", err)
		}
		if err := audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionFileChanged, ObjectKind: "child",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{id}, Details: map[string]any{"part": "special_category"}}); err != nil {
			return err
		}
		if r, err = readRow(ctx, tx, c.Tenant.ID, id, false); err != nil {
			return err
		}
		out, err = s.build(ctx, tx, c, a, r, false)
		return err
	})
	return out, err
}

// AddNote adds a dated staff note (the facility lead).
func (s *Files) AddNote(ctx context.Context, c auth.Caller, id uuid.UUID, body string) error {
	body = strings.TrimSpace(body)
	return database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := s.resolve(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if a.level != AccessLead {
			return errLead
		}
		if body == "" || utf8.RuneCountInString(body) > maxNote || !utf8.ValidString(body) || strings.ContainsRune(body, 0) {
			return apperr.Invalid("body", "childfile.note_invalid", map[string]any{"max": maxNote})
		}
		noteID := uuid.New()
		sealed, keyID := s.keys.Seal([]byte(body), sealContext(c.Tenant.ID, id, "note:"+noteID.String()))
		if _, err := tx.NewRaw(`INSERT INTO child_file_note (tenant_id, id, child_id, author_id, author_label, body_sealed, key_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.Tenant.ID, noteID, id, c.Principal.ID, c.Principal.Name(), sealed, keyID, s.clock.Now()).Exec(ctx); err != nil {
			return fmt.Errorf("childfile: note: %w", err)
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionFileChanged, ObjectKind: "child",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{id}, Details: map[string]any{"part": "note"}})
	})
}

// Emergency opens the emergency sheet (break glass): any staff member of a facility
// where the child's contract runs today, with a reason. The access is recorded (the
// reason sealed), audited without content, and told to the facility's leads and the
// guardians, in the same transaction.
func (s *Files) Emergency(ctx context.Context, c auth.Caller, id uuid.UUID, reason string) (*File, error) {
	reason = strings.TrimSpace(reason)
	var out *File
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := s.resolve(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if a.level == AccessGuardian {
			return ErrNotFound
		}
		if n := utf8.RuneCountInString(reason); n < minReason || n > maxReason || !printable(reason) {
			return errReason
		}
		r, err := readRow(ctx, tx, c.Tenant.ID, id, false)
		if err != nil {
			return err
		}
		if out, err = s.build(ctx, tx, c, a, r, false); err != nil {
			return err
		}
		now, facility := s.clock.Now(), a.facilities[0]
		accessID := uuid.New()
		sealed, keyID := s.keys.Seal([]byte(reason), sealContext(c.Tenant.ID, id, "access:"+accessID.String()))
		if _, err := tx.NewRaw(`INSERT INTO child_file_access (tenant_id, id, child_id, facility_id, actor_id, actor_label, reason_sealed, key_id, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.Tenant.ID, accessID, id, facility, c.Principal.ID, c.Principal.Name(), sealed, keyID, now).Exec(ctx); err != nil {
			return fmt.Errorf("childfile: emergency access: %w", err)
		}
		if err := audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionEmergency, ObjectKind: "child",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{id}, Details: map[string]any{"facility": facility.String(), "access_id": accessID.String()}}); err != nil {
			return err
		}
		return s.tell(ctx, tx, c, a, facility, now)
	})
	return out, err
}

// tell notifies the guardians and the leads of facility of an emergency access.
func (s *Files) tell(ctx context.Context, tx bun.IDB, c auth.Caller, a *access, facility uuid.UUID, at time.Time) error {
	if s.mails == nil {
		return nil
	}
	child := strings.TrimSpace(a.child.FirstName + " " + a.child.LastName)
	word := func(lang string) notify.Notice {
		args := map[string]any{"child": child, "who": c.Principal.Name(), "at": at.In(clock.Berlin).Format("02.01.2006 15:04")}
		return notify.Notice{Subject: s.mails.TranslateArgs(lang, "childfile.mail.emergency.subject", args),
			Lines:  []string{s.mails.TranslateArgs(lang, "childfile.mail.emergency.body", args)},
			Action: s.mails.TranslateArgs(lang, "childfile.mail.emergency.action", args)}
	}
	rs, err := family.Recipients(ctx, tx, c.Tenant.ID, a.child.FamilyID)
	if err != nil {
		return err
	}
	gs := make([]notify.Guardian, 0, len(rs))
	for _, r := range rs {
		gs = append(gs, notify.Guardian{Name: strings.TrimSpace(r.FirstName + " " + r.LastName), Email: r.Email, Language: r.Language, AccountID: r.AccountID})
	}
	if err := s.mails.TellFamily(ctx, tx, c.Tenant, s.links, gs, notify.FamilyNotice{Kind: "childfile_emergency",
		Path: "/family/children/" + a.child.ID.String() + "/file", Word: word}); err != nil {
		return err
	}
	holders, err := authz.HoldersOf(ctx, tx, c.Tenant.ID, authz.RoleLead)
	if err != nil {
		return err
	}
	roles, err := authz.StaffRolesOf(ctx, tx, c.Tenant.ID, holders)
	if err != nil {
		return err
	}
	var leads []uuid.UUID
	for acc, rs := range roles {
		for _, r := range rs {
			if r.Role == authz.RoleLead && r.FacilityID != nil && *r.FacilityID == facility {
				leads = append(leads, acc)
				break
			}
		}
	}
	contacts, err := account.ActiveContacts(ctx, tx, c.Tenant.ID, leads)
	if err != nil {
		return err
	}
	ls := make([]notify.Guardian, 0, len(contacts))
	for _, ct := range contacts {
		id := ct.ID
		ls = append(ls, notify.Guardian{Email: ct.Email, Language: ct.Language, AccountID: &id})
	}
	return s.mails.TellFamily(ctx, tx, c.Tenant, s.links, ls, notify.FamilyNotice{Kind: "childfile_emergency_lead",
		Path: "/staff/children/" + a.child.ID.String() + "/file", Word: word})
}

// AccessEntry is one access to the child's data as the guardians read it.
type AccessEntry struct {
	At        time.Time `json:"at"`
	Who       string    `json:"who"`
	Action    string    `json:"action"`
	Emergency bool      `json:"emergency"`
	Reason    string    `json:"reason,omitempty"`
}

// History is the access history of child id for its guardians: every staff read and
// change of the child's data from the audit log, the emergency accesses with reasons.
func (s *Files) History(ctx context.Context, c auth.Caller, id uuid.UUID) ([]AccessEntry, error) {
	out := []AccessEntry{}
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		a, err := s.resolve(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if a.level != AccessGuardian && a.level != AccessLead {
			return ErrNotFound
		}
		entries, _, err := audit.List(ctx, tx, c.Tenant.ID, audit.Filter{Child: id, Limit: audit.MaxPage})
		if err != nil {
			return err
		}
		reasons := map[string]string{}
		var rows []struct {
			ID     uuid.UUID `bun:"id"`
			Sealed []byte    `bun:"reason_sealed"`
			KeyID  string    `bun:"key_id"`
		}
		if err := tx.NewRaw(`SELECT id, reason_sealed, key_id FROM child_file_access WHERE tenant_id = ? AND child_id = ? ORDER BY at DESC LIMIT ?`,
			c.Tenant.ID, id, audit.MaxPage).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("childfile: accesses: %w", err)
		}
		for _, r := range rows {
			plain, err := s.keys.Open(r.Sealed, r.KeyID, sealContext(c.Tenant.ID, id, "access:"+r.ID.String()))
			if err != nil {
				return fmt.Errorf("childfile: open reason: %w", err)
			}
			reasons[r.ID.String()] = string(plain)
		}
		for _, e := range entries {
			if e.ActorKind == string(auth.KindParent) {
				continue // the family's own changes
			}
			ae := AccessEntry{At: e.At, Who: e.ActorLabel, Action: e.Action, Emergency: e.Action == ActionEmergency}
			if ae.Emergency {
				if aid, ok := e.Details["access_id"].(string); ok {
					ae.Reason = reasons[aid]
				}
			}
			out = append(out, ae)
		}
		return nil
	})
	return out, err
}
