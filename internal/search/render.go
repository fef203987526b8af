package search

import (
	"html"
	"html/template"
	"strings"
)

// renderItems writes the result list items. This markup and the form's are written in
// Go: html/template spends a few microseconds on every action (reflection for each field
// and each escaper), and a result page held some seven hundred of them — more time than
// the search takes in the database. Every value goes through text (escaped); markup is
// constant.
// csrf is the token the Merkliste forms carry for a signed-in parent ("" otherwise).
func renderItems(items []ItemView, path, csrf, hoursLabel, conceptsLabel string) template.HTML {
	var w htmlWriter
	w.Grow(len(items) * 1400)
	for _, it := range items {
		w.raw("\n    <li class=\"result\" id=\"f-")
		w.text(it.ID)
		w.raw("\" data-lat=\"")
		w.text(it.Lat)
		w.raw("\" data-lon=\"")
		w.text(it.Lon)
		w.raw("\" data-status=\"")
		w.text(it.Availability)
		w.raw("\" data-name=\"")
		w.text(it.Name)
		w.raw("\" tabindex=\"-1\">\n      <div class=\"result-head\">\n        <h3><a href=\"")
		w.text(it.URL)
		w.raw("\">")
		w.text(it.Name)
		w.raw("</a></h3>\n        <p class=\"house house-")
		w.text(it.Availability)
		w.raw("\"><img class=\"house-icon\" src=\"")
		w.text(it.HouseURL)
		w.raw("\" alt=\"\" width=\"26\" height=\"26\"> <strong>")
		w.text(it.StatusText)
		w.raw("</strong></p>\n      </div>\n      <p class=\"meta\">")
		w.text(it.TypeLabel)
		for _, part := range []string{it.Provider, it.Distance} {
			if part != "" {
				w.raw(" · ")
				w.text(part)
			}
		}
		w.raw("</p>\n      <p class=\"address\">")
		w.text(it.Address)
		if it.AgeFit {
			w.raw("</p>\n      <p class=\"age fit\">")
		} else {
			w.raw("</p>\n      <p class=\"age unfit\">")
		}
		w.text(it.Fit)
		w.raw("</p>")
		if it.Hours != "" {
			w.raw("\n      <p class=\"hours\"><span class=\"visually-hidden\">")
			w.text(hoursLabel)
			w.raw(": </span>")
			w.text(it.Hours)
			w.raw("</p>")
		}
		if len(it.Concepts) > 0 {
			w.raw("\n      <ul class=\"chips\" aria-label=\"")
			w.text(conceptsLabel)
			w.raw("\">")
			for _, c := range it.Concepts {
				w.raw("<li>")
				w.text(c)
				w.raw("</li>")
			}
			w.raw("</ul>")
		}
		if it.PickLabel != "" {
			// A checkbox of the form after the list (#request-picks): the facilities ticked
			// go to the request form together.
			w.raw("\n      <label class=\"check request-pick\"><input type=\"checkbox\" name=\"facility\" form=\"request-picks\" value=\"")
			w.text(it.ID)
			w.raw("\"> ")
			w.text(it.PickLabel)
			w.raw("<span class=\"visually-hidden\">: ")
			w.text(it.Name)
			w.raw("</span></label>")
		}
		action, pressed := "add", "false"
		if it.Favourite {
			action, pressed = "remove", "true"
		}
		w.raw("\n      <form class=\"fav-form\" method=\"post\" action=\"/favourites\">\n        <input type=\"hidden\" name=\"id\" value=\"")
		w.text(it.ID)
		w.raw("\">\n        <input type=\"hidden\" name=\"next\" value=\"")
		w.text(path + "#f-" + it.ID)
		w.raw("\">\n        <input type=\"hidden\" name=\"action\" value=\"" + action + "\">")
		if csrf != "" {
			w.raw("\n        <input type=\"hidden\" name=\"_csrf\" value=\"")
			w.text(csrf)
			w.raw("\">")
		}
		w.raw("\n        <button type=\"submit\" class=\"secondary fav\" aria-pressed=\"" + pressed + "\">")
		w.text(it.FavLabel)
		w.raw("<span class=\"visually-hidden\">: ")
		w.text(it.Name)
		w.raw("</span></button>\n      </form>\n    </li>")
	}
	return template.HTML(w.String()) //nolint:gosec // every value is escaped
}

