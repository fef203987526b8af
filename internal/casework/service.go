// Package casework is the staff's case work around requests: duplicate children flagged
// (by family) and merged or dismissed, walk-in registration of a family on site with the
// parents' consent, and the import of the facilities' paper waitlists (table
// import_job). The requests themselves are filed by application.
package casework

import (
	"time"

	"github.com/uptrace/bun"

	"kitaportal/internal/application"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/clock"
)

// Service runs the case work. Every method is one tenant transaction.
type Service struct {
	db    bun.IDB
	clock clock.Clock
	apps  *application.Service
}

// NewService returns the case work service; apps files the requests.
func NewService(db bun.IDB, clk clock.Clock, apps *application.Service) *Service {
	return &Service{db: db, clock: clk, apps: apps}
}

func (s *Service) now() time.Time { return s.clock.Now() }

// Audit actions of the case work.
const (
	ActionWalkIn          = "request.walk_in"
	ActionDuplicateMerged = "child.merged"
	ActionDuplicateKept   = "child.duplicate_dismissed"
	ActionImportStarted   = "import.started"
)

// ErrNotFound answers unknown ids, other cities' alike.
var ErrNotFound = apperr.NotFound("not_found")
