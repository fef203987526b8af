package availability

import (
	"fmt"
	"testing"

	"kitaportal/internal/platform/date"
	"kitaportal/internal/tenant"
)

// nrw is a calendar as in North Rhine-Westphalia: Kita year from 1 August, six years old
// by 30 September enters school that August.
var nrw = (&tenant.Rules{
	KitaYear: tenant.KitaYear{Start: "08-01", SchoolCutoff: "09-30", SchoolEntryAge: 6},
	AgeBands: []tenant.AgeBand{
		{Key: "krippe", MinMonths: 0, MaxMonths: 36},
		{Key: "kindergarten", MinMonths: 36, UntilSchool: true},
		{Key: "hort", MinMonths: 60, MaxMonths: 132, SchoolAge: true},
	},
}).Calendar()

var d = date.MustParse

// kitaYear is the capacity of one Kita year.
func kitaYear(from string, places int) Capacity {
	f := d(from)
	return Capacity{From: f, Until: f.AddMonths(12), Places: places}
}

func openEnded(from string, places int) Capacity {
	return Capacity{From: d(from), Places: places}
}

// children are n holders born on birth, in care from from, open-ended, booking hours.
func children(n int, birth, from string, hours int) []Holder {
	out := make([]Holder, n)
	for i := range out {
		out[i] = Holder{Birth: d(birth), From: d(from), CareHours: hours}
	}
	return out
}

