package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"chat/i18n"
	"chat/store"
	"chat/views"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"golang.org/x/text/unicode/norm"
)

// permalinkSide is how many entries a permalink shows before the entry it
// points at, and after.
const permalinkSide = 25

// errNoEntry answers an entry id that names nothing, and one that names
// an entry of a room the user may not read: the same answer, so that
// probing ids tells nobody where others' direct messages are.
var errNoEntry = fmt.Errorf("no such entry: %w", store.ErrNotFound)

// hideUnreadable turns a refusal to read a room into errNoEntry, for the
// routes that take an entry's id. (A direct message's own page, history
// and socket keep answering 403: the contract says so, and they take the
// room's id, which the stranger already knows.)
func hideUnreadable(err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) && fe.Code == http.StatusForbidden {
		return errNoEntry
	}
	return err
}

// findMessage finds the entry of the path, in a room the user may read;
// an entry of any other room is errNoEntry.
func (a *App) findMessage(c *fiber.Ctx) (store.Message, error) {
	id, err := pathID(c)
	if err != nil {
		return store.Message{}, err
	}
	m, err := a.store.FindMessage(c.UserContext(), id)
	if err != nil {
		return store.Message{}, err
	}
	s, _ := session(c)
	if _, err := a.readableRoom(c.UserContext(), m.RoomID, s.User); err != nil {
		return store.Message{}, hideUnreadable(err)
	}
	return m, nil
}

// The changes of a message, each named by the key of its refusal to
// anyone but the author ("Only its author may edit a message.").
const (
	changeEdit   = "msg.only_author_edit"
	changeDelete = "msg.only_author_delete"
	changeReact  = "msg.only_author_react"
	changeCard   = "msg.only_author_card"
)

// refusedChange answers a change the store refused: as changeError says
// to a reader of the entry's room, and as for an unknown entry to anyone
// else.
func (a *App) refusedChange(c *fiber.Ctx, err error, change string) error {
	if errors.Is(err, store.ErrNotFound) {
		return err
	}
	if _, ferr := a.findMessage(c); ferr != nil {
		return ferr
	}
	return changeError(a.tr(c), err, change)
}

// changeError turns a refused change (one of the change* keys) into an
// answer in the reader's language.
func changeError(l *i18n.Lang, err error, change string) error {
	switch {
	case errors.Is(err, store.ErrForbidden):
		return fiber.NewError(http.StatusForbidden, l.T(change))
	case errors.Is(err, store.ErrDeleted):
		return fiber.NewError(http.StatusConflict, l.T("msg.gone"))
	case errors.Is(err, store.ErrNotMember):
		return fiber.NewError(http.StatusForbidden, l.T("react.join_first"))
	case errors.Is(err, store.ErrArchived):
		return fiber.NewError(http.StatusForbidden, l.T("errors.archived"))
	}
	return err
}

// handleMessageShow answers an entry as it is now: a fragment to htmx (an
// edit given up), else the room around it.
func (a *App) handleMessageShow(c *fiber.Ctx) error {
	m, err := a.findMessage(c)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return c.Redirect(views.PermalinkURL(m.RoomID, m.ID), fiber.StatusSeeOther)
	}
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	return render(c, http.StatusOK, views.MessageItem(entry(m)))
}

// handleMessageEditForm shows the form that edits a post: in place of its
// text to htmx, else as a page.
func (a *App) handleMessageEditForm(c *fiber.Ctx) error {
	m, err := a.findMessage(c)
	if err != nil {
		return err
	}
	s, _ := session(c)
	if m.Kind != store.KindPost || m.UserID != s.User.ID {
		return changeError(a.tr(c), store.ErrForbidden, changeEdit)
	}
	if m.Deleted {
		return changeError(a.tr(c), store.ErrDeleted, changeEdit)
	}
	return a.showEditForm(c, http.StatusOK, m, m.Text, "")
}

func (a *App) showEditForm(c *fiber.Ctx, status int, m store.Message, text, problem string) error {
	e := entry(m)
	if isHTMX(c) {
		if status != http.StatusOK {
			c.Set("HX-Retarget", "#"+views.MessageID(m.ID)+" .edit-form")
			c.Set("HX-Reswap", "outerHTML")
		}
		return render(c, status, views.EditForm(e, text, problem))
	}
	return render(c, status, views.EditMessage(views.EditPage{Viewer: viewer(c), Entry: e, Text: text, Error: problem}))
}

