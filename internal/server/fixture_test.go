package server_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/staff"
	"kitaportal/internal/tenant"
)

// city is one tenant's test data: two providers, two Kitas and a Tagespflege in a
// district, a child under contract in each, with names unique to the city (Marker), so a
// test can tell whether anything of this city shows up elsewhere.
type city struct {
	t           *tenant.Tenant
	Marker      string // part of every child, family and facility name of this city
	providers   [2]uuid.UUID
	facilities  [2]uuid.UUID // Kita A (provider 0), Kita B (provider 1)
	tagespflege uuid.UUID    // provider 0, district
	district    string
	families    [3]uuid.UUID
	children    [3]uuid.UUID // in facilities[0], facilities[1], tagespflege
}

var (
	hashOnce sync.Once
	testHash string
)

// passwordHash is goodPassword hashed once for every test account (argon2id is slow on
// purpose; the salt does not matter here).
func passwordHash(t testing.TB) string {
	hashOnce.Do(func() {
		h, err := auth.NewHasher(auth.DefaultArgon2, 1).Hash(context.Background(), goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		testHash = h
	})
	return testHash
}

// city writes the test data of slug.
func (b *bundle) city(t testing.TB, slug string) *city {
	t.Helper()
	tn := b.tenant(t, slug)
	c := &city{t: tn, Marker: strings.ToUpper(slug[:1]) + slug[1:] + "marker", district: tn.Rules.Districts[0].Key}
	muni := tn.Rules.Municipalities[0].Key
	for i := range c.providers {
		c.providers[i] = uuid.New()
		b.exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, ?, 'welfare')`, tn.ID, c.providers[i], "Träger "+c.Marker+string(rune('A'+i)))
	}
	facility := func(provider uuid.UUID, typ, name string, district *string) uuid.UUID {
		id := uuid.New()
		b.exec(`INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key, district_key,
			lat, lon, age_min_months, age_max_months) VALUES (?, ?, ?, ?, ?, 'Teststraße', '1', '87435', 'Teststadt', ?, ?, 51, 10, 0, 72)`,
			tn.ID, id, provider, typ, name, muni, district)
		return id
	}
	c.facilities[0] = facility(c.providers[0], "kita", "Kita A "+c.Marker, nil)
	c.facilities[1] = facility(c.providers[1], "kita", "Kita B "+c.Marker, nil)
	c.tagespflege = facility(c.providers[0], "tagespflege", "Tagespflege "+c.Marker, &c.district)
	for i, f := range []uuid.UUID{c.facilities[0], c.facilities[1], c.tagespflege} {
		c.families[i], c.children[i] = uuid.New(), uuid.New()
		b.exec(`INSERT INTO family (tenant_id, id, street, house_number, plz, city) VALUES (?, ?, ?, '7', '87435', 'Teststadt')`,
			tn.ID, c.families[i], "Familienweg"+c.Marker)
		b.exec(`INSERT INTO guardian (tenant_id, family_id, first_name, last_name, email) VALUES (?, ?, 'Gabi', ?, ?)`,
			tn.ID, c.families[i], "Elternteil"+c.Marker, "gabi@"+slug+".test")
		b.exec(`INSERT INTO child (tenant_id, id, family_id, first_name, last_name, birth_date) VALUES (?, ?, ?, ?, ?, '2022-03-04')`,
			tn.ID, c.children[i], c.families[i], "Kind"+string(rune('A'+i))+c.Marker, "Familie"+c.Marker)
		b.exec(`INSERT INTO contract (tenant_id, child_id, facility_id, care_hours, start_date, source) VALUES (?, ?, ?, 35, '2024-09-01', 'manual')`,
			tn.ID, c.children[i], f)
	}
	return c
}

// member is a staff account for tests, with its second factor.
type member struct {
	ID     uuid.UUID
	Email  string
	Secret []byte
	c      *city
}

// staff creates an active staff account of c with an enrolled second factor and one role.
func (b *bundle) staff(t testing.TB, c *city, local, role string, scope uuid.UUID, district string) *member {
	t.Helper()
	m := &member{ID: uuid.New(), Email: local + "@" + c.t.Slug + ".test", Secret: auth.NewTOTPSecret(), c: c}
	b.exec(`INSERT INTO account (tenant_id, id, kind, email, status, password_hash, first_name, last_name, email_verified_at, totp_secret, totp_enabled_at)
		VALUES (?, ?, 'staff', ?, 'active', ?, ?, 'Test', now(), ?, now())`,
		c.t.ID, m.ID, m.Email, passwordHash(t), strings.ToUpper(local[:1])+local[1:], b.keys.Seal(m.Secret, staff.SealContext(c.t.ID, m.ID)))
	g := map[string]*uuid.UUID{}
	switch role {
	case authz.RoleProvider:
		g["provider_id"] = &scope
	case authz.RoleLead, authz.RoleStaff:
		g["facility_id"] = &scope
	}
	var d *string
	if district != "" {
		d = &district
	}
	b.exec(`INSERT INTO staff_role (tenant_id, id, account_id, role, provider_id, facility_id, district_key) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.t.ID, uuid.New(), m.ID, role, g["provider_id"], g["facility_id"], d)
	if err := authz.GrantRole(context.Background(), b.db, c.t.ID, m.ID, role); err != nil {
		t.Fatal(err)
	}
	if err := b.authz.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// parent creates an active, verified parent account of tenant slug.
