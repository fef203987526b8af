package application

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/database"
	"kitaportal/internal/tenant/tenanttest"
)

// The lifecycle as the product knows it, written out once more: every pair of status and
// event not listed here must be refused.
var wantRequest = map[string]Status{
	"draft submit": StatusSubmitted, "draft import": StatusSubmitted, "draft withdraw": StatusWithdrawn, "draft close": StatusClosed,

	"submitted review": StatusInReview, "submitted offer": StatusOffered, "submitted refuse": StatusRefused, "submitted expire": StatusExpired,
	"submitted withdraw": StatusWithdrawn, "submitted close": StatusClosed, "submitted contract": StatusContracted,

	"in_review offer": StatusOffered, "in_review refuse": StatusRefused, "in_review expire": StatusExpired,
	"in_review withdraw": StatusWithdrawn, "in_review close": StatusClosed, "in_review contract": StatusContracted,

	"offered accept": StatusAccepted, "offered decline": StatusInReview, "offered lapse": StatusInReview,
	"offered retract": StatusInReview, "offered close": StatusClosed,

	"accepted contract": StatusContracted, "accepted close": StatusClosed,

	"contracted reopen": StatusSubmitted, "closed reopen": StatusSubmitted,
}

var wantChoice = map[string]ChoiceStatus{
	"queued forward": ChoicePending, "queued end": ChoiceEnded, "queued withdraw": ChoiceWithdrawn, "queued contract": ChoiceAccepted,

	"pending review": ChoiceInReview, "pending propose": ChoiceProposed, "pending offer": ChoiceOffered, "pending refuse": ChoiceRefused,
	"pending pause": ChoicePaused, "pending pass": ChoicePassed, "pending end": ChoiceEnded, "pending withdraw": ChoiceWithdrawn,
	"pending queue": ChoiceQueued, "pending contract": ChoiceAccepted,

	"in_review propose": ChoiceProposed, "in_review offer": ChoiceOffered, "in_review refuse": ChoiceRefused,
	"in_review pause": ChoicePaused, "in_review pass": ChoicePassed, "in_review end": ChoiceEnded, "in_review withdraw": ChoiceWithdrawn,
	"in_review contract": ChoiceAccepted,

	"proposed offer": ChoiceOffered, "proposed retract": ChoiceInReview, "proposed end": ChoiceEnded, "proposed withdraw": ChoiceWithdrawn,

	"paused resume": ChoicePending, "paused end": ChoiceEnded, "paused withdraw": ChoiceWithdrawn, "paused contract": ChoiceAccepted,

	"offered accept": ChoiceAccepted, "offered decline": ChoiceDeclined, "offered lapse": ChoiceDeclined, "offered retract": ChoiceInReview,
	"offered end": ChoiceEnded,

	"ended reopen": ChoicePending, "accepted reopen": ChoicePending,
}

func TestEveryRequestStatusAndEvent(t *testing.T) {
	t.Parallel()
	seen := 0
	for _, from := range Statuses {
		for _, ev := range Events {
			key := string(from) + " " + string(ev)
			want, allowed := wantRequest[key]
			got, ok := Next(from, ev)
			switch {
			case allowed && (!ok || got != want):
				t.Errorf("%s: got %q (allowed %v), want %s", key, got, ok, want)
			case !allowed && ok:
				t.Errorf("%s: allowed to %s, want refused", key, got)
			}
			if allowed {
				seen++
			}
		}
	}
	if seen != len(wantRequest) {
		t.Errorf("the expected table names %d transitions, %d of them are pairs of known statuses and events", len(wantRequest), seen)
	}
}

func TestEveryChoiceStatusAndEvent(t *testing.T) {
	t.Parallel()
	seen := 0
	for _, from := range ChoiceStatuses {
		for _, ev := range Events {
			key := string(from) + " " + string(ev)
			want, allowed := wantChoice[key]
			got, ok := NextChoice(from, ev)
			switch {
			case allowed && (!ok || got != want):
				t.Errorf("%s: got %q (allowed %v), want %s", key, got, ok, want)
			case !allowed && ok:
				t.Errorf("%s: allowed to %s, want refused", key, got)
			}
			if allowed {
				seen++
			}
		}
	}
	if seen != len(wantChoice) {
		t.Errorf("the expected table names %d transitions, %d of them are pairs of known statuses and events", len(wantChoice), seen)
	}
}