// htmlWriter builds markup: raw for the constant parts, text for every value (escaped
// for text and quoted attributes alike).
type htmlWriter struct{ strings.Builder }

func (w *htmlWriter) raw(s string)  { w.WriteString(s) }
func (w *htmlWriter) text(s string) { w.WriteString(html.EscapeString(s)) }

// HTML renders the search form, written in Go for the reason renderItems gives: as a
// template it cost more than the rest of the result page together. Labels come from the
// catalogue in the form's language; every value is escaped.
func (f *Form) HTML() template.HTML {
	t := func(key string) string { return f.words.T(key, nil) }
	var w htmlWriter
	w.Grow(12 << 10)
	w.raw("\n<form class=\"search-form\" method=\"get\" action=\"/\" novalidate aria-labelledby=\"search-form-title\">\n  <h2 id=\"search-form-title\" class=\"form-title\">")
	w.text(t("search.form.heading"))
	w.raw("</h2>")
	if len(f.Errors) > 0 {
		w.raw("\n  <div class=\"error-summary\" role=\"alert\" id=\"error-summary\" tabindex=\"-1\" aria-labelledby=\"error-summary-title\">\n    <h2 id=\"error-summary-title\">")
		w.text(t("search.errors.title"))
		w.raw("</h2>\n    <ul>")
		for _, e := range f.Errors {
			w.raw("\n      <li><a href=\"#")
			w.text(e.Field)
			w.raw("\">")
			w.text(e.Message)
			w.raw("</a></li>")
		}
		w.raw("\n    </ul>\n  </div>")
	}
	w.raw("\n  <div class=\"fields\">")
	f.input(&w, "birth_date", "date", "", f.Value(ParamBirthDate), ` required autocomplete="off"`)
	f.input(&w, "start_date", "date", "", f.Value(ParamStartDate), ` required autocomplete="off"`)
	f.input(&w, "address", "text", " wide", f.Place(), ` autocomplete="street-address" maxlength="200"`)
	f.selectField(&w, "radius_km", "search.form.radius", f.Radii)
	f.selectField(&w, "care_hours", "search.form.care_hours", f.CareHours)
	w.raw("\n  </div>\n\n  <details class=\"filters\"")
	if f.Filtered() {
		w.raw(" open")
	}
	w.raw(">\n    <summary>")
	w.text(t("search.form.filters"))
	w.raw("</summary>\n    <div class=\"filter-groups\">")
	f.checkGroup(&w, ParamType, "search.form.type", f.Types)
	f.checkGroup(&w, ParamProviderKind, "search.form.provider_kind", f.Kinds)
	if len(f.Providers) > 0 {
		w.raw("\n      <fieldset>\n        <legend>")
		w.text(t("search.form.provider"))
		w.raw("</legend>")
		f.selectField(&w, ParamProvider, "search.form.provider.label", f.Providers)
		w.raw("\n      </fieldset>")
	}
	f.checkGroup(&w, ParamConcept, "search.form.concept", f.Concepts)
	w.raw("\n      <fieldset>\n        <legend>")
	w.text(t("search.form.hours"))
	w.raw("</legend>")
	f.selectField(&w, "opens_by", "search.form.opens_by", f.OpensBy)
	f.selectField(&w, "closes_after", "search.form.closes_after", f.ClosesAfter)
	w.raw("\n      </fieldset>\n      <fieldset>\n        <legend>")
	w.text(t("search.form.features"))
	w.raw("</legend>")
	f.flag(&w, ParamBarrierFree, "search.form.barrier_free")
	f.flag(&w, ParamLunch, "search.form.lunch")
	w.raw("\n      </fieldset>\n    </div>\n  </details>\n  <div class=\"form-actions\">")
	f.flag(&w, ParamAvailableOnly, "search.form.available_only")
	f.flag(&w, ParamAgeFitOnly, "search.form.age_fit_only")
	w.raw("\n    <button type=\"submit\">")
	w.text(t("search.form.submit"))
	w.raw("</button>\n  </div>\n</form>")
	return template.HTML(w.String()) //nolint:gosec // escaped
}

