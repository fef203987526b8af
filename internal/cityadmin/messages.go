package cityadmin

import (
	"errors"
	"regexp"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/tenant"
)

// The validator of the rules (tenant.Rules.Validate) explains each problem in English
// for the people who write the files. The editor shows it in the admin's language: each
// reason is matched to a message code of the catalogue (error.<code> in
// web/i18n/*/rules.json) with what it names as arguments. A reason without a match is
// still shown, in the validator's words (rules_invalid).

type reasonCode struct {
	re   *regexp.Regexp
	code string
	args []string // names of the submatches
}

func rc(pattern, code string, args ...string) reasonCode {
	return reasonCode{regexp.MustCompile(pattern), code, args}
}

var reasonCodes = []reasonCode{
	rc(`^must be from (-?\d+) to (-?\d+) \(got (-?\d+)\)$`, "rules_between", "min", "max", "got"),
	rc(`^must be from (\d+) to (\d+) \(less than response_days\)$`, "rules_reminder_days", "min", "max"),
	rc(`^must be from 0 to less than 10000$`, "rules_fee_amount"),
	rc(`^must have at most two decimals`, "rules_whole_cents"),
	rc(`^is required \(at most (\d+) characters\)$`, "rules_required_max", "max"),
	rc(`^is required$`, "rules_required"),
	rc(`^is required: Kindertagespflege requests`, "rules_fachberatung_required"),
	rc(`^is required in every language of the city$`, "rules_every_language"),
	rc(`^a German text is required$`, "rules_german_required"),
	rc(`^is longer than (\d+) characters$`, "rules_too_long", "max"),
	rc(`^is not a known language$`, "rules_language_unknown", "value"),
	rc(`^must be an e-mail address \(got "(.*)"\)$`, "rules_email", "value"),
	rc(`^must be an https URL`, "rules_https"),
	rc(`^must be a day of the year as MM-DD.*\(got "(.*)"\)$`, "rules_month_day", "value"),
	rc(`^must be lower-case letters, digits and dashes \(got "(.*)"\)$`, "rules_key", "value"),
	rc(`^must be lower-case letters, digits and underscores \(got "(.*)"\)$`, "rules_key_underscore", "value"),
	rc(`^must be lower-case letters, digits and underscores$`, "rules_key_underscore"),
	rc(`^"(.*)" is (?:used|listed) twice$`, "rules_twice", "value"),
	rc(`^(-?\d+) is listed twice$`, "rules_twice", "value"),
	rc(`^"(.*)" is not an age band of the city$`, "rules_unknown_band", "value"),
	rc(`^is not one of the age_bands$`, "rules_unknown_band"),
	rc(`^"(.*)" is not one of the municipalities$`, "rules_unknown_municipality", "value"),
	rc(`^"(.*)" has no message catalogue`, "rules_language_unknown", "value"),
	rc(`^must start with de`, "rules_languages_de"),
	rc(`^must be greater than min_months \((\d+)\) and at most 180$`, "rules_max_months", "min"),
	rc(`^must be left out when the band ends at school entry`, "rules_band_until_school"),
	rc(`^cannot both end at school entry and start at it$`, "rules_band_both"),
	rc(`^age bands must be listed from the youngest to the oldest$`, "rules_bands_order"),
	rc(`^at least one age band is required$`, "rules_band_required"),
	rc(`^at least one care scope`, "rules_scope_required"),
	rc(`^care scopes must be ascending and distinct$`, "rules_scopes_ascending"),
	rc(`^must be above the band's previous row \((\d+) hours\)`, "rules_fees_ascending", "hours"),
	rc(`^band "(.*)" has no fee up to (\d+) hours`, "rules_fees_cover", "band", "hours"),
	rc(`^must be less than max_lead_months \((\d+)\)`, "rules_notice_below_lead", "months"),
	rc(`^is only used in (\S+) mode$`, "rules_only_mode", "mode"),
	rc(`^must be one of (.*) \(got "(.*)"\)$`, "rules_one_of", "options", "value"),
	rc(`^must be (\S+), (\S+) or (\S+) \(got "(.*)"\)$`, "rules_residence_rule", "a", "b", "c", "value"),
	rc(`^must be global or facility$`, "rules_criterion_scope"),
	rc(`^must be flag or text$`, "rules_criterion_kind"),
	rc(`^a facility criterion must be a flag$`, "rules_facility_flag"),
	rc(`^at least one tie-break is required`, "rules_tie_break_required"),
	rc(`^lottery must come last`, "rules_lottery_last"),
	rc(`^must end with application_date or lottery`, "rules_tie_break_end"),
	rc(`^must be true when residence.rule is residents_and_tickets$`, "rules_tickets_needed"),
	rc(`^is only allowed when tickets are enabled$`, "rules_quota_without_tickets"),
	rc(`^needs a quota per age band when tickets are enabled$`, "rules_quota_needed"),
	rc(`^only makes sense with more than one municipality$`, "rules_binding_one_municipality"),
	rc(`^are required when Kindertagespflege can be chosen`, "rules_districts_needed"),
	rc(`^needs districts`, "rules_districts_needed"),
	rc(`^must be 5, 6 or 7$`, "rules_school_entry_age"),
}

// classify turns a validation error of the rules into field errors of the form: each
// FieldError under the input it belongs to (formField; "" puts it above the form), with
// a message code of the catalogue. Errors that are not FieldErrors are returned as they
// are.
func classify(err error, formField func(string) string) error {
	var fes []tenant.FieldError
	collectFieldErrors(err, &fes)
	if len(fes) == 0 {
		return err
	}
	var out apperr.List
	for _, fe := range fes {
		f := formField(fe.Field)
		if f == "" { // not on the form (branding, map): named by its path, in the validator's words
			out = append(out, apperr.Invalid("", "rules_other_field", map[string]any{"field": fe.Field, "reason": fe.Reason}))
			continue
		}
		e := translate(fe)
		e.Field = f
		out = append(out, e)
	}
	return out
}

func collectFieldErrors(err error, out *[]tenant.FieldError) {
	var fe tenant.FieldError
	if errors.As(err, &fe) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				collectFieldErrors(e, out)
			}
			return
		}
		*out = append(*out, fe)
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			collectFieldErrors(e, out)
		}
	}
}

// translate is the message code and arguments of one FieldError.
func translate(fe tenant.FieldError) *apperr.Error {
	for _, r := range reasonCodes {
		if m := r.re.FindStringSubmatch(fe.Reason); m != nil {
			args := map[string]any{}
			for i, name := range r.args {
				args[name] = m[i+1]
			}
			return apperr.Invalid(fe.Field, r.code, args)
		}
	}
	return apperr.Invalid(fe.Field, "rules_invalid", map[string]any{"reason": fe.Reason})
}