// The tables name only known statuses and events.
func TestTheTablesNameKnownStatusesAndEvents(t *testing.T) {
	t.Parallel()
	for from, row := range requestTable.Rows() {
		if !from.In(Statuses) {
			t.Errorf("request table: unknown status %q", from)
		}
		for ev, to := range row {
			if !slices.Contains(Events, ev) || !to.In(Statuses) {
				t.Errorf("request table: %s --%s--> %s names an unknown event or status", from, ev, to)
			}
		}
	}
	for from, row := range choiceTable.Rows() {
		if !from.In(ChoiceStatuses) {
			t.Errorf("choice table: unknown status %q", from)
		}
		for ev, to := range row {
			if !slices.Contains(Events, ev) || !to.In(ChoiceStatuses) {
				t.Errorf("choice table: %s --%s--> %s names an unknown event or status", from, ev, to)
			}
		}
	}
}

func TestStatusSets(t *testing.T) {
	t.Parallel()
	eq := func(name string, got, want []Status) {
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	eq("Withdrawable", Withdrawable, []Status{StatusDraft, StatusSubmitted, StatusInReview})
	eq("Filed", Filed, slices.DeleteFunc(slices.Clone(Statuses), func(s Status) bool { return s == StatusDraft }))
	eq("Queued", Queued, slices.DeleteFunc(slices.Clone(Active), func(s Status) bool { return s == StatusDraft }))
	eq("From(close)", From(EventClose), Active) // closing ends exactly what still holds a place
	if got, want := OpenChoices, []ChoiceStatus{ChoiceQueued, ChoicePending, ChoiceInReview, ChoiceProposed, ChoicePaused}; !slices.Equal(got, want) {
		t.Errorf("OpenChoices = %v, want %v", got, want)
	}
	for _, s := range Deciding {
		if !s.In(Queued) {
			t.Errorf("Deciding names %s, which holds no place", s)
		}
	}
}

// The database knows the same statuses and the same set of active ones.
func TestTheSchemaAgreesWithTheLifecycle(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join("..", "..", "migrations", "*.up.sql"))
	sort.Strings(files)
	var schema string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		schema += string(b)
	}
	quoted := regexp.MustCompile(`'([a-z_]+)'`)
	last := func(re string) []string {
		ms := regexp.MustCompile(re).FindAllStringSubmatch(schema, -1)
		if len(ms) == 0 {
			t.Fatalf("no match for %s in the migrations", re)
		}
		var out []string
		for _, m := range quoted.FindAllStringSubmatch(ms[len(ms)-1][1], -1) {
			out = append(out, m[1])
		}
		return out
	}
	strs := func(xs any) []string {
		var out []string
		switch v := xs.(type) {
		case []Status:
			for _, s := range v {
				out = append(out, string(s))
			}
		case []ChoiceStatus:
			for _, s := range v {
				out = append(out, string(s))
			}
		}
		return out
	}
	same := func(name string, got, want []string) {
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the schema has %v, the lifecycle %v", name, got, want)
		}
	}
	same("application status", last(`(?s)CREATE TABLE application \(.*?status\s+text NOT NULL DEFAULT 'draft' CHECK \(status IN \((.*?)\)\)`), strs(Statuses))
	same("choice status", last(`(?s)application_choice_status_check CHECK \(status IN \((.*?)\)\)`), strs(ChoiceStatuses))
	same("application_one_active", last(`(?s)application_one_active ON application .*?WHERE status IN \((.*?)\)`), strs(Active))
}

