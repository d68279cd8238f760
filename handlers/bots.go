package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"chat/i18n"
	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

// validWebhook says what is wrong with a bot's webhook address, in the
// reader's language, or "".
func (a *App) validWebhook(l *i18n.Lang, raw string) string {
	if raw == "" {
		return ""
	}
	badPort := l.T("bots.bad_port")
	u, err := url.Parse(raw)
	if err != nil && strings.Contains(err.Error(), "invalid port") {
		return badPort // net/url says no more than this of a port not made of digits
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return l.T("bots.bad_address")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return badPort
		}
	}
	if !a.webhooks.AllowedHost(u.Hostname()) {
		return l.F("bots.host_not_allowed", "Host", u.Hostname())
	}
	return ""
}

// handleBotCreate makes a bot and shows its token, once.
func (a *App) handleBotCreate(c *fiber.Ctx) error {
	name := strings.TrimSpace(c.FormValue("name"))
	hook := strings.TrimSpace(c.FormValue("webhook_url"))
	problem := validateUsername(a.tr(c), name)
	if problem == "" {
		problem = a.validWebhook(a.tr(c), hook)
	}
	status := http.StatusUnprocessableEntity
	if problem == "" {
		bot, token, err := a.store.CreateBot(c.UserContext(), name, hook)
		switch {
		case err == nil:
			a.webhooks.Learn(bot)
			s, _ := session(c)
			a.log.Info("bot created", "bot", bot.Username, "by", s.User.Username, "webhook", hook != "")
			c.Set(fiber.HeaderCacheControl, "no-store")
			return render(c, http.StatusOK, views.BotCreated(views.BotCreatedPage{Viewer: viewer(c), Name: bot.Username, Token: token}))
		case errors.Is(err, store.ErrConflict):
			problem, status = a.tr(c).T("bots.name_taken"), http.StatusConflict
		default:
			return err
		}
	}
	return a.adminPage(c, status, views.AdminPage{Error: problem, BotName: name, BotWebhook: hook})
}

// handleBotRoom puts a bot in a room.
func (a *App) handleBotRoom(c *fiber.Ctx) error {
	bot, err := a.findUserParam(c)
	if err != nil {
		return err
	}
	if !bot.IsBot || bot.Deactivated {
		return fiber.NewError(http.StatusNotFound, a.tr(c).T("bots.no_such_bot"))
	}
	roomID, err := parseID(c.FormValue("room"))
	if err != nil {
		return fiber.NewError(http.StatusUnprocessableEntity, a.tr(c).T("bots.choose_room"))
	}
	if _, err := a.writeEntry(c.UserContext(), roomID, func(ctx context.Context, b *store.Batch) (store.Message, bool, error) {
		return b.JoinRoom(ctx, roomID, bot.ID)
	}); err != nil {
		return err
	}
	return c.Redirect(adminDoneURL("bot-room", bot.Username, roomID), fiber.StatusSeeOther)
}
