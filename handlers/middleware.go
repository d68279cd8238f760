package handlers

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"chat/store"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

const sessionCookie = "chat_session"

// requestLog logs one line per request: id, method, route pattern (never
// the raw path, which may carry ids or tokens), status and duration.
func (a *App) requestLog(c *fiber.Ctx) error {
	start := time.Now()
	id := newRequestID()
	c.Locals(localRequestID, id)
	c.Set("X-Request-Id", id)
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		// Let the error handler set the status before the line is written.
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			c.Status(fiber.StatusInternalServerError)
		}
		status = c.Response().StatusCode()
	}
	took := time.Since(start)
	route := routePattern(c)
	a.metrics.Request(route, status, took)
	a.log.Info("request", "request_id", id, "method", c.Method(), "route", route,
		"status", status, "duration", took.Round(time.Microsecond))
	return nil
}

// securityHeaders forbid framing, sniffing and any script or style that is
// not one of our files.
func securityHeaders(c *fiber.Ctx) error {
	setSecurityHeaders(c)
	return c.Next()
}

// setSecurityHeaders is every answer's: pages, files, and the errors the
// server makes before any route runs (handleError sets them too).
func setSecurityHeaders(c *fiber.Ctx) {
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("X-Frame-Options", "DENY")
}

// refuseEncodedBody answers 415 to a request whose body comes compressed
// (Content-Encoding other than identity). The body limit counts the bytes
// on the wire, and reading a form or a body would have them inflated with
// no bound: 255 KB of gzip can be hundreds of MB. Browsers never compress
// what they send, and the bots' API takes plain text.
func refuseEncodedBody(c *fiber.Ctx) error {
	// Every Content-Encoding header, not only the first: a decoder would
	// take the last.
	for _, h := range c.Request().Header.PeekAll(fiber.HeaderContentEncoding) {
		for _, enc := range strings.Split(string(h), ",") {
			if enc = strings.TrimSpace(enc); enc != "" && !strings.EqualFold(enc, "identity") {
				return &refusal{fiber.StatusUnsupportedMediaType, "errors.uncompressed"}
			}
		}
	}
	return c.Next()
}

// crossOrigin refuses a state-changing request sent by another site, by
// the rule of Go's net/http CrossOriginProtection: Sec-Fetch-Site when the
// browser sends it, otherwise Origin against Host; a request with neither
// comes from no browser and passes.
func crossOrigin(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	// The bots' API takes a token in a header, never a cookie: no page
	// of another site can send it one.
	if strings.HasPrefix(c.Path(), "/api/") {
		return c.Next()
	}
	// An Origin naming another site (or "null") is refused, whatever
	// else the request says.
	refused := requestOrigin(c) == originElsewhere
	switch c.Get("Sec-Fetch-Site") {
	case "same-origin", "none", "":
	default:
		refused = true
	}
	if refused {
		return &refusal{fiber.StatusForbidden, "errors.other_site"}
	}
	return c.Next()
}

// What a request's Origin says of where it comes from.
const (
	originUnsaid    = iota // no Origin
	originThisSite         // a page of this site
	originElsewhere        // another site, "null", or nonsense
)

// requestOrigin reads the request's Origin: forms check it (crossOrigin),
// and sockets, whose handshakes browsers always send one with, must have
// this site's.
func requestOrigin(c *fiber.Ctx) int {
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return originUnsaid
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Host, c.Hostname()) {
		return originElsewhere
	}
	return originThisSite
}

// loadSession puts the session of the request's cookie, if it is live, in
// the request's locals.
func (a *App) loadSession(c *fiber.Ctx) error {
	token := c.Cookies(sessionCookie)
	if token == "" {
		return c.Next()
	}
	// Read before the session is: a page kept (keepPage) must not show a
	// user older than its stamp.
	c.Locals(localStamp, a.stamp())
	s, err := a.store.FindSession(c.UserContext(), token)
	switch {
	case err == nil:
		c.Locals(localSession, s)
	case !errors.Is(err, store.ErrNotFound):
		// The database failing is no reason to treat anyone as signed out.
		return err
	}
	return c.Next()
}

// requireSession sends the signed-out to the sign-in page (a socket or an
// event stream gets 401), but for the routes routes.go marks public.
func (a *App) requireSession(c *fiber.Ctx) error {
	if _, ok := session(c); ok {
		return c.Next()
	}
	p := c.Path()
	if a.public.has(p) {
		return c.Next()
	}
	if strings.HasSuffix(p, "/ws") || c.Get(fiber.HeaderUpgrade) != "" || isEventStream(c) {
		return &refusal{fiber.StatusUnauthorized, "errors.sign_in_first"}
	}
	if isHTMX(c) {
		c.Set("HX-Redirect", "/login")
	}
	return c.Redirect("/login", fiber.StatusSeeOther)
}

func setSessionCookie(c *fiber.Ctx, token string, maxAge time.Duration) {
	c.Cookie(&fiber.Cookie{
		Name:     sessionCookie,
		Value:    token,
		Path:     "/",
		MaxAge:   int(maxAge.Seconds()),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Secure:   behindTLS(c),
	})
}

func clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name:     sessionCookie,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		Expires:  time.Unix(1, 0),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Secure:   behindTLS(c),
	})
}

// behindTLS reports whether the browser reached the chat over TLS: directly,
// or through a proxy that says so. The proxy's word is taken from anyone
// here: a cookie marked Secure by mistake is only more restricted.
func behindTLS(c *fiber.Ctx) bool {
	return c.Protocol() == "https" || strings.EqualFold(c.Get(fiber.HeaderXForwardedProto), "https")
}

// bodyLimitFor is the largest body the server reads for a request, decided
// from its headers before any byte of the body is read (fasthttp answers
// 413 past it, without reading it): the body limit, or, for a signed-in
// user's avatar upload that gets one of the places of uploads
// (uploadSlots), the picture's limit. A body held back half-sent can make
// the server hold no more than that, and no more than uploadsAtOnce such
// bodies are held at once.
func (a *App) bodyLimitFor(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	// A place left by a request of this header's that ended unanswered
	// (its connection gone) lapses by itself; it is forgotten here.
	a.heldUploads.Delete(h)
	h.Del(uploadHeader)
	cfg := fasthttp.RequestConfig{MaxRequestBodySize: a.bodyLimit}
	if !h.IsPost() {
		return cfg
	}
	path := pathOf(h.RequestURI())
	cl := h.ContentLength()
	switch {
	case string(path) == "/account/avatar":
		// A body said to be past the picture's limit takes no place: it
		// is refused (413) without being read.
		if cl <= avatarBodyMax && a.takeUpload(h, &a.uploads, false, uploadHold) {
			cfg.MaxRequestBodySize = avatarBodyMax
		}
	case filesPath(path) && cl > a.bodyLimit && int64(cl) <= a.filesBodyMax():
		// Files come as a form of known length, which fasthttp reads into
		// memory up to 16 MiB and past that into temporary files; a body
		// of unknown length would be held whole, and gets the common
		// limit, as does a small one, which needs no place. A large body
		// may take as long as a slow link needs to bring it.
		if bytes.HasPrefix(h.ContentType(), []byte("multipart/form-data")) &&
			a.takeUpload(h, &a.fileUploads, bytes.HasPrefix(path, []byte("/api/")), uploadTime(cl)+uploadHandling) {
			cfg.MaxRequestBodySize = int(a.filesBodyMax())
			cfg.ReadTimeout = uploadTime(cl)
		}
	}
	return cfg
}

// takeUpload gives the request's user (from the session cookie, or a
// bot's bearer token on the API) a place in slots, and marks the request
// with it; a user who gets none is marked refused. Unknown users take no
// place, and their body gets the common limit.
func (a *App) takeUpload(h *fasthttp.RequestHeader, slots *uploadSlots, api bool, hold time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var userID int64
	if api {
		token, ok := bytes.CutPrefix(h.Peek(fiber.HeaderAuthorization), []byte("Bearer "))
		if !ok || len(token) == 0 {
			return false
		}
		bot, err := a.store.FindBotByToken(ctx, strings.TrimSpace(string(token)))
		if err != nil {
			return false
		}
		userID = bot.ID
	} else {
		token := h.Cookie(sessionCookie)
		if len(token) == 0 {
			return false
		}
		s, err := a.store.FindSession(ctx, string(token))
		if err != nil {
			return false
		}
		userID = s.User.ID
	}
	now := time.Now()
	lapse, ok := slots.takeUntil(userID, now, hold)
	if !ok {
		h.Set(uploadHeader, uploadRefused)
		return false
	}
	// Found again by the request's header, which is the same object for
	// the whole of the request, even once a body that could not be read
	// has reset its fields. Places of requests that never came to an
	// answer (their connection gone) are forgotten once they lapse.
	a.heldUploads.Range(func(k, v any) bool {
		if v.(heldUpload).lapse.Before(now) {
			a.heldUploads.Delete(k)
		}
		return true
	})
	a.heldUploads.Store(h, heldUpload{slots: slots, userID: userID, lapse: lapse})
	return true
}

// releaseUpload gives back the place an upload took in bodyLimitFor once
// its request is answered, whatever answered it; the server's own answers
// (a body past the picture's limit) give it back in handleError.
func (a *App) releaseUpload(c *fiber.Ctx) error {
	defer a.giveBackUpload(c)
	return c.Next()
}

// giveBackUpload gives back the request's place of upload, if it holds
// one, once.
func (a *App) giveBackUpload(c *fiber.Ctx) {
	if v, ok := a.heldUploads.LoadAndDelete(&c.Request().Header); ok {
		held := v.(heldUpload)
		held.slots.releaseAt(held.userID, held.lapse)
	}
}

// pathOf is a request URI without its query.
func pathOf(uri []byte) []byte {
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		return uri[:i]
	}
	return uri
}
