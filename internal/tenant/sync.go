package tenant

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
)

// SyncDir loads every rules file in dir and writes the valid ones. Broken files are
// refused and reported in the returned error, one line per problem, each naming file,
// field and reason; the database keeps the last good rules of those tenants.
func SyncDir(ctx context.Context, store *Store, dir fs.FS, displayDir string, log *slog.Logger) ([]SyncResult, error) {
	loaded, loadErr := LoadDir(dir, displayDir)
	var results []SyncResult
	var errs []error
	if loadErr != nil {
		errs = append(errs, loadErr)
	}
	for _, lr := range loaded {
		res, err := store.Sync(ctx, lr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		results = append(results, res)
		if log != nil {
			log.Info("tenant synced", "tenant", res.Slug, "version", res.Version, "created", res.Created,
				"changed", res.Changed, "kept_admin_version", res.KeptAdminVersion)
		}
	}
	return results, errors.Join(errs...)
}
