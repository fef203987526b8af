package search

import (
	"container/list"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/tenant"
)

// The map's tiles come from the city's own host: the parent's browser never talks to
// the tile server (its IP address stays with the city), and the tile server sees one
// client that caches instead of every parent (OpenStreetMap's tile policy asks for
// that). The upstream is the city's map.tile_url; the attribution stays on the map.

// TileURL is the path template the pages give the map.
const TileURL = "/tiles/{z}/{x}/{y}.png"

// Tile limits: OpenStreetMap serves zoom 0–19; a tile is a small PNG.
const (
	maxTileZoom  = 19
	maxTileBytes = 512 << 10
	tileFresh    = 7 * 24 * time.Hour // OSM's policy: keep tiles at least a week
)

// TileProxy fetches tiles from each city's upstream and keeps the most recent ones in
// memory, up to a byte budget.
type TileProxy struct {
	client    *http.Client
	userAgent string
	budget    int
	now       func() time.Time

	mu    sync.Mutex
	used  int
	order *list.List // of *tileEntry, most recently used first
	byKey map[string]*list.Element
}

type tileEntry struct {
	key     string
	body    []byte
	kind    string // Content-Type
	fetched time.Time
}

// NewTileProxy returns a proxy that asks upstreams with client (its timeout bounds a
// tile) as userAgent, keeping up to budget bytes of tiles.
func NewTileProxy(client *http.Client, userAgent string, budget int) *TileProxy {
	return &TileProxy{client: client, userAgent: userAgent, budget: budget, now: time.Now,
		order: list.New(), byKey: map[string]*list.Element{}}
}

// ErrTileUnavailable: the upstream did not deliver; the map says tiles failed.
var ErrTileUnavailable = apperr.Unavailable("tiles_unavailable", nil)

// errNoTile answers coordinates that name no tile, and cities without a map.
var errNoTile = apperr.NotFound("not_found")

// Tile is GET /tiles/:z/:x/:y (y with ".png").
func (p *TileProxy) Tile(c *fiber.Ctx) error {
	t := tenant.FromFiber(c)
	if t == nil || t.Rules == nil || t.Rules.Map.TileURL == "" {
		return errNoTile
	}
	z, x, y, ok := tileCoordinates(c.Params("z"), c.Params("x"), strings.TrimSuffix(c.Params("y"), ".png"))
	if !ok || !strings.HasSuffix(c.Params("y"), ".png") {
		return errNoTile
	}
	upstream := upstreamURL(t.Rules.Map.TileURL, z, x, y)
	e, err := p.get(c.UserContext(), upstream)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, e.kind)
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.Send(e.body)
}

// tileCoordinates parses z/x/y and checks they name a tile of the world at zoom z.
func tileCoordinates(zs, xs, ys string) (z, x, y int, ok bool) {
	var errs [3]error
	z, errs[0] = strconv.Atoi(zs)
	x, errs[1] = strconv.Atoi(xs)
	y, errs[2] = strconv.Atoi(ys)
	for _, err := range errs {
		if err != nil {
			return 0, 0, 0, false
		}
	}
	if z < 0 || z > maxTileZoom {
		return 0, 0, 0, false
	}
	n := 1 << z
	return z, x, y, x >= 0 && x < n && y >= 0 && y < n
}

// upstreamURL fills a tile URL template ({s} takes the first subdomain, {r} the normal
// resolution).
func upstreamURL(template string, z, x, y int) string {
	return strings.NewReplacer("{z}", strconv.Itoa(z), "{x}", strconv.Itoa(x), "{y}", strconv.Itoa(y), "{s}", "a", "{r}", "").
		Replace(template)
}

// get answers a tile from the cache while fresh, otherwise from upstream. A failed
// fetch serves a stale copy if there is one, and is never cached.
func (p *TileProxy) get(ctx context.Context, url string) (*tileEntry, error) {
	p.mu.Lock()
	el, cached := p.byKey[url]
	var stale *tileEntry
	if cached {
		e := el.Value.(*tileEntry)
		if p.now().Sub(e.fetched) < tileFresh {
			p.order.MoveToFront(el)
			p.mu.Unlock()
			return e, nil
		}
		stale = e
	}
	p.mu.Unlock()

	e, err := p.fetch(ctx, url)
	if err != nil {
		if stale != nil {
			return stale, nil
		}
		return nil, err
	}
	p.put(e)
	return e, nil
}

func (p *TileProxy) fetch(ctx context.Context, url string) (*tileEntry, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("tiles: %w", err)
	}
	req.Header.Set("User-Agent", p.userAgent)
	res, err := p.client.Do(req)
	if err != nil {
		return nil, ErrTileUnavailable
	}
	defer res.Body.Close()
	kind := res.Header.Get("Content-Type")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(kind, "image/") {
		return nil, ErrTileUnavailable
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxTileBytes+1))
	if err != nil || len(body) > maxTileBytes {
		return nil, ErrTileUnavailable
	}
	return &tileEntry{key: url, body: body, kind: kind, fetched: p.now()}, nil
}

// put stores e, evicting the least recently used tiles beyond the budget.
func (p *TileProxy) put(e *tileEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.byKey[e.key]; ok {
		p.used -= len(old.Value.(*tileEntry).body)
		p.order.Remove(old)
	}
	p.byKey[e.key] = p.order.PushFront(e)
	p.used += len(e.body)
	for p.used > p.budget && p.order.Len() > 1 {
		last := p.order.Back()
		gone := last.Value.(*tileEntry)
		p.order.Remove(last)
		delete(p.byKey, gone.key)
		p.used -= len(gone.body)
	}
}
