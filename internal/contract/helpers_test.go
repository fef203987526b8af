package contract_test

import (
	"testing"

	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/contract"
	"kitaportal/internal/notify"
	"kitaportal/internal/platform/clock"
	"kitaportal/internal/platform/i18n"
	"kitaportal/web"
)

// newService is the register as the server builds it: with the waitlists a contract
// ends.
func newService(t testing.TB, db *bun.DB, c clock.Clock) *contract.Service {
	t.Helper()
	cat, err := i18n.Load(web.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	mails, err := notify.NewTemplates(web.FS, cat)
	if err != nil {
		t.Fatal(err)
	}
	apps := application.NewService(application.Deps{DB: db, Clock: c, Mails: mails,
		Links: notify.NewLinks(func(slug string) string { return "http://" + slug + ".localhost" })})
	return contract.NewService(db, c, apps)
}
