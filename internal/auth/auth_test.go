package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kitaportal/internal/platform/apperr"
)

// cheap parameters keep the unit tests fast; the real ones are measured by the benchmark.
var cheap = Argon2Params{MemoryKiB: 1024, Time: 1, Threads: 1}

func TestHashAndVerify(t *testing.T) {
	t.Parallel()
	h := NewHasher(cheap, 2)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "Zitronenfalter tanzen")
	if err != nil || !strings.HasPrefix(enc, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q %v", enc, err)
	}
	if ok, rehash, err := h.Verify(ctx, "Zitronenfalter tanzen", enc); !ok || rehash || err != nil {
		t.Errorf("right password: %v %v %v", ok, rehash, err)
	}
	if ok, _, _ := h.Verify(ctx, "Zitronenfalter tanzen!", enc); ok {
		t.Error("wrong password accepted")
	}
	// An unknown account (no hash) is checked against the dummy and fails.
	if ok, _, err := h.Verify(ctx, "anything", ""); ok || err != nil {
		t.Errorf("empty hash: %v %v", ok, err)
	}
	// Stronger parameters later: the old hash still works and asks to be rehashed.
	stronger := NewHasher(Argon2Params{MemoryKiB: 2048, Time: 2, Threads: 1}, 1)
	if ok, rehash, _ := stronger.Verify(ctx, "Zitronenfalter tanzen", enc); !ok || !rehash {
		t.Errorf("old parameters: ok=%v rehash=%v", ok, rehash)
	}
	for _, bad := range []string{"$2a$10$abc", "$argon2id$v=19$m=x$a$b", "plain"} {
		if _, _, err := h.Verify(ctx, "x", bad); err == nil {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

// No more hashes run at once than the hasher allows, and a full hasher makes callers
// wait, then answer "busy" instead of queueing for ever. The holders of the slots block
// until the test lets them go, and waitTimer tells who waits: no timing involved.
func TestHashingConcurrencyIsBounded(t *testing.T) {
	t.Parallel()
	const slots = 2
	h := NewHasher(cheap, slots)
	waiting := make(chan struct{}, slots+1)
	var running, peak atomic.Int32
	entered := make(chan int, slots+1)
	leave := make([]chan struct{}, slots+1)
	var wg sync.WaitGroup
	hold := func(i int) {
		leave[i] = make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			entered <- i
			<-leave[i]
			running.Add(-1)
			h.release()
		}()
	}
	// next is what the last started caller did: entered a slot (its number) or waited (-1).
	next := func(what string) int {
		t.Helper()
		select {
		case i := <-entered:
			return i
		case <-waiting:
			return -1
		case <-time.After(10 * time.Second):
			t.Fatalf("timed out waiting for %s", what)
			return -1
		}
	}
	// A caller that finds every slot taken reports it; its wait never expires on its own.
	h.waitTimer = func(time.Duration) <-chan time.Time {
		waiting <- struct{}{}
		return nil
	}
	for i := range slots {
		hold(i)
		if got := next("a free slot"); got != i {
			t.Fatalf("caller %d did not get one of the %d free slots", i, slots)
		}
	}
	// Every slot is taken: one more caller must wait, not hash.
	hold(slots)
	if got := next("the extra caller"); got != -1 {
		t.Fatalf("caller %d hashed while %d hashes were running", got, slots)
	}
	// A released slot goes to the waiting caller.
	close(leave[0])
	if got := next("the waiting caller to get the released slot"); got != slots {
		t.Fatalf("after a release: %d, want the waiting caller %d to enter", got, slots)
	}
	for i := 1; i <= slots; i++ {
		close(leave[i])
	}
	wg.Wait()
	if peak.Load() != slots {
		t.Errorf("peak concurrency %d, want %d", peak.Load(), slots)
	}

	busy := NewHasher(cheap, 1)
	asked := make(chan time.Duration, 1)
	expire := make(chan time.Time, 1)
	busy.waitTimer = func(d time.Duration) <-chan time.Time {
		asked <- d
		return expire
	}
	busy.slots <- struct{}{} // someone is hashing
	result := make(chan error, 1)
	go func() {
		_, err := busy.Hash(context.Background(), "x")
		result <- err
	}()
	select {
	case d := <-asked:
		if d != busy.maxWait {
			t.Errorf("waits %s, want maxWait %s", d, busy.maxWait)
		}
	case err := <-result:
		t.Fatalf("full hasher answered without waiting: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("full hasher neither waited nor answered")
	}
	expire <- time.Now() // the wait is over
	if err := <-result; !errors.Is(err, ErrHasherBusy) {
		t.Errorf("full hasher: %v", err)
	}
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"Zitronenfalter tanzen im Mai":   "",
		"korrekt Pferd Batterie Klammer": "",
		"Ä9#kLm2@qP":                     "",
		"kurz":                           "password_too_short",
		"passwort123":                    "password_common",
		"Passwort2024!":                  "password_common",
		"P4ssw0rt!!":                     "password_common",
		"Sonnenschein2024":               "password_common",
		"sonnenscheinsonnenschein":       "password_common",
		"qwertzuiop":                     "password_common",
		"1234567890":                     "password_common",
		"4711081547":                     "password_common",
		"aaaaaaaaaaaa":                   "password_common",
		"abababababab":                   "password_common",
		"mueller-ist-mein-name":          "password_personal",
		"meine.adresse@liste":            "password_personal",
		strings.Repeat("x", 600):         "password_too_long",
		strings.Repeat("xyzab", 26):      "password_too_long",
		"ok ok ok ok\x00":                "password_invalid",
	}
	for pw, want := range cases {
		err := CheckPassword("password", pw, "meine.adresse@example.org", "Anna", "Mueller")
		got := ""
		if e, ok := apperr.As(err); ok {
			got = e.Code
		}
		if got != want {
			t.Errorf("%.30q: %q, want %q", pw, got, want)
		}
	}
}

func TestEmailAndNames(t *testing.T) {
	t.Parallel()
	emails := map[string]string{
		" Anna.Schmidt+kita@Example.ORG ": "anna.schmidt+kita@example.org",
		"a@b.de":                          "a@b.de",
		"no-at.example.org":               "",
		"a@localhost":                     "",
		"a@@b.de":                         "",
		".a@b.de":                         "",
		"a..b@b.de":                       "",
		"аnna@example.org":                "", // Cyrillic а
		"anna@exämple.org":                "",
		"a@-b.de":                         "",
		"a b@c.de":                        "",
		strings.Repeat("a", 65) + "@b.de": "",
	}
	for in, want := range emails {
		got, err := Email("email", in)
		if (want == "") != (err != nil) || got != want {
			t.Errorf("Email(%q) = %q, %v", in, got, err)
		}
	}
	names := map[string]string{
		"  Jörg   Müller ":       "Jörg Müller",
		"Jo\u0308rg":             "Jörg", // decomposed → NFC
		"Anne-Marie O'Neil":      "Anne-Marie O'Neil",
		"Ngũgĩ wa Thiong’o":      "Ngũgĩ wa Thiong’o",
		"Zoë Dr.":                "Zoë Dr.",
		"李小龍":                    "李小龍",
		"Ann\u202Egnp.exe":       "",
		"An\u200Bna":             "",
		"Anna\x07":               "",
		"<script>":               "",
		"1234":                   "",
		"---":                    "",
		strings.Repeat("a", 101): "",
	}
	for in, want := range names {
		got, err := Name("first_name", in, true)
		if (want == "") != (err != nil) || got != want {
			t.Errorf("Name(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := Name("first_name", "   ", true); err == nil {
		t.Error("blank required name accepted")
	}
	if got, err := FreeText("reason", "Ticket 4711:\nbitte prüfen", 10, 500); err != nil || got != "Ticket 4711:\nbitte prüfen" {
		t.Errorf("free text: %q %v", got, err)
	}
	if _, err := FreeText("reason", "Ticket \u202e4711 prüfen", 10, 500); err == nil {
		t.Error("bidi override in free text accepted")
	}
}

// RFC 6238 appendix B (SHA-1), last six digits.
func TestTOTPVectors(t *testing.T) {
	t.Parallel()
	secret := []byte("12345678901234567890")
	for unix, want := range map[int64]string{59: "287082", 1111111109: "081804", 1111111111: "050471", 1234567890: "005924", 2000000000: "279037"} {
		if got := TOTPCode(secret, time.Unix(unix, 0)); got != want {
			t.Errorf("t=%d: %s, want %s", unix, got, want)
		}
	}
}

func TestTOTPVerify(t *testing.T) {
	t.Parallel()
	secret := NewTOTPSecret()
	now := time.Unix(1_800_000_000, 0)
	code := TOTPCode(secret, now)
	step, ok := VerifyTOTP(secret, code, now, 0)
	if !ok || step != now.Unix()/30 {
		t.Fatalf("current code: %v %d", ok, step)
	}
	if _, ok := VerifyTOTP(secret, code, now, step); ok {
		t.Error("a code was accepted twice")
	}
	if _, ok := VerifyTOTP(secret, TOTPCode(secret, now.Add(-30*time.Second)), now, 0); !ok {
		t.Error("one step of drift is refused")
	}
	if _, ok := VerifyTOTP(secret, TOTPCode(secret, now.Add(-90*time.Second)), now, 0); ok {
		t.Error("a three-step-old code is accepted")
	}
	if _, ok := VerifyTOTP(secret, code[:3]+" "+code[3:], now, 0); !ok {
		t.Error("a code typed with a space is refused")
	}
	for _, bad := range []string{"", "12345", "abcdef", "1234567"} {
		if _, ok := VerifyTOTP(secret, bad, now, 0); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	dec, err := DecodeTOTPSecret(strings.ToLower(EncodeTOTPSecret(secret)))
	if err != nil || string(dec) != string(secret) {
		t.Errorf("secret round trip: %v", err)
	}
	if uri := TOTPURI("Kinderbetreuung Kempten", "a@b.de", secret); !strings.HasPrefix(uri, "otpauth://totp/Kinderbetreuung%20Kempten:a@b.de?") {
		t.Errorf("uri %s", uri)
	}
	png, err := QRCodePNG(TOTPURI("X", "a@b.de", secret))
	if err != nil || string(png[1:4]) != "PNG" {
		t.Errorf("qr code: %v", err)
	}
}

func TestRecoveryCodesAndSealing(t *testing.T) {
	t.Parallel()
	codes, hashes := NewRecoveryCodes(10)
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != 11 || c[5] != '-' || seen[c] || string(HashRecoveryCode(" "+strings.ToUpper(c)+" ")) != string(hashes[i]) {
			t.Errorf("code %q", c)
		}
		seen[c] = true
	}
	k, err := NewKeys(strings.Repeat("s", 40))
	if err != nil {
		t.Fatal(err)
	}
	sealed := k.Seal([]byte("totp secret"), "account-1")
	if plain, err := k.Open(sealed, "account-1"); err != nil || string(plain) != "totp secret" {
		t.Errorf("open: %q %v", plain, err)
	}
	if _, err := k.Open(sealed, "account-2"); err == nil {
		t.Error("a sealed secret opened for another account")
	}
	other, _ := NewKeys(strings.Repeat("t", 40))
	if _, err := other.Open(sealed, "account-1"); err == nil {
		t.Error("a sealed secret opened with another key")
	}
	if _, err := NewKeys("short"); err == nil {
		t.Error("short secret accepted")
	}
}

// BenchmarkPasswordHash is the cost of one sign-in's password check with the real
// parameters on this machine:
//
//	go test ./internal/auth -run '^$' -bench PasswordHash -count 6
func BenchmarkPasswordHash(b *testing.B) {
	h := NewHasher(DefaultArgon2, 1)
	enc, _ := h.Hash(context.Background(), "Zitronenfalter tanzen im Mai")
	b.ResetTimer()
	for range b.N {
		if ok, _, _ := h.Verify(context.Background(), "Zitronenfalter tanzen im Mai", enc); !ok {
			b.Fatal("verify failed")
		}
	}
}
