package main_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kitaportal/internal/auth"
	"kitaportal/internal/demo"
)

var caseWorkerSecret = regexp.MustCompile(`jugendamt@bochum\.demo\s+case_worker[^\n]*\n\s+TOTP secret ([A-Z2-7 ]+)\n`)

// Bochum's "done when" of central allocation on the real binary and Chromium: the demo
// case worker signs in with a second factor, freezes a round for the demo's next Kita
// year, the worker runs it while the page waits, the case worker reads why a child
// missed its first wish and publishes; the worker makes every placed request's offer.
func TestCaseWorkerRunsARoundInABrowser(t *testing.T) {
	t.Parallel()
	db, httpAddr, _, seedOut := startPortal(t, "bochum")
	m := caseWorkerSecret.FindStringSubmatch(seedOut)
	if m == nil {
		t.Fatalf("no TOTP secret of the Bochum case worker in:\n%s", seedOut)
	}
	secret, err := auth.DecodeTOTPSecret(m[1])
	if err != nil {
		t.Fatal(err)
	}
	// The demo's requests start in the next Kita year, whatever today is.
	var month string
	if err := db.QueryRowContext(context.Background(), `SELECT to_char(min(start_period), 'YYYY-MM') FROM application WHERE reference LIKE 'BOC-DEMO-%'`).
		Scan(&month); err != nil {
		t.Fatal(err)
	}
	base := "http://bochum.localhost:" + strings.Split(httpAddr, ":")[1]
	ctx := browser(t)
	do, text := steps(t, ctx)

	do(
		chromedp.Navigate(base+"/staff/login"),
		chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "jugendamt@bochum.demo"),
		chromedp.SendKeys(chromedp.CSS("#f-password"), demo.DemoPassword),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#f-code")),
		chromedp.SendKeys(chromedp.CSS("#f-code"), auth.TOTPCode(secret, time.Now())),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("a[href='/staff/rounds']")),
		chromedp.Click(chromedp.CSS("a[href='/staff/rounds']")),
		chromedp.WaitVisible(chromedp.CSS("#f-name")),
		chromedp.SendKeys(chromedp.CSS("#f-name"), "Kita-Jahr Hauptvergabe"),
		chromedp.SetValue(chromedp.CSS("#f-from"), month),
		chromedp.SetValue(chromedp.CSS("#f-until"), month),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("p.notice")),
	)
	if got := text("p.notice"); !strings.Contains(got, "Eingaben sind eingefroren") {
		t.Fatalf("after freezing: %s", got)
	}
	frozen, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll('main dl dt')].find(d => d.textContent === 'Vormerkungen').nextElementSibling.textContent`))
	if err != nil || frozen != "40" {
		t.Errorf("requests frozen: %q %v, want the demo's 40", frozen, err)
	}
	// The run page reloads itself until the worker is done.
	do(
		chromedp.Click(chromedp.CSS("form[action$='/runs'] input[value=main] ~ button")),
		chromedp.WaitVisible(chromedp.CSS("ul.figures")),
	)
	if got := text("ul.figures"); !strings.Contains(got, "mit Platz") || !strings.Contains(got, "0 Geschwister getrennt") {
		t.Errorf("figures: %s", got)
	}
	// A case worker on a phone still reads the run page without scrolling sideways.
	if wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); err != nil || wide {
		t.Errorf("the run page is wider than the phone (%v)", err)
	}
	runURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	do(
		chromedp.Click(chromedp.CSS("a[href$='?show=not_first']")),
		chromedp.WaitVisible(chromedp.CSS("main table tbody a")),
		chromedp.Click(chromedp.CSS("main table tbody a")),
		chromedp.WaitVisible(chromedp.CSS("ul.explanation")),
	)
	if got := text("ul.explanation"); !strings.Contains(got, "Ihr Kind erhält einen Platz bei seinem Wunsch") || !strings.Contains(got, "Wunsch 1 (") {
		t.Errorf("why not the first wish: %s", got)
	}
	do(
		chromedp.Navigate(strings.Split(runURL, "?")[0]), // back to the run
		chromedp.WaitVisible(chromedp.CSS("form[action$='/publish'] button")),
		chromedp.Click(chromedp.CSS("form[action$='/publish'] button")),
		chromedp.WaitVisible(chromedp.CSS("p.notice")),
	)
	eventually(t, "the round to be published", 30*time.Second, func() bool {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("span.badge[role=status]")))
		return err == nil && strings.TrimSpace(s) == "veröffentlicht" // not "wird veröffentlicht"
	})
	var placed, offers int
	if err := db.QueryRowContext(context.Background(), `SELECT (figures->>'placed')::int FROM allocation_run WHERE status = 'published'`).Scan(&placed); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM offer o JOIN allocation_result r ON r.offer_id = o.id`).Scan(&offers); err != nil {
		t.Fatal(err)
	}
	if placed == 0 || offers != placed {
		t.Errorf("%d offers for %d placed requests", offers, placed)
	}
}
