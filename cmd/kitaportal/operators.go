package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"

	"kitaportal/internal/auth"
	"kitaportal/internal/operator"
)

// operatorsCmd manages the vendor's operator accounts:
//
//	kitaportal operators add <email> <name>   create an operator; prints the initial
//	                                          password and TOTP secret once
func operatorsCmd(ctx context.Context, e *env, args []string, out io.Writer) error {
	if len(args) != 3 || args[0] != "add" {
		return usageError("operators: expected `operators add <email> <name>`")
	}
	email, err := auth.Email("email", args[1])
	if err != nil {
		return fmt.Errorf("operators add: %q is not a valid e-mail address", args[1])
	}
	name, err := auth.Name("name", args[2], true)
	if err != nil {
		return fmt.Errorf("operators add: %q is not a valid name", args[2])
	}
	db, err := e.openDB(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	keys, err := auth.NewKeys(e.cfg.AuthSecret.Value())
	if err != nil {
		return err
	}
	raw := make([]byte, 18)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	password := base64.RawURLEncoding.EncodeToString(raw)
	hash, err := auth.NewHasher(auth.DefaultArgon2, 1).Hash(ctx, password)
	if err != nil {
		return err
	}
	secret := auth.NewTOTPSecret()
	created, err := operator.Create(ctx, db, keys, email, name, hash, secret)
	if err != nil {
		return err
	}
	if !created {
		return fmt.Errorf("operators add: an operator with %s exists already", email)
	}
	fmt.Fprintf(out, "operator %s created. Shown once – hand over securely:\n  password     %s\n  TOTP secret  %s\n  TOTP URI     %s\n",
		email, password, auth.EncodeTOTPSecret(secret), auth.TOTPURI("Kitaportal Betrieb", email, secret))
	return nil
}
