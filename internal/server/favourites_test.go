package server_test

import (
	"context"
	"strings"
	"testing"
)

// The Merkliste of an anonymous visitor joins the account at sign-in; from then on it is
// kept in the account, and changing it needs the form's CSRF token like any other form.
func TestMerklisteJoinsTheAccountAtSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	kempten, bochum := b.city(t, "kempten"), b.city(t, "bochum")
	b.parent(t, "kempten", "merkliste@kempten.test")
	br := b.browser("kempten.localhost")

	// Anonymous: two of Kempten's facilities into the cookie, and one id of Bochum
	// smuggled into the cookie by hand.
	for _, id := range []string{kempten.facilities[0].String(), kempten.tagespflege.String()} {
		if r := br.post(t, "/favourites", map[string]string{"id": id, "action": "add", "next": "/favourites"}, ""); r.status != 303 {
			t.Fatalf("add %s: %d %.200s", id, r.status, r.body)
		}
	}
	br.cookies["merkliste"] += "," + bochum.facilities[0].String()

	br.parentLogin(t, "merkliste@kempten.test")
	if _, still := br.cookies["merkliste"]; still {
		t.Error("the cookie must be cleared once the account holds the list")
	}
	var ids []string
	if err := b.db.NewRaw(`SELECT facility_id::text FROM account_favourite ORDER BY added_at`).Scan(context.Background(), &ids); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0] != kempten.facilities[0].String() || ids[1] != kempten.tagespflege.String() {
		t.Fatalf("imported %v; Bochum's facility must not come along", ids)
	}
	page := br.get(t, "/favourites")
	if page.status != 200 || !strings.Contains(page.body, "Kita A "+kempten.Marker) || strings.Contains(page.body, bochum.Marker) {
		t.Errorf("favourites page of the account: %d", page.status)
	}

	// Signed in, a forged form (no token) changes nothing; the page's form does.
	remove := map[string]string{"id": kempten.facilities[0].String(), "action": "remove", "next": "/favourites"}
	if r := br.post(t, "/favourites", remove, ""); r.status != 403 {
		t.Errorf("without a token: %d", r.status)
	}
	if r := br.submit(t, "/favourites", "/favourites", remove); r.status != 303 {
		t.Errorf("with the page's token: %d %.200s", r.status, r.body)
	}
	var left int
	if err := b.db.QueryRowContext(context.Background(), `SELECT count(*) FROM account_favourite`).Scan(&left); err != nil || left != 1 {
		t.Errorf("left %d %v", left, err)
	}

	// Another browser of the same parent sees the same list.
	other := b.browser("kempten.localhost")
	other.parentLogin(t, "merkliste@kempten.test")
	if r := other.get(t, "/favourites"); !strings.Contains(r.body, "Tagespflege "+kempten.Marker) {
		t.Error("the list must follow the parent to another device")
	}
}
