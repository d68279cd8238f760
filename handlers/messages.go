package handlers

import (
	"context"
	"errors"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"chat/i18n"
	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
)

// writeEntry stores at most one entry of the room through write, in the
// writer's next group commit, and pushes the entry it stored to everyone
// following the room.
func (a *App) writeEntry(ctx context.Context, roomID int64, write func(ctx context.Context, b *store.Batch) (store.Message, bool, error)) (store.Message, error) {
	msg, _, err := a.writer.Write(ctx, roomID, write)
	return msg, err
}

// errPostRefused carries the reason a post was refused, for the user: a
// key of the catalog and its values, said in each reader's language (in).
type errPostRefused struct {
	status int
	// reason is the reason in English: the bots' API and the log say it.
	reason string
	key    string
	values []any
	// newID: the client id cannot be used again; the form comes back
	// without it, so that the page makes another.
	newID bool
}

// refusePost is a refusal of a post with the status and the reason: a
// key, and values as pairs ("Name", "a.pdf"; a size as a fileSize, which
// each language writes its own way); or a validator's words as they are.
func refusePost(status int, key string, values ...any) *errPostRefused {
	e := &errPostRefused{status: status, key: key, values: values}
	e.reason = e.in(i18n.Default().English())
	return e
}

// fileSize is a number of bytes among a refusal's values.
type fileSize int64

// in is the reason in the reader's language.
func (e *errPostRefused) in(l *i18n.Lang) string {
	if !l.Has(e.key) {
		return e.key // a validator's words that have no key
	}
	values := make([]any, len(e.values))
	for i, v := range e.values {
		if n, ok := v.(fileSize); ok {
			v = views.FileSize(l, int64(n))
		}
		values[i] = v
	}
	return l.F(e.key, values...)
}

func (e *errPostRefused) Error() string { return e.reason }

// sayProblem is a problem in the reader's language: the message of a key
// ("msg.too_fast"), or a validator's words as they are.
func sayProblem(l *i18n.Lang, problem string) string {
	if l.Has(problem) {
		return l.T(problem)
	}
	return problem
}

// post validates and stores a post by the user and pushes it live: the one
// path of posts from forms and from sockets. A clientID the user sent
// before stores and pushes nothing again, and answers as if it had.
func (a *App) post(ctx context.Context, roomID int64, user store.User, raw, clientID string) (store.Message, error) {
	return a.postFiles(ctx, roomID, user, raw, clientID, nil)
}

// postFiles is post with the files of a multipart form attached: the text
// may then be empty.
func (a *App) postFiles(ctx context.Context, roomID int64, user store.User, raw, clientID string, files []*multipart.FileHeader) (store.Message, error) {
	msg, created, err := a.storePost(ctx, roomID, user, raw, clientID, files)
	var refused *errPostRefused
	switch {
	case errors.As(err, &refused):
		a.metrics.Post("rejected")
	case err == nil && created:
		a.metrics.Post("stored")
	}
	return msg, err
}

// botReply posts a bot's answer to a webhook call.
func (a *App) botReply(ctx context.Context, roomID int64, bot store.User, text string) error {
	_, err := a.post(ctx, roomID, bot, text, "")
	return err
}

func (a *App) storePost(ctx context.Context, roomID int64, user store.User, raw, clientID string, files []*multipart.FileHeader) (store.Message, bool, error) {
	text, problem := cleanPost(i18n.From(ctx), raw, len(files) > 0) // a file needs no words
	if problem == "" && !validClientID(clientID) {
		problem = "msg.unreadable"
	}
	if problem != "" {
		return store.Message{}, false, refusePost(http.StatusUnprocessableEntity, problem)
	}
	names, err := a.checkFiles(files)
	if err != nil {
		return store.Message{}, false, err
	}
	if !a.posts.Allow(user.ID, a.now()) {
		return store.Message{}, false, refusePost(http.StatusTooManyRequests, "msg.too_fast")
	}
	var ids []int64
	if len(files) > 0 {
		// Nothing of the files is stored for one who may not post here.
		if _, err := a.memberRoom(ctx, roomID, user); err != nil {
			return store.Message{}, false, refusedPost(err)
		}
		if ids, err = a.storeFiles(ctx, user, files, names); err != nil {
			return store.Message{}, false, err
		}
	}
	msg, created, err := a.writer.Write(ctx, roomID, func(ctx context.Context, b *store.Batch) (store.Message, bool, error) {
		if len(ids) > 0 {
			return b.CreatePostFiles(ctx, roomID, user.ID, text, clientID, ids)
		}
		return b.CreatePost(ctx, roomID, user.ID, text, clientID)
	})
	if len(ids) > 0 && (err != nil || !created) {
		// Refused, or sent before: the files stay with no post.
		if derr := a.deleteUnattached(ctx, user.ID, ids); derr != nil {
			a.log.Error("delete files of a refused post", "user", user.ID, "err", derr)
		}
	}
	if err == nil && created {
		a.postStored(msg)
	}
	return msg, created, refusedPost(err)
}

