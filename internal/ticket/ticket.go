// Package ticket is the out-of-town access tickets (Leipzig's Zugangsberechtigung): a
// family that does not live in the city asks for one child and one Kita year, with a
// reason and a planned move; a case worker grants or refuses within the yearly quota per
// age band that the demand plan allows. A granted ticket is valid for the city's validity
// months; a request of a family from outside needs a valid ticket. The package owns the
// table access_ticket.
package ticket

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/audit"
	"kitaportal/internal/auth"
	"kitaportal/internal/care"
	"kitaportal/internal/family"
	"kitaportal/internal/notify"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/platform/date"
)

// Service runs the ticket flows of families and case workers. Every method is one
// tenant transaction.
type Service struct {
	db    bun.IDB
	clock clock.Clock
	mails *notify.Templates
	links *notify.Links
}

// Deps are what the ticket service needs.
type Deps struct {
	DB    bun.IDB
	Clock clock.Clock
	Mails *notify.Templates
	Links *notify.Links
}

// NewService returns the ticket service.
func NewService(d Deps) *Service {
	return &Service{db: d.DB, clock: d.Clock, mails: d.Mails, links: d.Links}
}

func (s *Service) now() time.Time { return s.clock.Now() }

// Audit actions of the ticket flows.
const (
	ActionTicketRequested = "ticket.requested"
	ActionTicketDecided   = "ticket.decided"
)

// ErrNotFound answers unknown ids, other cities' alike.
var ErrNotFound = apperr.NotFound("not_found")

// parent is the signed-in parent's account id.
func parent(c auth.Caller) (uuid.UUID, error) {
	if c.Principal == nil || c.Principal.Kind != auth.KindParent {
		return uuid.Nil, apperr.Forbidden("forbidden")
	}
	return c.Principal.ID, nil
}

// familyOf is the caller's family, locked, or "enter your address first".
func familyOf(ctx context.Context, tx bun.IDB, c auth.Caller, me uuid.UUID) (*family.Family, error) {
	f, err := family.HouseholdOf(ctx, tx, c.Tenant, me, true)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, family.ErrNoFamily
	}
	return f, nil
}

// Ticket statuses.
const (
	TicketRequested = "requested"
	TicketGranted   = "granted"
	TicketRefused   = "refused"
)

// Ticket is one access ticket.
type Ticket struct {
	ID           uuid.UUID  `bun:"id" json:"id"`
	ChildID      uuid.UUID  `bun:"child_id" json:"child_id"`
	FamilyID     uuid.UUID  `bun:"family_id" json:"-"`
	FirstName    string     `bun:"-" json:"child_first_name"`
	LastName     string     `bun:"-" json:"child_last_name"`
	KitaYear     date.Date  `bun:"kita_year" json:"kita_year"`
	AgeBand      string     `bun:"age_band" json:"age_band"`
	Reason       string     `bun:"reason" json:"reason"`
	PlannedMove  *date.Date `bun:"planned_move_date" json:"planned_move_date,omitempty"`
	Status       string     `bun:"status" json:"status"`
	RequestedAt  time.Time  `bun:"requested_at" json:"requested_at"`
	DecidedAt    *time.Time `bun:"decided_at" json:"decided_at,omitempty"`
	DecisionNote string     `bun:"decision_note" json:"decision_note,omitempty"`
	ValidUntil   *date.Date `bun:"valid_until" json:"valid_until,omitempty"`
	Expired      bool       `bun:"-" json:"expired"`
	FamilyPLZ    string     `bun:"-" json:"-"`
	FamilyCity   string     `bun:"-" json:"-"`
}

// TicketInput is a family's request for a ticket.
type TicketInput struct {
	ChildID     uuid.UUID `json:"child_id"`
	StartDate   string    `json:"start_date"`
	Reason      string    `json:"reason"`
	PlannedMove string    `json:"planned_move_date"`
}

const ticketColumns = `t.id, t.child_id, t.family_id, t.kita_year, t.age_band, t.reason, t.planned_move_date, t.status,
	t.requested_at, t.decided_at, t.decision_note, t.valid_until`

const ticketFrom = ` FROM access_ticket t `

