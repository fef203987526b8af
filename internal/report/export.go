package report

import (
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"kitaportal/internal/platform/csvfile"
)

// Exports: the district × band × month table as CSV (the office format of every export:
// semicolons, UTF-8 with byte-order mark, see csvfile), and an Excel workbook with one
// sheet per table of the page — header row, numbers as numbers — written by excelize's
// stream writer, so a whole city's facilities month by month stay within a few tens of
// megabytes.

// Labels are the words of an export in the reader's language.
type Labels struct {
	T        func(key string) string // a text of the catalogue
	Band     func(key string) string // an age band's name
	District func(key string) string // a district's name ("" outside the districts)
	Type     func(key string) string // a facility type's name
}

var figureColumns = []string{"demand", "waiting", "places", "contracted", "offered", "free", "coverage"}

// csvRow is a Figures as CSV cells, the coverage with a decimal comma.
func csvRow(f Figures) []string {
	cov := ""
	if f.Coverage != nil {
		cov = strconv.FormatFloat(*f.Coverage, 'f', 3, 64)
		cov = cov[:len(cov)-4] + "," + cov[len(cov)-3:]
	}
	return []string{strconv.Itoa(f.Demand), strconv.Itoa(f.Waiting), strconv.Itoa(f.Places), strconv.Itoa(f.Contracted),
		strconv.Itoa(f.Offered), strconv.Itoa(f.Free), cov}
}

// WriteCSV writes one line per district, band, care type (all, kita, tagespflege) and
// month.
func WriteCSV(w *csvfile.Writer, r *Report) error {
	if err := w.Write(append([]string{"district", "district_name", "band", "care", "month"}, figureColumns...)...); err != nil {
		return err
	}
	for _, d := range r.Districts {
		for _, s := range d.Bands {
			for _, m := range s.Months {
				for _, part := range []struct {
					care string
					f    Figures
				}{{"alle", m.Figures}, {"kita", m.Kita}, {"tagespflege", m.Tagespflege}} {
					if err := w.Write(append([]string{d.Key, d.Name, s.Band, part.care, m.Month.String()[:7]}, csvRow(part.f)...)...); err != nil {
						return err
					}
				}
			}
		}
	}
	return w.Flush()
}

// WriteUnservedCSV writes the list of children without a place.
func WriteUnservedCSV(w *csvfile.Writer, list []Unserved) error {
	if err := w.Write("reference", "child_id", "last_name", "first_name", "birth_date", "band", "district", "facility", "tagespflege",
		"start_date", "care_hours", "days_overdue"); err != nil {
		return err
	}
	for _, u := range list {
		birth, tp := "", "nein"
		if u.Birth != nil {
			birth = u.Birth.String()
		}
		if u.Tagespflege {
			tp = "ja"
		}
		if err := w.Write(u.Reference, u.Child.String(), u.LastName, u.FirstName, birth, u.Band, u.District, u.FacilityName, tp,
			u.Start.String(), strconv.Itoa(u.CareHours), strconv.Itoa(u.DaysOverdue)); err != nil {
			return err
		}
	}
	return w.Flush()
}

// figureCells are a Figures as workbook cells: numbers, the coverage a number or empty.
func figureCells(f Figures) []any {
	var cov any
	if f.Coverage != nil {
		cov = *f.Coverage
	}
	return []any{f.Demand, f.Waiting, f.Places, f.Contracted, f.Offered, f.Free, cov}
}

