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
//
// Sign-in failures are counted per account and client (LimitLoginClient, a hard limit:
// the client is refused without a password check) and per account from all clients
// (LimitLoginAccount, a soft limit: a right password still gets in, so nobody can lock
// an owner out by guessing; wrong passwords are answered "too many" and weigh
// LoginSoftWeight on their client's count, leaving each further client few guesses).
var (
	LimitLoginAddr      = Limit{"login-addr", 60, 15 * time.Minute}
	LimitLoginAccount   = Limit{"login-acct", 10, 15 * time.Minute}
	LimitLoginClient    = Limit{"login-acct-addr", 10, 15 * time.Minute} // failed sign-ins of one account from one client
	LimitRegisterAddr   = Limit{"register-addr", 20, time.Hour}
	LimitRegisterEmail  = Limit{"register-email", 3, time.Hour}
	LimitResetAddr      = Limit{"reset-addr", 20, time.Hour}
	LimitResetEmail     = Limit{"reset-email", 3, time.Hour}
	LimitTokenAddr      = Limit{"token-addr", 30, 15 * time.Minute} // verification, reset and invitation links
	LimitSecondFactor   = Limit{"mfa-acct", 5, 5 * time.Minute}
	LimitPasswordChange = Limit{"password-acct", 10, 15 * time.Minute}
)

// LoginSoftWeight is what one failed sign-in counts towards LimitLoginClient while the
// account is over LimitLoginAccount: a further client has three wrong guesses per window.
const LoginSoftWeight = 4

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
	return TooMany(wait)
}

// TooMany is the "too many attempts" error; wait is how long until the limit lifts.
func TooMany(wait time.Duration) error {
	minutes := int((wait + time.Minute - 1) / time.Minute)
	return &apperr.Error{Kind: apperr.KindTooMany, Code: "rate_limited",
		Args:    map[string]any{"minutes": minutes},
		Details: map[string]any{"retry_after_seconds": int(wait.Seconds()) + 1}}
}

// Count returns the attempts of l counted for key without counting one, and how long
// until they are forgotten.
func (rl *Limiter) Count(ctx context.Context, scope string, l Limit, key string) (int64, time.Duration, error) {
	k := rl.prefix + scope + ":" + l.Name + ":" + key
	pipe := rl.rdb.Pipeline()
	get := pipe.Get(ctx, k)
	ttl := pipe.TTL(ctx, k)
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return 0, 0, apperr.Unavailable("service_unavailable", err)
	}
	n, _ := get.Int64()
	return n, waitOf(ttl.Val(), l), nil
}

// Add counts n attempts of l for key (a failure weighing more than one counts n) and
// returns the new count and how long until it is forgotten.
func (rl *Limiter) Add(ctx context.Context, scope string, l Limit, key string, n int64) (int64, time.Duration, error) {
	k := rl.prefix + scope + ":" + l.Name + ":" + key
	pipe := rl.rdb.TxPipeline()
	incr := pipe.IncrBy(ctx, k, n)
	pipe.ExpireNX(ctx, k, l.Window)
	ttl := pipe.TTL(ctx, k)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, 0, apperr.Unavailable("service_unavailable", err)
	}
	return incr.Val(), waitOf(ttl.Val(), l), nil
}

func waitOf(ttl time.Duration, l Limit) time.Duration {
	if ttl <= 0 {
		return l.Window
	}
	return ttl
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

// LoginAttempt is one sign-in under the failure limits (LimitLoginClient hard,
// LimitLoginAccount soft); every sign-in form of the product goes through it.
type LoginAttempt struct {
	rl                           *Limiter
	scope, accountKey, clientKey string
	accountFailures              int64
}

// BeginLogin counts a sign-in of account (a kind-prefixed e-mail key) from client (an
// address key). It refuses, before any password check, a client that has failed too
// often for this account; failures of other clients never refuse it.
func (rl *Limiter) BeginLogin(ctx context.Context, scope, account, client string) (*LoginAttempt, error) {
	a := &LoginAttempt{rl: rl, scope: scope, accountKey: account, clientKey: account + ":" + client}
	n, wait, err := rl.Add(ctx, scope, LimitLoginClient, a.clientKey, 1)
	if err != nil {
		return nil, err
	}
	if n > LimitLoginClient.N {
		return nil, TooMany(wait)
	}
	if a.accountFailures, _, err = rl.Count(ctx, scope, LimitLoginAccount, account); err != nil {
		return nil, err
	}
	return a, nil
}

// Failed records a wrong password. It returns "too many attempts" once this client is
// over its limit or the account over its soft limit (then the failure weighs
// LoginSoftWeight on the client), else nil: the caller answers "login failed".
func (a *LoginAttempt) Failed(ctx context.Context) error {
	extra := int64(0) // the attempt itself was counted by BeginLogin
	if a.accountFailures >= LimitLoginAccount.N {
		extra = LoginSoftWeight - 1
	}
	n, clientWait, err := a.rl.Add(ctx, a.scope, LimitLoginClient, a.clientKey, extra)
	if err != nil {
		return err
	}
	total, accountWait, err := a.rl.Add(ctx, a.scope, LimitLoginAccount, a.accountKey, 1)
	if err != nil {
		return err
	}
	switch {
	case n > LimitLoginClient.N:
		return TooMany(clientWait)
	case total > LimitLoginAccount.N:
		return TooMany(accountWait)
	}
	return nil
}

// Succeeded forgets the failures of the account: the owner is in.
func (a *LoginAttempt) Succeeded(ctx context.Context) {
	a.rl.Reset(ctx, a.scope, LimitLoginClient, a.clientKey)
	a.rl.Reset(ctx, a.scope, LimitLoginAccount, a.accountKey)
}
