package provider

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"kitaportal/internal/auth"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/imaging"
)

// PhotoLimits bound an upload. A phone photo of 24 megapixels passes; larger ones are
// refused before they are decoded, so a small file cannot claim a gigantic picture.
var PhotoLimits = imaging.Limits{MaxBytes: 8 << 20, MaxPixels: 24_000_000, MinSide: 320, FullSide: 1600, ThumbSide: 480}

// AddPhoto checks, scales and stores an uploaded photo of facility id with its text
// alternative (required: the profile must work with a screen reader). The files are
// written before the row; if the row cannot be written they are removed again, so
// nothing is half-saved.
func (s *Service) AddPhoto(ctx context.Context, c auth.Caller, id uuid.UUID, alt string, upload io.Reader) error {
	alt = strings.Join(strings.Fields(alt), " ")
	if err := checkName("alt", alt, maxAltLen); err != nil {
		return err
	}
	// The scope first: no work for a facility the caller cannot reach.
	if err := s.read(ctx, c, func(ctx context.Context, tx bun.Tx) error {
		_, err := InScope(ctx, tx, c, id, false)
		return err
	}); err != nil {
		return err
	}
	photo, err := s.decode(ctx, upload)
	if err != nil {
		return err
	}
	name := uuid.Must(uuid.NewV7()).String()
	prefix := c.Tenant.ID.String() + "/facility/" + id.String() + "/photo/" + name
	key, thumbKey := prefix+".jpg", prefix+"-thumb.jpg"
	if err := s.files.Put(ctx, key, bytes.NewReader(photo.Full)); err != nil {
		return fmt.Errorf("provider: store photo: %w", err)
	}
	if err := s.files.Put(ctx, thumbKey, bytes.NewReader(photo.Thumb)); err != nil {
		s.removeFiles(key)
		return fmt.Errorf("provider: store thumbnail: %w", err)
	}
	err = s.write(ctx, c, id, func(ctx context.Context, tx bun.Tx, f *Ref) error {
		var taken []int
		if err := tx.NewRaw(`SELECT position FROM facility_photo WHERE tenant_id = ? AND facility_id = ? ORDER BY position`,
			c.Tenant.ID, f.ID).Scan(ctx, &taken); err != nil {
			return err
		}
		if len(taken) >= maxPhotos {
			return apperr.Invalid("photo", "provider_photos_full", map[string]any{"max": maxPhotos})
		}
		position := firstFree(taken)
		if _, err := tx.ExecContext(ctx, `INSERT INTO facility_photo (tenant_id, facility_id, position, content_type, alt, storage_key, thumb_key)
			VALUES (?, ?, ?, 'image/jpeg', ?, ?, ?)`, c.Tenant.ID, f.ID, position, alt, key, thumbKey); err != nil {
			return fmt.Errorf("provider: photo row: %w", err)
		}
		return record(ctx, tx, c, f, ActionPhotoAdded, map[string]any{"position": position, "width": photo.Width, "height": photo.Height})
	})
	if err != nil {
		s.removeFiles(key, thumbKey)
	}
	return err
}

// decode runs the image processing, one upload at a time.
func (s *Service) decode(ctx context.Context, upload io.Reader) (imaging.Photo, error) {
	select {
	case s.decoding <- struct{}{}:
		defer func() { <-s.decoding }()
	case <-ctx.Done():
		return imaging.Photo{}, ctx.Err()
	}
	return imaging.Process(upload, PhotoLimits)
}

// firstFree is the lowest position from 1 that taken (ascending) does not hold.
func firstFree(taken []int) int {
	n := 1
	for _, t := range taken {
		if t != n {
			break
		}
		n++
	}
	return n
}

// RemovePhoto deletes photo n of facility id; its files go after the row is gone.
func (s *Service) RemovePhoto(ctx context.Context, c auth.Caller, id uuid.UUID, n int) error {
	var key, thumbKey sql.NullString
	err := s.write(ctx, c, id, func(ctx context.Context, tx bun.Tx, f *Ref) error {
		err := tx.QueryRowContext(ctx, `DELETE FROM facility_photo WHERE tenant_id = ? AND facility_id = ? AND position = ?
			RETURNING storage_key, thumb_key`, c.Tenant.ID, f.ID, n).Scan(&key, &thumbKey)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return record(ctx, tx, c, f, ActionPhotoRemoved, map[string]any{"position": n})
	})
	if err == nil {
		s.removeFiles(key.String, thumbKey.String)
	}
	return err
}

// removeFiles deletes files that no row names (any more). A failure leaves an orphan file
// behind, never a row without its file.
func (s *Service) removeFiles(keys ...string) {
	for _, k := range keys {
		if k != "" {
			_ = s.files.Delete(context.Background(), k)
		}
	}
}
