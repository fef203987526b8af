// Package web holds the HTML templates, static assets and message catalogues, embedded
// into the binary so a deployment is one file plus its tenants directory.
package web

import "embed"

// FS holds templates/, static/, i18n/ and openapi/ (the API description).
//
//go:embed templates static i18n openapi
var FS embed.FS
