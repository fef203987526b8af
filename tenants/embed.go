// Package tenants holds the rules file of every city (<slug>.yaml) and their logos.
// They are embedded so a binary can sync the demo cities without a checkout; in
// production TENANTS_DIR points at the deployed copy of this directory.
package tenants

import "embed"

// FS holds the rules files and logos.
//
//go:embed *.yaml logos/*.svg
var FS embed.FS
