package childfile

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
)

// Keyring seals the special categories of a child file (health data, staff notes,
// emergency reasons) at field level with AES-256-GCM. It is built from CHILDFILE_KEY:
// "id:secret" pairs, the first sealing, every one opening what it sealed, so a key can be
// rotated by putting the new one first and keeping the old one until it no longer opens
// anything. Each sealed value is bound to its row (tenant, child, field), so a value
// copied to another row does not open.
type Keyring struct {
	current string
	keys    map[string]cipher.AEAD
}

// NewKeyring parses spec ("id:secret[,id:secret…]", each secret at least 32 characters).
func NewKeyring(spec string) (*Keyring, error) {
	k := &Keyring{keys: map[string]cipher.AEAD{}}
	for i, part := range strings.Split(spec, ",") {
		id, secret, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || id == "" || len(id) > 32 || len(secret) < 32 {
			return nil, errors.New("childfile: CHILDFILE_KEY must be id:secret pairs, each secret at least 32 characters")
		}
		if _, dup := k.keys[id]; dup {
			return nil, fmt.Errorf("childfile: CHILDFILE_KEY names key %q twice", id)
		}
		key, err := hkdf.Key(sha256.New, []byte(secret), nil, "kitaportal child file v1", 32)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.keys[id] = aead
		if i == 0 {
			k.current = id
		}
	}
	return k, nil
}

// Seal encrypts plain under the current key for context; it returns the key id to store.
func (k *Keyring) Seal(plain []byte, context string) (sealed []byte, keyID string) {
	aead := k.keys[k.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return aead.Seal(nonce, nonce, plain, []byte(context)), k.current
}

// Open decrypts what Seal produced under key keyID for the same context.
func (k *Keyring) Open(sealed []byte, keyID, context string) ([]byte, error) {
	aead, ok := k.keys[keyID]
	if !ok {
		return nil, fmt.Errorf("childfile: key %q is not configured", keyID)
	}
	n := aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("childfile: sealed value too short")
	}
	return aead.Open(nil, sealed[:n], sealed[n:], []byte(context))
}
