package audit

import (
	"context"
	"testing"
)

// A detail that could hold a secret or health data is refused before anything is
// written: the caller has a bug.
func TestSecretsAndHealthDetailsAreRefused(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"password", "new_password", "Token", "totp_secret", "recovery_code", "health_notes", "diagnosis", "allergies", "medical"} {
		err := Record(context.Background(), nil, [16]byte{1}, Actor{Kind: "system"}, Event{Action: "test.event", Details: map[string]any{key: "x"}})
		if err == nil {
			t.Errorf("detail %q accepted", key)
		}
		if err := RecordOperator(context.Background(), nil, Actor{Kind: "operator"}, "test.event", nil, map[string]any{key: "x"}); err == nil {
			t.Errorf("operator detail %q accepted", key)
		}
	}
	if err := checkDetails(map[string]any{"role": "tenant_admin", "children": 3, "reason": "Ticket 1"}); err != nil {
		t.Errorf("harmless details refused: %v", err)
	}
}
