// Package imaging turns an uploaded photo into what we serve: checked (type, size, pixel
// count — a tiny file can claim to be 50,000 × 50,000 pixels), upright, scaled down and
// re-encoded as JPEG, which also drops EXIF metadata such as the GPS position.
package imaging

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png" // decoders register themselves
	"io"
	"net/http"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	"kitaportal/internal/platform/apperr"
)

// Errors of an unusable upload (the form field is "photo").
var (
	ErrTooLarge    = apperr.Invalid("photo", "image_too_large", nil)
	ErrUnsupported = apperr.Invalid("photo", "image_unsupported", nil)
	ErrDimensions  = apperr.Invalid("photo", "image_dimensions", nil)
	ErrCorrupt     = apperr.Invalid("photo", "image_corrupt", nil)
)

// Limits bound what an upload may be.
type Limits struct {
	MaxBytes  int64 // file size
	MaxPixels int   // width × height as declared by the file, checked before decoding
	MinSide   int   // smaller pictures are useless on a profile page
	FullSide  int   // longest side of the stored picture
	ThumbSide int   // longest side of the thumbnail
}

// DefaultLimits suit facility photos.
var DefaultLimits = Limits{MaxBytes: 8 << 20, MaxPixels: 40_000_000, MinSide: 320, FullSide: 1600, ThumbSide: 480}

// Photo is a processed upload: two JPEGs.
type Photo struct {
	Full, Thumb   []byte
	Width, Height int // of Full
}

// Process checks and converts an upload.
func Process(r io.Reader, lim Limits) (Photo, error) {
	raw, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return Photo{}, ErrCorrupt.Wrap(err)
	}
	if int64(len(raw)) > lim.MaxBytes {
		return Photo{}, ErrTooLarge.WithArgs(map[string]any{"max_mb": lim.MaxBytes >> 20})
	}
	switch http.DetectContentType(raw) {
	case "image/jpeg", "image/png", "image/webp":
	default:
		return Photo{}, ErrUnsupported // the name or declared type of the upload does not count
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return Photo{}, ErrCorrupt.Wrap(err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > lim.MaxPixels {
		return Photo{}, ErrDimensions.WithArgs(map[string]any{"width": cfg.Width, "height": cfg.Height})
	}
	if min(cfg.Width, cfg.Height) < lim.MinSide {
		return Photo{}, ErrDimensions.WithArgs(map[string]any{"width": cfg.Width, "height": cfg.Height})
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return Photo{}, ErrCorrupt.Wrap(err)
	}
	img = upright(img, jpegOrientation(raw))
	full := fit(img, lim.FullSide)
	var p Photo
	if p.Full, err = encode(full); err != nil {
		return Photo{}, err
	}
	if p.Thumb, err = encode(fit(full, lim.ThumbSide)); err != nil {
		return Photo{}, err
	}
	p.Width, p.Height = full.Bounds().Dx(), full.Bounds().Dy()
	return p, nil
}

// fit scales img down so its longer side is at most side; smaller images stay as they are.
func fit(img image.Image, side int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= side && h <= side {
		return img
	}
	if w >= h {
		h, w = max(1, h*side/w), side
	} else {
		w, h = max(1, w*side/h), side
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

func encode(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 82}); err != nil {
		return nil, fmt.Errorf("imaging: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// upright applies the EXIF orientation (1–8) so phone photos are not shown sideways once
// the metadata is gone.
func upright(img image.Image, orientation int) image.Image {
	if orientation < 2 || orientation > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	swap := orientation >= 5
	dw, dh := w, h
	if swap {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch orientation {
			case 2: // mirrored
				dx, dy = w-1-x, y
			case 3: // upside down
				dx, dy = w-1-x, h-1-y
			case 4: // upside down, mirrored
				dx, dy = x, h-1-y
			case 5: // rotated and mirrored
				dx, dy = y, x
			case 6: // rotated 90° clockwise
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8: // rotated 90° counter-clockwise
				dx, dy = y, w-1-x
			}
			dst.Set(dx, dy, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return dst
}

// jpegOrientation reads the EXIF orientation tag (0x0112) of a JPEG, or 0.
func jpegOrientation(raw []byte) int {
	if len(raw) < 4 || raw[0] != 0xFF || raw[1] != 0xD8 {
		return 0
	}
	for i := 2; i+4 <= len(raw); {
		if raw[i] != 0xFF {
			return 0
		}
		marker := raw[i+1]
		size := int(raw[i+2])<<8 | int(raw[i+3])
		if marker == 0xDA || size < 2 || i+2+size > len(raw) { // start of scan: no more metadata
			return 0
		}
		seg := raw[i+4 : i+2+size]
		if marker == 0xE1 && len(seg) > 14 && string(seg[:6]) == "Exif\x00\x00" {
			o, _ := exifOrientation(seg[6:])
			return o
		}
		i += 2 + size
	}
	return 0
}

func exifOrientation(tiff []byte) (int, error) {
	if len(tiff) < 8 {
		return 0, errors.New("short")
	}
	var u16 func([]byte) int
	var u32 func([]byte) int
	switch string(tiff[:2]) {
	case "II":
		u16 = func(b []byte) int { return int(b[0]) | int(b[1])<<8 }
		u32 = func(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 | int(b[3])<<24 }
	case "MM":
		u16 = func(b []byte) int { return int(b[1]) | int(b[0])<<8 }
		u32 = func(b []byte) int { return int(b[3]) | int(b[2])<<8 | int(b[1])<<16 | int(b[0])<<24 }
	default:
		return 0, errors.New("bad byte order")
	}
	ifd := u32(tiff[4:8])
	if ifd < 8 || ifd+2 > len(tiff) {
		return 0, errors.New("bad offset")
	}
	n := u16(tiff[ifd:])
	for k := 0; k < n; k++ {
		e := ifd + 2 + 12*k
		if e+12 > len(tiff) {
			break
		}
		if u16(tiff[e:]) == 0x0112 {
			return u16(tiff[e+8:]), nil
		}
	}
	return 0, nil
}