// handleMessageEdit replaces the text of the user's own post, and pushes
// the post again to everyone in its room.
func (a *App) handleMessageEdit(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	s, _ := session(c)
	raw := c.FormValue("text")
	// A post of files may lose its words.
	hasFiles := false
	if strings.TrimSpace(raw) == "" {
		if m, err := a.findMessage(c); err == nil {
			hasFiles = len(m.Files) > 0
		}
	}
	text, problem := cleanPost(a.tr(c), raw, hasFiles)
	status := http.StatusUnprocessableEntity
	if problem == "" && !a.posts.Allow(s.User.ID, a.now()) {
		problem, status = "msg.too_fast", http.StatusTooManyRequests
		c.Set(fiber.HeaderRetryAfter, "10")
	}
	if problem != "" {
		m, err := a.findMessage(c)
		if err != nil {
			return err
		}
		if m.Kind != store.KindPost || m.UserID != s.User.ID {
			return changeError(a.tr(c), store.ErrForbidden, changeEdit)
		}
		return a.showEditForm(c, status, m, raw, sayProblem(a.tr(c), problem))
	}
	// Only in a room the user may read (a member removed from a closed
	// room edits nothing there).
	if _, err := a.findMessage(c); err != nil {
		return err
	}
	m, _, err := a.writer.Change(c.UserContext(), func(ctx context.Context, b *store.Batch) (store.Message, bool, error) {
		return b.EditPost(ctx, id, s.User.ID, text)
	}, changedFrame)
	if err != nil {
		return a.refusedChange(c, err, changeEdit)
	}
	return a.changed(c, m, views.MessageItem(entry(m)))
}

// changed answers a change: the changed part to htmx, else the room around
// the entry.
func (a *App) changed(c *fiber.Ctx, m store.Message, part templ.Component) error {
	if isHTMX(c) {
		return render(c, http.StatusOK, part)
	}
	return c.Redirect(views.PermalinkURL(m.RoomID, m.ID), fiber.StatusSeeOther)
}

// handleMessageDelete deletes a post of the user's own or, for an admin,
// anyone's, and pushes the mark that stays to everyone in its room.
func (a *App) handleMessageDelete(c *fiber.Ctx) error {
	return a.changeMessage(c, changeDelete, func(ctx context.Context, b *store.Batch, id int64, user store.User) (store.Message, bool, error) {
		return b.DeletePost(ctx, id, user.ID, user.IsAdmin)
	})
}

// changeMessage makes a change of the user's to the request's message in
// a room they may read, pushes the entry again to everyone, and answers
// the change (changed); change names it in a refusal (changeDelete).
func (a *App) changeMessage(c *fiber.Ctx, change string, write func(ctx context.Context, b *store.Batch, id int64, user store.User) (store.Message, bool, error)) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	s, _ := session(c)
	if _, err := a.findMessage(c); err != nil {
		return err
	}
	m, _, err := a.writer.Change(c.UserContext(), func(ctx context.Context, b *store.Batch) (store.Message, bool, error) {
		return write(ctx, b, id, s.User)
	}, changedFrame)
	if err != nil {
		return a.refusedChange(c, err, change)
	}
	return a.changed(c, m, views.MessageItem(entry(m)))
}

// handleReactForm offers reactions to a post: a picker to htmx, else a
// page.
func (a *App) handleReactForm(c *fiber.Ctx) error {
	m, err := a.findMessage(c)
	if err != nil {
		return err
	}
	if m.Kind != store.KindPost {
		return fiber.NewError(http.StatusForbidden, a.tr(c).T("react.posts_only"))
	}
	if m.Deleted {
		return changeError(a.tr(c), store.ErrDeleted, changeReact)
	}
	return a.showPicker(c, http.StatusOK, m, "")
}

func (a *App) showPicker(c *fiber.Ctx, status int, m store.Message, problem string) error {
	e := entry(m)
	if isHTMX(c) {
		if status != http.StatusOK {
			c.Set("HX-Retarget", "#"+views.PickerID(m.ID))
			c.Set("HX-Reswap", "innerHTML")
		}
		return render(c, status, views.Picker(e, problem))
	}
	return render(c, status, views.ReactMessage(views.ReactPage{Viewer: viewer(c), Entry: e, Error: problem}))
}

// cleanBoost trims a reaction and returns what is wrong with it (a key of
// the catalog), or "": one emoji or a few words, up to 16 characters, on
// one line.
func cleanBoost(raw string) (string, string) {
	if !utf8.ValidString(raw) {
		return "", "react.not_text"
	}
	s := norm.NFC.String(strings.TrimSpace(raw))
	if s == "" {
		return "", "react.empty"
	}
	if utf8.RuneCountInString(s) > store.BoostMax {
		return "", "react.too_long"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", "react.control"
		}
	}
	if hasBidiControl(s) {
		return "", "react.bidi"
	}
	if hasInvisible(s) {
		return "", "react.invisible"
	}
	return s, ""
}

