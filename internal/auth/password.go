// Package auth is who is asking: password hashing, the password policy, checks of
// e-mail addresses and names, single-use tokens, server-side sessions (cookies for the
// portal, bearer tokens for the API), CSRF protection, rate limits and TOTP second factors.
// What a principal may do is decided in package authz.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"kitaportal/internal/platform/apperr"
)

// Argon2Params are the argon2id cost parameters. Defaults follow OWASP's Password
// Storage Cheat Sheet (m=19 MiB, t=2, p=1); they are stored in every hash, so raising
// them later rehashes each password at its next successful sign-in.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultArgon2 is what new hashes use.
var DefaultArgon2 = Argon2Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// ErrHasherBusy is returned when all hashing slots stayed taken for the whole wait: the
// visitor is asked to try again instead of the server queueing without bound.
var ErrHasherBusy = &apperr.Error{Kind: apperr.KindUnavailable, Code: "login_busy",
	Details: map[string]any{"retry_after_seconds": 5}}

// Hasher hashes and checks passwords with argon2id. At most `slots` hashes run at once
// (each takes a core for tens of milliseconds), so a burst of sign-ins cannot take every
// core from the people who search; the rest wait up to MaxWait.
type Hasher struct {
	params  Argon2Params
	slots   chan struct{}
	maxWait time.Duration
	dummy   string // a hash of a random password, checked for unknown accounts
	// waitTimer, if set, replaces the maxWait timer of a caller that found every slot
	// taken: tests see who waits and decide when the wait is over. Nil in production.
	waitTimer func(time.Duration) <-chan time.Time
}

// NewHasher returns a hasher running at most concurrency hashes at once (0: half the
// cores, at least one).
func NewHasher(params Argon2Params, concurrency int) *Hasher {
	if concurrency <= 0 {
		concurrency = max(1, runtime.GOMAXPROCS(0)/2)
	}
	h := &Hasher{params: params, slots: make(chan struct{}, concurrency), maxWait: 3 * time.Second}
	h.dummy = h.encode(randomBytes(saltLen), randomBytes(16))
	return h
}

// Concurrency is how many hashes may run at once.
func (h *Hasher) Concurrency() int { return cap(h.slots) }

// Params are the parameters of new hashes.
func (h *Hasher) Params() Argon2Params { return h.params }

func (h *Hasher) acquire(ctx context.Context) error {
	// A free slot (or a done ctx) settles it at once: only a caller that has to wait
	// starts the timer (or calls waitTimer).
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	default:
	}
	var expired <-chan time.Time
	if h.waitTimer != nil {
		expired = h.waitTimer(h.maxWait)
	} else {
		t := time.NewTimer(h.maxWait)
		defer t.Stop()
		expired = t.C
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-expired:
		return ErrHasherBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC string of password: $argon2id$v=19$m=…,t=…,p=…$salt$key.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.encode(randomBytes(saltLen), []byte(password)), nil
}

func (h *Hasher) encode(salt, password []byte) string {
	p := h.params
	key := argon2.IDKey(password, salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify checks password against an encoded hash. rehash tells that the hash uses other
// parameters than new hashes do. An empty encoded hash (unknown account, account without
// a password yet) is checked against a dummy hash, so it costs the same time and fails.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	known := encoded != ""
	if !known {
		encoded = h.dummy
	}
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	h.release()
	ok = known && subtle.ConstantTimeCompare(got, want) == 1
	return ok, ok && p != h.params, nil
}

var errBadHash = errors.New("auth: malformed password hash")

func decodeHash(s string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errBadHash
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &threads); err != nil || threads == 0 || threads > 255 {
		return p, nil, nil, errBadHash
	}
	p.Threads = uint8(threads)
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error()) // crypto/rand never fails on supported systems
	}
	return b
}
