package round

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/allocation"
	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/csvfile"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/tenant"
)

// The case workers' pages of rounds and the family's page of its request's outcome.
// Plain forms, redirect after post; a busy run's page reloads itself.

// Handler serves rounds.
type Handler struct {
	s     *Service
	forms view.Forms
}

// NewHandler returns the handlers.
func NewHandler(s *Service, views *view.Renderer, authn *auth.Authenticator) *Handler {
	return &Handler{s: s, forms: view.Forms{Views: views, CSRF: authn.CSRFToken}}
}

// roundsData is the list page.
type roundsData struct {
	Rounds  []Round
	Central bool
}

// Rounds lists the city's rounds with the form for a new one.
func (h *Handler) Rounds(c *fiber.Ctx) error {
	return h.roundsPage(c, nil)
}

func (h *Handler) roundsPage(c *fiber.Ctx, failure error) error {
	call := auth.CallerOf(c)
	rs, err := h.s.Rounds(c.UserContext(), call)
	if err != nil {
		return err
	}
	data := roundsData{Rounds: rs, Central: call.Tenant.Rules.Allocation.Mode == tenant.ModeDeferredAcceptance}
	if failure != nil {
		return h.forms.Failed(c, failure, "staff_rounds", "round.title", view.NewForm(httpserver.PostedValues(c, auth.CSRFField)), data)
	}
	// The form suggests the next Kita year's start month and the whole Kita year.
	start := call.Tenant.Rules.Calendar().YearStart(date.In(h.s.clock.Now()).AddMonths(12))
	if start.AddMonths(-12).After(date.In(h.s.clock.Now())) {
		start = start.AddMonths(-12)
	}
	form := view.NewForm(map[string]string{"from": month(start), "until": month(start.AddMonths(11)),
		"cut_off": date.In(h.s.clock.Now()).String()})
	return h.forms.Show(c, fiber.StatusOK, "staff_rounds", "round.title", form, data)
}

func month(d date.Date) string { return d.String()[:7] }

// parseMonth reads an <input type="month"> value (2027-08).
func parseMonth(field, s string) (date.Date, error) {
	d, err := date.Parse(strings.TrimSpace(s) + "-01")
	if err != nil {
		return date.Date{}, apperr.Invalid(field, "round_month_invalid", nil)
	}
	return d, nil
}

// Create freezes a new round.
func (h *Handler) Create(c *fiber.Ctx) error {
	var problems apperr.List
	from, err := parseMonth("from", c.FormValue("from"))
	apperr.Collect(&problems, err)
	last, err := parseMonth("until", c.FormValue("until"))
	apperr.Collect(&problems, err)
	var cut date.Date
	if v := strings.TrimSpace(c.FormValue("cut_off")); v != "" {
		if cut, err = date.Parse(v); err != nil {
			apperr.Collect(&problems, apperr.Invalid("cut_off", "round_day_invalid", nil))
		}
	}
	if len(problems) > 0 {
		return h.roundsPage(c, problems)
	}
	r, err := h.s.Create(c.UserContext(), auth.CallerOf(c), NewRound{Name: c.FormValue("name"), From: from, Until: last.AddMonths(1), CutOff: cut})
	if err != nil {
		return h.roundsPage(c, err)
	}
	return c.Redirect("/staff/rounds/"+r.ID.String()+"?done=round_created", fiber.StatusSeeOther)
}

// roundData is a round's page.
type roundData struct {
	Round      *Round
	Runs       []Run
	Facilities []FacilitySeats
	SeatTypes  []string
	Criteria   []tenant.Criterion
	Busy       bool
	// AutoFollowUp: the city's rules start follow-up runs by themselves.
	AutoFollowUp bool
}

// Show is a round's page: its inputs, runs, and the forms to run, what-if and compare.
func (h *Handler) Show(c *fiber.Ctx) error {
	return h.roundPage(c, nil)
}

func (h *Handler) roundPage(c *fiber.Ctx, failure error) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	call := auth.CallerOf(c)
	ctx := c.UserContext()
	r, err := h.s.Get(ctx, call, id)
	if err != nil {
		return err
	}
	d := roundData{Round: r, AutoFollowUp: call.Tenant.Rules.Allocation.AutoFollowUp}
	if d.Runs, err = h.s.Runs(ctx, call, id); err != nil {
		return err
	}
	for _, run := range d.Runs {
		d.Busy = d.Busy || run.Busy()
	}
	if d.Facilities, err = h.s.Facilities(ctx, call, id); err != nil {
		return err
	}
	d.SeatTypes = seatTypes(call.Tenant.Rules)
	d.Criteria = call.Tenant.Rules.Criteria.Catalogue
	if failure != nil {
		return h.forms.Failed(c, failure, "staff_round", "round.title", view.NewForm(httpserver.PostedValues(c, auth.CSRFField)), d)
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_round", "round.title", view.NewForm(map[string]string{"delta": "5"}), d)
}

