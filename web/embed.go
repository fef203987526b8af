// Package web holds the HTML templates, static assets and message catalogues, embedded
// into the binary so a deployment is one file plus its tenants directory.
package web

import "embed"

// FS holds templates/, static/ and i18n/.
//
//go:embed templates static i18n
var FS embed.FS
