package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"

	"rsc.io/qr"
)

// TOTP (RFC 6238 over RFC 4226): HMAC-SHA1, 30-second steps, 6 digits — what every
// authenticator app understands. One step of clock drift either way is accepted, and a
// code is accepted once (the caller stores the step it returned).
const (
	totpPeriod = 30
	totpDigits = 6
	totpSkew   = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a 160-bit secret (RFC 4226's recommended length).
func NewTOTPSecret() []byte { return randomBytes(20) }

// EncodeTOTPSecret is the secret as people type it into an app: base32, in groups of four.
func EncodeTOTPSecret(secret []byte) string {
	s := b32.EncodeToString(secret)
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// DecodeTOTPSecret reverses EncodeTOTPSecret (spaces and case do not matter).
func DecodeTOTPSecret(s string) ([]byte, error) {
	return b32.DecodeString(strings.ToUpper(strings.ReplaceAll(s, " ", "")))
}

// TOTPCode is the code for the time step containing t.
func TOTPCode(secret []byte, t time.Time) string {
	return hotp(secret, uint64(t.Unix()/totpPeriod))
}

func hotp(secret []byte, counter uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, v%1_000_000)
}

// VerifyTOTP checks code at time now. It returns the matched time step, which must be
// greater than lastStep (a code already used, or an older one, is refused).
func VerifyTOTP(secret []byte, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != totpDigits {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	for s := cur - totpSkew; s <= cur+totpSkew; s++ {
		if s <= lastStep {
			continue
		}
		if hmac.Equal([]byte(hotp(secret, uint64(s))), []byte(code)) {
			return s, true
		}
	}
	return 0, false
}

// TOTPURI is the otpauth:// URI an authenticator app reads from the QR code.
func TOTPURI(issuer, account string, secret []byte) string {
	label := url.PathEscape(issuer + ":" + account)
	q := url.Values{}
	q.Set("secret", b32.EncodeToString(secret))
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(totpDigits))
	q.Set("period", fmt.Sprint(totpPeriod))
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// QRCodePNG renders text as a QR code image, here on the server: no third-party service
// ever sees the secret.
func QRCodePNG(text string) ([]byte, error) {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, err
	}
	c.Scale = 6
	return c.PNG(), nil
}

// NewRecoveryCodes returns n single-use codes to print or store (format xxxxx-xxxxx,
// 50 bits each) and the hashes to keep.
func NewRecoveryCodes(n int) (codes []string, hashes [][]byte) {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789" // no look-alikes (0/o, 1/l/i)
	for range n {
		raw := randomBytes(10)
		var b bytes.Buffer
		for i, x := range raw {
			if i == 5 {
				b.WriteByte('-')
			}
			b.WriteByte(alphabet[int(x)%len(alphabet)])
		}
		codes = append(codes, b.String())
		hashes = append(hashes, HashRecoveryCode(b.String()))
	}
	return codes, hashes
}

// HashRecoveryCode normalises a typed recovery code (case, spaces, dash) and hashes it.
func HashRecoveryCode(code string) []byte {
	c := strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(code)))
	if len(c) == 10 {
		c = c[:5] + "-" + c[5:]
	}
	return HashToken("recovery:" + c)
}
