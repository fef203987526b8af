package tenant

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// maxRulesFile and maxLogo keep a mistaken or hostile file from eating memory.
const (
	maxRulesFile = 256 << 10
	maxLogo      = 64 << 10
)

// FileError is everything wrong with one rules file. Error() names the file on every line.
type FileError struct {
	File string
	Errs []error
}

func (e *FileError) Error() string {
	lines := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		lines[i] = e.File + ": " + err.Error()
	}
	return strings.Join(lines, "\n")
}

// LoadedRules is a validated rules file with what is needed to store it.
type LoadedRules struct {
	File     string
	Rules    *Rules
	JSON     []byte // canonical form stored in the database
	Checksum string
}

// LoadDir reads and validates every <slug>.yaml in dir (logos from dir/logos). Good files
// are returned even when others are broken; the broken ones come back as *FileError in
// the joined error, so a caller can refuse exactly those.
func LoadDir(dir fs.FS, displayDir string) ([]LoadedRules, error) {
	names, err := fs.Glob(dir, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var (
		out  []LoadedRules
		errs []error
	)
	for _, name := range names {
		lr, err := LoadFile(dir, name, path.Join(displayDir, name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, lr)
	}
	if len(names) == 0 {
		errs = append(errs, fmt.Errorf("%s: no tenant files (*.yaml) found", displayDir))
	}
	return out, errors.Join(errs...)
}

// LoadFile reads, decodes strictly (unknown fields are errors) and validates one file.
func LoadFile(dir fs.FS, name, display string) (LoadedRules, error) {
	fail := func(errs ...error) (LoadedRules, error) {
		return LoadedRules{}, &FileError{File: display, Errs: errs}
	}
	f, err := dir.Open(name)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxRulesFile+1))
	if err != nil {
		return fail(err)
	}
	if len(raw) > maxRulesFile {
		return fail(fmt.Errorf("file is larger than %d KiB", maxRulesFile>>10))
	}
	r, err := Decode(raw)
	if err != nil {
		return fail(err)
	}
	slug := strings.TrimSuffix(path.Base(name), ".yaml")
	var errs []error
	if r.Slug != slug {
		errs = append(errs, FieldError{"slug", fmt.Sprintf("is %q but the file is named %s.yaml; they must match", r.Slug, slug)})
	}
	if r.Branding.Logo != "" {
		svg, err := readLogo(dir, path.Join(path.Dir(name), "logos", r.Branding.Logo))
		if err != nil {
			errs = append(errs, FieldError{"branding.logo", err.Error()})
		}
		r.Branding.LogoSVG = svg
	}
	if err := r.Validate(); err != nil {
		errs = append(errs, unjoin(err)...)
	}
	if len(errs) > 0 {
		return fail(errs...)
	}
	js, sum, err := Canonical(r)
	if err != nil {
		return fail(err)
	}
	return LoadedRules{File: display, Rules: r, JSON: js, Checksum: sum}, nil
}

// Decode parses YAML strictly: unknown fields, wrong types and trailing documents are errors.
func Decode(raw []byte) (*Rules, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var r Rules
	if err := dec.Decode(&r); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("file is empty")
		}
		return nil, friendlyYAMLError(err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("file holds more than one YAML document")
	}
	return &r, nil
}

// Canonical is the JSON stored per version and the checksum that tells versions apart.
func Canonical(r *Rules) ([]byte, string, error) {
	js, err := json.Marshal(r)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(js)
	return js, hex.EncodeToString(sum[:]), nil
}

var (
	unknownFieldRE = regexp.MustCompile(`^line (\d+): field (\S+) not found in type \S+$`)
	wrongTypeRE    = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")
)

// friendlyYAMLError rewrites yaml.v3's Go-flavoured messages for people editing the file.
func friendlyYAMLError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var errs []error
	for _, msg := range te.Errors {
		if m := unknownFieldRE.FindStringSubmatch(msg); m != nil {
			errs = append(errs, fmt.Errorf("line %s: unknown field %q (misspelt, or not a rule we know)", m[1], m[2]))
			continue
		}
		if m := wrongTypeRE.FindStringSubmatch(msg); m != nil {
			errs = append(errs, fmt.Errorf("line %s: %q must be %s", m[1], m[3], describeGoType(m[4])))
			continue
		}
		errs = append(errs, errors.New(msg))
	}
	return errors.Join(errs...)
}

func describeGoType(t string) string {
	switch {
	case strings.HasPrefix(t, "int"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a text"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	default:
		return "a mapping of fields"
	}
}

// svgForbidden matches what must never be inside a logo we serve from the tenant's host:
// scripts, event handlers, embedded documents, external or data references (also in CSS)
// and entities.
var svgForbidden = regexp.MustCompile(`(?i)<script|<foreignobject|<iframe|<embed|<object|\son[a-z]+\s*=|javascript:|(?:href|src)\s*=\s*["']?\s*(?:https?:|//|data:)|url\(\s*["']?\s*(?:https?:|//|data:)|<!entity|<!doctype|@import`)

// MaxLogoBytes bounds a logo, from a file or uploaded.
const MaxLogoBytes = maxLogo

// pngSignature starts every PNG file.
var pngSignature = []byte("\x89PNG\r\n\x1a\n")

func readLogo(dir fs.FS, name string) (string, error) {
	f, err := dir.Open(name)
	if err != nil {
		return "", fmt.Errorf("logo file %s cannot be read", name)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxLogo+1))
	if err != nil {
		return "", err
	}
	if len(raw) > maxLogo {
		return "", fmt.Errorf("logo is larger than %d KiB", maxLogo>>10)
	}
	return CheckLogoSVG(raw)
}

// ErrLogoUnsafe and ErrLogoNotSVG are what CheckLogoSVG refuses.
var (
	ErrLogoUnsafe = errors.New("scripts, event handlers, external references and entities are not allowed")
	ErrLogoNotSVG = errors.New("logo must be a plain SVG document starting with <svg")
)

// CheckLogoSVG checks an SVG logo (from a file or uploaded in the staff area) and
// answers it trimmed: at most MaxLogoBytes, valid UTF-8, a plain <svg> document with
// nothing that runs or loads anything (the errors wrap ErrLogoNotSVG or ErrLogoUnsafe).
// The logo is served from the tenant's own host, so this is the line against stored
// cross-site scripting; the serving handler adds a Content-Security-Policy besides.
func CheckLogoSVG(raw []byte) (string, error) {
	if len(raw) > maxLogo {
		return "", fmt.Errorf("logo is larger than %d KiB", maxLogo>>10)
	}
	if !utf8.Valid(raw) {
		return "", ErrLogoNotSVG
	}
	s := strings.TrimSpace(strings.TrimPrefix(string(raw), "\ufeff"))
	if strings.HasPrefix(s, "<?xml") { // an XML declaration (editors write one) is harmless
		if end := strings.Index(s, "?>"); end > 0 {
			s = strings.TrimSpace(s[end+2:])
		}
	}
	if !strings.HasPrefix(s, "<svg") || !strings.HasSuffix(s, "</svg>") {
		return "", ErrLogoNotSVG
	}
	if loc := svgForbidden.FindStringIndex(s); loc != nil {
		return "", fmt.Errorf("logo contains %q: %w", s[loc[0]:min(loc[1], loc[0]+20)], ErrLogoUnsafe)
	}
	return s, nil
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
