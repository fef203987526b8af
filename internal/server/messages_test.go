package server_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"kitaportal/internal/platform/i18n"
	"kitaportal/web"
)

var errorCode = regexp.MustCompile(`apperr\.(?:Invalid\("[a-z_]*", |NotFound\(|Forbidden\(|Conflict\(|Unavailable\(|New\(apperr\.Kind\w+, )"([a-z_]+)"|Code: +"([a-z_]+)"`)

// Every error code the code can raise has its message in every language, so nobody
// ever reads a bare code.
func TestEveryErrorCodeHasAMessageInEveryLanguage(t *testing.T) {
	t.Parallel()
	cat, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join("..", "..")
	found := 0
	err = filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range errorCode.FindAllStringSubmatch(string(raw), -1) {
			code := m[1] + m[2]
			found++
			for _, lang := range cat.Languages() {
				if !cat.Has(lang, "error."+code) {
					t.Errorf("%s: error code %q has no %s message (error.%s)", path, code, lang, code)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 40 {
		t.Errorf("found only %d error codes; is the pattern still right?", found)
	}
}
