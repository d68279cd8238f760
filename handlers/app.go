// Package handlers is the chat's web application: pages, forms, history
// fragments and the room WebSocket, on Fiber.
package handlers

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"chat/hub"
	"chat/i18n"
	"chat/linkpreview"
	"chat/lists"
	"chat/media"
	"chat/metrics"
	"chat/password"
	"chat/posting"
	"chat/ratelimit"
	"chat/store"
	"chat/unread"
	"chat/views"
	"chat/webhooks"

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
	// RoomLimit is how many rooms a user may create per hour; 0 turns the
	// limit off.
	RoomLimit int
	// RegisterLimit is how many accounts one client address may make per
	// hour; 0 turns the limit off.
	RegisterLimit int
	// LoginLimit is how many failed logins a username may have in 15
	// minutes before the next gets 429; 0 turns the limit off.
	LoginLimit int
	// LoginAddrLimit is how many failed logins one client address may have
	// in 15 minutes before the next gets 429; it is much higher than
	// LoginLimit, as thousands may share an address. 0 turns it off.
	LoginAddrLimit int
	// BaseURL is the chat's public address (scheme and host), which the
	// links it hands out start with; empty: links are paths alone.
	BaseURL string
	// BodyLimit bounds a request body, in bytes; 0 means 256 KiB.
	BodyLimit int
	// SessionIdle is how long a session lives unused (the cookie's age).
	SessionIdle time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed (the client address); no one else's is.
	TrustedProxies []netip.Prefix
	// Argon2 is the cost of password hashes; zero means DefaultArgon2.
	Argon2 Argon2Params
	// WriteTimeout bounds one write to a socket; a peer that takes longer
	// to take a frame is dropped. 0 means 10 s.
	WriteTimeout time.Duration
	// PingEvery is how often a socket is pinged, and PeerTimeout how long
	// a peer may stay silent (no frame, no pong) before it is dropped;
	// 0 means 30 s and 60 s.
	PingEvery, PeerTimeout time.Duration
	// Metrics are recorded here; nil makes a registry of the app's own.
	Metrics *Metrics
	// MetricsElsewhere keeps /metrics off the chat's address (it is then
	// served on an address of its own by whoever has Metrics).
	MetricsElsewhere bool
	// Clock tells the time to the rate limits; nil means time.Now.
	Clock func() time.Time
	// WebhookAllow are the hosts bots' webhooks may be called on; none
	// when empty.
	WebhookAllow []string
	// WebhookTimeout bounds one call to a webhook, and WebhookBackoff is
	// the pause before its second try; 0 means 5 s and 500 ms.
	WebhookTimeout, WebhookBackoff time.Duration
	// UploadLimit is the largest file, in bytes; 0 means
	// DefaultUploadLimit. UploadQuota is what one user may upload in a
	// day; 0 means DefaultUploadQuota.
	UploadLimit, UploadQuota int64
	// LinkPreviews fetches the cards of posts' first links; nil: no
	// previews.
	LinkPreviews *linkpreview.Fetcher
	// Pictures decodes the pictures posted, for their previews: shared
	// with LinkPreviews' pictures, so that the bound of decodes at once
	// is the chat's. nil: NewPictures.
	Pictures *media.Pictures
	// Clustered says that the hub is linked to other instances' (package
	// cluster): entries reach this instance's unread marks through
	// ClusterHooks.OnEntry, on every instance, rather than from the
	// writer.
	Clustered bool
}

// Argon2Params are the cost of a password hash (package password).
type Argon2Params = password.Params

// DefaultArgon2 is the cost a zero Deps.Argon2 stands for.
var DefaultArgon2 = password.Default

// Metrics are the chat's Prometheus metrics (package metrics).
type Metrics = metrics.Metrics

// NewMetrics makes the chat's metrics, reading connection counts from h.
func NewMetrics(h *hub.Hub) *Metrics { return metrics.New(h) }