// refusedPost says why the store refused a post, for the user; other
// errors pass as they are.
func refusedPost(err error) error {
	switch {
	case errors.Is(err, store.ErrNotMember):
		return refusePost(http.StatusForbidden, "msg.join_to_post")
	case errors.Is(err, store.ErrArchived):
		return refusePost(http.StatusForbidden, "errors.archived")
	case errors.Is(err, store.ErrConflict):
		// The page gave this id to another post: in another room, or of
		// other text.
		e := refusePost(http.StatusUnprocessableEntity, "msg.sent_before")
		e.newID = true
		return e
	}
	return err
}

// handleMessageCreate is the compose form without JavaScript, or sent by
// htmx from a page with no socket open: that page is answered as the
// socket answers, a fresh form or why the post was refused, and gets the
// entry over its event stream like everyone. A plain form returns to the
// room at its newest entry.
func (a *App) handleMessageCreate(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	s, _ := session(c)
	// Copies: the request's buffer is reused once the handler returns, and
	// the text and id live on (a bot's call, the sent-ids memory).
	raw := strings.Clone(c.FormValue("text"))
	files, err := formFiles(c)
	if err == nil {
		_, err = a.postFiles(c.UserContext(), id, s.User, raw, strings.Clone(c.FormValue("client_id")), files)
	}
	var refused *errPostRefused
	if errors.As(err, &refused) {
		if refused.status == http.StatusTooManyRequests {
			c.Set(fiber.HeaderRetryAfter, "10")
		}
		// Refused for not being a member: one who may not read the room
		// (a closed room) is answered as for a room that does not exist.
		if refused.status == http.StatusForbidden {
			if _, err := a.readableRoom(c.UserContext(), id, s.User); err != nil {
				return err
			}
		}
		if isHTMX(c) {
			return render(c, refused.status, views.ComposeError(refused.in(a.tr(c))))
		}
		clientID := c.FormValue("client_id")
		if refused.newID {
			clientID = ""
		}
		return a.showRoom(c, refused.status, views.ComposeForm{Text: echoText(raw), ClientID: clientID, Error: refused.in(a.tr(c))})
	}
	if err != nil {
		return err
	}
	if isHTMX(c) {
		return render(c, http.StatusOK, views.ComposeReset(id, a.uploadLimit))
	}
	// To the room, as the contract says: the page opens at its newest
	// entries by its own layout, script or none.
	return c.Redirect(views.RoomURL(id), fiber.StatusSeeOther)
}

// handleMessageList answers a fragment of up to 50 entries older than
// ?before=, oldest first; or, with ?after= (a permalink page scrolling
// down), newer than that.
func (a *App) handleMessageList(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if after, ok, err := queryAfter(c); err != nil {
		return err
	} else if ok {
		return a.handleMessageListAfter(c, id, after)
	}
	before, err := strconv.ParseInt(c.Query("before"), 10, 64)
	if err != nil || before <= 0 {
		return fiber.NewError(fiber.StatusBadRequest, a.tr(c).T("msg.bad_before"))
	}
	s, _ := session(c)
	if _, err := a.readableRoom(c.UserContext(), id, s.User); err != nil {
		return err
	}
	msgs, err := a.store.ListMessagesBefore(c.UserContext(), id, before, historyPage)
	if err != nil {
		return err
	}
	if len(msgs) < historyPage {
		// Tells the page it holds the room's first entry now.
		c.Set("X-History-End", "true")
	}
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	return render(c, http.StatusOK, views.MessageList(entries(msgs)))
}

func (a *App) handleMessageListAfter(c *fiber.Ctx, id, after int64) error {
	s, _ := session(c)
	if _, err := a.readableRoom(c.UserContext(), id, s.User); err != nil {
		return err
	}
	msgs, err := a.store.ListMessagesAfter(c.UserContext(), id, after, historyPage)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	return render(c, http.StatusOK, views.NewerEntries(id, entries(msgs), len(msgs) < historyPage))
}

// echoText is what of a refused text comes back in the form: all of it, or
// of a text far past the limit (a form may carry megabytes), as much as a
// post may hold.
func echoText(raw string) string {
	if len(raw) <= 4*postMax {
		return raw
	}
	n := 0
	for i := range raw {
		if n == postMax {
			return raw[:i]
		}
		n++
	}
	return raw
}
