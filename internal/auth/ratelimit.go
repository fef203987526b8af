package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"kitaportal/internal/platform/apperr"
)

// Limit is one rate limit: at most N attempts per Window for one key.
type Limit struct {
	Name   string
	N      int64
	Window time.Duration
}

// The limits of the account flows, per client address and per account (e-mail). They
// are generous for people and tight for scripts: a family sharing one address can sign
// in many times, a password-guessing script gets ten tries per quarter hour per account.
var (
	LimitLoginAddr      = Limit{"login-addr", 60, 15 * time.Minute}
	LimitLoginAccount   = Limit{"login-acct", 10, 15 * time.Minute}
	LimitRegisterAddr   = Limit{"register-addr", 20, time.Hour}
	LimitRegisterEmail  = Limit{"register-email", 3, time.Hour}
	LimitResetAddr      = Limit{"reset-addr", 20, time.Hour}
	LimitResetEmail     = Limit{"reset-email", 3, time.Hour}
	LimitTokenAddr      = Limit{"token-addr", 30, 15 * time.Minute} // verification, reset and invitation links
	LimitSecondFactor   = Limit{"mfa-acct", 5, 5 * time.Minute}
	LimitPasswordChange = Limit{"password-acct", 10, 15 * time.Minute}
)

// Limiter counts attempts in Redis (fixed windows), so every server process shares the
// counts. When Redis cannot be asked the attempt is refused: brute-force protection must
// not vanish with an outage.
type Limiter struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewLimiter returns a limiter over rdb. prefix separates the counters of deployments
// sharing one Redis database ("" in production; tests use their own).
func NewLimiter(rdb redis.UniversalClient, prefix string) *Limiter {
	return &Limiter{rdb: rdb, prefix: "rl:" + prefix}
}

// Allow counts one attempt of l for key within scope (a tenant slug, "_vendor"). It
// returns a "too many" error with the wait in its message when the limit is reached.
func (rl *Limiter) Allow(ctx context.Context, scope string, l Limit, key string) error {
	k := rl.prefix + scope + ":" + l.Name + ":" + key
	pipe := rl.rdb.TxPipeline()
	incr := pipe.Incr(ctx, k)
	pipe.ExpireNX(ctx, k, l.Window)
	ttl := pipe.TTL(ctx, k)
	if _, err := pipe.Exec(ctx); err != nil {
		return apperr.Unavailable("service_unavailable", err)
	}
	if incr.Val() <= l.N {
		return nil
	}
	wait := ttl.Val()
	if wait <= 0 {
		wait = l.Window
	}
	minutes := int((wait + time.Minute - 1) / time.Minute)
	return &apperr.Error{Kind: apperr.KindTooMany, Code: "rate_limited",
		Args:    map[string]any{"minutes": minutes},
		Details: map[string]any{"retry_after_seconds": int(wait.Seconds()) + 1}}
}

// Reset forgets the attempts of key (after a successful sign-in, the account's failed
// attempts no longer count).
func (rl *Limiter) Reset(ctx context.Context, scope string, l Limit, key string) {
	_ = rl.rdb.Del(ctx, rl.prefix+scope+":"+l.Name+":"+key).Err()
}

// EmailKey keys a limit by e-mail address without putting the address into Redis.
func EmailKey(email string) string {
	h := sha256.Sum256([]byte(strings.ToLower(email)))
	return hex.EncodeToString(h[:12])
}
