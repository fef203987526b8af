// Package allocation is the central allocation engine (Bochum, deferred_acceptance
// cities): child-proposing deferred acceptance over typed seats — facility × age band ×
// weekly hours —, siblings who apply together placed together where the engine finds a
// joint placement, and an explanation of every outcome. It is pure: no database, no
// clock; the same market gives the same matching.
package allocation

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// SeatType is a kind of seat: an age band and weekly hours, written "krippe/35".
type SeatType string

// TypeOf is the seat type of band and hours.
func TypeOf(band string, hours int) SeatType { return SeatType(band + "/" + strconv.Itoa(hours)) }

// Facility offers seats by type.
type Facility struct {
	ID    string           `json:"id"`
	Seats map[SeatType]int `json:"seats"`
}

// Child is one child of a round: what seat it needs, its choices best first, its
// priority (points, plus a facility's local bonus; higher first; then the smaller
// tie-break), and the sibling it applies with.
type Child struct {
	ID       string         `json:"id"`
	Band     string         `json:"band"`
	Hours    int            `json:"hours"`
	Prefs    []string       `json:"prefs"`
	Points   int            `json:"points"`
	Local    map[string]int `json:"local"`
	Tiebreak float64        `json:"tiebreak"`
	TwinOf   *string        `json:"twin_of"`
	// Larger are seat types the child may take besides its own, in the order it takes
	// them (a 25-hour child in a place of a 35- or 45-hour group, where the city allows
	// it). An extension of the command's format; absent: its own type only.
	Larger []SeatType `json:"larger,omitempty"`
}

// Type is the seat type the child needs.
func (c *Child) Type() SeatType { return TypeOf(c.Band, c.Hours) }

// Market is the input of a run.
type Market struct {
	Facilities []Facility `json:"facilities"`
	Children   []Child    `json:"children"`
}

// ErrMarket is the error of a market that cannot be run; the message names the row.
var ErrMarket = errors.New("allocation: invalid market")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMarket, fmt.Sprintf(format, args...))
}

// ReadMarket reads a market in the JSON format of `kitaportal allocation run` and checks
// it (Validate).
func ReadMarket(r io.Reader) (*Market, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var m Market
	if err := dec.Decode(&m); err != nil {
		return nil, invalid("not a market file: %v", err)
	}
	return &m, m.Validate()
}

// Validate refuses what no run can mean: empty or duplicate ids, negative seats, a
// malformed seat type, choices of unknown facilities or the same one twice, a sibling
// link to an unknown child, to itself, or links that do not form pairs.
func (m *Market) Validate() error {
	facilities := map[string]bool{}
	for i, f := range m.Facilities {
		switch {
		case f.ID == "":
			return invalid("facilities[%d]: id is empty", i)
		case facilities[f.ID]:
			return invalid("facilities[%d]: id %q is used twice", i, f.ID)
		}
		facilities[f.ID] = true
		for t, n := range f.Seats {
			if !wellFormed(t) {
				return invalid("facilities[%d].seats: %q is not <band>/<hours>", i, t)
			}
			if n < 0 {
				return invalid("facilities[%d].seats[%q]: %d seats", i, t, n)
			}
		}
	}
	children := map[string]*Child{}
	for i := range m.Children {
		c := &m.Children[i]
		switch {
		case c.ID == "":
			return invalid("children[%d]: id is empty", i)
		case children[c.ID] != nil:
			return invalid("children[%d]: id %q is used twice", i, c.ID)
		case c.Band == "" || c.Hours <= 0:
			return invalid("children[%d]: band and hours are required", i)
		}
		children[c.ID] = c
		seen := map[string]bool{}
		for _, f := range c.Prefs {
			if !facilities[f] {
				return invalid("children[%d].prefs: unknown facility %q", i, f)
			}
			if seen[f] {
				return invalid("children[%d].prefs: facility %q is listed twice", i, f)
			}
			seen[f] = true
		}
		for _, t := range c.Larger {
			if !wellFormed(t) || t == c.Type() {
				return invalid("children[%d].larger: %q is not another <band>/<hours>", i, t)
			}
		}
		for f := range c.Local {
			if !facilities[f] {
				return invalid("children[%d].local: unknown facility %q", i, f)
			}
		}
	}
	// Sibling links join children into groups; a group of n children may hold at most
	// n-1 distinct links (a↔b naming each other is one link), else they form a cycle.
	root := map[string]string{}
	var find func(string) string
	find = func(id string) string {
		if r, ok := root[id]; ok && r != id {
			root[id] = find(r)
			return root[id]
		}
		return id
	}
	links := map[[2]string]bool{}
	for i := range m.Children {
		c := &m.Children[i]
		if c.TwinOf == nil {
			continue
		}
		switch other := children[*c.TwinOf]; {
		case other == nil:
			return invalid("children[%d].twin_of: unknown child %q", i, *c.TwinOf)
		case other.ID == c.ID:
			return invalid("children[%d].twin_of: a child cannot be its own sibling", i)
		}
		a, b := min(c.ID, *c.TwinOf), max(c.ID, *c.TwinOf)
		if links[[2]string{a, b}] {
			continue
		}
		links[[2]string{a, b}] = true
		ra, rb := find(a), find(b)
		if ra == rb {
			return invalid("children[%d].twin_of: the sibling links form a cycle", i)
		}
		root[ra] = rb
	}
	return nil
}

func wellFormed(t SeatType) bool {
	band, hours, ok := strings.Cut(string(t), "/")
	return ok && band != "" && positive(hours)
}

func positive(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0
}
