// Package i18n holds the message catalogue (one flat JSON file per language) and picks a
// request's language. German is the default and the fallback for missing texts.
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Default is the language used when nothing else matches.
const Default = "de"

// Catalogue maps language → key → message. Messages may hold {name} placeholders.
type Catalogue struct {
	msgs  map[string]map[string]string
	langs []string
}

// Load reads dir/<lang>/*.json of fsys: one folder per language, one file per domain
// (core.json, search.json, …), so features add texts without touching each other's files.
// A key defined twice within a language is an error.
func Load(fsys fs.FS, dir string) (*Catalogue, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*", "*.json"))
	if err != nil {
		return nil, err
	}
	c := &Catalogue{msgs: map[string]map[string]string{}}
	origin := map[string]string{} // lang/key → file, to report duplicates
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", f, err)
		}
		lang := path.Base(path.Dir(f))
		if c.msgs[lang] == nil {
			c.msgs[lang] = map[string]string{}
			c.langs = append(c.langs, lang)
		}
		for k, v := range m {
			if prev, dup := origin[lang+"/"+k]; dup {
				return nil, fmt.Errorf("i18n: %q is defined in %s and %s", k, prev, f)
			}
			origin[lang+"/"+k] = f
			c.msgs[lang][k] = v
		}
	}
	if _, ok := c.msgs[Default]; !ok {
		return nil, fmt.Errorf("i18n: no %s/ texts in %s", Default, dir)
	}
	sort.Strings(c.langs)
	return c, nil
}

// Languages lists the languages that have a catalogue.
func (c *Catalogue) Languages() []string { return c.langs }

// Keys lists the keys of one language, sorted.
func (c *Catalogue) Keys(lang string) []string {
	keys := make([]string, 0, len(c.msgs[lang]))
	for k := range c.msgs[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Has tells whether key exists in lang itself (without fallback).
func (c *Catalogue) Has(lang, key string) bool {
	_, ok := c.msgs[lang][key]
	return ok
}

// T returns the message for key in lang, falling back to German and then to the key
// itself (so a missing text is visible, never empty). args fill {placeholders}. A count
// of one (args "n" or "count" = 1) takes key+".one" where the catalogue has it: German
// and English both have one singular form, and every other number takes the plural.
func (c *Catalogue) T(lang, key string, args map[string]any) string {
	if isOne(args) && (c.Has(lang, key+".one") || (!c.Has(lang, key) && c.Has(Default, key+".one"))) {
		key += ".one"
	}
	msg, ok := c.msgs[lang][key]
	if !ok {
		if msg, ok = c.msgs[Default][key]; !ok {
			return key
		}
	}
	if len(args) == 0 || !strings.Contains(msg, "{") {
		return msg
	}
	var b strings.Builder
	for {
		open := strings.IndexByte(msg, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(msg[open:], '}')
		if end < 0 {
			break
		}
		name := msg[open+1 : open+end]
		b.WriteString(msg[:open])
		if v, ok := args[name]; ok {
			b.WriteString(format(lang, v))
		} else {
			b.WriteString(msg[open : open+end+1])
		}
		msg = msg[open+end+1:]
	}
	b.WriteString(msg)
	return b.String()
}

// isOne tells whether the count among args is exactly one.
func isOne(args map[string]any) bool {
	for _, name := range []string{"n", "count"} {
		switch v := args[name].(type) {
		case int:
			return v == 1
		case int64:
			return v == 1
		}
	}
	return false
}

// LangFormatter is a value that is written differently per language (a date: 04.03.2022
// in German, 4 Mar 2022 in English).
type LangFormatter interface {
	FormatIn(lang string) string
}

func format(lang string, v any) string {
	switch x := v.(type) {
	case LangFormatter:
		return x.FormatIn(lang)
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

// Negotiate picks the best of supported for an Accept-Language header value, honouring
// q-values and primary tags (de-AT → de). It returns "" when nothing matches.
func Negotiate(header string, supported []string) string {
	best, bestQ := "", 0.0
	for header != "" {
		var part string
		part, header, _ = strings.Cut(header, ",")
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if p := strings.TrimSpace(params); strings.HasPrefix(p, "q=") {
			if f, err := strconv.ParseFloat(p[2:], 64); err == nil {
				q = f
			}
		}
		primary, _, _ := strings.Cut(strings.TrimSpace(tag), "-")
		for _, s := range supported {
			if strings.EqualFold(s, primary) && q > bestQ {
				best, bestQ = s, q
			}
		}
	}
	return best
}