// App holds the handlers' shared state.
type App struct {
	store        *store.Store
	writer       *posting.Writer
	metrics      *Metrics
	hub          *hub.Hub
	log          *slog.Logger
	posts        ratelimit.Limiter[int64]
	boosts       ratelimit.Limiter[int64]
	unread       *unread.Rooms
	lists        *lists.Lists
	webhooks     *webhooks.Webhooks
	bodyLimit    int
	rooms        ratelimit.Limiter[int64]
	roomChanges  ratelimit.Limiter[int64]
	signups      ratelimit.Limiter[string] // accounts made per client address
	loginNames   ratelimit.Limiter[string]
	loginAddrs   ratelimit.Limiter[string]
	proxies      []netip.Prefix
	baseURL      string
	sessionIdle  time.Duration
	argon        Argon2Params
	now          func() time.Time
	writeTimeout time.Duration
	pingEvery    time.Duration
	peerTimeout  time.Duration
	dummyHash    string
	// hashing bounds the password hashes computed at once: each takes
	// 19 MiB, and a burst of logins must not take the machine's memory.
	hashing chan struct{}
	// decoding bounds the pictures decoded at once (see checkAvatar).
	decoding decodeSlots
	// uploads bounds the pictures arriving at once (see bodyLimitFor),
	// and fileUploads the posts with files.
	uploads, fileUploads uploadSlots
	// heldUploads are the places held, by their request's header
	// (*fasthttp.RequestHeader → heldUpload).
	heldUploads sync.Map
	// uploadLimit is the largest file, uploadQuota what a user may
	// upload in a day.
	uploadLimit, uploadQuota int64
	// pictures makes the previews of pictures posted, a few at a time,
	// one of each user's at a time (userDecodes).
	pictures    *media.Pictures
	userDecodes perUser
	// stopSweep ends sweepFiles, which then closes swept.
	stopSweep context.CancelFunc
	swept     chan struct{}
	// cards fetches link previews; nil when they are off.
	cards *cards
	// handshakes holds, per connection whose socket upgrade is under
	// way, how to give back its place (see connState).
	handshakes sync.Map // net.Conn → func()
	// public are the routes open to the signed-out (see routes).
	public publicPaths
	// langs are the languages the chat speaks (language.go).
	langs *i18n.Catalog
	// typing holds when each user last said they were typing, by POST.
	typing typingMarks
	// clustered: entries and room events reach this instance through
	// its cluster link (ClusterHooks), on every instance.
	clustered bool
	// entryMarkup keeps entries' markup for the pages that list them
	// (views.EntryCache says what keeps it right), entryMarkupBytes of it.
	entryMarkup *views.EntryCache
	// zipped keeps pages compressed (pagezip.go).
	zipped *zippedPages
	// kept keeps pages as made for each session (keptpages.go).
	kept *keptPages
}

// entryMarkupBytes bounds the entries' markup kept: about 8,000 entries
// of a kilobyte, in each language read.
const entryMarkupBytes = 8 << 20

// NewApp builds the Fiber application serving the chat.
func NewApp(d Deps) *fiber.App {
	_, app := newApp(d)
	return app
}

func newApp(d Deps) (*App, *fiber.App) {
	a := newState(d)
	a.buildJobs(d)
	app := fiber.New(a.fiberConfig(d))
	app.Server().ConnState = a.connState
	app.Server().HeaderReceived = a.bodyLimitFor
	a.routes(app, !d.MetricsElsewhere)
	a.startJobs(app)
	return a, app
}

