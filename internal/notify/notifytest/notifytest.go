// Package notifytest gives tests the real mail templates, as the binary loads them.
package notifytest

import (
	"testing"

	"kitaportal/internal/notify"
	"kitaportal/internal/platform/i18n"
	"kitaportal/web"
)

// Templates loads the message catalogue and the mail templates from the embedded files.
func Templates(t testing.TB) *notify.Templates {
	t.Helper()
	cat, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	mails, err := notify.NewTemplates(web.FS, cat)
	if err != nil {
		t.Fatal(err)
	}
	return mails
}