func (b *bundle) parent(t testing.TB, slug, email string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	b.exec(`INSERT INTO account (tenant_id, id, kind, email, status, password_hash, first_name, last_name, email_verified_at)
		VALUES (?, ?, 'parent', ?, 'active', ?, 'Pia', 'Parent', now())`, b.tenant(t, slug).ID, id, email, passwordHash(t))
	return id
}

// code is the member's current TOTP code. The clock moves on a step first: a code is
// accepted once, and tests sign the same person in more than once.
func (b *bundle) code(m *member) string {
	b.clock.Advance(31 * time.Second)
	return auth.TOTPCode(m.Secret, b.clock.Now())
}

// staffLogin signs m in through the forms: password, then the second factor.
func (br *browser) staffLogin(t *testing.T, m *member) {
	t.Helper()
	r := br.submit(t, "/staff/login", "/staff/login", map[string]string{"email": m.Email, "password": goodPassword})
	if r.status != 303 || r.header.Get("Location") != "/staff/2fa" {
		t.Fatalf("staff login %s: %d %q", m.Email, r.status, r.header.Get("Location"))
	}
	r = br.submit(t, "/staff/2fa", "/staff/2fa", map[string]string{"code": br.b.code(m)})
	if r.status != 303 || r.header.Get("Location") != "/staff" {
		t.Fatalf("second factor %s: %d %q %.300s", m.Email, r.status, r.header.Get("Location"), r.body)
	}
}

// parentLogin signs a parent in through the form.
func (br *browser) parentLogin(t *testing.T, email string) {
	t.Helper()
	r := br.submit(t, "/login", "/login", map[string]string{"email": email, "password": goodPassword})
	if r.status != 303 {
		t.Fatalf("login %s: %d %.300s", email, r.status, r.body)
	}
}

// login fetches a bearer token for a parent.
func (a *api) login(t *testing.T, email string) {
	t.Helper()
	status, body := a.call(t, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": goodPassword})
	tok, _ := body["token"].(string)
	if status != 200 || !strings.HasPrefix(tok, "kp_") {
		t.Fatalf("api login %s: %d %v", email, status, body)
	}
	a.token = tok
}

// staffLogin fetches a bearer token for a staff member (password and TOTP code).
func (a *api) staffLogin(t *testing.T, m *member) {
	t.Helper()
	status, body := a.call(t, "POST", "/api/v1/staff/auth/login", map[string]string{"email": m.Email, "password": goodPassword, "code": a.b.code(m)})
	tok, _ := body["token"].(string)
	if status != 200 || tok == "" {
		t.Fatalf("staff api login %s: %d %v", m.Email, status, body)
	}
	a.token = tok
}
