package cityadmin

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"kitaportal/internal/tenant"
)

// Change is one field that differs between two versions of the rules: its path as the
// validator names it (records of a list by their key where they have one:
// criteria.catalogue[sibling].points) with the old and the new value as text; "" is
// "not set".
type Change struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// Diff lists what changes from old to new, by field path; branding is edited elsewhere
// and left out, as is the logo's content.
func Diff(old, new *tenant.Rules) []Change {
	a, b := flatten(old), flatten(new)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []Change
	for k := range keys {
		if strings.HasPrefix(k, "branding.") || a[k] == b[k] {
			continue
		}
		out = append(out, Change{Field: k, Old: a[k], New: b[k]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// flatten writes r as path → value; empty lists and maps have no entries, so a list
// that is [] in one version and absent in the other is no change.
func flatten(r *tenant.Rules) map[string]string {
	out := map[string]string{}
	raw, err := json.Marshal(r)
	if err != nil {
		return out
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return out
	}
	walk(out, "", v)
	return out
}

func walk(out map[string]string, path string, v any) {
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			walk(out, join(k), e)
		}
	case []any:
		if scalars(x) {
			parts := make([]string, len(x))
			for i, e := range x {
				parts[i] = scalar(e)
			}
			if len(parts) > 0 {
				out[path] = strings.Join(parts, ", ")
			}
			return
		}
		for i, e := range x {
			seg := strconv.Itoa(i)
			if m, ok := e.(map[string]any); ok {
				if k, ok := m["key"].(string); ok && k != "" {
					seg = k
				}
			}
			walk(out, fmt.Sprintf("%s[%s]", path, seg), e)
		}
	case nil:
	default:
		if s := scalar(x); s != "" {
			out[path] = s
		}
	}
}

func scalars(xs []any) bool {
	for _, e := range xs {
		switch e.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// clone deep-copies r (through its JSON form, as the database keeps it).
func clone(r *tenant.Rules) *tenant.Rules {
	raw, err := json.Marshal(r)
	if err != nil {
		panic(err) // Rules is plain data: marshalling cannot fail
	}
	var out tenant.Rules
	if err := json.Unmarshal(raw, &out); err != nil {
		panic(err)
	}
	return &out
}
