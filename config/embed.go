// Package config holds configuration files that ship inside the binary: the permission
// catalogue (permissions.yaml). The environment variables are read by
// internal/platform/config; kitaportal.env.example documents them.
package config

import _ "embed"

// Permissions is the permission catalogue: every action a route can require and the
// roles that hold it.
//
//go:embed permissions.yaml
var Permissions []byte
