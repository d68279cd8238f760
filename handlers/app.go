// Package handlers is the chat's web application: pages, forms, history
// fragments and the room WebSocket, on Fiber.
package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"chat/hub"
	"chat/store"
	"chat/views"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
)

// Deps is what the application is built from.
type Deps struct {
	Store  *store.Store
	Hub    *hub.Hub
	Logger *slog.Logger
	// PostLimit is how many posts a user may make per 10 seconds; 0 turns
	// the limit off.
	PostLimit int
	// Argon2 is the cost of password hashes; zero means DefaultArgon2.
	Argon2 Argon2Params
}

// App holds the handlers' shared state.
type App struct {
	store     *store.Store
	hub       *hub.Hub
	log       *slog.Logger
	posts     *rateLimiter
	argon     Argon2Params
	dummyHash string
	// hashing bounds the password hashes computed at once: each takes
	// 19 MiB, and a burst of logins must not take the machine's memory.
	hashing chan struct{}
}

// NewApp builds the Fiber application serving the chat.
func NewApp(d Deps) *fiber.App {
	a := &App{
		store:   d.Store,
		hub:     d.Hub,
		log:     d.Logger,
		posts:   newRateLimiter(d.PostLimit, 10*time.Second),
		argon:   d.Argon2,
		hashing: make(chan struct{}, 4),
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.argon == (Argon2Params{}) {
		a.argon = DefaultArgon2
	}
	// A login for an unknown name checks against this hash, so that it
	// costs as much as a wrong password and does not tell the name is free.
	a.dummyHash = hashPassword(a.argon, rand.Text())

	app := fiber.New(fiber.Config{
		AppName:               "chat",
		DisableStartupMessage: true,
		ErrorHandler:          a.handleError,
		BodyLimit:             256 << 10,
		ReadBufferSize:        16 << 10,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           2 * time.Minute,
	})
	a.routes(app)
	return app
}

// Locals keys.
const (
	localSession   = "session"
	localRequestID = "requestid"
)

func session(c *fiber.Ctx) (store.Session, bool) {
	s, ok := c.Locals(localSession).(store.Session)
	return s, ok
}

func viewer(c *fiber.Ctx) views.Viewer {
	s, _ := session(c)
	return views.Viewer{Username: s.User.Username}
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// render writes a templ component as an HTML answer.
func render(c *fiber.Ctx, status int, comp templ.Component) error {
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return comp.Render(c.UserContext(), c.Response().BodyWriter())
}

func isHTMX(c *fiber.Ctx) bool { return c.Get("HX-Request") == "true" }

// handleError is the one place errors become answers: a status, and a page
// or (to htmx) a fragment. Server faults are logged once, with the request
// id; their details never reach the user.
func (a *App) handleError(c *fiber.Ctx, err error) error {
	status := http.StatusInternalServerError
	msg := ""
	var fe *fiber.Error
	switch {
	case errors.As(err, &fe):
		status, msg = fe.Code, fe.Message
	case errors.Is(err, store.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, store.ErrNotMember):
		status, msg = http.StatusForbidden, "Join the room first."
	case errors.Is(err, context.Canceled):
		status = 499
	}
	if status >= 500 {
		a.log.Error("request failed", "request_id", c.Locals(localRequestID), "method", c.Method(), "route", routePattern(c), "err", err)
		msg = ""
	}
	title := http.StatusText(status)
	if title == "" {
		title = "Error"
	}
	if msg == "" || msg == title {
		msg = defaultMessage(status)
	}
	if isHTMX(c) {
		return render(c, status, views.ErrorFragment(msg))
	}
	return render(c, status, views.Error(views.ErrorPage{Viewer: viewer(c), Status: status, Title: title, Message: msg}))
}

func defaultMessage(status int) string {
	switch status {
	case http.StatusNotFound:
		return "There is nothing here. The room or page may never have existed."
	case http.StatusForbidden:
		return "You may not do that here."
	case http.StatusBadRequest:
		return "The request did not make sense to the server."
	case http.StatusRequestEntityTooLarge:
		return "That was more than the server takes in one request."
	case http.StatusTooManyRequests:
		return "Slow down a little, then try again."
	}
	if status >= 500 {
		return "Something went wrong on our side. Try again in a moment."
	}
	return http.StatusText(status)
}

func routePattern(c *fiber.Ctx) string {
	if r := c.Route(); r != nil && r.Path != "" {
		return r.Path
	}
	return "unmatched"
}