// Refreeze takes the round's inputs afresh.
func (h *Handler) Refreeze(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.s.Refreeze(c.UserContext(), auth.CallerOf(c), id); err != nil {
		return h.roundPage(c, err)
	}
	return c.Redirect("/staff/rounds/"+id.String()+"?done=round_refrozen", fiber.StatusSeeOther)
}

// StartRun queues a main, what-if or follow-up run.
func (h *Handler) StartRun(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	// The round first: another city's id is a 404, whatever the form says.
	if _, err := h.s.Get(c.UserContext(), auth.CallerOf(c), id); err != nil {
		return err
	}
	kind := c.FormValue("kind")
	var ch Changes
	switch kind {
	case KindMain, KindFollowUp:
	case KindWhatIf:
		facilities, err := h.s.Facilities(c.UserContext(), auth.CallerOf(c), id)
		if err != nil {
			return err
		}
		if ch, err = changesOf(c, facilities); err != nil {
			return h.roundPage(c, err)
		}
	default:
		return apperr.New(apperr.KindBadRequest, "bad_request")
	}
	run, err := h.s.StartRun(c.UserContext(), auth.CallerOf(c), id, kind, c.FormValue("label"), ch)
	if err != nil {
		return h.roundPage(c, err)
	}
	return c.Redirect("/staff/runs/"+run.ID.String(), fiber.StatusSeeOther)
}

// seatTypes are the city's seat types: every age band with every care scope.
func seatTypes(rules *tenant.Rules) []string {
	var out []string
	for _, b := range rules.AgeBands {
		for _, hours := range rules.CareScopes {
			out = append(out, string(allocation.TypeOf(b.Key, hours)))
		}
	}
	return out
}

// changesOf reads the what-if form: seats more or fewer of one type at one of the
// round's facilities, and optionally other points for one criterion.
func changesOf(c *fiber.Ctx, facilities []FacilitySeats) (Changes, error) {
	var ch Changes
	var problems apperr.List
	rules := auth.CallerOf(c).Tenant.Rules
	if f := c.FormValue("facility"); f != "" {
		id, err := uuid.Parse(f)
		if err != nil || !slices.ContainsFunc(facilities, func(fs FacilitySeats) bool { return fs.ID == id }) {
			apperr.Collect(&problems, apperr.Invalid("facility", "round_change_facility", nil))
		}
		typ := allocation.SeatType(c.FormValue("type"))
		if !slices.Contains(seatTypes(rules), string(typ)) {
			apperr.Collect(&problems, apperr.Invalid("type", "round_change_type", nil))
		}
		delta, err := strconv.Atoi(strings.TrimSpace(c.FormValue("delta")))
		if err != nil || delta == 0 || delta < -500 || delta > 500 {
			apperr.Collect(&problems, apperr.Invalid("delta", "round_change_delta", map[string]any{"max": 500}))
		}
		ch.Seats = []SeatChange{{Facility: id.String(), Type: typ, Delta: delta}}
	}
	if key := c.FormValue("criterion"); key != "" {
		known := false
		for _, cr := range rules.Criteria.Catalogue {
			known = known || cr.Key == key
		}
		points, err := strconv.Atoi(strings.TrimSpace(c.FormValue("points")))
		switch {
		case !known:
			apperr.Collect(&problems, apperr.Invalid("criterion", "round_change_criterion", nil))
		case err != nil || points < -100 || points > 100:
			apperr.Collect(&problems, apperr.Invalid("points", "round_change_points", nil))
		default:
			ch.Points = map[string]int{key: points}
		}
	}
	if len(problems) == 0 && ch.Empty() {
		problems = append(problems, apperr.Invalid("facility", "round_change_nothing", nil))
	}
	if len(problems) > 0 {
		return ch, problems
	}
	return ch, nil
}

// runData is a run's page.
type runData struct {
	Run     *Run
	Round   *Round
	Results []Result
	Names   map[string]string // facility id → name
	Show    string
	Page    int
	More    bool
	Envy    []allocation.Envy
}

