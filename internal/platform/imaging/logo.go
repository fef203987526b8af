package imaging

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"

	"kitaportal/internal/platform/apperr"
)

// LogoLimits bound an uploaded PNG logo: the file before and after re-encoding, and its
// sides in pixels (checked from the header, before decoding).
type LogoLimits struct {
	MaxBytes  int // upload
	MaxStored int // re-encoded PNG
	MinSide   int
	MaxSide   int
}

// Errors of an unusable logo (the form field is "logo").
var (
	ErrLogoTooLarge   = apperr.Invalid("logo", "logo_too_large", nil)
	ErrLogoDimensions = apperr.Invalid("logo", "logo_dimensions", nil)
	ErrLogoCorrupt    = apperr.Invalid("logo", "logo_corrupt", nil)
	ErrLogoNotPNG     = apperr.Invalid("logo", "logo_unsupported", nil)
)

// Logo checks a PNG logo by its content (the file name and declared type do not count)
// and re-encodes it, which drops every ancillary chunk (text, EXIF, colour profiles).
func Logo(raw []byte, lim LogoLimits) (out []byte, width, height int, err error) {
	if len(raw) > lim.MaxBytes {
		return nil, 0, 0, ErrLogoTooLarge.WithArgs(map[string]any{"max_kb": lim.MaxBytes >> 10})
	}
	if http.DetectContentType(raw) != "image/png" {
		return nil, 0, 0, ErrLogoNotPNG
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return nil, 0, 0, ErrLogoCorrupt.Wrap(err)
	}
	if cfg.Width < lim.MinSide || cfg.Height < lim.MinSide || cfg.Width > lim.MaxSide || cfg.Height > lim.MaxSide {
		return nil, 0, 0, ErrLogoDimensions.WithArgs(map[string]any{"width": cfg.Width, "height": cfg.Height})
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, 0, 0, ErrLogoCorrupt.Wrap(err)
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, 0, 0, fmt.Errorf("imaging: encode logo: %w", err)
	}
	if buf.Len() > lim.MaxStored {
		return nil, 0, 0, ErrLogoTooLarge.WithArgs(map[string]any{"max_kb": lim.MaxStored >> 10})
	}
	b := img.Bounds()
	return buf.Bytes(), b.Dx(), b.Dy(), nil
}