// withNames adds the children's names and their families' postcode and town (family).
func withNames(ctx context.Context, tx bun.IDB, tenantID uuid.UUID, ts []Ticket) error {
	var kids, fams []uuid.UUID
	for _, t := range ts {
		kids, fams = append(kids, t.ChildID), append(fams, t.FamilyID)
	}
	cards, err := family.ChildCards(ctx, tx, tenantID, kids)
	if err != nil {
		return err
	}
	places, err := family.FamilyCards(ctx, tx, tenantID, fams)
	if err != nil {
		return err
	}
	for i := range ts {
		ch, f := cards[ts[i].ChildID], places[ts[i].FamilyID]
		ts[i].FirstName, ts[i].LastName, ts[i].FamilyPLZ, ts[i].FamilyCity = ch.FirstName, ch.LastName, f.PLZ, f.City
	}
	return nil
}

// RequestTicket files a family's ticket request.
func (s *Service) RequestTicket(ctx context.Context, c auth.Caller, in TicketInput) (*Ticket, error) {
	me, err := parent(c)
	if err != nil {
		return nil, err
	}
	r := c.Tenant.Rules
	if !r.Tickets.Enabled {
		return nil, apperr.Conflict("tickets_not_offered")
	}
	var errs apperr.List
	start, err := care.ParseStart(in.StartDate)
	apperr.Collect(&errs, err)
	if start.IsZero() && err == nil {
		errs = append(errs, apperr.Invalid("start_date", "start_date_missing", nil))
	}
	reason, err := auth.FreeText("reason", in.Reason, 10, 2000)
	apperr.Collect(&errs, err)
	var move *date.Date
	if in.PlannedMove != "" {
		d, err := date.Parse(in.PlannedMove)
		if err != nil {
			errs = append(errs, apperr.Invalid("planned_move_date", "date_invalid", nil))
		} else {
			move = &d
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	now := s.now()
	id := uuid.Must(uuid.NewV7())
	var out *Ticket
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		fam, err := familyOf(ctx, tx, c, me)
		if err != nil {
			return err
		}
		if !fam.HasAddress() {
			return family.ErrNoFamily
		}
		if fam.Resident {
			return apperr.Invalid("address", "ticket_not_needed", nil)
		}
		ch, err := family.ChildOf(ctx, tx, c.Tenant.ID, fam.ID, in.ChildID)
		if err != nil {
			return apperr.Invalid("child_id", "child_unknown", nil)
		}
		band, ok := r.Calendar().BandAt(ch.Birth(), start)
		if !ok {
			return apperr.Invalid("start_date", "child_no_age_band", map[string]any{"start": start})
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO access_ticket (tenant_id, id, family_id, child_id, kita_year, age_band, reason,
			planned_move_date, requested_by, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Tenant.ID, id, fam.ID, ch.ID, r.Calendar().YearStart(start), band.Key, reason, move, me, now)
		if database.IsUniqueViolation(err, "access_ticket_once") {
			return apperr.Conflict("ticket_exists")
		}
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionTicketRequested, ObjectKind: "ticket",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{ch.ID}}); err != nil {
			return err
		}
		out, err = ticketByID(ctx, tx, c.Tenant.ID, id, false)
		return err
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	return out, nil
}

func ticketByID(ctx context.Context, tx bun.IDB, tenantID, id uuid.UUID, lock bool) (*Ticket, error) {
	q := `SELECT ` + ticketColumns + ticketFrom + ` WHERE t.tenant_id = ? AND t.id = ?`
	if lock {
		q += ` FOR UPDATE OF t`
	}
	var t Ticket
	err := tx.NewRaw(q, tenantID, id).Scan(ctx, &t)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	ts := []Ticket{t}
	if err := withNames(ctx, tx, tenantID, ts); err != nil {
		return nil, err
	}
	return &ts[0], nil
}

// MyTickets lists the tickets of the caller's family.
func (s *Service) MyTickets(ctx context.Context, c auth.Caller) ([]Ticket, error) {
	me, err := parent(c)
	if err != nil {
		return nil, err
	}
	out := []Ticket{}
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		fam, err := family.HouseholdOf(ctx, tx, c.Tenant, me, false)
		if err != nil || fam == nil {
			return err
		}
		if err := tx.NewRaw(`SELECT `+ticketColumns+ticketFrom+` WHERE t.tenant_id = ? AND t.family_id = ? ORDER BY t.requested_at DESC`,
			c.Tenant.ID, fam.ID).Scan(ctx, &out); err != nil {
			return err
		}
		return withNames(ctx, tx, c.Tenant.ID, out)
	})
	s.markExpired(out)
	return out, database.Classify(err)
}