// handleBoost adds the user's reaction to a post, or takes it back, and
// pushes the post's reactions to everyone in its room.
func (a *App) handleBoost(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	s, _ := session(c)
	emoji, problem := cleanBoost(c.FormValue("emoji"))
	status := http.StatusUnprocessableEntity
	if problem == "" && !a.boosts.Allow(s.User.ID, a.now()) {
		problem, status = "react.too_fast", http.StatusTooManyRequests
		c.Set(fiber.HeaderRetryAfter, "10")
	}
	if problem == "" {
		m, _, err := a.writer.Change(c.UserContext(), func(ctx context.Context, b *store.Batch) (store.Message, bool, error) {
			return b.ToggleBoost(ctx, id, s.User.ID, emoji)
		}, boostsFrame)
		switch {
		case err == nil:
			return a.changed(c, m, views.Boosts(entry(m)))
		case errors.Is(err, store.ErrConflict):
			problem, status = "react.full", http.StatusConflict
		default:
			return a.refusedChange(c, err, changeReact)
		}
	}
	// The picker again, with why: only to a reader of the post's room.
	m, err := a.findMessage(c)
	if err != nil {
		return err
	}
	return a.showPicker(c, status, m, a.tr(c).T(problem))
}

// handlePermalink shows the room around one entry, which is highlighted,
// with older entries above and newer ones below to scroll to.
func (a *App) handlePermalink(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	at, err := strconv.ParseInt(c.Params("msgid"), 10, 64)
	if err != nil || at <= 0 {
		return fiber.ErrNotFound
	}
	ctx := c.UserContext()
	target, err := a.store.FindMessage(ctx, at)
	if err != nil {
		return err
	}
	if target.RoomID != id {
		return errNoEntry
	}
	page, err := a.roomPage(c, id)
	if err != nil {
		return hideUnreadable(err)
	}
	older, err := a.store.ListMessagesBefore(ctx, id, at, permalinkSide+1)
	if err != nil {
		return err
	}
	hasOlder := len(older) > permalinkSide
	if hasOlder {
		older = older[1:]
	}
	newer, err := a.store.ListMessagesAfter(ctx, id, at-1, permalinkSide+2)
	if err != nil {
		return err
	}
	hasNewer := len(newer) > permalinkSide+1
	if hasNewer {
		newer = newer[:permalinkSide+1]
	}
	list := entries(append(older, newer...))
	for i := range list {
		list[i].Highlight = list[i].ID == at
	}
	page.Entries, page.HasOlder, page.HasNewer, page.At = list, hasOlder, hasNewer, at
	page.Compose = views.ComposeForm{RoomID: id, UploadLimit: a.uploadLimit}
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	return render(c, http.StatusOK, views.Room(page))
}

// searchMax is how many posts a search lists.
const searchMax = 50

// handleSearch lists the posts of the rooms the user may read that hold
// every word of ?q=, newest first.
func (a *App) handleSearch(c *fiber.Ctx) error {
	s, _ := session(c)
	q := strings.TrimSpace(c.Query("q"))
	p := views.SearchPage{Viewer: viewer(c), Query: q}
	status := http.StatusOK
	switch {
	case q == "":
	case !utf8.ValidString(q) || utf8.RuneCountInString(q) > store.SearchQueryMax:
		p.Error, status = a.tr(c).T("search.too_long"), http.StatusUnprocessableEntity
	case len(store.SearchTerms(q)) == 0:
		p.Error, status = a.tr(c).T("search.too_short"), http.StatusUnprocessableEntity
	default:
		hits, err := a.store.SearchPosts(c.UserContext(), s.User.ID, q, searchMax)
		if err != nil {
			return err
		}
		p.Searched = true
		for _, h := range hits {
			e := entry(h.Message)
			for _, m := range h.Marks {
				e.Marks = append(e.Marks, views.Span{Start: m[0], End: m[1]})
			}
			e.RoomName = h.RoomName
			p.Results = append(p.Results, views.SearchResult{Entry: e, RoomName: h.RoomName})
		}
	}
	links, err := a.roomLinks(c, 0)
	if err != nil {
		return err
	}
	p.Rooms = links
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	return render(c, status, views.Search(p))
}

// mentionOptionsMax is how many members the "@" list offers.
const mentionOptionsMax = 8

// handleMentionOptions lists the room's members whose names start with
// ?q=, for the compose field's "@".
func (a *App) handleMentionOptions(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	q := c.Query("q")
	if len(q) > usernameMax || strings.ContainsFunc(q, func(r rune) bool { return r > 127 || !store.IsNameByte(byte(r)) }) {
		return render(c, http.StatusOK, views.MentionOptions(nil))
	}
	s, _ := session(c)
	if _, err := a.readableRoom(c.UserContext(), id, s.User); err != nil {
		return err
	}
	names, err := a.store.ListMembersLike(c.UserContext(), id, q, mentionOptionsMax)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	return render(c, http.StatusOK, views.MentionOptions(names))
}
