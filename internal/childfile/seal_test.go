package childfile

import (
	"strings"
	"testing"
)

func TestKeyringSealsBindsAndRotates(t *testing.T) {
	t.Parallel()
	old, err := NewKeyring("k1:" + strings.Repeat("a", 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed, id := old.Seal([]byte("Erdnussallergie"), "row-1")
	if id != "k1" || strings.Contains(string(sealed), "Erdnuss") {
		t.Fatalf("sealed %q under %q", sealed, id)
	}
	if _, err := old.Open(sealed, id, "row-2"); err == nil {
		t.Error("a sealed value opened for another row")
	}
	// Rotation: the new key seals, the old one still opens what it sealed.
	rotated, err := NewKeyring("k2:" + strings.Repeat("b", 32) + ",k1:" + strings.Repeat("a", 32))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := rotated.Open(sealed, "k1", "row-1"); err != nil || string(plain) != "Erdnussallergie" {
		t.Errorf("old value after rotation: %q %v", plain, err)
	}
	if _, id := rotated.Seal([]byte("x"), "row-1"); id != "k2" {
		t.Errorf("new values sealed under %q", id)
	}
	if _, err := rotated.Open(sealed, "k9", "row-1"); err == nil {
		t.Error("an unknown key id opened")
	}
	for _, bad := range []string{"", "nokey", "k1:short", ":" + strings.Repeat("a", 32), "k1:" + strings.Repeat("a", 32) + ",k1:" + strings.Repeat("b", 32)} {
		if _, err := NewKeyring(bad); err == nil {
			t.Errorf("NewKeyring(%q) accepted", bad)
		}
	}
}