// A transition writes the status and one history entry; one the table refuses changes
// nothing.
func TestTransitionWritesStatusAndHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := tenanttest.DB(t)
	tn := tenanttest.Get(t, tenanttest.Registry(t, db), "kempten")
	prov, fam, child, app, staff := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	fac := []uuid.UUID{uuid.New(), uuid.New()}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, 'Träger', 'welfare')`, tn.ID, prov)
	for i, id := range fac {
		exec(`INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key, lat, lon, age_min_months, age_max_months)
			VALUES (?, ?, ?, 'kita', ?, 'Weg', '1', '87435', 'Kempten', 'kempten', 47.7, 10.3, 0, 72)`, tn.ID, id, prov, "Kita "+strconv.Itoa(i))
	}
	exec(`INSERT INTO family (tenant_id, id) VALUES (?, ?)`, tn.ID, fam)
	exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date) VALUES (?, ?, ?, 'Mia', 'Muster', '2025-03-01')`, tn.ID, child, fam)
	exec(`INSERT INTO application (tenant_id, id, child_id, start_date, start_period, care_hours) VALUES (?, ?, ?, '2027-09-01', '2027-01-01', 35)`,
		tn.ID, app, child)
	exec(`INSERT INTO application_choice (tenant_id, application_id, rank, facility_id) VALUES (?, ?, 1, ?), (?, ?, 2, ?)`,
		tn.ID, app, fac[0], tn.ID, app, fac[1])
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	actor := Actor{Kind: "staff", ID: staff}

	inTx := func(fn func(tx bun.Tx) error) {
		t.Helper()
		if err := database.InTenantTx(ctx, db, tn.ID, func(ctx context.Context, tx bun.Tx) error { return fn(tx) }); err != nil {
			t.Fatal(err)
		}
	}
	type state struct {
		Status  Status `bun:"status"`
		Version int    `bun:"version"`
		Events  int    `bun:"events"`
		Choice1 string `bun:"choice1"`
		Choice2 string `bun:"choice2"`
	}
	read := func() state {
		t.Helper()
		var s state
		if err := db.NewRaw(`SELECT a.status, a.version,
				(SELECT count(*) FROM application_event e WHERE e.application_id = a.id) AS events,
				(SELECT status || '/' || note FROM application_choice c WHERE c.application_id = a.id AND rank = 1) AS choice1,
				(SELECT status || '/' || note FROM application_choice c WHERE c.application_id = a.id AND rank = 2) AS choice2
			FROM application a WHERE a.id = ?`, app).Scan(ctx, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	inTx(func(tx bun.Tx) error {
		from, to, err := Transition(ctx, tx, tn.ID, app, EventSubmit, actor, "am Schalter", now)
		if err != nil || from != StatusDraft || to != StatusSubmitted {
			t.Errorf("submit: %s → %s, %v", from, to, err)
		}
		return nil
	})
	if got, want := read(), (state{StatusSubmitted, 2, 1, "pending/", "pending/"}); got != want {
		t.Errorf("after submit: %+v, want %+v", got, want)
	}
	var ev struct {
		From    string    `bun:"from_status"`
		To      string    `bun:"to_status"`
		Kind    string    `bun:"actor_kind"`
		ActorID uuid.UUID `bun:"actor_id"`
		Note    string    `bun:"note"`
		At      time.Time `bun:"at"`
	}
	if err := db.NewRaw(`SELECT from_status, to_status, actor_kind, actor_id, note, at FROM application_event WHERE application_id = ?`, app).
		Scan(ctx, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.From != "draft" || ev.To != "submitted" || ev.Kind != "staff" || ev.ActorID != staff || ev.Note != "am Schalter" || !ev.At.Equal(now) {
		t.Errorf("history entry: %+v", ev)
	}

	// Refused: accepting needs an offer; an unknown request is not found.
	inTx(func(tx bun.Tx) error {
		from, to, err := Transition(ctx, tx, tn.ID, app, EventAccept, actor, "", now)
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindConflict || !errors.Is(err, ErrTransition) || from != StatusSubmitted || to != StatusSubmitted {
			t.Errorf("accept from submitted: %s → %s, %v", from, to, err)
		}
		if _, _, err := Transition(ctx, tx, tn.ID, uuid.New(), EventSubmit, actor, "", now); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown request: %v", err)
		}
		return nil
	})
	if got, want := read(), (state{StatusSubmitted, 2, 1, "pending/", "pending/"}); got != want {
		t.Errorf("after a refused transition: %+v, want %+v", got, want)
	}

	// Choices: a refusal with its reason; a refused choice cannot be accepted; the end of
	// the request withdraws the open choice and leaves the refused one.
	inTx(func(tx bun.Tx) error {
		from, to, err := TransitionChoice(ctx, tx, tn.ID, app, 1, EventRefuse, "voll", now)
		if err != nil || from != ChoicePending || to != ChoiceRefused {
			t.Errorf("refuse choice: %s → %s, %v", from, to, err)
		}
		if _, _, err := TransitionChoice(ctx, tx, tn.ID, app, 1, EventAccept, "", now); !errors.Is(err, ErrChoiceTransition) {
			t.Errorf("accept a refused choice: %v", err)
		}
		if _, _, err := TransitionChoice(ctx, tx, tn.ID, app, 9, EventReview, "", now); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown choice: %v", err)
		}
		return nil
	})
	if got, want := read(), (state{StatusSubmitted, 2, 1, "refused/voll", "pending/"}); got != want {
		t.Errorf("after the choice's refusal: %+v, want %+v", got, want)
	}
	inTx(func(tx bun.Tx) error {
		if _, _, err := Transition(ctx, tx, tn.ID, app, EventWithdraw, Actor{Kind: "parent"}, "umgezogen", now); err != nil {
			t.Error(err)
		}
		return transitionChoices(ctx, tx, tn.ID, app, EventWithdraw, now)
	})
	if got, want := read(), (state{StatusWithdrawn, 3, 2, "refused/voll", "withdrawn/"}); got != want {
		t.Errorf("after withdrawal: %+v, want %+v", got, want)
	}
}