// newState is the App with its settings, their defaults filled in, and
// its rate limits; the jobs come next (buildJobs).
func newState(d Deps) *App {
	a := &App{
		langs:        i18n.Default(),
		store:        d.Store,
		hub:          d.Hub,
		log:          d.Logger,
		metrics:      d.Metrics,
		posts:        ratelimit.New[int64](d.Store, "post", d.PostLimit, 10*time.Second, d.Logger),
		boosts:       ratelimit.New[int64](d.Store, "boost", d.PostLimit, 10*time.Second, d.Logger),
		rooms:        ratelimit.New[int64](d.Store, "room", d.RoomLimit, time.Hour, d.Logger),
		roomChanges:  ratelimit.New[int64](d.Store, "room-change", roomChangesPerRoom*d.RoomLimit, time.Hour, d.Logger),
		signups:      ratelimit.New[string](d.Store, "register", d.RegisterLimit, time.Hour, d.Logger),
		loginNames:   ratelimit.New[string](d.Store, "login-name", d.LoginLimit, loginWindow, d.Logger),
		loginAddrs:   ratelimit.New[string](d.Store, "login-addr", d.LoginAddrLimit, loginWindow, d.Logger),
		bodyLimit:    cmp.Or(max(d.BodyLimit, 0), 256<<10),
		proxies:      d.TrustedProxies,
		baseURL:      strings.TrimSuffix(d.BaseURL, "/"),
		sessionIdle:  cmp.Or(max(d.SessionIdle, 0), store.DefaultSessionIdle),
		argon:        cmp.Or(d.Argon2, DefaultArgon2),
		now:          d.Clock,
		writeTimeout: cmp.Or(max(d.WriteTimeout, 0), wsWriteWait),
		pingEvery:    cmp.Or(max(d.PingEvery, 0), wsPingEvery),
		peerTimeout:  cmp.Or(max(d.PeerTimeout, 0), wsPongWait),
		hashing:      make(chan struct{}, 4),
		fileUploads:  uploadSlots{perUser: fileUploadsPerUser, atOnce: fileUploadsAtOnce},
		uploadLimit:  cmp.Or(max(d.UploadLimit, 0), DefaultUploadLimit),
		uploadQuota:  cmp.Or(max(d.UploadQuota, 0), DefaultUploadQuota),
		pictures:     cmp.Or(d.Pictures, NewPictures()),
		swept:        make(chan struct{}),
		cards:        newCards(d.LinkPreviews),
		entryMarkup:  views.NewEntryCache(entryMarkupBytes),
		zipped:       newZippedPages(zippedPagesBytes),
		kept:         newKeptPages(keptPagesBytes, keptPerSession),
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.metrics == nil {
		a.metrics = NewMetrics(d.Hub)
	}
	// A login for an unknown name checks against this hash, so that it
	// costs as much as a wrong password and does not tell the name is free.
	a.dummyHash = password.Hash(a.argon, rand.Text())
	return a
}

// buildJobs makes the parts that work beside the requests: the read
// marks, the bots' webhooks and the writer of entries, each told at once
// of all it needs; startJobs starts them.
func (a *App) buildJobs(d Deps) {
	a.unread = unread.New(unread.Config{Store: d.Store, Hub: d.Hub, Log: a.log, Link: roomLinkFrame, Notice: noticeFrame, Here: d.Clustered})
	a.lists = lists.New(lists.Config{Store: d.Store, Hub: d.Hub, Log: a.log, Listed: roomListedFrame, Gone: roomGoneFrame, Counted: a.unread.Counted})
	a.clustered = d.Clustered
	wc := webhooks.Config{
		Allow: d.WebhookAllow, Timeout: d.WebhookTimeout, Backoff: d.WebhookBackoff, Log: a.log,
		Reply: a.botReply, Count: a.metrics.WebhookCall, Store: d.Store,
	}
	ec := posting.Config{Store: d.Store, Hub: d.Hub, Metrics: a.metrics, Log: a.log, Frame: entryFrame}
	if d.Clustered {
		// Bots made, changed or deactivated on another instance reach
		// this one's directory within botsRefresh.
		wc.Refresh = botsRefresh
	}
	a.webhooks = webhooks.New(wc)
	if d.Clustered {
		a.clusterWriter(&ec)
	} else {
		ec.OnEntry = func(m store.Message) {
			// Right after the entry is pushed, before the next: see
			// closeOnEntry. Only a leave or a change of access can shut
			// anyone out; posts, the bulk, skip it.
			if m.Kind == store.KindLeave || m.Kind == store.KindAccess {
				a.closeOnEntry(m.RoomID, entryMeta(m))
			}
			if room := a.unread.Entry(m); room != nil {
				a.webhooks.Entry(m, room.Kind, room.Members)
			}
			a.lists.Entry(m, false)
		}
	}
	a.writer = posting.New(ec)
}

// startJobs starts the jobs, and stops them after the last request: calls
// to webhooks stop, writes taken are finished, and what users have seen is
// written, before the database is closed.
func (a *App) startJobs(app *fiber.App) {
	a.writer.Start()
	a.unread.Start()
	a.webhooks.Start()
	sweep, stopSweep := context.WithCancel(context.Background())
	a.stopSweep = stopSweep
	go a.sweepFiles(sweep, a.swept)
	if a.cards != nil {
		a.cards.start(a)
	}
	app.Hooks().OnShutdown(func() error {
		a.stopSweep()
		<-a.swept
		if a.cards != nil {
			a.cards.close()
		}
		a.webhooks.Close()
		a.writer.Close()
		a.unread.Close()
		return nil
	})
}

func (a *App) fiberConfig(d Deps) fiber.Config {
	proxies := make([]string, len(d.TrustedProxies))
	for i, p := range d.TrustedProxies {
		proxies[i] = p.String()
	}
	return fiber.Config{
		AppName:               "chat",
		DisableStartupMessage: true,
		ErrorHandler:          a.handleError,
		// The most any body may be; bodyLimitFor holds each request to
		// its own limit before its body is read.
		BodyLimit: max(a.bodyLimit, avatarBodyMax),
		// Fiber reads forwarded headers from the trusted proxies only.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          proxies,
		ReadBufferSize:          4 << 10,
		ReadTimeout:             readTimeout,
		WriteTimeout:            30 * time.Second,
		IdleTimeout:             2 * time.Minute,
	}
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
	return views.Viewer{Username: s.User.Username, Admin: s.User.IsAdmin, Sound: s.User.Sound}
}

// clientIP is the address of the client: the peer, or, when the peer is a
// trusted proxy, the last address in X-Forwarded-For that is not one (the
// ones before it are whatever the client chose to send).
func (a *App) clientIP(c *fiber.Ctx) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return c.Context().RemoteIP().String()
	}
	peer = peer.Unmap()
	if !a.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		hop = hop.Unmap()
		if !a.trusted(hop) {
			return hop.String()
		}
		peer = hop
	}
	return peer.String()
}

