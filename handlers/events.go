package handlers

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"chat/hub"
	"chat/i18n"
	"chat/store"
	"chat/unread"

	"github.com/gofiber/fiber/v2"
)

// Event streams carry what a socket carries, as text/event-stream, to
// browsers whose WebSockets do not get through (a proxy that refuses the
// upgrade, a filter that strips it). A stream is a hub subscription like a
// socket's: the same bytes, rendered once per event, in the same order;
// it counts toward the same per-user cap and is ended by the same Close
// that ends sockets (sign-out, deactivation, a password change, shutdown,
// a queue that overflows).

const (
	// streamBeatMax bounds the time between two writes on an idle
	// stream: a comment keeps proxies from dropping it, and finds a
	// reader that has gone.
	streamBeatMax = 20 * time.Second
	// streamRetry is the pause, in ms, a browser takes before it
	// reconnects a stream that ended.
	streamRetry = 1000
)

// isEventStream says whether the request is for an event stream: signed
// out, it gets 401 as a socket does, not the sign-in page; and it is never
// compressed, since a compressor holds bytes back until it has enough.
func isEventStream(c *fiber.Ctx) bool {
	p := c.Path()
	return p == "/events" || strings.HasPrefix(p, "/rooms/") && strings.HasSuffix(p, "/events")
}

// streamCursor is where a reader of a room's stream stands: the newest
// entry it holds, and the room's change counter as of the newest change it
// holds. It is each event's id, "{after}-{rev}", which the browser sends
// back as Last-Event-ID when it reconnects.
type streamCursor struct{ after, rev int64 }

func (s streamCursor) appendID(b []byte) []byte {
	b = strconv.AppendInt(b, s.after, 10)
	b = append(b, '-')
	return strconv.AppendInt(b, s.rev, 10)
}

// parseStreamCursor reads an event id the stream gave.
func parseStreamCursor(id string) (streamCursor, bool) {
	a, r, ok := strings.Cut(id, "-")
	if !ok {
		return streamCursor{}, false
	}
	after, err1 := strconv.ParseInt(a, 10, 64)
	rev, err2 := strconv.ParseInt(r, 10, 64)
	if err1 != nil || err2 != nil || after < 0 || rev < 0 {
		return streamCursor{}, false
	}
	return streamCursor{after, rev}, true
}

// handleRoomEvents opens a room's event stream: for a signed-in reader of
// the room (401, as for its socket; else as for its page). Last-Event-ID,
// or ?after=&rev= as on the socket, resumes where the reader stood.
func (a *App) handleRoomEvents(c *fiber.Ctx) error {
	s, err := streamAllowed(c)
	if err != nil {
		return err
	}
	p, err := a.roomParams(c, s)
	if err != nil {
		return err
	}
	// The browser's own resume wins over the address's.
	if last := c.Get("Last-Event-ID"); last != "" {
		cur, ok := parseStreamCursor(last)
		if !ok {
			return fiber.NewError(fiber.StatusBadRequest, i18n.From(c.UserContext()).T("live.bad_event_id"))
		}
		p.after, p.rev = cur.after, cur.rev
	}
	return a.openStream(c, p)
}

// handleUserEvents opens the stream of a page that follows no room, as
// /ws is its socket: the unread marks of the user's room list.
func (a *App) handleUserEvents(c *fiber.Ctx) error {
	s, err := streamAllowed(c)
	if err != nil {
		return err
	}
	return a.openStream(c, wsParams{roomID: hub.NoRoom, user: s.User, session: s.ID, after: -1, rev: -1})
}

// streamAllowed is the session of a stream's request, from this site's
// pages only, as for sockets: no other page, even one whose cookies would
// go along, may hold the user's connections (and use up their cap). A
// page's own EventSource says Sec-Fetch-Site: same-origin and no Origin.
func streamAllowed(c *fiber.Ctx) (store.Session, error) {
	s, ok := session(c)
	if !ok {
		return store.Session{}, fiber.ErrUnauthorized
	}
	switch c.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return store.Session{}, fiber.NewError(fiber.StatusForbidden, i18n.From(c.UserContext()).T("live.stream_origin"))
	}
	if requestOrigin(c) == originElsewhere {
		return store.Session{}, fiber.NewError(fiber.StatusForbidden, i18n.From(c.UserContext()).T("live.stream_origin"))
	}
	return s, nil
}

