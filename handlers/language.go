package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"chat/i18n"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

// langCookie keeps a visitor's choice of language; a signed-in user's is
// kept with their account too.
const langCookie = "lang"

// localLang is the *i18n.Lang of the request, once chosen.
const localLang = "lang"

// chooseLanguage picks the language of the request's answer (langOf) and
// puts it in the request's context, where views find it.
func (a *App) chooseLanguage(c *fiber.Ctx) error {
	// Files and the page's own assets are the same in every language.
	if p := c.Path(); strings.HasPrefix(p, "/static/") || strings.HasPrefix(p, "/files/") {
		return c.Next()
	}
	ctx := views.WithHere(i18n.With(c.UserContext(), a.langOf(c)), herePath(c))
	c.SetUserContext(views.WithEntryCache(ctx, a.entryMarkup))
	return c.Next()
}

// herePath is the page a choice of language made on the answer comes
// back to: the path asked for, or, for an answer to a form (a 422 shown
// again at a POST-only address), the page the form was on, by its
// Referer when it is this site's; else the lobby.
func herePath(c *fiber.Ctx) string {
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		return strings.Clone(c.OriginalURL())
	}
	if u, err := url.Parse(c.Get(fiber.HeaderReferer)); err == nil && u.Host != "" && strings.EqualFold(u.Host, c.Hostname()) {
		return localPath(u.EscapedPath(), "/")
	}
	return "/"
}

// langOf is the reader's language: the one their account chose, else the
// one their cookie keeps, else the best of their browser's
// Accept-Language, else English. An answer that depends on the header
// says so (Vary) for caches.
func (a *App) langOf(c *fiber.Ctx) *i18n.Lang {
	if l, ok := c.Locals(localLang).(*i18n.Lang); ok {
		return l
	}
	// The bots' API speaks English to every bot.
	if strings.HasPrefix(c.Path(), "/api/") {
		l := a.langs.English()
		c.Locals(localLang, l)
		return l
	}
	choice := ""
	if s, ok := session(c); ok {
		choice = s.User.Language
	}
	if choice == "" {
		choice = c.Cookies(langCookie)
		// The cookie may decide: a cache must not give this answer to
		// another visitor.
		c.Vary(fiber.HeaderCookie)
	}
	if _, ok := a.langs.Lookup(choice); !ok {
		c.Vary(fiber.HeaderAcceptLanguage)
	}
	l := a.langs.Negotiate(choice, c.Get(fiber.HeaderAcceptLanguage))
	c.Locals(localLang, l)
	return l
}

// tr is the reader's language, for words a handler writes itself.
func (a *App) tr(c *fiber.Ctx) *i18n.Lang { return a.langOf(c) }

// handleLanguageChange keeps the reader's choice of language (lang=en|es):
// in a cookie, and with their account when they are signed in. It goes
// back to the page the choice was made on (next), or the lobby.
func (a *App) handleLanguageChange(c *fiber.Ctx) error {
	l, ok := a.langs.Lookup(c.FormValue("lang"))
	if !ok {
		return fiber.NewError(http.StatusUnprocessableEntity, a.tr(c).T("language.unknown"))
	}
	if s, signedIn := session(c); signedIn {
		if err := a.store.SetLanguage(c.UserContext(), s.User.ID, l.Tag); err != nil {
			return err
		}
	}
	c.Cookie(&fiber.Cookie{
		Name:     langCookie,
		Value:    l.Tag,
		Path:     "/",
		MaxAge:   int((365 * 24 * time.Hour).Seconds()),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Secure:   behindTLS(c),
	})
	return c.Redirect(localPath(c.FormValue("next"), "/"), fiber.StatusSeeOther)
}

// localPath is next when it is a path of this chat ("/rooms/3"), else
// fallback: a form's "go back here" never leads off the site.
func localPath(next, fallback string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || len(next) > 2048 {
		return fallback
	}
	// No backslash (a browser reads "/\\host" as "//host"), and no control
	// byte: a Location header carries none.
	for i := 0; i < len(next); i++ {
		if b := next[i]; b < 0x20 || b == 0x7f || b == '\\' {
			return fallback
		}
	}
	return next
}