func (s *Service) markExpired(ts []Ticket) {
	today := date.In(s.now())
	for i := range ts {
		ts[i].Expired = ts[i].Status == TicketGranted && ts[i].ValidUntil != nil && ts[i].ValidUntil.Before(today)
	}
}

// QuotaUse is how much of one Kita year's quota for one age band is granted.
type QuotaUse struct {
	KitaYear date.Date `bun:"kita_year" json:"kita_year"`
	AgeBand  string    `bun:"age_band" json:"age_band"`
	Granted  int       `bun:"granted" json:"granted"`
	Waiting  int       `bun:"waiting" json:"waiting"`
	Quota    int       `bun:"-" json:"quota"`
}

// QuotaUses counts the granted and the requested tickets per Kita year and age band, by
// year and band; Quota is left for the caller to fill from the rules.
func QuotaUses(ctx context.Context, tx bun.IDB, tenantID uuid.UUID) ([]QuotaUse, error) {
	use := []QuotaUse{}
	if err := tx.NewRaw(`SELECT kita_year, age_band, count(*) FILTER (WHERE status = ?) AS granted,
		count(*) FILTER (WHERE status = ?) AS waiting
		FROM access_ticket WHERE tenant_id = ? GROUP BY kita_year, age_band ORDER BY kita_year, age_band`,
		TicketGranted, TicketRequested, tenantID).Scan(ctx, &use); err != nil {
		return nil, fmt.Errorf("ticket: quota use: %w", err)
	}
	return use, nil
}

// TicketQueue lists the city's tickets (requested first) and the quota use per Kita
// year and band, for case workers.
func (s *Service) TicketQueue(ctx context.Context, c auth.Caller, status string) ([]Ticket, []QuotaUse, error) {
	if status != "" && status != TicketRequested && status != TicketGranted && status != TicketRefused {
		return nil, nil, apperr.Invalid("status", "status_unknown", nil)
	}
	tickets, use := []Ticket{}, []QuotaUse{}
	err := database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		q := `SELECT ` + ticketColumns + ticketFrom + ` WHERE t.tenant_id = ?`
		args := []any{c.Tenant.ID}
		if status != "" {
			q += ` AND t.status = ?`
			args = append(args, status)
		}
		q += ` ORDER BY t.status <> ?, t.requested_at LIMIT 1000`
		args = append(args, TicketRequested)
		if err := tx.NewRaw(q, args...).Scan(ctx, &tickets); err != nil {
			return err
		}
		if err := withNames(ctx, tx, c.Tenant.ID, tickets); err != nil {
			return err
		}
		var err error
		if use, err = QuotaUses(ctx, tx, c.Tenant.ID); err != nil {
			return err
		}
		ids := make([]uuid.UUID, len(tickets))
		for i, t := range tickets {
			ids[i] = t.ChildID
		}
		return audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: "tickets.listed", ObjectKind: "ticket", ChildIDs: ids})
	})
	for i := range use {
		use[i].Quota = c.Tenant.Rules.Tickets.Quota[use[i].AgeBand]
	}
	s.markExpired(tickets)
	return tickets, use, database.Classify(err)
}

