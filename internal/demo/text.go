package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Pedagogical concepts a facility may name (the search filter's vocabulary).
var allConcepts = []string{
	"situationsansatz", "montessori", "waldorf", "reggio", "waldkindergarten", "bilingual",
	"inklusion", "kneipp", "bewegung", "naturpaedagogik", "offene_arbeit", "religionspaedagogik",
}

// extraConcepts are drawn at random on top of what the provider's style implies;
// repeats make the common ones likelier.
var extraConcepts = []string{
	"situationsansatz", "situationsansatz", "situationsansatz", "offene_arbeit", "offene_arbeit",
	"bewegung", "bewegung", "naturpaedagogik", "naturpaedagogik", "reggio", "kneipp", "inklusion",
	"montessori", "waldorf", "bilingual",
}

var conceptSentences = map[string]string{
	"situationsansatz":    "Wir arbeiten nach dem Situationsansatz: Was die Kinder gerade bewegt, wird zu unserem nächsten Projekt.",
	"montessori":          "Nach dem Leitsatz „Hilf mir, es selbst zu tun“ finden die Kinder bei uns eine vorbereitete Umgebung, in der sie selbstständig lernen.",
	"waldorf":             "Unser Alltag folgt dem Rhythmus der Jahreszeiten und orientiert sich an der Waldorfpädagogik.",
	"reggio":              "Angeregt von der Reggio-Pädagogik verstehen wir Kinder als Forscherinnen und Forscher, die ihre Welt mit allen Sinnen entdecken.",
	"waldkindergarten":    "Bei fast jedem Wetter sind wir draußen – der Wald ist unser Gruppenraum, ein beheizter Bauwagen bietet Schutz.",
	"bilingual":           "Unsere Fachkräfte sprechen im Alltag Deutsch und Englisch, so wachsen die Kinder spielerisch mit zwei Sprachen auf.",
	"inklusion":           "Kinder mit und ohne Behinderung spielen und lernen bei uns selbstverständlich gemeinsam.",
	"kneipp":              "Als Kneipp-Einrichtung achten wir auf gesunde Ernährung, Wassertreten und viel Bewegung an der frischen Luft.",
	"bewegung":            "Bewegung ist bei uns Programm: Turnraum, Bewegungsbaustelle und wöchentliche Ausflüge gehören dazu.",
	"naturpaedagogik":     "Hochbeete, Kompost und regelmäßige Ausflüge ins Grüne lassen die Kinder die Natur hautnah erleben.",
	"offene_arbeit":       "In unserem offenen Haus entscheiden die Kinder selbst, ob sie im Atelier, in der Bauecke oder im Garten spielen.",
	"religionspaedagogik": "Christliche Feste im Jahreslauf, biblische Geschichten und ein Tischgebet gehören zu unserem Alltag.",
}

var genericConceptSentences = []string{
	"Verlässliche Bezugspersonen, feste Rituale und viel Zeit zum freien Spiel prägen unseren Tag.",
	"Wir nehmen jedes Kind mit seinen Stärken wahr und begleiten es in seinem eigenen Tempo.",
	"Spielen ist für uns Lernen: Wir geben den Kindern Zeit, Raum und Material dafür.",
}

// introTemplates per facility type; %[1]d is the number of places, %[2]s the youngest
// age admitted, %[3]s the place.
var introTemplates = map[string][]string{
	typeKita: {
		"Unsere Kita begleitet %[1]d Kinder ab %[2]s bis zum Schuleintritt.",
		"Die Kita liegt in einem ruhigen Wohngebiet von %[3]s und bietet Platz für %[1]d Kinder ab %[2]s.",
		"Vom ersten Eingewöhnungstag bis zur Einschulung – bei uns wachsen %[1]d Kinder in altersgemischten und altersgleichen Gruppen auf.",
	},
	typeKrippe: {
		"In unserer Krippe werden bis zu %[1]d Kinder unter drei Jahren in kleinen, familiären Gruppen betreut.",
		"Die Kleinsten ab %[2]s finden bei uns einen geborgenen Ort für ihre ersten Schritte außerhalb der Familie.",
	},
	typeKindergarten: {
		"Unser Kindergarten bietet %[1]d Kindern ab drei Jahren Raum zum Spielen, Forschen und Lernen.",
		"Bei uns verbringen %[1]d Kinder von drei Jahren bis zur Einschulung ihre Kindergartenzeit.",
	},
	typeHort: {
		"Nach dem Unterricht finden hier bis zu %[1]d Grundschulkinder Zeit für Hausaufgaben, Spiel und Erholung.",
		"Unser Hort liegt wenige Gehminuten von der Grundschule entfernt und betreut %[1]d Kinder der Klassen 1 bis 4.",
	},
	typeTagespflege: {
		"Ich betreue bis zu %[1]d Kinder ab %[2]s in familiärer Atmosphäre in meinen eigenen, kindgerecht eingerichteten Räumen.",
		"Als qualifizierte Kindertagespflegeperson in %[3]s biete ich %[1]d Kindern eine kleine Gruppe mit fester Bezugsperson.",
	},
	typeGrosstagespflege: {
		"In unserer Großtagespflege betreuen zwei erfahrene Tagespflegepersonen gemeinsam bis zu %[1]d Kinder.",
		"Die Großtagespflege verbindet die Geborgenheit einer kleinen Gruppe mit viel Platz zum Toben – für %[1]d Kinder ab %[2]s.",
	},
}

// tagespflegeConceptSentences speak in the first person: a single childminder.
var tagespflegeConceptSentences = map[string]string{
	"situationsansatz": "Ich arbeite nach dem Situationsansatz und greife auf, was die Kinder gerade beschäftigt.",
	"naturpaedagogik":  "Mein Garten, ein Hochbeet und tägliche Ausflüge ins Grüne lassen die Kinder die Natur hautnah erleben.",
	"bewegung":         "Viel Bewegung drinnen und draußen gehört bei mir zu jedem Tag.",
	"montessori":       "Ich orientiere mich an Maria Montessori: Die Kinder dürfen vieles selbst ausprobieren.",
	"inklusion":        "Auch Kinder mit besonderem Förderbedarf sind bei mir herzlich willkommen.",
	"bilingual":        "Ich spreche mit den Kindern Deutsch und Englisch.",
}

var tagespflegeGenericSentences = []string{
	"Feste Rituale und eine verlässliche Bezugsperson geben den Kleinsten Sicherheit.",
	"Jedes Kind darf bei mir in seinem eigenen Tempo ankommen.",
}

var lunchSentences = []string{
	"Das Mittagessen kochen wir täglich frisch in unserer eigenen Küche.",
	"Ein regionaler Caterer liefert ausgewogenes Mittagessen, auf Wunsch auch vegetarisch.",
}

var barrierFreeSentences = []string{
	"Das Gebäude ist barrierefrei.",
	"Alle Räume sind ebenerdig und barrierefrei erreichbar.",
}

var houseSentences = []string{
	"Ein großer Garten mit Sandkasten, Kletterbaum und Hochbeeten lädt zum Spielen im Freien ein.",
	"Eine enge Zusammenarbeit mit den Eltern ist uns wichtig, etwa in Entwicklungsgesprächen und beim Elterncafé.",
	"Bus und Bahn halten nur wenige Gehminuten entfernt.",
	"Zum Kennenlernen vereinbaren Sie gern einen Besuchstermin.",
}

var settlingSentences = []string{
	"Die Eingewöhnung gestalten wir behutsam nach dem Berliner Modell, gemeinsam mit den Eltern.",
}

var schoolSentences = []string{
	"Mit der benachbarten Grundschule arbeiten wir eng zusammen, damit der Übergang gut gelingt.",
}

var hortSentences = []string{
	"Nach dem Mittagessen gibt es eine feste Hausaufgabenzeit, danach Arbeitsgemeinschaften und freies Spiel.",
	"In den Ferien bieten wir ein abwechslungsreiches Programm mit Ausflügen an.",
}

var tagespflegeSentences = []string{
	"Ausflüge auf den Spielplatz und in den Park gehören zu jedem Tag.",
	"Bei Krankheit oder Urlaub hilft die Vertretungsregelung der Fachberatung.",
	"Zum Kennenlernen vereinbaren Sie gern einen Besuchstermin.",
}

// describe writes two to four German sentences about a facility.
func describe(rng *rand.Rand, f *facilityPlan) string {
	intro := pick(rng, introTemplates[f.typ])
	sentences := []string{fmt.Sprintf(intro, f.places(), ageText(f.ageMin), f.pc.place)}
	alone := f.typ == typeTagespflege // one childminder speaks for herself
	concepts, generic := conceptSentences, genericConceptSentences
	if alone {
		concepts, generic = tagespflegeConceptSentences, tagespflegeGenericSentences
	}
	concept := ""
	if len(f.concepts) > 0 {
		concept = concepts[pick(rng, f.concepts)]
	}
	if concept == "" {
		concept = pick(rng, generic)
	}
	sentences = append(sentences, concept)
	var pool []string
	if f.lunch && !alone {
		pool = append(pool, pick(rng, lunchSentences))
	}
	if f.lunch && alone {
		pool = append(pool, "Mittags koche ich frisch und kindgerecht.")
	}
	if f.barrierFree {
		pool = append(pool, pick(rng, barrierFreeSentences))
	}
	switch f.typ {
	case typeTagespflege, typeGrosstagespflege:
		pool = append(pool, tagespflegeSentences...)
	case typeHort:
		pool = append(pool, houseSentences...)
		pool = append(pool, hortSentences...)
	case typeKrippe:
		pool = append(pool, houseSentences...)
		pool = append(pool, settlingSentences...)
	default:
		pool = append(pool, houseSentences...)
		pool = append(pool, settlingSentences...)
		pool = append(pool, schoolSentences...)
	}
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	sentences = append(sentences, pool[:rng.IntN(3)]...)
	return strings.Join(sentences, " ")
}

func ageText(months int) string {
	if months == 12 {
		return "einem Jahr"
	}
	return fmt.Sprintf("%d Monaten", months)
}

// openingHours is the JSON shape of facility.opening_hours.
type openingHours struct {
	Mon [][2]string `json:"mon"`
	Tue [][2]string `json:"tue"`
	Wed [][2]string `json:"wed"`
	Thu [][2]string `json:"thu"`
	Fri [][2]string `json:"fri"`
}

// hoursFor picks opening hours long enough for the facility's longest weekly care
// scope: Kitas open 6:00–8:00 and close by 18:00, Kindertagespflege keeps shorter days,
// Horte open early for the time before school and stay open in the afternoon.
func hoursFor(rng *rand.Rand, typ string, careHours int) openingHours {
	need := careHours * 60 / 5 // minutes per day
	var open, until, latest int
	switch typ {
	case typeHort:
		open = pick(rng, []int{6 * 60, 6*60 + 30, 7 * 60})
		until = pick(rng, []int{16 * 60, 16*60 + 30, 17 * 60, 17*60 + 30})
	case typeTagespflege, typeGrosstagespflege:
		open, latest = pick(rng, []int{7 * 60, 7*60 + 30, 8 * 60}), 17*60
	default:
		open, latest = pick(rng, []int{6 * 60, 6*60 + 30, 7 * 60, 7*60 + 30}), 18*60
	}
	if typ != typeHort {
		until = open + need + pick(rng, []int{0, 30, 60, 90})
		if until > latest {
			until = latest
			if until-open < need {
				open = max(6*60, until-need) // open earlier rather than cut the day short
			}
		}
		until = max(until, 14*60)
	}
	fri := until
	if rng.Float64() < 0.25 && until-60 >= max(14*60, open+5*60) {
		fri = until - 60 // many close earlier on Fridays
	}
	day := func(to int) [][2]string { return [][2]string{{clock(open), clock(to)}} }
	return openingHours{Mon: day(until), Tue: day(until), Wed: day(until), Thu: day(until), Fri: day(fri)}
}

func clock(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

var transliteration = strings.NewReplacer(
	"ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "Ä", "ae", "Ö", "oe", "Ü", "ue",
	"ı", "i", "ş", "s", "Ş", "s", "ç", "c", "Ç", "c", "ć", "c", "é", "e", "–", "-",
)

// slugify turns a name into the local part of a mail address or a URL path segment.
func slugify(s string, maxLen int) string {
	s = strings.ToLower(transliteration.Replace(s))
	var b strings.Builder
	dash := false
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if len(out) > maxLen {
		out = out[:maxLen]
		if i := strings.LastIndexByte(out, '-'); i > maxLen/2 {
			out = out[:i]
		}
	}
	return out
}
