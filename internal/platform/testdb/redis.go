package testdb

import (
	"os"
	"testing"
)

// RedisURL is the Redis tests use: TEST_REDIS_URL (its own database number, so a running
// portal never sees test jobs), else REDIS_URL. Like the database, a missing Redis fails
// the test instead of skipping it.
func RedisURL(t testing.TB) string {
	for _, name := range []string{"TEST_REDIS_URL", "REDIS_URL"} {
		if v := os.Getenv(name); v != "" {
			return v
		}
	}
	t.Fatal("testdb: set TEST_REDIS_URL or REDIS_URL (run the tests through `make test`)")
	return ""
}