// subscribeError is the answer to a connection the hub refused.
func (a *App) subscribeError(c *fiber.Ctx, err error) error {
	if errors.Is(err, hub.ErrTooMany) {
		return fiber.NewError(fiber.StatusTooManyRequests, a.tr(c).T("live.too_many_tabs"))
	}
	return fiber.NewError(fiber.StatusServiceUnavailable, a.tr(c).T("live.restarting"))
}

// openStream subscribes the stream before answering, so that nothing
// published from then on can miss it, and hands the response's body to
// serveStream, which runs after the handler returns.
func (a *App) openStream(c *fiber.Ctx, p wsParams) error {
	p.lang = a.langOf(c)
	sub, err := a.hub.SubscribeIn(p.roomID, p.user.Username, p.session, p.lang.Index)
	if err != nil {
		return a.subscribeError(c, err)
	}
	var cur streamCursor
	if p.after >= 0 {
		cur = streamCursor{p.after, max(p.rev, 0)}
	} else if p.roomID != hub.NoRoom {
		// No resuming: the reader stands at the room as it is now. What
		// is published from here on reaches the subscription.
		if cur, err = a.roomCursor(c.UserContext(), p.roomID); err != nil {
			a.hub.Unsubscribe(sub)
			return err
		}
	}
	// Copies: the request's context is reused once the handler returns.
	conn := c.Context().Conn()
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	c.Context().Response.ImmediateHeaderFlush = true
	// The connection ends with the stream: nothing else is read from it,
	// so that serveStream may watch it for the reader going away.
	c.Context().Response.SetConnectionClose()
	beat := min(a.pingEvery, streamBeatMax)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		a.serveStream(&streamWriter{w: w, conn: conn, timeout: a.writeTimeout, cur: cur}, sub, p, beat)
	})
	return nil
}

// roomCursor is where a reader of the room stands who holds all of it.
func (a *App) roomCursor(ctx context.Context, roomID int64) (streamCursor, error) {
	rev, err := a.store.RoomRev(ctx, roomID)
	if err != nil {
		return streamCursor{}, err
	}
	latest, err := a.store.ListLatestMessages(ctx, roomID, 1)
	if err != nil {
		return streamCursor{}, err
	}
	cur := streamCursor{rev: rev}
	if len(latest) > 0 {
		cur.after = latest[0].ID
	}
	return cur, nil
}

// serveStream is a stream's one writer: the replay, then what the hub
// queues, each event flushed as it is written, and a comment when there is
// nothing to say, until the subscription is closed or the reader is gone
// (a write fails).
func (a *App) serveStream(w *streamWriter, sub *hub.Sub, p wsParams, beat time.Duration) {
	reason := "client"
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("stream writer panic", "room", p.roomID, "panic", r)
		}
		a.hub.Unsubscribe(sub)
		a.unread.Seen(p.user.ID, p.roomID, w.seen)
		a.unread.Forget(p.user.Username)
		a.log.Info("stream closed", "room", p.roomID, "user", p.user.Username, "reason", reason)
	}()
	a.log.Info("stream open", "room", p.roomID, "user", p.user.Username)
	// One channel wakes the writer: the hub's events or its closing
	// (Notify), the keep-alive's timer and the reader's going, each of
	// which sets its flag first.
	wake := make(chan struct{}, 1)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	var gone atomic.Bool
	watchGone(w.conn, func() { gone.Store(true); poke() })
	w.retry()
	if p.after >= 0 {
		replayed, err := a.replay(p, func(part replayPart) error {
			w.cur = streamCursor{part.after, part.rev}
			w.event(part.data)
			return w.flush()
		})
		if err != nil {
			return
		}
		w.replayed, w.seen = replayed, replayed
	} else if err := w.flush(); err != nil {
		return
	}
	reason = a.pumpStream(w, sub, p, beat, wake, poke, &gone)
}

// watchGone calls gone when the reader of a stream closes its connection:
// a browser sends nothing on it while the stream lasts, so a read returns
// only when it is gone. The read ends when the server closes the
// connection after the stream.
func watchGone(conn net.Conn, gone func()) {
	if conn == nil {
		return
	}
	go func() {
		defer gone()
		conn.SetReadDeadline(time.Time{})
		var b [1]byte
		conn.Read(b[:])
	}()
}

