package tenant

import (
	"strings"

	"kitaportal/internal/platform/apperr"
)

// LaunchProblem is one thing a city's rules still lack before the city may go live
// (status active): Field is the rules field, Reason says why it is needed.
type LaunchProblem struct {
	Field  string
	Reason string
}

func (p LaunchProblem) String() string { return p.Field + ": " + p.Reason }

// LaunchProblems lists what the rules lack for a public portal; none means the city may
// go live. The operators' go-live (console, command line, a new rules file) refuses a
// city with problems, and the vendor's onboarding checklist reads the same list.
//
// A German public website must name who runs it (Impressum, § 5 DDG) and how it handles
// personal data (Datenschutzerklärung, Art. 13 DSGVO); every page and mail of the city
// links both.
func (r *Rules) LaunchProblems() []LaunchProblem {
	var out []LaunchProblem
	// Either a URL or the text itself (served at /impressum, /datenschutz) will do.
	if !r.Branding.HasImprint() {
		out = append(out, LaunchProblem{Field: "branding.imprint_url", Reason: "the imprint (Impressum) every page links is required on a German public site: give its URL or its text (imprint_text)"})
	}
	if !r.Branding.HasPrivacy() {
		out = append(out, LaunchProblem{Field: "branding.privacy_url", Reason: "the privacy notice (Datenschutzerklärung) every page links is required (Art. 13 DSGVO): give its URL or its text (privacy_text)"})
	}
	return out
}

// ErrNotLaunchable refuses to take a city live; its "fields" argument names what the
// rules lack (LaunchError fills it).
var ErrNotLaunchable = apperr.Invalid("status", "tenant_not_launchable", nil)

// LaunchError is nil when the rules may go live, else ErrNotLaunchable naming every
// missing field (args "fields", details "problems").
func (r *Rules) LaunchError() error {
	problems := r.LaunchProblems()
	if len(problems) == 0 {
		return nil
	}
	lines := make([]string, len(problems))
	for i, p := range problems {
		lines[i] = p.String()
	}
	e := *ErrNotLaunchable
	e.Args = map[string]any{"fields": launchFields(problems)}
	e.Details = map[string]any{"problems": lines}
	return &e
}

func launchFields(problems []LaunchProblem) string {
	fields := make([]string, len(problems))
	for i, p := range problems {
		fields[i] = p.Field
	}
	return strings.Join(fields, ", ")
}
