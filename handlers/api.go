package handlers

import (
	"errors"
	"net/http"
	"strings"

	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

// The bots' API: JSON answers, a bot's token in the Authorization header,
// no cookies (so no cross-site form can use it). Its errors are answered
// by handleError, as {"error": "…"}.

type apiError struct {
	Error string `json:"error"`
}

// apiBot finds the bot of the request's bearer token.
func (a *App) apiBot(c *fiber.Ctx) (store.User, error) {
	auth := c.Get(fiber.HeaderAuthorization)
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		return store.User{}, fiber.NewError(http.StatusUnauthorized, "An Authorization: Bearer header with a bot's token is needed.")
	}
	bot, err := a.store.FindBotByToken(c.UserContext(), strings.TrimSpace(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fiber.NewError(http.StatusUnauthorized, "That token is no bot's, or its bot was deactivated.")
	}
	if err != nil {
		return store.User{}, err
	}
	return bot, nil
}

// handleAPIPost posts the request's plain-text body as the bot, or a
// multipart form's text and files: 201 with the entry's id.
func (a *App) handleAPIPost(c *fiber.Ctx) error {
	bot, err := a.apiBot(c)
	if err != nil {
		return err
	}
	id, err := parseID(c.Params("id"))
	if err != nil {
		return fiber.NewError(http.StatusNotFound, "There is no such room.")
	}
	// A closed room the bot is no member of is as unknown to it as to
	// anyone else.
	if _, err := a.readableRoom(c.UserContext(), id, bot); errors.Is(err, store.ErrNotFound) {
		return fiber.NewError(http.StatusNotFound, "There is no such room.")
	} else if err != nil {
		return err
	}
	// The body as sent: refuseEncodedBody turned away compressed ones,
	// and nothing here inflates it. A multipart form carries files, and
	// its text in a field.
	// (Read as the one or the other: the body of a multipart form would
	// be made again from its files, every byte of them.)
	var text string
	files, err := formFiles(c)
	if isMultipart(c) {
		text = strings.Clone(c.FormValue("text"))
	} else {
		text = string(c.BodyRaw())
	}
	var msg store.Message
	if err == nil {
		msg, err = a.postFiles(c.UserContext(), id, bot, text, "", files)
	}
	var refused *errPostRefused
	if errors.As(err, &refused) {
		if refused.status == http.StatusTooManyRequests {
			c.Set(fiber.HeaderRetryAfter, "10")
		}
		return fiber.NewError(refused.status, refused.reason)
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, views.PermalinkURL(id, msg.ID))
	return c.Status(http.StatusCreated).JSON(fiber.Map{"id": msg.ID})
}

// handleAPIDM answers the direct messages of the bot and a user: where the
// bot writes to them.
func (a *App) handleAPIDM(c *fiber.Ctx) error {
	bot, err := a.apiBot(c)
	if err != nil {
		return err
	}
	u, err := a.findUserParam(c)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, fiber.ErrNotFound) || (err == nil && (u.Deactivated || u.ID == bot.ID)) {
		return fiber.NewError(http.StatusNotFound, "There is no such user to write to.")
	}
	if err != nil {
		return err
	}
	room, created, err := a.store.OpenDMCreated(c.UserContext(), bot, u)
	if err != nil {
		return err
	}
	if created {
		a.lists.DMOpened(room.ID, bot.Username, u.Username)
	}
	return c.JSON(fiber.Map{"room": room.ID})
}