// input writes a labelled input with its hint and error; the label is "search.form.<id>".
func (f *Form) input(w *htmlWriter, id, typ, class, value, attrs string) {
	e := f.Error(id)
	w.raw("\n    <div class=\"field" + class)
	if e != "" {
		w.raw(" invalid")
	}
	w.raw("\">\n      <label for=\"" + id + "\">")
	w.text(f.words.T("search.form."+id, nil))
	w.raw("</label>\n      <span class=\"hint\" id=\"" + id + "-hint\">")
	w.text(f.words.T("search.form."+id+".hint", nil))
	w.raw("</span>")
	describedBy := id + "-hint"
	if e != "" {
		w.raw("<span class=\"field-error\" id=\"" + id + "-error\">")
		w.text(e)
		w.raw("</span>")
		describedBy += " " + id + "-error"
	}
	w.raw("\n      <input type=\"" + typ + "\" id=\"" + id + "\" name=\"" + id + "\" value=\"")
	w.text(value)
	w.raw("\"" + attrs + " aria-describedby=\"" + describedBy + "\"")
	if e != "" {
		w.raw(" aria-invalid=\"true\"")
	}
	w.raw(">\n    </div>")
}

// selectField writes a labelled select of opts, in optgroups where they have one
// (Option.Group, in order; an option without a group stands alone). Several chosen
// values make it a multiple select, so none is lost when the form is sent again.
func (f *Form) selectField(w *htmlWriter, id, label string, opts []Option) {
	e := f.Error(id)
	on := 0
	for _, o := range opts {
		if o.On {
			on++
		}
	}
	w.raw("\n    <div class=\"field")
	if e != "" {
		w.raw(" invalid")
	}
	w.raw("\">\n      <label for=\"" + id + "\">")
	w.text(f.words.T(label, nil))
	w.raw("</label>")
	if e != "" {
		w.raw("<span class=\"field-error\" id=\"" + id + "-error\">")
		w.text(e)
		w.raw("</span>")
	}
	w.raw("\n      <select id=\"" + id + "\" name=\"" + id + "\"")
	if on > 1 {
		w.raw(" multiple")
	}
	if e != "" {
		w.raw(" aria-invalid=\"true\" aria-describedby=\"" + id + "-error\"")
	}
	w.raw(">")
	group := ""
	for _, o := range opts {
		if o.Group != group {
			if group != "" {
				w.raw("</optgroup>")
			}
			if group = o.Group; group != "" {
				w.raw("<optgroup label=\"")
				w.text(group)
				w.raw("\">")
			}
		}
		w.raw("<option value=\"")
		w.text(o.Value)
		w.raw("\"")
		if o.On {
			w.raw(" selected")
		}
		w.raw(">")
		w.text(o.Label)
		w.raw("</option>")
	}
	if group != "" {
		w.raw("</optgroup>")
	}
	w.raw("</select>\n    </div>")
}

// checkGroup writes a fieldset of checkboxes named name; its id lets the error summary
// link to it.
func (f *Form) checkGroup(w *htmlWriter, name, legend string, opts []Option) {
	w.raw("\n      <fieldset id=\"" + name + "\">\n        <legend>")
	w.text(f.words.T(legend, nil))
	w.raw("</legend>")
	if e := f.Error(name); e != "" {
		w.raw("<p class=\"field-error\">")
		w.text(e)
		w.raw("</p>")
	}
	for _, o := range opts {
		w.raw("\n        <label class=\"check\"><input type=\"checkbox\" name=\"" + name + "\" value=\"")
		w.text(o.Value)
		w.raw("\"")
		if o.On {
			w.raw(" checked")
		}
		w.raw("> ")
		w.text(o.Label)
		w.raw("</label>")
	}
	w.raw("\n      </fieldset>")
}

// flag writes a yes/no checkbox.
func (f *Form) flag(w *htmlWriter, name, label string) {
	w.raw("\n        <label class=\"check\"><input type=\"checkbox\" id=\"" + name + "\" name=\"" + name + "\" value=\"1\"")
	if f.On(name) {
		w.raw(" checked")
	}
	w.raw("> ")
	w.text(f.words.T(label, nil))
	w.raw("</label>")
}
