package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

type photoRow struct {
	bun.BaseModel `bun:"table:facility_photo"`

	TenantID    uuid.UUID `bun:"tenant_id,type:uuid"`
	FacilityID  uuid.UUID `bun:"facility_id,type:uuid"`
	Position    int       `bun:"position"`
	ContentType string    `bun:"content_type"`
	Data        []byte    `bun:"data"`
	Alt         string    `bun:"alt"`
	CreatedAt   time.Time `bun:"created_at"`
}

// photos draws the demo pictures of a facility locally (no external images): the house
// from the street, the garden and a room. Each facility has its own colours, drawn from
// a generator seeded by its id so the other demo data does not change.
func (g *generator) photos(f *facilityPlan) []photoRow {
	rng := newRand(g.p.slug, "photo/"+f.id.String())
	scenes := []struct {
		draw func(*rand.Rand) string
		alt  string
	}{
		{drawHouse, "Das Haus von der Straße aus"},
		{drawGarden, "Der Garten mit Sandkasten und Spielgeräten"},
		{drawRoom, "Ein Gruppenraum mit Tisch, Regal und Spielteppich"},
	}
	if f.isTagespflege() {
		scenes = scenes[1:] // childminders work at home: no facade
	}
	rows := make([]photoRow, len(scenes))
	for i, s := range scenes {
		rows[i] = photoRow{TenantID: g.tenantID, FacilityID: f.id, Position: i + 1, ContentType: "image/svg+xml",
			Data: []byte(s.draw(rng)), Alt: s.alt, CreatedAt: g.stamp}
	}
	return rows
}

var (
	wallColours = []string{"#f6d7a7", "#f3b8a0", "#c9e4de", "#faedcb", "#dbcdf0", "#f2c6de", "#c6def1"}
	roofColours = []string{"#b5523b", "#8c4a3b", "#5a6b7d", "#7a5c3e", "#a34d4d"}
	leafColours = []string{"#5a9e4b", "#4f8a3f", "#6fae5a", "#3f7d4a"}
	toyColours  = []string{"#e4572e", "#f3a712", "#29335c", "#669bbc", "#a8c686", "#db3a34"}
)

func svg(body string) string {
	return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 480 300" width="480" height="300">` + body + `</svg>`
}

func tree(rng *rand.Rand, x, ground int) string {
	r := 26 + rng.IntN(18)
	return fmt.Sprintf(`<rect x="%d" y="%d" width="10" height="%d" fill="#7a5230"/><circle cx="%d" cy="%d" r="%d" fill="%s"/>`,
		x-5, ground-50, 50, x, ground-50-r/2, r, pick(rng, leafColours))
}

func drawHouse(rng *rand.Rand) string {
	var b strings.Builder
	b.WriteString(`<rect width="480" height="300" fill="#cfe8f7"/><circle cx="410" cy="55" r="28" fill="#ffd45c"/>`)
	b.WriteString(`<rect y="240" width="480" height="60" fill="#8cc56b"/>`)
	wall, roof := pick(rng, wallColours), pick(rng, roofColours)
	x, w := 110+rng.IntN(40), 220+rng.IntN(50)
	fmt.Fprintf(&b, `<rect x="%d" y="130" width="%d" height="110" fill="%s"/>`, x, w, wall)
	fmt.Fprintf(&b, `<polygon points="%d,130 %d,70 %d,130" fill="%s"/>`, x-15, x+w/2, x+w+15, roof)
	for i := 0; i < 4; i++ {
		wx := x + 18 + i*(w-36)/4
		if i == 1 {
			fmt.Fprintf(&b, `<rect x="%d" y="180" width="34" height="60" rx="3" fill="%s"/>`, wx, pick(rng, toyColours))
			continue
		}
		fmt.Fprintf(&b, `<rect x="%d" y="150" width="34" height="30" fill="#ffffff" stroke="#6b7b8c" stroke-width="3"/>`, wx)
	}
	b.WriteString(tree(rng, 60, 250))
	b.WriteString(tree(rng, 420, 250))
	return svg(b.String())
}

func drawGarden(rng *rand.Rand) string {
	var b strings.Builder
	b.WriteString(`<rect width="480" height="300" fill="#d8eefa"/><rect y="200" width="480" height="100" fill="#9ccf7a"/>`)
	// Sandbox with a bucket, a slide and a swing.
	b.WriteString(`<rect x="40" y="220" width="150" height="50" fill="#e9d29a" stroke="#a47e3b" stroke-width="6"/>`)
	fmt.Fprintf(&b, `<rect x="90" y="228" width="22" height="24" fill="%s"/>`, pick(rng, toyColours))
	slide := pick(rng, toyColours)
	fmt.Fprintf(&b, `<rect x="250" y="120" width="12" height="110" fill="#6b7b8c"/><rect x="250" y="120" width="50" height="10" fill="%s"/>`, slide)
	fmt.Fprintf(&b, `<polygon points="300,120 312,120 380,225 362,230" fill="%s"/>`, slide)
	b.WriteString(`<line x1="395" y1="100" x2="395" y2="230" stroke="#7a5230" stroke-width="8"/><line x1="455" y1="100" x2="455" y2="230" stroke="#7a5230" stroke-width="8"/>`)
	b.WriteString(`<line x1="390" y1="100" x2="460" y2="100" stroke="#7a5230" stroke-width="8"/>`)
	fmt.Fprintf(&b, `<line x1="415" y1="100" x2="415" y2="190" stroke="#555" stroke-width="2"/><line x1="435" y1="100" x2="435" y2="190" stroke="#555" stroke-width="2"/><rect x="410" y="188" width="30" height="7" fill="%s"/>`, pick(rng, toyColours))
	b.WriteString(tree(rng, 215, 205))
	return svg(b.String())
}

func drawRoom(rng *rand.Rand) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<rect width="480" height="300" fill="%s"/><rect y="220" width="480" height="80" fill="#c89f6d"/>`, pick(rng, wallColours))
	b.WriteString(`<rect x="300" y="40" width="130" height="90" fill="#e3f3fc" stroke="#ffffff" stroke-width="8"/>`)
	// A shelf with boxes, a low table with chairs, a round rug.
	b.WriteString(`<rect x="30" y="110" width="150" height="120" fill="#b07d4b"/>`)
	for row := 0; row < 2; row++ {
		for col := 0; col < 3; col++ {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="38" height="42" fill="%s"/>`, 40+col*48, 120+row*55, pick(rng, toyColours))
		}
	}
	fmt.Fprintf(&b, `<ellipse cx="320" cy="262" rx="120" ry="24" fill="%s"/>`, pick(rng, toyColours))
	b.WriteString(`<rect x="250" y="195" width="140" height="12" fill="#8a5a2b"/><rect x="260" y="207" width="8" height="40" fill="#8a5a2b"/><rect x="372" y="207" width="8" height="40" fill="#8a5a2b"/>`)
	for _, x := range []int{225, 400} {
		fmt.Fprintf(&b, `<rect x="%d" y="205" width="26" height="8" fill="%s"/><rect x="%d" y="213" width="6" height="32" fill="#555"/>`, x, pick(rng, toyColours), x+10)
	}
	return svg(b.String())
}
