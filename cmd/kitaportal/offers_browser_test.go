package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Kempten's "done when" on the real binary and a phone-sized Chromium: the demo parent
// finds the offer the seed made (three months ahead, inside the six months of lead
// time), accepts it, and once the worker made the care contract downloads the PDF; the
// child's other request ended.
func TestParentAcceptsAnOfferOnAPhone(t *testing.T) {
	t.Parallel()
	_, httpAddr, sink, _ := startPortal(t, "kempten")
	// The offer's mail, over SMTP, branded and in German.
	eventually(t, "the offer mail", 30*time.Second, func() bool {
		for _, m := range sink.Messages() {
			text := m.Body("text/plain")
			if strings.HasPrefix(m.Subject, "Platzangebot für Lina Demo: ") && strings.Contains(text, "Kinderbetreuung Kempten") &&
				strings.Contains(text, "/offers/") && strings.Contains(text, "Antwort bis") {
				return true
			}
		}
		return false
	})
	base := "http://kempten.localhost:" + strings.Split(httpAddr, ":")[1]
	ctx := browser(t)
	do, text := steps(t, ctx)

	do(
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "eltern@kempten.demo"),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "Sommerwiese-Demo-2026"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("a[href='/offers']")),
		chromedp.Click(chromedp.CSS("a[href='/offers']")),
		chromedp.WaitVisible(chromedp.CSS("main section.panel h2 a")),
	)
	if got := text("main"); !strings.Contains(got, "Lina Demo") || !strings.Contains(got, "Antwort bis") {
		t.Fatalf("offers page: %s", got)
	}
	do(
		chromedp.Click(chromedp.CSS("main section.panel h2 a")),
		chromedp.WaitVisible(chromedp.CSS("form[action$='/accept'] button")),
	)
	// The page fits the phone: nothing wider than the screen.
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil || wide {
		t.Errorf("the offer page is wider than the phone (%v)", err)
	}
	do(
		chromedp.Click(chromedp.CSS("form[action$='/accept'] button")),
		chromedp.WaitVisible(chromedp.CSS("p.notice")),
	)
	if got := text("main"); !strings.Contains(got, "Vertrag erstellt") {
		t.Fatalf("after accepting: %s", got)
	}
	offerURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(strings.Split(offerURL, "?")[0], base)
	// The worker makes the PDF after the acceptance committed; until then the download
	// answers 409. The browser fetches it with its session.
	var head string
	eventually(t, "the care contract PDF", 20*time.Second, func() bool {
		head, err = chromedp.Run(ctx, chromedp.Evaluate[string](`fetch('`+path+`/contract.pdf').then(r => r.status + ' ' + r.headers.get('content-type'))`,
			chromedp.EvalAwaitPromise))
		return err == nil && !strings.HasPrefix(head, "409")
	})
	if head != "200 application/pdf" {
		t.Errorf("contract download: %q %v", head, err)
	}
	do(chromedp.Navigate(base + "/applications"))
	if got := text("main"); !strings.Contains(got, "Vertrag") {
		t.Errorf("requests after acceptance: %s", got)
	}
}
