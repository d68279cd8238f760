package handlers

import (
	"slices"
	"strings"
	"testing"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// What the websocket package copies out of the upgrade's request, and the
// connection keeps for its life, is what the handshake reads: no cookies,
// no query, no other header.
func TestTrimForUpgrade(t *testing.T) {
	app := fiber.New()
	var fctx fasthttp.RequestCtx
	fctx.Request.SetRequestURI("/rooms/7/ws?after=12&rev=3")
	fctx.Request.Header.SetMethod(fiber.MethodGet)
	fctx.Request.Header.SetHost("chat.example.com")
	for k, v := range map[string]string{
		"Connection":               "Upgrade",
		"Upgrade":                  "websocket",
		"Sec-WebSocket-Key":        "dGhlIHNhbXBsZSBub25jZQ==",
		"Sec-WebSocket-Version":    "13",
		"Origin":                   "http://chat.example.com",
		"User-Agent":               "Mozilla/5.0 (X11; Linux x86_64) " + strings.Repeat("x", 80),
		"Accept-Language":          "es-ES,es;q=0.9",
		"Cookie":                   "chat_session=secret-token; theme=dark",
		"Sec-WebSocket-Extensions": "permessage-deflate",
	} {
		fctx.Request.Header.Set(k, v)
	}
	c := app.AcquireCtx(&fctx)
	defer app.ReleaseCtx(c)

	trimForUpgrade(c)

	var got []string
	c.Request().Header.VisitAll(func(k, _ []byte) { got = append(got, string(k)) })
	slices.Sort(got)
	want := []string{"Connection", "Sec-Websocket-Extensions", "Sec-Websocket-Key", "Sec-Websocket-Version", "Upgrade"}
	if !slices.Equal(got, want) {
		t.Errorf("headers left %q, want %q", got, want)
	}
	cookies := 0
	c.Request().Header.VisitAllCookie(func(_, _ []byte) { cookies++ })
	if cookies != 0 {
		t.Errorf("%d cookies left", cookies)
	}
	if n := c.Context().QueryArgs().Len(); n != 0 {
		t.Errorf("%d query arguments left", n)
	}
	if !websocket.IsWebSocketUpgrade(c) {
		t.Error("no longer an upgrade")
	}
}
