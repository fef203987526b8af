package auth

import (
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"kitaportal/internal/platform/apperr"
)

// Limits of what people type into the account forms.
const (
	MaxEmail       = 254
	MaxName        = 100
	MinPassword    = 10
	MaxPassword    = 128 // runes; longer adds nothing and costs hashing time
	maxPasswordRaw = 512 // bytes, checked before anything else
)

// Email checks and normalises an e-mail address: trimmed, NFC, lower-case, one @, a
// domain with a dot, ASCII only (a look-alike letter from another script cannot pose as
// someone else's address). The field name goes into the error.
func Email(field, raw string) (string, error) {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return "", apperr.Invalid(field, "email_required", nil)
	case len(s) > MaxEmail:
		return "", apperr.Invalid(field, "field_too_long", map[string]any{"max": MaxEmail})
	}
	s = strings.ToLower(norm.NFC.String(s))
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || !validLocal(local) || !validDomain(domain) {
		return "", apperr.Invalid(field, "email_invalid", nil)
	}
	return s, nil
}

func validLocal(s string) bool {
	if strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0) {
			return false
		}
	}
	return true
}

func validDomain(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 || len(s) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// Name checks and normalises a person's name: NFC, inner spaces collapsed, at most
// MaxName characters, at least one letter, and only letters, combining marks, spaces and
// . ' ’ - — no control, bidi or invisible characters that could disguise a name.
func Name(field, raw string, required bool) (string, error) {
	s := strings.Join(strings.Fields(norm.NFC.String(raw)), " ")
	if s == "" {
		if required {
			return "", apperr.Invalid(field, "name_required", nil)
		}
		return "", nil
	}
	if utf8.RuneCountInString(s) > MaxName || len(raw) > 4*MaxName {
		return "", apperr.Invalid(field, "field_too_long", map[string]any{"max": MaxName})
	}
	letter := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Mc, r), r == ' ', r == '-', r == '\'', r == '’', r == '.':
		default:
			return "", apperr.Invalid(field, "name_invalid_characters", nil)
		}
	}
	if !letter {
		return "", apperr.Invalid(field, "name_invalid_characters", nil)
	}
	return s, nil
}

// FreeText checks a short free text (a reason, a note): NFC, trimmed, within max
// characters, no control or bidi characters (line breaks and tabs are fine).
func FreeText(field, raw string, minLen, maxLen int) (string, error) {
	s := strings.TrimSpace(norm.NFC.String(raw))
	n := utf8.RuneCountInString(s)
	switch {
	case n < minLen:
		return "", apperr.Invalid(field, "text_too_short", map[string]any{"min": minLen})
	case n > maxLen:
		return "", apperr.Invalid(field, "field_too_long", map[string]any{"max": maxLen})
	}
	for _, r := range s {
		if (unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t') || unicode.Is(unicode.Cf, r) {
			return "", apperr.Invalid(field, "text_invalid_characters", nil)
		}
	}
	return s, nil
}

//go:embed common_passwords.txt
var commonList string

var common = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(commonList, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m
}()

// CheckPassword applies the password policy (NIST SP 800-63B style: length and a
// blocklist, no composition rules): 10 to 128 characters, not a common password or a
// common word dressed up with digits, symbols or 1337-speak, not built from the e-mail
// address or the person's names, and at least 5 different characters.
func CheckPassword(field, pw string, personal ...string) error {
	if len(pw) > maxPasswordRaw {
		return apperr.Invalid(field, "password_too_long", map[string]any{"max": MaxPassword})
	}
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPassword:
		return apperr.Invalid(field, "password_too_short", map[string]any{"min": MinPassword})
	case n > MaxPassword:
		return apperr.Invalid(field, "password_too_long", map[string]any{"max": MaxPassword})
	case !utf8.ValidString(pw):
		return apperr.Invalid(field, "password_invalid", nil)
	}
	lower := strings.ToLower(norm.NFC.String(pw))
	distinct := map[rune]bool{}
	for _, r := range lower {
		if unicode.IsControl(r) {
			return apperr.Invalid(field, "password_invalid", nil)
		}
		distinct[r] = true
	}
	if len(distinct) < 5 || isCommon(lower) {
		return apperr.Invalid(field, "password_common", nil)
	}
	for _, p := range personal {
		p = strings.ToLower(p)
		if local, _, ok := strings.Cut(p, "@"); ok {
			p = local
		}
		if utf8.RuneCountInString(p) >= 4 && strings.Contains(lower, p) {
			return apperr.Invalid(field, "password_personal", nil)
		}
	}
	return nil
}

func isCommon(lower string) bool {
	core := trimNonLetters(lower)
	candidates := []string{lower, core, unleet(core), unleet(lower), trimNonLetters(unleet(lower))}
	for _, c := range candidates {
		if common[c] {
			return true
		}
		// A word typed twice: "passwortpasswort".
		if h := len(c) / 2; len(c)%2 == 0 && h > 0 && c[:h] == c[h:] && common[c[:h]] {
			return true
		}
	}
	// Only digits and symbols around nothing: "1234567890!", "0815 4711 …".
	return core == "" && len(lower) < 16
}

func trimNonLetters(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
}

var leet = strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "@", "a", "$", "s", "!", "i")

func unleet(s string) string { return leet.Replace(s) }
