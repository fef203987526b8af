package contract_test

import (
	"testing"

	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/contract"
	"kitaportal/internal/notify"
	"kitaportal/internal/notify/notifytest"
	"kitaportal/internal/platform/clock"
)

// newService is the register as the server builds it: with the waitlists a contract
// ends.
func newService(t testing.TB, db *bun.DB, c clock.Clock) *contract.Service {
	t.Helper()
	apps := application.NewService(application.Deps{DB: db, Clock: c, Mails: notifytest.Templates(t),
		Links: notify.NewLinks(func(slug string) string { return "http://" + slug + ".localhost" })})
	return contract.NewService(db, c, apps)
}
