package handlers

import (
	"sync"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/recover"
)

// routes lists every route of the chat.
func (a *App) routes(app *fiber.App, metrics bool) {
	app.Use(a.requestLog)
	app.Use(recover.New())
	app.Use(securityHeaders)
	app.Use(compress.New(compress.Config{Level: compress.LevelBestSpeed}))
	app.Use(refuseEncodedBody)
	app.Use(crossOrigin)
	app.Use(a.loadSession)
	app.Use(requireSession)

	app.Get("/healthz", a.handleHealth)
	app.Get("/static/:version/:name", handleStatic)

	app.Get("/register", a.handleRegisterForm)
	app.Post("/register", a.handleRegister)
	app.Get("/login", a.handleLoginForm)
	app.Post("/login", a.handleLogin)
	app.Post("/logout", a.handleLogout)
	app.Get("/account/password", a.handleAccountForm)
	app.Post("/account/password", a.handlePasswordChange)

	app.Get("/", a.handleLobby)
	app.Post("/rooms", a.handleRoomCreate)
	app.Get("/rooms/:id", a.handleRoomShow)
	app.Post("/rooms/:id/join", a.handleRoomJoin)
	app.Post("/rooms/:id/leave", a.handleRoomLeave)
	app.Get("/rooms/:id/messages", a.handleMessageList)
	app.Get("/rooms/:id/at/:msgid", a.handlePermalink)
	app.Get("/rooms/:id/mentions", a.handleMentionOptions)
	app.Get("/messages/:id", a.handleMessageShow)
	app.Get("/messages/:id/edit", a.handleMessageEditForm)
	app.Post("/messages/:id/edit", a.handleMessageEdit)
	app.Post("/messages/:id/delete", a.handleMessageDelete)
	app.Get("/messages/:id/react", a.handleReactForm)
	app.Post("/messages/:id/boosts", a.handleBoost)
	app.Get("/search", a.handleSearch)
	app.Post("/rooms/:id/messages", a.handleMessageCreate)
	sockets := websocket.New(a.serveWS, websocket.Config{
		// Client frames are small; a read buffer is held by every idle
		// connection. Write buffers are lent from a pool while writing.
		ReadBufferSize:  512,
		WriteBufferSize: 16 << 10,
		WriteBufferPool: &sync.Pool{},
		RecoverHandler:  a.recoverWS,
	})
	app.Get("/rooms/:id/ws", a.handleWSUpgrade, sockets)
	app.Get("/ws", a.handleUserWSUpgrade, sockets)

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
	app.Get("/reset/:token", a.handleResetForm)
	app.Post("/reset/:token", a.handleReset)

	admin := app.Group("/admin", requireAdmin)
	admin.Get("", a.handleAdmin)
	admin.Post("/users/:username/deactivate", a.handleDeactivate)
	admin.Post("/users/:username/admin", a.handleMakeAdmin)
	admin.Post("/users/:username/reset", a.handleResetLink)
	admin.Post("/bots", a.handleBotCreate)
	admin.Post("/bots/:username/rooms", a.handleBotRoom)

	app.Post("/api/rooms/:id/messages", a.handleAPIPost)
	app.Post("/api/users/:username/dm", a.handleAPIDM)
	app.Get("/viewer.css", handleViewerCSS)

	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}

func (a *App) handleHealth(c *fiber.Ctx) error {
	if err := a.store.Ping(c.UserContext()); err != nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "database unavailable")
	}
	return c.SendString("ok")
}
