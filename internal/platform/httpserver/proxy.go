package httpserver

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Proxies knows which peers are our own reverse proxies. Only they may tell us the
// original host (X-Forwarded-Host) and client address (X-Forwarded-For); from anyone else
// those headers are ignored, so a client cannot pick another tenant by header.
type Proxies struct {
	trusted []netip.Prefix
}

// NewProxies trusts the given ranges (may be empty: trust nobody).
func NewProxies(trusted []netip.Prefix) *Proxies { return &Proxies{trusted: trusted} }

func (p *Proxies) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, pre := range p.trusted {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

func peer(c *fiber.Ctx) netip.Addr {
	a, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	return a.Unmap()
}

// Host is the host name the client asked for, lower-case, without port and trailing dot.
// It is the Host header itself, never fasthttp's view of it: fasthttp drops a userinfo
// part ("evil@kempten.localhost" would count as kempten.localhost) and prefers the host
// of an absolute request URI ("GET http://kempten.localhost/" with Host: bochum…).
// ok is false for a host that is not a syntactically valid DNS name (so any '@'), and for
// an absolute request URI whose host is not the Host header's; such requests are refused.
func (p *Proxies) Host(c *fiber.Ctx) (host string, ok bool) {
	header := string(c.Request().Header.Host())
	host, ok = NormalizeHost(header)
	if !ok {
		return "", false
	}
	if uriHost, absolute := absoluteURIHost(string(c.Request().Header.RequestURI())); absolute {
		if h, valid := NormalizeHost(uriHost); !valid || h != host {
			return "", false
		}
	}
	if len(p.trusted) > 0 && p.isTrusted(peer(c)) {
		if xf := c.Get(fiber.HeaderXForwardedHost); xf != "" {
			first, _, _ := strings.Cut(xf, ",") // the first entry is what the client asked for
			return NormalizeHost(first)
		}
	}
	return host, true
}

// absoluteURIHost is the authority of an absolute-form request URI
// ("http://host:port/path"); absolute is false for the usual origin form ("/path").
func absoluteURIHost(uri string) (authority string, absolute bool) {
	scheme, rest, found := strings.Cut(uri, "://")
	if !found || strings.ContainsAny(scheme, "/?#") {
		return "", false
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return rest, true
}

// ClientIP is the address of the client: the peer, or, behind trusted proxies, the last
// X-Forwarded-For entry that is not one of them.
func (p *Proxies) ClientIP(c *fiber.Ctx) netip.Addr {
	a := peer(c)
	if len(p.trusted) == 0 || !p.isTrusted(a) {
		return a
	}
	hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !p.isTrusted(h) {
			return h.Unmap()
		}
		a = h.Unmap()
	}
	return a
}

// NormalizeHost lower-cases host, strips a port and a trailing dot, and checks it is a
// plausible DNS name (letters, digits, dashes, dots; at most 253 characters).
func NormalizeHost(host string) (string, bool) {
	host = strings.ToLower(strings.TrimSpace(host))
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		port := host[i+1:]
		if port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return "", false
		}
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" || len(host) > 253 {
		return "", false
	}
	prevDot := true
	for i := 0; i < len(host); i++ {
		switch ch := host[i]; {
		case ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9', ch == '-':
			prevDot = false
		case ch == '.' && !prevDot:
			prevDot = true
		default:
			return "", false
		}
	}
	return host, true
}

// LocalClientIP holds the client address (netip.Addr) as Proxies.ClientIP found it; the
// server sets it for every request so rate limits and the audit log agree on it.
const LocalClientIP = "client_ip"

// ClientIPOf returns the address stored under LocalClientIP (invalid when unset).
func ClientIPOf(c *fiber.Ctx) netip.Addr {
	a, _ := c.Locals(LocalClientIP).(netip.Addr)
	return a
}
