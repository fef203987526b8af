package imaging

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"kitaportal/internal/platform/apperr"
)

func pngOf(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, 0, color.RGBA{R: 200, A: 255}) // a red top row, to check orientation
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

func TestPhotosAreScaledAndReencoded(t *testing.T) {
	t.Parallel()
	p, err := Process(bytes.NewReader(pngOf(3200, 1800)), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 1600 || p.Height != 900 {
		t.Errorf("full %dx%d", p.Width, p.Height)
	}
	thumb, err := jpeg.DecodeConfig(bytes.NewReader(p.Thumb))
	if err != nil || thumb.Width != 480 || thumb.Height != 270 {
		t.Errorf("thumb %+v %v", thumb, err)
	}
	if !bytes.HasPrefix(p.Full, []byte{0xFF, 0xD8}) {
		t.Error("not a JPEG")
	}
	small, err := Process(bytes.NewReader(pngOf(800, 600)), DefaultLimits)
	if err != nil || small.Width != 800 {
		t.Errorf("a small photo must keep its size: %d %v", small.Width, err)
	}
}

func TestBadUploadsAreRefused(t *testing.T) {
	t.Parallel()
	// A PNG header claiming 60000×60000 pixels: refused before decoding (image bomb).
	bomb := pngOf(400, 400)
	copy(bomb[16:24], []byte{0, 0, 0xEA, 0x60, 0, 0, 0xEA, 0x60})
	binary.BigEndian.PutUint32(bomb[29:33], crc32.ChecksumIEEE(bomb[12:29])) // a valid IHDR
	cases := map[string]struct {
		data []byte
		want *apperr.Error
	}{
		"too large":       {bytes.Repeat([]byte{0xFF}, int(DefaultLimits.MaxBytes)+10), ErrTooLarge},
		"not an image":    {[]byte("<?php system($_GET['x']); ?>"), ErrUnsupported},
		"svg is no photo": {[]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), ErrUnsupported},
		"image bomb":      {bomb, ErrDimensions},
		"tiny":            {pngOf(100, 80), ErrDimensions},
		"truncated":       {pngOf(800, 600)[:200], ErrCorrupt},
	}
	for name, tc := range cases {
		_, err := Process(bytes.NewReader(tc.data), DefaultLimits)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
}

func TestExifOrientationIsApplied(t *testing.T) {
	t.Parallel()
	// A JPEG 600×400 with an EXIF block saying "rotate 90° clockwise" (6).
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 600, 400)), nil)
	exif := []byte("Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00\x00")
	seg := append([]byte{0xFF, 0xE1, byte((len(exif) + 2) >> 8), byte(len(exif) + 2)}, exif...)
	raw := append(append([]byte{0xFF, 0xD8}, seg...), buf.Bytes()[2:]...)
	if o := jpegOrientation(raw); o != 6 {
		t.Fatalf("orientation %d", o)
	}
	p, err := Process(bytes.NewReader(raw), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 400 || p.Height != 600 {
		t.Errorf("not turned upright: %dx%d", p.Width, p.Height)
	}
	if jpegOrientation(p.Full) != 0 {
		t.Error("metadata survived re-encoding")
	}
}