// pumpStream writes what the hub queues until the subscription closes, the
// reader goes or a write fails, and says why it stopped. It waits on wake
// alone (see serveStream); poke wakes it.
func (a *App) pumpStream(w *streamWriter, sub *hub.Sub, p wsParams, beat time.Duration, wake <-chan struct{}, poke func(), gone *atomic.Bool) string {
	reported := time.Now()
	// The keep-alive: a comment when a beat went by with nothing sent. Its
	// timer is set once a beat, for when a beat will have gone by since
	// the last send, not again at every event.
	var ticked atomic.Bool
	idle := time.AfterFunc(beat, func() { ticked.Store(true); poke() })
	defer idle.Stop()
	lastSent := reported
	var batch []hub.Event
	sub.Notify(poke)
	for range wake {
		if gone.Load() {
			return "client"
		}
		closing := sub.Asked()
		code, why := 0, ""
		if closing {
			code, why = sub.CloseCode()
		}
		// What was queued before the closing is sent first, but to a
		// reader closed for being too slow.
		batch = batch[:0]
		if code != hub.CloseTryAgainLater {
			batch = inLanguage(sub.Take(batch[:0]), sub.Lang)
		}
		if len(batch) > 0 {
			for _, ev := range batch {
				w.send(ev)
			}
			clear(batch)
			if cap(batch) > 256 {
				batch = nil
			}
			if closing {
				w.timeout = wsCloseGrace
			}
			if err := w.flush(); err != nil {
				return "client"
			}
			now := time.Now()
			lastSent = now
			if now.Sub(reported) > unread.FlushEvery {
				a.unread.Seen(p.user.ID, p.roomID, w.seen)
				reported = now
			}
		}
		if closing {
			// The page learns why (1008: signed out; else it reconnects by
			// itself when the stream ends). A reader too slow to take it
			// has a moment, not the whole write timeout.
			w.timeout = wsCloseGrace
			w.closeEvent(code)
			w.flush()
			return closeReason(code, why)
		}
		if ticked.Swap(false) {
			quiet := time.Since(lastSent)
			if quiet >= beat {
				w.comment()
				if err := w.flush(); err != nil {
					return "client"
				}
				lastSent, quiet = time.Now(), 0
			}
			idle.Reset(beat - quiet)
		}
	}
	return "client"
}

// streamWriter writes one stream's events, and keeps where its reader
// stands.
type streamWriter struct {
	w       *bufio.Writer
	conn    net.Conn
	timeout time.Duration
	cur     streamCursor
	// replayed is the newest entry the replay sent; seen the newest sent.
	replayed, seen int64
	buf            []byte
}

// send writes one event the hub queued, but an entry the replay sent.
func (w *streamWriter) send(ev hub.Event) {
	if ev.Seq != 0 && ev.Seq <= w.replayed {
		return
	}
	w.seen = max(w.seen, ev.Seq)
	w.cur.after = max(w.cur.after, ev.Seq)
	w.cur.rev = max(w.cur.rev, ev.Rev)
	w.event(ev.Data)
}

// event writes data as one event whose id is the cursor: each line of it
// a data line, which the browser joins again with line feeds.
func (w *streamWriter) event(data []byte) {
	b := append(w.buf[:0], "id: "...)
	b = w.cur.appendID(b)
	b = append(b, '\n')
	w.w.Write(b)
	w.buf = b[:0]
	for {
		line := data
		i := bytes.IndexAny(data, "\r\n")
		if i >= 0 {
			line = data[:i]
		}
		w.w.WriteString("data: ")
		w.w.Write(line)
		w.w.WriteByte('\n')
		if i < 0 {
			break
		}
		data = data[i+1:]
	}
	w.w.WriteByte('\n')
}

// retry tells the browser how soon to reconnect a stream that ends.
func (w *streamWriter) retry() {
	w.w.WriteString("retry: " + strconv.Itoa(streamRetry) + "\n\n")
}

// comment writes a line the browser ignores.
func (w *streamWriter) comment() { w.w.WriteString(": keep-alive\n\n") }

// closeEvent tells the page the stream ends, with the close code a socket
// would have been closed with.
func (w *streamWriter) closeEvent(code int) {
	w.w.WriteString("event: close\ndata: " + strconv.Itoa(code) + "\n\n")
}

// flush sends what is written to the reader, within the write timeout:
// the server writes it to the connection as it comes.
func (w *streamWriter) flush() error {
	if w.conn != nil {
		w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
	}
	return w.w.Flush()
}