// Run is a run's page: progress while busy, then figures, results and the actions.
func (h *Handler) Run(c *fiber.Ctx) error {
	return h.runPage(c, nil)
}

func (h *Handler) runPage(c *fiber.Ctx, failure error) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	call := auth.CallerOf(c)
	ctx := c.UserContext()
	run, err := h.s.GetRun(ctx, call, id)
	if err != nil {
		return err
	}
	d := runData{Run: run, Show: c.Query("show"), Page: max(c.QueryInt("page", 1), 1)}
	if d.Round, err = h.s.Get(ctx, call, run.RoundID); err != nil {
		return err
	}
	if run.Status == RunDone || run.Status == RunPublished || run.Status == RunPublishing {
		rows, names, err := h.s.Results(ctx, call, id, d.Show, d.Page)
		if err != nil {
			return err
		}
		d.Results, d.More = rows, len(rows) == PageSize
		named(d.Results, names)
		if run.Figures.Changed > 0 {
			if d.Envy, err = h.s.EnvyIntroduced(ctx, call, id); err != nil {
				return err
			}
		}
	}
	if d.Names, err = h.runNames(c, run, d.Envy); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if failure != nil {
		return h.forms.Failed(c, failure, "staff_run", "round.run.title", view.NewForm(nil), d)
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_run", "round.run.title", nil, d)
}

// named fills in the name of each row's facility.
func named(rows []Result, names map[uuid.UUID]string) {
	for i := range rows {
		if f := rows[i].FacilityID; f != nil {
			rows[i].Facility = names[*f]
		}
	}
}

// runNames names the facilities a run's changes and envy list mention.
func (h *Handler) runNames(c *fiber.Ctx, run *Run, envy []allocation.Envy) (map[string]string, error) {
	var ids []uuid.UUID
	for _, ch := range run.Changes.Seats {
		if id, err := uuid.Parse(ch.Facility); err == nil {
			ids = append(ids, id)
		}
	}
	for _, e := range envy {
		if id, err := uuid.Parse(e.Facility); err == nil {
			ids = append(ids, id)
		}
	}
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	names, err := h.s.facilityNames(c.UserContext(), auth.CallerOf(c), ids)
	for id, n := range names {
		out[id.String()] = n
	}
	return out, err
}

// Publish hands the run to the worker to make its offers.
func (h *Handler) Publish(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.s.Publish(c.UserContext(), auth.CallerOf(c), id); err != nil {
		return h.runPage(c, err)
	}
	return c.Redirect("/staff/runs/"+id.String()+"?done=round_publishing", fiber.StatusSeeOther)
}

// resultData is one result's page.
type resultData struct {
	Run       *Run
	Detail    *Detail
	Sentences []Sentence
	Envy      []allocation.Envy
	// Criteria names the city's criteria, for a facility-local decider.
	Criteria map[string]tenant.Text
}

// Result shows one request's result in full, with the change form.
func (h *Handler) Result(c *fiber.Ctx) error {
	return h.resultPage(c, nil, nil)
}

