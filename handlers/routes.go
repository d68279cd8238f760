package handlers

import (
	"strings"
	"sync"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/recover"
)

// publicPaths are the routes anyone may reach signed out: paths, and
// prefixes that open a whole group. routes fills it; requireSession reads
// it. Every other route sends the signed-out to the sign-in page.
type publicPaths struct {
	paths    map[string]bool
	prefixes []string
}

func (p *publicPaths) has(path string) bool {
	if p.paths[path] {
		return true
	}
	for _, pre := range p.prefixes {
		if strings.HasPrefix(path, pre) {
			return true
		}
	}
	return false
}

// public marks a route's path public, and returns it.
func (p *publicPaths) public(path string) string {
	p.paths[path] = true
	return path
}

// publicGroup is a group of routes under prefix, all of them public.
func (p *publicPaths) publicGroup(app *fiber.App, prefix string) fiber.Router {
	p.prefixes = append(p.prefixes, prefix+"/")
	return app.Group(prefix)
}

// routes lists every route of the chat; those marked public (public,
// publicGroup) are open to the signed-out. It is longer than a function
// should be for a reason: it is the one table of the chat's routes, read
// top to bottom to find where any address is handled.
func (a *App) routes(app *fiber.App, metrics bool) {
	pub := &a.public
	pub.paths = make(map[string]bool)
	app.Use(a.requestLog)
	app.Use(a.releaseUpload)
	app.Use(recover.New())
	app.Use(securityHeaders)
	// An event stream is never compressed: the compressor would hold its
	// events back until it had enough bytes.
	// Nor is a file: it streams from the database as it is, and its
	// pictures are compressed already.
	app.Use(compress.New(compress.Config{Level: compress.LevelBestSpeed, Next: func(c *fiber.Ctx) bool {
		return isEventStream(c) || strings.HasPrefix(c.Path(), "/files/")
	}}))
	app.Use(a.compressPages)
	app.Use(refuseEncodedBody)
	app.Use(crossOrigin)
	app.Use(a.loadSession)
	app.Use(a.requireSession)
	app.Use(a.chooseLanguage)

	app.Get(pub.public("/healthz"), a.handleHealth)
	pub.publicGroup(app, "/static").Get("/:version/:name", handleStatic)

	app.Get(pub.public("/register"), a.handleRegisterForm)
	app.Post(pub.public("/register"), a.handleRegister)
	app.Get(pub.public("/login"), a.handleLoginForm)
	app.Post(pub.public("/login"), a.handleLogin)
	app.Post("/logout", a.handleLogout)
	app.Get("/account/password", a.handleAccountForm)
	app.Post("/account/password", a.handlePasswordChange)
	app.Post("/account/sound", a.handleSoundChange)
	// Visitors choose a language too (a cookie keeps it).
	app.Post(pub.public("/account/language"), a.handleLanguageChange)

	// The pages asked for again and again are kept (keptpages.go).
	app.Get("/", a.keepPage, a.handleLobby)
	app.Post("/rooms", a.handleRoomCreate)
	app.Get("/rooms/:id", a.keepPage, a.handleRoomShow)
	app.Post("/rooms/:id/join", a.handleRoomJoin)
	app.Post("/rooms/:id/leave", a.handleRoomLeave)
	app.Post("/rooms/:id/notify", a.handleRoomNotify)
	app.Get("/rooms/:id/messages", a.keepPage, a.handleMessageList)
	app.Get("/rooms/:id/at/:msgid", a.handlePermalink)
	app.Get("/rooms/:id/mentions", a.handleMentionOptions)
	app.Get("/messages/:id", a.handleMessageShow)
	app.Get("/messages/:id/edit", a.handleMessageEditForm)
	app.Post("/messages/:id/edit", a.handleMessageEdit)
	app.Post("/messages/:id/delete", a.handleMessageDelete)
	app.Get("/messages/:id/react", a.handleReactForm)
	app.Post("/messages/:id/boosts", a.handleBoost)
	app.Post("/messages/:id/card/remove", a.handleCardRemove)
	app.Get("/search", a.keepPage, a.handleSearch)
	app.Get("/switch", a.handleSwitch)
	app.Post("/rooms/:id/messages", a.handleMessageCreate)
	app.Get("/files/:id/preview/:name", a.handleFile)
	app.Get("/files/:id/:name", a.handleFile)
	// Who gets in: members, and managing a room (roomadmin.go).
	app.Post("/rooms/:id/members", a.handleMemberAdd)
	app.Post("/rooms/:id/members/:username/remove", a.handleMemberRemove)
	app.Post("/rooms/:id/rename", a.handleRoomRename)
	app.Post("/rooms/:id/access", a.handleRoomAccess)
	app.Post("/rooms/:id/archive", a.handleRoomArchive)
	app.Post("/rooms/:id/unarchive", a.handleRoomUnarchive)
	app.Get("/rooms/:id/delete", a.handleRoomDeleteForm)
	app.Post("/rooms/:id/delete", a.handleRoomDelete)
	sockets := websocket.New(a.serveWS, websocket.Config{
		// Client frames are small; a read buffer is held by every idle
		// connection, in front of the one fasthttp keeps for it (4 KiB,
		// fiberConfig's ReadBufferSize): 128 bytes hold a control frame,
		// the most the websocket package reads at once through it; longer
		// payloads bypass it. Write buffers are lent from a pool while
		// writing.
		ReadBufferSize:  128,
		WriteBufferSize: 16 << 10,
		WriteBufferPool: &sync.Pool{},
		RecoverHandler:  a.recoverWS,
	})
	app.Get("/rooms/:id/ws", a.handleWSUpgrade, sockets)
	app.Get("/ws", a.handleUserWSUpgrade, sockets)
	// The same, as event streams, where sockets do not get through.
	app.Get("/rooms/:id/events", a.handleRoomEvents)
	app.Get("/events", a.handleUserEvents)
	app.Post("/rooms/:id/typing", a.handleTyping)

	if metrics {
		// Signed in, like every page but the few the contract opens; a
		// scraper wants -metrics-addr.
		app.Get("/metrics", adaptor.HTTPHandler(a.metrics.Handler()))
	}
	app.Get("/users/:username/avatar", a.handleAvatar)
	app.Get("/users/:username", a.handleProfile)
	app.Post("/users/:username/dm", a.handleDMOpen)
	app.Post("/account/avatar", a.handleAvatarUpload)
	app.Post("/account/avatar/delete", a.handleAvatarDelete)
	// A reset link is its own key.
	reset := pub.publicGroup(app, "/reset")
	reset.Get("/:token", a.handleResetForm)
	reset.Post("/:token", a.handleReset)
	// An invitation link is its own key (invites.go).
	pub.publicGroup(app, "/join").Get("/:token", a.handleJoinForm)

	admin := app.Group("/admin", requireAdmin)
	admin.Get("", a.handleAdmin)
	admin.Get("/users/:username/deactivate", a.handleDeactivateConfirm)
	admin.Post("/users/:username/deactivate", a.handleDeactivate)
	admin.Get("/users/:username/admin", a.handleMakeAdminConfirm)
	admin.Post("/users/:username/admin", a.handleMakeAdmin)
	admin.Post("/users/:username/reset", a.handleResetLink)
	admin.Post("/bots", a.handleBotCreate)
	admin.Post("/bots/:username/rooms", a.handleBotRoom)
	admin.Post("/registration", a.handleRegistrationPolicy)
	admin.Post("/invitations", a.handleInvitationCreate)
	admin.Post("/invitations/:id/revoke", a.handleInvitationRevoke)

	// The bots' API: a bot's token in a header, no session.
	api := pub.publicGroup(app, "/api")
	api.Post("/rooms/:id/messages", a.handleAPIPost)
	api.Post("/users/:username/dm", a.handleAPIDM)
	app.Get("/viewer.css", handleViewerCSS)

	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}

func (a *App) handleHealth(c *fiber.Ctx) error {
	if err := a.store.Ping(c.UserContext()); err != nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "database unavailable")
	}
	return c.SendString("ok")
}
