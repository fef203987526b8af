package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// NewToken returns a fresh secret for a cookie, bearer token or mail link (32 random
// bytes, URL-safe) and the SHA-256 that is stored instead of it. The secret has enough
// entropy that a plain hash is as good as a slow one.
func NewToken() (raw string, hash []byte) {
	raw = base64.RawURLEncoding.EncodeToString(randomBytes(32))
	return raw, HashToken(raw)
}

// HashToken is what the database keeps of a token.
func HashToken(raw string) []byte {
	h := sha256.Sum256([]byte(raw))
	return h[:]
}

// Keys are the keys derived from AUTH_SECRET: one for CSRF tokens, one that seals TOTP
// secrets at rest. Deriving separate keys means one use can never stand in for another.
type Keys struct {
	csrf []byte
	seal cipher.AEAD
}

// NewKeys derives the keys from the configured secret.
func NewKeys(secret string) (*Keys, error) {
	if len(secret) < 32 {
		return nil, errors.New("auth: AUTH_SECRET must have at least 32 characters")
	}
	csrf, err := hkdf.Key(sha256.New, []byte(secret), nil, "kitaportal csrf v1", 32)
	if err != nil {
		return nil, err
	}
	sealKey, err := hkdf.Key(sha256.New, []byte(secret), nil, "kitaportal seal v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keys{csrf: csrf, seal: aead}, nil
}

// Seal encrypts a secret for storage; context (e.g. the account id) is bound to it, so a
// sealed value copied to another row does not open.
func (k *Keys) Seal(plain []byte, context string) []byte {
	nonce := randomBytes(k.seal.NonceSize())
	return k.seal.Seal(nonce, nonce, plain, []byte(context))
}

// Open decrypts what Seal produced for the same context.
func (k *Keys) Open(sealed []byte, context string) ([]byte, error) {
	n := k.seal.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("auth: sealed value too short")
	}
	return k.seal.Open(nil, sealed[:n], sealed[n:], []byte(context))
}

// mac is HMAC-SHA256 under the CSRF key.
func (k *Keys) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, k.csrf)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}
