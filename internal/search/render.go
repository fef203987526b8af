package search

import (
	"html"
	"html/template"
	"strings"
)

// renderItems writes the result list items. It is the one piece of HTML written in Go:
// html/template spends a few microseconds on every action (reflection for each field and
// escaper), and twenty results hold some five hundred actions — more time than the whole
// search takes in the database. Every value is escaped here; markup is constant.
func renderItems(items []ItemView, path, hoursLabel, conceptsLabel string) template.HTML {
	var b strings.Builder
	b.Grow(len(items) * 1400)
	esc := func(s string) { b.WriteString(html.EscapeString(s)) }
	for _, it := range items {
		b.WriteString("\n    <li class=\"result\" id=\"f-")
		esc(it.ID)
		b.WriteString("\" data-lat=\"")
		esc(it.Lat)
		b.WriteString("\" data-lon=\"")
		esc(it.Lon)
		b.WriteString("\" data-status=\"")
		esc(it.Availability)
		b.WriteString("\" data-name=\"")
		esc(it.Name)
		b.WriteString("\" tabindex=\"-1\">\n      <div class=\"result-head\">\n        <h3><a href=\"")
		esc(it.URL)
		b.WriteString("\">")
		esc(it.Name)
		b.WriteString("</a></h3>\n        <p class=\"house house-")
		esc(it.Availability)
		b.WriteString("\"><img class=\"house-icon\" src=\"")
		esc(it.HouseURL)
		b.WriteString("\" alt=\"\" width=\"26\" height=\"26\"> <strong>")
		esc(it.StatusText)
		b.WriteString("</strong></p>\n      </div>\n      <p class=\"meta\">")
		esc(it.TypeLabel)
		for _, part := range []string{it.Provider, it.Distance} {
			if part != "" {
				b.WriteString(" · ")
				esc(part)
			}
		}
		b.WriteString("</p>\n      <p class=\"address\">")
		esc(it.Address)
		b.WriteString("</p>\n      <p class=\"age ")
		if it.AgeFit {
			b.WriteString("fit")
		} else {
			b.WriteString("unfit")
		}
		b.WriteString("\">")
		esc(it.Fit)
		b.WriteString("</p>")
		if it.Hours != "" {
			b.WriteString("\n      <p class=\"hours\"><span class=\"visually-hidden\">")
			esc(hoursLabel)
			b.WriteString(": </span>")
			esc(it.Hours)
			b.WriteString("</p>")
		}
		if len(it.Concepts) > 0 {
			b.WriteString("\n      <ul class=\"chips\" aria-label=\"")
			esc(conceptsLabel)
			b.WriteString("\">")
			for _, c := range it.Concepts {
				b.WriteString("<li>")
				esc(c)
				b.WriteString("</li>")
			}
			b.WriteString("</ul>")
		}
		b.WriteString("\n      <form class=\"fav-form\" method=\"post\" action=\"/favourites\">\n        <input type=\"hidden\" name=\"id\" value=\"")
		esc(it.ID)
		b.WriteString("\">\n        <input type=\"hidden\" name=\"next\" value=\"")
		esc(path + "#f-" + it.ID)
		b.WriteString("\">\n        <input type=\"hidden\" name=\"action\" value=\"")
		pressed := "false"
		if it.Favourite {
			b.WriteString("remove")
			pressed = "true"
		} else {
			b.WriteString("add")
		}
		b.WriteString("\">\n        <button type=\"submit\" class=\"secondary fav\" aria-pressed=\"")
		b.WriteString(pressed)
		b.WriteString("\">")
		esc(it.FavLabel)
		b.WriteString("<span class=\"visually-hidden\">: ")
		esc(it.Name)
		b.WriteString("</span></button>\n      </form>\n    </li>")
	}
	return template.HTML(b.String()) //nolint:gosec // every value above is escaped
}

// SelectOptions writes the <option> elements of a select (see renderItems for why in Go).
func SelectOptions(opts []Option) template.HTML {
	var b strings.Builder
	for _, o := range opts {
		b.WriteString("<option value=\"")
		b.WriteString(html.EscapeString(o.Value))
		b.WriteString("\"")
		if o.On {
			b.WriteString(" selected")
		}
		b.WriteString(">")
		b.WriteString(html.EscapeString(o.Label))
		b.WriteString("</option>")
	}
	return template.HTML(b.String()) //nolint:gosec // escaped
}

// Checkboxes writes a group of labelled checkboxes named name.
func Checkboxes(name string, opts []Option) template.HTML {
	var b strings.Builder
	for _, o := range opts {
		b.WriteString("\n        <label class=\"check\"><input type=\"checkbox\" name=\"")
		b.WriteString(html.EscapeString(name))
		b.WriteString("\" value=\"")
		b.WriteString(html.EscapeString(o.Value))
		b.WriteString("\"")
		if o.On {
			b.WriteString(" checked")
		}
		b.WriteString("> ")
		b.WriteString(html.EscapeString(o.Label))
		b.WriteString("</label>")
	}
	return template.HTML(b.String()) //nolint:gosec // escaped
}
