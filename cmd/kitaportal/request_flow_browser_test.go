package main_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/uuid"
)

// Issue 21's request flow on Bochum's real binary in a phone-sized Chromium: the demo
// parent searches for the child's start, ticks three Kitas on the results, lands on the
// request form with them in that order (child, start and scope carried over), reorders
// them with the list's buttons and files the request; the status page lists the wishes
// in the new order. Twice: once by mouse, once by keyboard only (Tab, Space and Enter,
// no click), for a second child whose birth date picks it in the form.
func TestParentRequestsFromTheResultsOnAPhone(t *testing.T) {
	t.Parallel()
	db, httpAddr, _, _ := startPortal(t, "bochum")
	base := "http://bochum.localhost:" + strings.Split(httpAddr, ":")[1]
	bg := context.Background()

	// The demo family's child (Paul), and a second child a month younger for the keyboard run.
	var tenantID, familyID, paul uuid.UUID
	var paulBirth time.Time
	if err := db.QueryRowContext(bg, `SELECT g.tenant_id, g.family_id, c.id, c.birth_date FROM guardian g
		JOIN account a ON a.tenant_id = g.tenant_id AND a.id = g.user_id
		JOIN child c ON c.tenant_id = g.tenant_id AND c.family_id = g.family_id
		WHERE a.email = 'eltern@bochum.demo' ORDER BY c.birth_date LIMIT 1`).Scan(&tenantID, &familyID, &paul, &paulBirth); err != nil {
		t.Fatalf("the demo family: %v", err)
	}
	start := paulBirth.AddDate(0, 14, 0) // the seed's start: a Kita year's first day, Paul 14 months old
	idaBirth := paulBirth.AddDate(0, 1, 0)
	ida := uuid.New()
	if _, err := db.ExecContext(bg, `INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date) VALUES (?, ?, ?, 'Ida', 'Demo', ?)`,
		tenantID, ida, familyID, idaBirth.Format("2006-01-02")); err != nil {
		t.Fatal(err)
	}

	ctx := browser(t)
	do, text := steps(t, ctx)
	location := func() string {
		t.Helper()
		return evalJS[string](t, ctx, `location.href`)
	}
	// picks reads the request form's list: the facilities' ids in the order shown.
	picks := func() []string {
		t.Helper()
		return evalJS[[]string](t, ctx, `[...document.querySelectorAll('#shortlist ol.picks[data-group=kita] li.pick input[name^="choice."]')].map(e => e.value)`)
	}
	// filed reads the status page's wishes in their order.
	filed := func() []string {
		t.Helper()
		return evalJS[[]string](t, ctx, `[...document.querySelectorAll('main ol li a[href^="/facilities/"]')].map(a => a.getAttribute('href').slice(12))`)
	}
	// fitting are the first three Kitas of the results that take the child.
	fitting := func() []string {
		t.Helper()
		ids := evalJS[[]string](t, ctx, `[...document.querySelectorAll('li.result')].filter(li => li.querySelector('.age.fit') && !/pflege/i.test(li.querySelector('.meta').textContent))
			.slice(0, 3).map(li => li.id.slice(2))`)
		if len(ids) != 3 {
			t.Fatalf("%d fitting Kitas on the results", len(ids))
		}
		return ids
	}
	// checkForm checks what the results carried to the request form.
	checkForm := func(child uuid.UUID, birth time.Time, ticked []string) {
		t.Helper()
		got := evalJS[struct{ Child, Start, Hours string }](t, ctx, `({child: document.getElementById('f-child_id').value,
			start: document.getElementById('f-start_date').value, hours: document.getElementById('f-care_hours').value})`)
		if got.Child != child.String() || got.Start != start.Format("2006-01-02") || got.Hours != "35" {
			t.Errorf("carried over: %+v, want child %s (born %s), start %s, 35 hours", got, child, birth.Format("2006-01-02"), start.Format("2006-01-02"))
		}
		if list := picks(); !slices.Equal(list, ticked) {
			t.Fatalf("the form lists %v, ticked %v", list, ticked)
		}
		if list := text("#shortlist ol.picks"); !strings.Contains(list, "von Ihrer Adresse") || !strings.Contains(list, "voraussichtlich") {
			t.Errorf("no distance or availability on the list: %s", list)
		}
		if evalJS[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth`) {
			t.Error("the request form is wider than the phone")
		}
	}
	results := func(birth time.Time) string {
		v := url.Values{"birth_date": {birth.Format("2006-01-02")}, "start_date": {start.Format("2006-01-02")}, "care_hours": {"35"},
			"address": {"44787"}, "radius_km": {"10"}, "age_fit_only": {"1"}}
		return base + "/?" + v.Encode()
	}

	// By mouse: sign in, search, tick three Kitas, request them.
	do(
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "eltern@bochum.demo"),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "Sommerwiese-Demo-2026"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("a[href='/applications']")),
		chromedp.Navigate(results(paulBirth)),
		chromedp.WaitVisible(chromedp.CSS("#result-count")),
	)
	ticked := fitting()
	for _, id := range ticked {
		do(chromedp.Click(chromedp.CSS(`input[name=facility][value="` + id + `"]`)))
	}
	do(chromedp.Click(chromedp.CSS("#request-picks button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#shortlist ol.picks")))
	if !strings.Contains(location(), "/applications/new?") {
		t.Fatalf("not on the request form: %s", location())
	}
	checkForm(paul, paulBirth, ticked)
	// With JavaScript the buttons move in place: the first down, then the last up.
	do(chromedp.Click(chromedp.CSS(`button[value="down:` + ticked[0] + `"]`)))
	want := []string{ticked[1], ticked[0], ticked[2]}
	if got := picks(); !slices.Equal(got, want) {
		t.Fatalf("after moving the first down: %v, want %v", got, want)
	}
	eventually(t, "the move to be announced", 5*time.Second, func() bool {
		return strings.Contains(evalJS[string](t, ctx, `document.getElementById('shortlist-live').textContent`), "ist jetzt Wunsch 2 von 3")
	})
	do(chromedp.Click(chromedp.CSS(`button[value="up:` + ticked[2] + `"]`)))
	want = []string{ticked[1], ticked[2], ticked[0]}
	if got := picks(); !slices.Equal(got, want) {
		t.Fatalf("after moving the last up: %v, want %v", got, want)
	}
	do(
		chromedp.Click(chromedp.CSS(`button[name=action][value=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("p.notice")),
	)
	if !strings.Contains(location(), "?done=submitted") {
		t.Fatalf("not filed: %s\n%s", location(), text("main"))
	}
	if got := filed(); !slices.Equal(got, want) {
		t.Errorf("the status page lists %v, want %v", got, want)
	}

	// By keyboard only: Tab to each checkbox and tick it with Space, Enter on the button,
	// reorder with Enter on "nach unten" (the focus stays on the moved facility), file.
	tabTo := func(selector string) {
		t.Helper()
		for range 600 {
			if evalJS[bool](t, ctx, `!!document.activeElement && document.activeElement.matches(`+jsString(selector)+`)`) {
				return
			}
			do(chromedp.KeyEvent(kb.Tab))
		}
		t.Fatalf("Tab never reaches %s", selector)
	}
	do(chromedp.Navigate(results(idaBirth)), chromedp.WaitVisible(chromedp.CSS("#result-count")))
	ticked = fitting()
	for _, id := range ticked {
		tabTo(`input[name=facility][value="` + id + `"]`)
		do(chromedp.KeyEvent(" "))
	}
	if checked := evalJS[int](t, ctx, `document.querySelectorAll('input[name=facility]:checked').length`); checked != 3 {
		t.Fatalf("Space ticked %d facilities", checked)
	}
	tabTo("#request-picks button[type=submit]")
	do(chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#shortlist ol.picks")))
	checkForm(ida, idaBirth, ticked)
	tabTo(`button[value="down:` + ticked[0] + `"]`)
	do(chromedp.KeyEvent(kb.Enter))
	focusOn := evalJS[string](t, ctx, `document.activeElement.value`)
	if focusOn != "down:"+ticked[0] {
		t.Errorf("after moving down the focus is on %q", focusOn)
	}
	do(chromedp.KeyEvent(kb.Enter)) // once more: now last, the focus moves to its "nach oben"
	want = []string{ticked[1], ticked[2], ticked[0]}
	if got := picks(); !slices.Equal(got, want) {
		t.Fatalf("after two moves down: %v, want %v", got, want)
	}
	focusOn = evalJS[string](t, ctx, `document.activeElement.value`)
	if focusOn != "up:"+ticked[0] {
		t.Errorf("at the end of the list the focus is on %q", focusOn)
	}
	tabTo(`button[name=action][value=submit]`)
	do(chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("p.notice")))
	if !strings.Contains(location(), "?done=submitted") {
		t.Fatalf("not filed by keyboard: %s\n%s", location(), text("main"))
	}
	if got := filed(); !slices.Equal(got, want) {
		t.Errorf("the status page lists %v, want %v", got, want)
	}
	if got := text("main"); !strings.Contains(got, "Ida Demo") {
		t.Errorf("the keyboard run's request is not Ida's: %.300s", got)
	}
}

// evalJS runs js in the page and returns its value, failing the test when it fails.
func evalJS[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// jsString quotes s for JavaScript.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