// clientKey is the client's address as rate limits count it: an IPv6
// client by its /64, the block one subscriber is given, so that the
// addresses of one block are not a fresh allowance each.
func (a *App) clientKey(c *fiber.Ctx) string {
	ip := a.clientIP(c)
	addr, err := netip.ParseAddr(ip)
	if err != nil || !addr.Is6() {
		return ip
	}
	return netip.PrefixFrom(addr, 64).Masked().String()
}

func (a *App) trusted(addr netip.Addr) bool {
	for _, p := range a.proxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
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

// refusal is an answer of a status whose words are a key of the catalog:
// handleError says them in the reader's language (in English to the bots'
// API). Middleware that runs before the language is chosen refuses so.
type refusal struct {
	status int
	key    string
}

func (r *refusal) Error() string { return r.key }

// handleError is the one place errors become answers: a status, and a page
// or (to htmx) a fragment, in the reader's language. Server faults are
// logged once, with the request id; their details never reach the user.
func (a *App) handleError(c *fiber.Ctx, err error) error {
	// The server's own answers (a malformed request, a body or headers
	// too large) reach here without the middleware.
	setSecurityHeaders(c)
	a.giveBackUpload(c)
	l := a.tr(c)
	c.SetUserContext(views.WithHere(i18n.With(c.UserContext(), l), herePath(c)))
	status := http.StatusInternalServerError
	msg := ""
	var fe *fiber.Error
	var r *refusal
	switch {
	case errors.As(err, &r):
		status, msg = r.status, l.T(r.key)
	case errors.As(err, &fe) && fe.Code == http.StatusRequestEntityTooLarge && c.Get(uploadHeader) == uploadRefused:
		c.Set(fiber.HeaderRetryAfter, "30")
		status, msg = http.StatusTooManyRequests, l.T("errors.uploads_busy")
	case errors.As(err, &fe) && fe.Code == http.StatusBadRequest && strings.HasPrefix(fe.Message, "cannot read multipart/form-data body"):
		// The server's own words on a form it could not parse.
		status, msg = fe.Code, l.T("errors.form_unreadable")
	case errors.As(err, &fe):
		status, msg = fe.Code, fe.Message
	case errors.Is(err, store.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, store.ErrNotMember):
		status, msg = http.StatusForbidden, l.T("errors.join_first")
	case errors.Is(err, store.ErrArchived):
		status, msg = http.StatusForbidden, l.T("errors.archived")
	case errors.Is(err, store.ErrForbidden):
		status, msg = http.StatusForbidden, l.T("errors.not_open")
	case errors.Is(err, errBusy):
		c.Set(fiber.HeaderRetryAfter, "5")
		status, msg = http.StatusServiceUnavailable, l.T("errors.busy")
	case errors.Is(err, posting.ErrShuttingDown):
		status, msg = http.StatusServiceUnavailable, l.T("errors.restarting")
	case errors.Is(err, context.Canceled):
		status = 499
	}
	if status >= 500 {
		level := slog.LevelError
		if errors.Is(err, errBusy) || errors.Is(err, posting.ErrShuttingDown) {
			level = slog.LevelWarn // the server holding back, not failing
		}
		a.log.Log(c.UserContext(), level, "request failed", "request_id", c.Locals(localRequestID), "method", c.Method(), "route", routePattern(c), "err", err)
		msg = ""
	}
	title := errorTitle(l, status)
	// Fiber's own errors (fiber.ErrNotFound) say no more than the status.
	if msg == "" || msg == title || msg == http.StatusText(status) {
		msg = defaultMessage(l, status)
	}
	if strings.HasPrefix(c.Path(), "/api/") {
		if status == http.StatusUnauthorized {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="chat"`)
		}
		return c.Status(status).JSON(apiError{Error: msg})
	}
	if isHTMX(c) {
		return render(c, status, views.ErrorFragment(msg))
	}
	return render(c, status, views.Error(views.ErrorPage{Viewer: viewer(c), Status: status, Title: title, Message: msg}))
}

// errorTitle is the name of a status in the reader's language ("Not
// Found"), or "Error" for one the catalog does not name.
func errorTitle(l *i18n.Lang, status int) string {
	if key := "errors.title." + strconv.Itoa(status); l.Has(key) {
		return l.T(key)
	}
	return l.T("errors.title")
}

// defaultMessage is what an error page says when nothing more was said.
func defaultMessage(l *i18n.Lang, status int) string {
	switch status {
	case http.StatusNotFound, http.StatusForbidden, http.StatusBadRequest, http.StatusRequestEntityTooLarge,
		http.StatusTooManyRequests, http.StatusRequestHeaderFieldsTooLarge:
		return l.T("errors.message." + strconv.Itoa(status))
	}
	if status >= 500 {
		return l.T("errors.message.5xx")
	}
	return errorTitle(l, status)
}

func routePattern(c *fiber.Ctx) string {
	if r := c.Route(); r != nil && r.Path != "" {
		return r.Path
	}
	return "unmatched"
}
