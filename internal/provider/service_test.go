package provider_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/date"
	"kitaportal/internal/platform/storage"
	"kitaportal/internal/provider"
	"kitaportal/internal/tenant"
	"kitaportal/internal/tenant/tenanttest"
)

// fixture is one facility of Kempten and the caller who leads it.
type fixture struct {
	db       *bun.DB
	t        *tenant.Tenant
	facility uuid.UUID
	caller   auth.Caller
}

func setup(t *testing.T) *fixture {
	t.Helper()
	db, _ := tenanttest.DB(t)
	tn := tenanttest.Get(t, tenanttest.Registry(t, db), "kempten")
	f := &fixture{db: db, t: tn, facility: uuid.New()}
	provider, lead := uuid.New(), uuid.New()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO provider (tenant_id, id, name, kind) VALUES (?, ?, 'Träger', 'welfare')`, tn.ID, provider)
	exec(`INSERT INTO facility (tenant_id, id, provider_id, type, name, street, house_number, plz, city, municipality_key, lat, lon, age_min_months, age_max_months)
		VALUES (?, ?, ?, 'kita', 'Kita Test', 'Weg', '1', '87435', 'Kempten', 'kempten', 47.7, 10.3, 0, 72)`, tn.ID, f.facility, provider)
	exec(`INSERT INTO account (tenant_id, id, kind, email, status) VALUES (?, ?, 'staff', 'lead@test', 'pending')`, tn.ID, lead)
	exec(`INSERT INTO staff_role (tenant_id, id, account_id, role, facility_id) VALUES (?, ?, ?, 'facility_lead', ?)`, tn.ID, uuid.New(), lead, f.facility)
	f.caller = auth.Caller{Tenant: tn, Principal: &auth.Principal{Kind: auth.KindStaff, ID: lead, TenantID: tn.ID, MFADone: true, Email: "lead@test"}}
	return f
}

func photo(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(1, 1, color.RGBA{B: 200, A: 255})
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// A photo is stored as two files and one row, or not at all: a refused row removes its
// files, a disk that cannot be written leaves no row.
func TestPhotosAreFilesAndRowsOrNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	root := t.TempDir()
	local, _ := storage.NewLocal(root)
	s := provider.NewService(f.db, clock.NewManual(time.Date(2026, 11, 21, 10, 0, 0, 0, clock.Berlin)), local)
	for i := 0; i < 12; i++ {
		if err := s.AddPhoto(ctx, f.caller, f.facility, "Bild", bytes.NewReader(photo(400, 400))); err != nil {
			t.Fatalf("photo %d: %v", i+1, err)
		}
	}
	if n := len(files(t, root)); n != 24 {
		t.Fatalf("%d files for 12 photos", n)
	}
	err := s.AddPhoto(ctx, f.caller, f.facility, "Eins zu viel", bytes.NewReader(photo(400, 400)))
	if e, ok := apperr.As(err); !ok || e.Code != "provider_photos_full" {
		t.Fatalf("13th photo: %v", err)
	}
	if n := len(files(t, root)); n != 24 {
		t.Errorf("the refused photo left its files: %d", n)
	}
	if err := s.RemovePhoto(ctx, f.caller, f.facility, 3); err != nil {
		t.Fatal(err)
	}
	if n := len(files(t, root)); n != 22 {
		t.Errorf("a removed photo keeps its files: %d", n)
	}
	// The free position is used again.
	if err := s.AddPhoto(ctx, f.caller, f.facility, "Neu", bytes.NewReader(photo(400, 400))); err != nil {
		t.Fatal(err)
	}
	var alt string
	if err := f.db.QueryRowContext(ctx, `SELECT alt FROM facility_photo WHERE facility_id = ? AND position = 3`, f.facility).Scan(&alt); err != nil || alt != "Neu" {
		t.Errorf("position 3: %q %v", alt, err)
	}

	// A disk that cannot be written: the upload fails and no row names a missing file.
	blocked := filepath.Join(t.TempDir(), "blocked")
	if err := os.WriteFile(blocked, []byte("a file where a folder should be"), 0o600); err != nil {
		t.Fatal(err)
	}
	broken, _ := storage.NewLocal(blocked)
	s2 := provider.NewService(f.db, clock.System{}, broken)
	if err := s2.RemovePhoto(ctx, f.caller, f.facility, 12); err != nil {
		t.Fatal(err)
	}
	if err := s2.AddPhoto(ctx, f.caller, f.facility, "Bild", bytes.NewReader(photo(400, 400))); err == nil {
		t.Fatal("an upload to a broken disk succeeded")
	}
	var rows int
	if err := f.db.QueryRowContext(ctx, `SELECT count(*) FROM facility_photo WHERE facility_id = ?`, f.facility).Scan(&rows); err != nil || rows != 11 {
		t.Errorf("%d photo rows after the failed upload, want 11", rows)
	}
}

// The database keeps the periods of a group apart even when the code is bypassed.
func TestTheDatabaseRefusesOverlappingPeriods(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	s := provider.NewService(f.db, clock.NewManual(time.Date(2026, 11, 21, 10, 0, 0, 0, clock.Berlin)), nil)
	id, err := s.CreateGroup(ctx, f.caller, f.facility, provider.GroupInput{Name: "Igel", AgeBand: "krippe", CareHours: 45,
		Periods: []provider.Period{{From: day("2026-08-01"), Places: 12}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.db.ExecContext(ctx, `INSERT INTO group_capacity (tenant_id, group_id, valid_from, places) VALUES (?, ?, '2027-01-01', 14)`, f.t.ID, id)
	if err == nil {
		t.Fatal("the database accepted a second open-ended period")
	}
}

func day(s string) date.Date { return date.MustParse(s) }