func (h *Handler) resultPage(c *fiber.Ctx, failure error, envy []allocation.Envy) error {
	runID, appID, err := httpserver.PathIDs(c, "id", "app")
	if err != nil {
		return err
	}
	call := auth.CallerOf(c)
	run, err := h.s.GetRun(c.UserContext(), call, runID)
	if err != nil {
		return err
	}
	d, err := h.s.ResultOf(c.UserContext(), call, runID, appID)
	if err != nil {
		return err
	}
	data := resultData{Run: run, Detail: d, Sentences: Sentences(d.Why, d.Names, call.Tenant.Rules), Envy: envy, Criteria: map[string]tenant.Text{}}
	for _, cr := range call.Tenant.Rules.Criteria.Catalogue {
		data.Criteria[cr.Key] = cr.Label
	}
	if failure != nil {
		return h.forms.Failed(c, failure, "staff_round_result", "round.result.title", view.NewForm(httpserver.PostedValues(c, auth.CSRFField)), data)
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_round_result", "round.result.title", nil, data)
}

// Change changes one result before publishing, with a reason.
func (h *Handler) Change(c *fiber.Ctx) error {
	runID, appID, err := httpserver.PathIDs(c, "id", "app")
	if err != nil {
		return err
	}
	facility := uuid.Nil
	if f := c.FormValue("facility_id"); f != "" {
		if facility, err = uuid.Parse(f); err != nil {
			return h.resultPage(c, apperr.Invalid("facility_id", "round_change_not_a_choice", nil), nil)
		}
	}
	envy, err := h.s.Change(c.UserContext(), auth.CallerOf(c), runID, appID, facility, c.FormValue("reason"))
	if err != nil {
		return h.resultPage(c, err, nil)
	}
	if len(envy) > 0 {
		return h.resultPage(c, nil, envy) // the case worker sees at once what the change costs
	}
	return c.Redirect("/staff/runs/"+runID.String()+"/results/"+appID.String()+"?done=round_changed", fiber.StatusSeeOther)
}

// Compare sets two runs side by side (?a=&b=).
func (h *Handler) Compare(c *fiber.Ctx) error {
	a, errA := uuid.Parse(c.Query("a"))
	b, errB := uuid.Parse(c.Query("b"))
	if errA != nil || errB != nil {
		return apperr.Invalid("b", "round_compare_pick_two", nil)
	}
	cmp, err := h.s.Compare(c.UserContext(), auth.CallerOf(c), a, b)
	if err != nil {
		return err
	}
	return h.forms.Show(c, fiber.StatusOK, "staff_round_compare", "round.compare.title", nil, cmp)
}

// UnplacedCSV exports a run's unplaced requests with their choices' reasons.
func (h *Handler) UnplacedCSV(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.s.GetRun(c.UserContext(), auth.CallerOf(c), id); err != nil {
		return err // another city's run is a 404, not an empty file
	}
	rows, names, err := h.s.ExportResults(c.UserContext(), auth.CallerOf(c), id, ShowUnplaced)
	if err != nil {
		return err
	}
	return httpserver.SendCSV(c, "ohne-platz.csv", csvfile.UTF8, func(w *csvfile.Writer) error {
		_ = w.Write("aktenzeichen", "kind_vorname", "kind_nachname", "punkte", "wuensche", "gruende")
		for _, r := range rows {
			var wishes, reasons []string
			for _, d := range r.Why.Above {
				id, _ := uuid.Parse(d.Facility)
				wishes = append(wishes, strconv.Itoa(d.Rank)+": "+names[id])
				reasons = append(reasons, strconv.Itoa(d.Rank)+": "+d.Reason+tail(d.Decider))
			}
			_ = w.Write(r.Reference, r.FirstName, r.LastName, strconv.Itoa(r.Why.Points), strings.Join(wishes, " | "), strings.Join(reasons, " | "))
		}
		return w.Flush()
	})
}

func tail(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// SeatsCSV exports the seats a run leaves empty.
func (h *Handler) SeatsCSV(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	call := auth.CallerOf(c)
	run, err := h.s.GetRun(c.UserContext(), call, id)
	if err != nil {
		return err
	}
	ids := make([]uuid.UUID, 0, len(run.Figures.Left))
	for f := range run.Figures.Left {
		if u, err := uuid.Parse(f); err == nil {
			ids = append(ids, u)
		}
	}
	names, err := h.s.facilityNames(c.UserContext(), call, ids)
	if err != nil {
		return err
	}
	sort.Slice(ids, func(a, b int) bool { return names[ids[a]] < names[ids[b]] })
	return httpserver.SendCSV(c, "freie-plaetze.csv", csvfile.UTF8, func(w *csvfile.Writer) error {
		_ = w.Write("einrichtung", "einrichtung_id", "altersgruppe", "stunden", "frei")
		for _, f := range ids {
			types := make([]string, 0, len(run.Figures.Left[f.String()]))
			for t := range run.Figures.Left[f.String()] {
				types = append(types, t)
			}
			sort.Strings(types)
			for _, t := range types {
				band, hours, _ := strings.Cut(t, "/")
				_ = w.Write(names[f], f.String(), band, hours, strconv.Itoa(run.Figures.Left[f.String()][t]))
			}
		}
		return w.Flush()
	})
}

// outcomeData is the family's page.
type outcomeData struct {
	ApplicationID uuid.UUID
	Outcome       *Outcome
	Sentences     []Sentence
}

// Outcome is the family's page of what a published round decided for its request.
func (h *Handler) Outcome(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	call := auth.CallerOf(c)
	out, err := h.s.OutcomeFor(c.UserContext(), call, id)
	if err != nil {
		return err
	}
	d := outcomeData{ApplicationID: id, Outcome: out}
	if out != nil {
		d.Sentences = Sentences(out.Why, out.Names, call.Tenant.Rules)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.forms.Show(c, fiber.StatusOK, "round_outcome", "round.outcome.title", nil, d)
}