func join(parts ...[]Holder) []Holder {
	var out []Holder
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// want is an expected cell: band, scope and month with capacity and free places.
type want struct {
	band     string
	scope    int
	month    string
	capacity int
	free     int
}

func TestCompute(t *testing.T) {
	t.Parallel()
	scopes := []int{25, 35, 45}
	krippe := func(hours int, c ...Capacity) Group { return Group{Band: "krippe", CareHours: hours, Capacity: c} }
	kiga := func(hours int, c ...Capacity) Group {
		return Group{Band: "kindergarten", CareHours: hours, Capacity: c}
	}

	tests := []struct {
		name    string
		groups  []Group
		holders []Holder
		want    []want
	}{
		{
			name:   "birthday on the school cut-off day: the child leaves in August",
			groups: []Group{kiga(45, openEnded("2025-08-01", 20))},
			holders: join(
				children(19, "2022-05-10", "2025-08-01", 45),
				// Six on 30 September 2026: school from 1 August 2026, though the contract
				// has no end date yet.
				children(1, "2020-09-30", "2024-08-01", 45),
			),
			want: []want{
				{"kindergarten", 25, "2026-07-01", 20, 0},
				{"kindergarten", 25, "2026-08-01", 20, 1},
			},
		},
		{
			name:   "born a day after the cut-off: stays another year",
			groups: []Group{kiga(45, openEnded("2025-08-01", 20))},
			holders: join(
				children(19, "2022-05-10", "2025-08-01", 45),
				children(1, "2020-10-01", "2024-08-01", 45),
			),
			want: []want{
				{"kindergarten", 25, "2026-08-01", 20, 0},
				{"kindergarten", 25, "2027-07-01", 20, 0},
				{"kindergarten", 25, "2027-08-01", 20, 1},
			},
		},
		{
			name:   "start in the middle of the Kita year: a third birthday frees a Krippe place the month after",
			groups: []Group{krippe(45, kitaYear("2026-08-01", 10)), kiga(45, kitaYear("2026-08-01", 20))},
			holders: join(
				children(9, "2025-06-01", "2026-08-01", 45),
				// Three on 15 January 2027: Krippe on 1 January, Kindergarten from February.
				children(1, "2024-01-15", "2025-03-01", 45),
			),
			want: []want{
				{"krippe", 25, "2027-01-01", 10, 0},
				{"krippe", 25, "2027-02-01", 10, 1},
				{"kindergarten", 25, "2027-01-01", 20, 20},
				{"kindergarten", 25, "2027-02-01", 20, 19},
			},
		},
		{
			name: "Kita-year boundary: more places and school leavers from 1 August",
			groups: []Group{
				kiga(45, kitaYear("2026-08-01", 20), kitaYear("2027-08-01", 22)),
			},
			holders: join(
				children(15, "2023-03-01", "2026-08-01", 45),
				children(5, "2021-03-01", "2024-08-01", 45), // school from August 2027
			),
			want: []want{
				{"kindergarten", 25, "2027-07-01", 20, 0},
				{"kindergarten", 25, "2027-08-01", 22, 7},
				{"kindergarten", 25, "2028-08-01", 0, -15}, // no capacity planned yet: not free
			},
		},
		{
			name: "group opening mid-year counts from its first month",
			groups: []Group{
				krippe(45, openEnded("2026-08-01", 10)),
				krippe(45, openEnded("2027-01-01", 12)),
			},
			holders: children(10, "2025-09-01", "2026-08-01", 45),
			want: []want{
				{"krippe", 25, "2026-12-01", 10, 0},
				{"krippe", 25, "2027-01-01", 22, 12},
			},
		},
		{
			name:    "over capacity: one child more than places",
			groups:  []Group{krippe(45, openEnded("2026-08-01", 10))},
			holders: children(11, "2025-09-01", "2026-08-01", 45),
			want: []want{
				{"krippe", 25, "2026-12-01", 10, -1},
				{"krippe", 45, "2026-12-01", 10, -1},
			},
		},
		{
			name: "care scope: long bookings use the long groups first",
			groups: []Group{
				krippe(25, openEnded("2026-08-01", 10)),
				krippe(45, openEnded("2026-08-01", 10)),
			},
			holders: join(
				children(10, "2025-09-01", "2026-08-01", 25),
				children(7, "2025-09-01", "2026-08-01", 45),
			),
			want: []want{
				{"krippe", 25, "2026-12-01", 20, 3},
				{"krippe", 35, "2026-12-01", 10, 3},
				{"krippe", 45, "2026-12-01", 10, 3},
			},
		},
		{
			name: "care scope: an over-booked long group leaves no long place even with short ones free",
			groups: []Group{
				krippe(25, openEnded("2026-08-01", 10)),
				krippe(45, openEnded("2026-08-01", 10)),
			},
			holders: children(12, "2025-09-01", "2026-08-01", 45),
			want: []want{
				{"krippe", 25, "2026-12-01", 20, 8},
				{"krippe", 45, "2026-12-01", 10, -2},
			},
		},
		{
			name:    "a scope no group offers has no places",
			groups:  []Group{krippe(35, openEnded("2026-08-01", 10))},
			holders: nil,
			want: []want{
				{"krippe", 35, "2026-12-01", 10, 10},
				{"krippe", 45, "2026-12-01", 0, 0},
			},
		},
		{
			name:   "contracts: one ending on the 1st is gone that month, one starting mid-month already counts",
			groups: []Group{krippe(45, openEnded("2026-08-01", 2))},
			holders: []Holder{
				{Birth: d("2025-05-01"), From: d("2026-08-01"), Until: d("2027-03-01"), CareHours: 45},
				{Birth: d("2025-05-01"), From: d("2027-03-15"), CareHours: 45},
			},
			want: []want{
				{"krippe", 25, "2027-02-01", 2, 1},
				{"krippe", 25, "2027-03-01", 2, 1},
				{"krippe", 25, "2027-04-01", 2, 1},
			},
		},
		{
			name:   "an open offer holds its place from its start",
			groups: []Group{krippe(45, openEnded("2026-08-01", 1))},
			holders: []Holder{
				{Birth: d("2025-05-01"), From: d("2027-03-01"), CareHours: 35}, // offer: no end
			},
			want: []want{
				{"krippe", 25, "2027-02-01", 1, 1},
				{"krippe", 25, "2027-03-01", 1, 0},
			},
		},
		{
			name:   "a child fitting no band stays in its group's band",
			groups: []Group{krippe(45, openEnded("2026-08-01", 1))},
			holders: []Holder{
				// Not born yet (an offer before birth): no band, so the group's counts.
				{Birth: d("2027-06-01"), From: d("2026-12-01"), CareHours: 45, GroupBand: "krippe"},
			},
			want: []want{{"krippe", 25, "2026-12-01", 1, 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var months []date.Date
			for _, w := range tt.want {
				months = append(months, d(w.month))
			}
			cells := Compute(nrw, scopes, months, tt.groups, tt.holders)
			byKey := map[string]Cell{}
			for _, c := range cells {
				byKey[fmt.Sprintf("%s/%d/%s", c.Band, c.CareHours, c.Month)] = c
			}
			for _, w := range tt.want {
				c, ok := byKey[fmt.Sprintf("%s/%d/%s", w.band, w.scope, w.month)]
				if !ok {
					t.Errorf("no cell for %s %dh %s", w.band, w.scope, w.month)
					continue
				}
				if c.Capacity != w.capacity || c.Free != w.free {
					t.Errorf("%s %dh %s: capacity %d free %d, want %d and %d", w.band, w.scope, w.month, c.Capacity, c.Free, w.capacity, w.free)
				}
			}
		})
	}
}

func TestComputeOnlyForBandsWithGroups(t *testing.T) {
	t.Parallel()
	groups := []Group{{Band: "krippe", CareHours: 45, Capacity: []Capacity{openEnded("2026-08-01", 10)}}}
	cells := Compute(nrw, []int{25, 45}, []date.Date{d("2026-12-01"), d("2027-01-01")}, groups, nil)
	if len(cells) != 4 {
		t.Fatalf("got %d cells, want 2 months × 2 scopes of one band", len(cells))
	}
	for _, c := range cells {
		if c.Band != "krippe" {
			t.Errorf("cell for band %q the facility has no group of", c.Band)
		}
	}
	if got := Compute(nrw, []int{25}, []date.Date{d("2026-12-01")}, nil, children(3, "2025-01-01", "2026-01-01", 25)); len(got) != 0 {
		t.Errorf("a facility without groups has no figures (unknown), got %v", got)
	}
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		free  int
		known bool
		want  Status
	}{{3, true, Free}, {1, true, Free}, {0, true, NotFree}, {-2, true, NotFree}, {5, false, Unknown}}
	for _, tt := range tests {
		if got := StatusOf(tt.free, tt.known); got != tt.want {
			t.Errorf("StatusOf(%d, %v) = %s, want %s", tt.free, tt.known, got, tt.want)
		}
	}
}

func TestOffered(t *testing.T) {
	t.Parallel()
	groups := []Group{
		{Band: "krippe", CareHours: 35, Capacity: []Capacity{openEnded("2026-08-01", 10)}},
		{Band: "kindergarten", CareHours: 45, Capacity: []Capacity{openEnded("2027-08-01", 20)}}, // opens later
	}
	cells := Compute(nrw, []int{25, 35, 45}, []date.Date{d("2026-12-01"), d("2027-08-01")}, groups, nil)
	got := Offered(cells)
	want := []string{"kindergarten", "kindergarten/25", "kindergarten/35", "kindergarten/45", "krippe", "krippe/25", "krippe/35"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Offered = %v, want %v", got, want)
	}
	if got := Offered(nil); len(got) != 0 {
		t.Errorf("no cells offer nothing, got %v", got)
	}
}