func orNil(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// sheet streams rows into one sheet of the workbook.
type sheet struct {
	sw  *excelize.StreamWriter
	row int
}

func (s *sheet) add(values ...any) error {
	s.row++
	cell, err := excelize.CoordinatesToCellName(1, s.row)
	if err != nil {
		return err
	}
	return s.sw.SetRow(cell, values)
}

// WriteWorkbook writes the report as an .xlsx workbook: the districts' figures, the
// facilities month by month (when the report has them), the waiting times and the
// tickets against the quota (when the city has them).
func WriteWorkbook(out io.Writer, r *Report, l Labels) error {
	f := excelize.NewFile()
	defer f.Close()
	first := true
	newSheet := func(titleKey string, header ...string) (*sheet, error) {
		name := l.T(titleKey)
		if first {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return nil, err
			}
			first = false
		} else if _, err := f.NewSheet(name); err != nil {
			return nil, err
		}
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return nil, err
		}
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return nil, err
		}
		s := &sheet{sw: sw}
		cells := make([]any, len(header))
		for i, h := range header {
			cells[i] = l.T(h)
		}
		return s, s.add(cells...)
	}
	figureHeader := func() []string {
		out := make([]string, len(figureColumns))
		for i, c := range figureColumns {
			out[i] = "planning.col." + c
		}
		return out
	}

	s, err := newSheet("planning.sheet.districts", append([]string{"planning.col.district", "planning.col.band", "planning.col.care", "planning.col.month"}, figureHeader()...)...)
	if err != nil {
		return err
	}
	for _, d := range r.Districts {
		for _, se := range d.Bands {
			for _, m := range se.Months {
				for _, part := range []struct {
					key string
					f   Figures
				}{{"planning.care.all", m.Figures}, {"planning.care.kita", m.Kita}, {"planning.care.tagespflege", m.Tagespflege}} {
					row := append([]any{l.District(d.Key), l.Band(se.Band), l.T(part.key), m.Month.String()[:7]}, figureCells(part.f)...)
					if err := s.add(row...); err != nil {
						return err
					}
				}
			}
		}
	}
	if err := s.sw.Flush(); err != nil {
		return err
	}

	if r.Facilities != nil {
		s, err := newSheet("planning.sheet.facilities", append([]string{"planning.col.facility", "planning.col.type", "planning.col.district",
			"planning.col.provider_kind", "planning.col.month"}, figureHeader()...)...)
		if err != nil {
			return err
		}
		for _, fs := range r.Facilities {
			for _, m := range fs.Months {
				row := append([]any{fs.Name, l.Type(fs.Type), l.District(fs.District), l.T("search.provider." + fs.ProviderKind), m.Month.String()[:7]},
					figureCells(m.Figures)...)
				if err := s.add(row...); err != nil {
					return err
				}
			}
		}
		if err := s.sw.Flush(); err != nil {
			return err
		}
	}

	s, err = newSheet("planning.sheet.waiting", "planning.col.care", "planning.waiting.requests", "planning.waiting.offered",
		"planning.waiting.median", "planning.waiting.p90", "planning.waiting.placed", "planning.waiting.first_choice", "planning.waiting.first_choice_share")
	if err != nil {
		return err
	}
	for _, part := range []struct {
		key string
		w   WaitingTime
	}{{"planning.care.all", r.Waiting.All}, {"planning.care.kita", r.Waiting.Kita}, {"planning.care.tagespflege", r.Waiting.Tagespflege}} {
		w := part.w
		if err := s.add(l.T(part.key), w.Requests, w.Offered, orNil(w.MedianDays), orNil(w.P90Days), w.Placed, w.FirstChoice, orNil(w.FirstChoiceShare)); err != nil {
			return err
		}
	}
	if err := s.sw.Flush(); err != nil {
		return err
	}

	if len(r.Tickets) > 0 {
		s, err := newSheet("planning.sheet.tickets", "planning.col.kita_year", "planning.col.band", "planning.tickets.quota",
			"planning.tickets.granted", "planning.tickets.requested", "planning.tickets.left")
		if err != nil {
			return err
		}
		for _, q := range r.Tickets {
			year := kitaYear(q.KitaYear)
			if err := s.add(year, l.Band(q.Band), q.Quota, q.Granted, q.Requested, q.Left); err != nil {
				return err
			}
		}
		if err := s.sw.Flush(); err != nil {
			return err
		}
	}
	return f.Write(out)
}