// requestStatus matches a request or choice status spelled out in SQL.
var requestStatus = func() *regexp.Regexp {
	var words []string
	for _, s := range Statuses {
		words = append(words, string(s))
	}
	for _, s := range ChoiceStatuses {
		if !slices.Contains(words, string(s)) {
			words = append(words, string(s))
		}
	}
	return regexp.MustCompile(`'(` + strings.Join(words, "|") + `)'`)
}()

var (
	sqlTable  = regexp.MustCompile(`(?i)\b(?:FROM|JOIN|UPDATE|INTO)\s+(?:ONLY\s+)?([a-z_][a-z0-9_]*)`)
	statusCol = regexp.MustCompile(`(?i)\bstatus\b`)
)

// spellsRequestStatus tells whether a string literal of Go code is SQL on requests that
// spells a status: it names a table of requests, or it names no table but a status (a
// condition spliced into a query). SQL on other tables only has statuses of its own
// (an account is pending, an offer accepted).
func spellsRequestStatus(lit string) bool {
	if !requestStatus.MatchString(lit) {
		return false
	}
	tables := sqlTable.FindAllStringSubmatch(lit, -1)
	if len(tables) == 0 {
		return statusCol.MatchString(lit)
	}
	for _, m := range tables {
		if strings.HasPrefix(strings.ToLower(m[1]), "application") {
			return true
		}
	}
	return false
}

func TestSpellsRequestStatus(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		sql  string
		want bool
	}{
		{"SELECT id FROM application WHERE status = 'draft'", true},
		{"UPDATE application_choice SET status = 'withdrawn' WHERE rank = ?", true},
		{"FROM contract c JOIN application a ON a.child_id = c.child_id AND a.status <> 'draft'", true},
		{"a.status <> 'draft' AND ", true},
		{"SELECT id FROM application WHERE status = ANY(?::text[])", false},
		{"DELETE FROM account a WHERE a.status = 'pending'", false},
		{"UPDATE offer SET status = 'accepted'", false},
		{"the request was 'submitted'", false},
	} {
		if got := spellsRequestStatus(c.sql); got != c.want {
			t.Errorf("spellsRequestStatus(%q) = %v, want %v", c.sql, got, c.want)
		}
	}
}

// SQL outside the lifecycle never spells a request or choice status: it takes the
// constants and sets of lifecycle.go as parameters, so the statuses live in one place.
func TestNoSQLSpellsARequestStatus(t *testing.T) {
	t.Parallel()
	eachLiteral(t, func(pos token.Position, rel, s string) {
		if rel != "internal/application/lifecycle.go" && spellsRequestStatus(s) {
			t.Errorf("%s: SQL spells a request status (%s): pass application's constants or sets as parameters", pos, requestStatus.FindString(s))
		}
	})
}

// statusWrite finds SQL that sets the status of a request or a choice.
var statusWrite = regexp.MustCompile(`(?is)\bUPDATE\s+(?:ONLY\s+)?application(?:_choice)?\b(?:\s+[a-z]+)?\s+SET\s+(.*?)(?:\bWHERE\b|\bFROM\b|$)`)

// Every status change goes through the lifecycle: no other SQL sets a status.
func TestOnlyTheLifecycleWritesStatuses(t *testing.T) {
	t.Parallel()
	assignsStatus := regexp.MustCompile(`(?i)(?:^|[\s,.])status\s*=`)
	eachLiteral(t, func(pos token.Position, rel, s string) {
		if rel == "internal/application/lifecycle.go" {
			return
		}
		for _, m := range statusWrite.FindAllStringSubmatch(s, -1) {
			if assignsStatus.MatchString(m[1]) {
				t.Errorf("%s: SQL sets a request's or choice's status outside the lifecycle: use Transition or TransitionChoice", pos)
			}
		}
	})
	if !statusWrite.MatchString("UPDATE application_choice c SET status = m.to_status, updated_at = ? FROM unnest") ||
		statusWrite.FindStringSubmatch("UPDATE application SET child_id = ? WHERE status = ?")[1] != "child_id = ? " {
		t.Error("statusWrite no longer finds what it should")
	}
}

// eachLiteral calls fn with every string literal of the tree's Go code but tests and the
// demo seeder (it builds data), with the file's path from the module root.
func eachLiteral(t *testing.T, fn func(pos token.Position, rel, lit string)) {
	t.Helper()
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			if strings.HasPrefix(rel, "internal/demo/") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil {
						fn(fset.Position(lit.Pos()), rel, s)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