// DecideTicket grants (within the quota) or refuses a requested ticket and tells the
// family. The quota of one year and band is counted under a lock, so two case workers
// granting the last ticket at once cannot both succeed.
func (s *Service) DecideTicket(ctx context.Context, c auth.Caller, id uuid.UUID, grant bool, note string) (*Ticket, error) {
	note, err := auth.FreeText("note", note, 0, 2000)
	if err != nil {
		return nil, err
	}
	if !grant && note == "" {
		return nil, apperr.Invalid("note", "refusal_reason_required", nil)
	}
	r := c.Tenant.Rules
	now := s.now()
	var out *Ticket
	err = database.InTenantTx(ctx, s.db, c.Tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		t, err := ticketByID(ctx, tx, c.Tenant.ID, id, true)
		if err != nil {
			return err
		}
		if t.Status != TicketRequested {
			return apperr.Conflict("ticket_decided")
		}
		status := TicketRefused
		var until *date.Date
		if grant {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext(?))`,
				"ticket-quota:"+c.Tenant.ID.String()+":"+t.KitaYear.String()+":"+t.AgeBand); err != nil {
				return err
			}
			var granted int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM access_ticket WHERE tenant_id = ? AND kita_year = ? AND age_band = ? AND status = ?`,
				c.Tenant.ID, t.KitaYear, t.AgeBand, TicketGranted).Scan(&granted); err != nil {
				return err
			}
			if quota := r.Tickets.Quota[t.AgeBand]; granted >= quota {
				return apperr.Conflict("ticket_quota_exhausted").WithArgs(map[string]any{"quota": quota})
			}
			status = TicketGranted
			d := date.In(now).AddMonths(r.Tickets.ValidityMonths)
			until = &d
		}
		if _, err := tx.ExecContext(ctx, `UPDATE access_ticket SET status = ?, decided_by = ?, decided_at = ?, decision_note = ?, valid_until = ?
			WHERE tenant_id = ? AND id = ?`, status, c.Principal.ID, now, note, until, c.Tenant.ID, id); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, c.Tenant.ID, audit.By(c), audit.Event{Action: ActionTicketDecided, ObjectKind: "ticket",
			ObjectID: id.String(), ChildIDs: []uuid.UUID{t.ChildID}, Details: map[string]any{"decision": status}}); err != nil {
			return err
		}
		if out, err = ticketByID(ctx, tx, c.Tenant.ID, id, false); err != nil {
			return err
		}
		return s.tellTicket(ctx, tx, c, out)
	})
	if err != nil {
		return nil, database.Classify(err)
	}
	return out, nil
}

// tellTicket tells the family about the decision on its ticket.
func (s *Service) tellTicket(ctx context.Context, tx bun.IDB, c auth.Caller, t *Ticket) error {
	rs, err := family.Recipients(ctx, tx, c.Tenant.ID, t.FamilyID)
	if err != nil {
		return err
	}
	m := s.mails
	child := t.FirstName + " " + t.LastName
	words := notify.Wordings(c.Tenant, func(lang string) notify.Notice {
		a := map[string]any{"child": child, "year": t.KitaYear, "city": c.Tenant.Name}
		if t.ValidUntil != nil {
			a["until"] = *t.ValidUntil
		}
		n := notify.Notice{
			Subject: m.TranslateArgs(lang, "mail.ticket."+t.Status+".subject", a),
			Lines:   []string{m.TranslateArgs(lang, "mail.ticket."+t.Status+".text", a)},
			URL:     s.links.URL(c.Tenant, "/tickets"),
			Action:  m.Translate(lang, "mail.ticket.button"),
		}
		if t.DecisionNote != "" {
			n.Lines = append(n.Lines, m.TranslateArgs(lang, "mail.application.reason", map[string]any{"reason": t.DecisionNote}))
		}
		return n
	})
	for _, r := range rs {
		lang := notify.LanguageFor(c.Tenant, r.Language)
		n := words[lang]
		n.Name = r.FirstName + " " + r.LastName
		if r.AccountID != nil {
			e := notify.Entry{Kind: "ticket_" + t.Status, Link: "/tickets", Lang: lang, Mailed: r.Email != "", Versions: words}
			if err := notify.DeliverEntry(ctx, tx, c.Tenant.ID, *r.AccountID, e); err != nil {
				return err
			}
		}
		if r.Email != "" {
			if err := m.Queue(ctx, tx, c.Tenant.ID, notify.Mail{Kind: "ticket_" + t.Status, Template: "notice", Lang: lang, To: r.Email,
				Brand: s.links.Brand(c.Tenant), Data: n}); err != nil {
				return err
			}
		}
	}
	return nil
}
