package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"chat/hub"
	"chat/i18n"
	"chat/store"
	"chat/unread"
	"chat/views"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

const (
	wsReadLimit  = 64 << 10
	wsPingEvery  = 30 * time.Second // the default of Deps.PingEvery
	wsPongWait   = 60 * time.Second // the default of Deps.PeerTimeout
	wsWriteWait  = 10 * time.Second // the default of Deps.WriteTimeout
	wsCloseGrace = time.Second
	// wsReplayMax is how far behind a reconnecting page may be and still
	// get every missed entry; further behind, it gets the latest window.
	wsReplayMax   = 300
	wsReplayBatch = 100
	// wsFrameMax bounds the events put in one frame, in bytes.
	wsFrameMax  = 64 << 10
	typingEvery = 2 * time.Second
	// wsLinger is how long, at most, a socket's writer waits for more
	// before it exits: in a busy room it stays, as a goroutine waiting on
	// a channel would, and a writer starts anew only after a pause.
	wsLinger = 250 * time.Millisecond
)

// wsParams is what a socket needs from its upgrade request, copied out of
// the request before the upgrade.
type wsParams struct {
	roomID   int64
	roomName string
	user     store.User
	session  string
	after    int64 // -1: no replay
	rev      int64 // -1: no replay of changes

	// The connection is subscribed before the upgrade is answered, so
	// that nothing published after the handshake can miss it. Whoever
	// sets claimed first owns sub: the socket handler, or giveUp if the
	// handler never runs.
	sub     *hub.Sub
	claimed *atomic.Bool
	// lang is the language the connection reads (nil: English).
	lang   *i18n.Lang
	giveUp *time.Timer
	// upgrade is the upgrade's request context, which fasthttp keeps
	// until the socket's handler returns; serveWS lets go of what it
	// holds (see dropRequest).
	upgrade *fasthttp.RequestCtx
}

// wsClaimWait is how long a subscription made before the upgrade waits for
// its socket handler before it is dropped.
const wsClaimWait = 30 * time.Second

const localWS = "ws"

// handleWSUpgrade authorises a socket before upgrading: a session (401, by
// requireSession), an Origin of this site (403), a room that exists (404).
func (a *App) handleWSUpgrade(c *fiber.Ctx) error {
	s, err := wsAllowed(c)
	if err != nil {
		return err
	}
	p, err := a.roomParams(c, s)
	if err != nil {
		return err
	}
	return a.subscribeWS(c, p)
}

// roomParams is what a room's socket or stream starts from: the room, for
// a reader of it (else as for its page), and where the page stands
// (?after= and ?rev=, -1 when not said).
func (a *App) roomParams(c *fiber.Ctx, s store.Session) (wsParams, error) {
	id, err := pathID(c)
	if err != nil {
		return wsParams{}, err
	}
	room, err := a.readableRoom(c.UserContext(), id, s.User)
	if err != nil {
		return wsParams{}, err
	}
	p := wsParams{roomID: id, roomName: room.Name, user: s.User, session: s.ID, after: -1, rev: -1}
	if after, ok, err := queryAfter(c); err != nil {
		return wsParams{}, err
	} else if ok {
		p.after = after
	}
	if rev, ok, err := queryWhole(c, "rev", "live.bad_rev"); err != nil {
		return wsParams{}, err
	} else if ok {
		p.rev = rev
	}
	return p, nil
}

// handleUserWSUpgrade opens the socket of a page that follows no room (the
// lobby, search, a profile): it takes what is for the user alone, the
// unread marks of their room list.
func (a *App) handleUserWSUpgrade(c *fiber.Ctx) error {
	s, err := wsAllowed(c)
	if err != nil {
		return err
	}
	return a.subscribeWS(c, wsParams{roomID: hub.NoRoom, user: s.User, session: s.ID, after: -1, rev: -1})
}

// wsAllowed checks what every socket needs: an upgrade, a session (401,
// by requireSession) and an Origin of this site (403).
func wsAllowed(c *fiber.Ctx) (store.Session, error) {
	if !websocket.IsWebSocketUpgrade(c) {
		return store.Session{}, fiber.NewError(fiber.StatusUpgradeRequired, i18n.From(c.UserContext()).T("live.socket_only"))
	}
	s, ok := session(c)
	if !ok {
		return store.Session{}, fiber.ErrUnauthorized
	}
	if requestOrigin(c) != originThisSite {
		return store.Session{}, fiber.NewError(fiber.StatusForbidden, i18n.From(c.UserContext()).T("live.socket_origin"))
	}
	return s, nil
}

// subscribeWS subscribes the socket before the upgrade is answered, so
// that nothing published after the handshake can miss it, and hands it to
// serveWS.
func (a *App) subscribeWS(c *fiber.Ctx, p wsParams) error {
	p.lang = a.langOf(c)
	sub, err := a.hub.SubscribeIn(p.roomID, p.user.Username, p.session, p.lang.Index)
	if err != nil {
		return a.subscribeError(c, err)
	}
	p.sub = sub
	p.claimed = new(atomic.Bool)
	release := func() {
		if p.claimed.CompareAndSwap(false, true) {
			a.hub.Unsubscribe(sub)
		}
	}
	p.giveUp = time.AfterFunc(wsClaimWait, release)
	// A handshake whose 101 cannot be written (the client reset the
	// connection) never reaches serveWS: connState releases its place as
	// soon as the server closes the connection, not after wsClaimWait.
	conn := c.Context().Conn()
	a.handshakes.Store(conn, release)
	p.upgrade = c.Context()
	c.Locals(localWS, &p)
	trimForUpgrade(c)
	if err := c.Next(); err != nil {
		a.handshakes.Delete(conn)
		p.giveUp.Stop()
		release()
		return err
	}
	return nil
}

// handshakeHeaders are the request headers the upgrade reads.
var handshakeHeaders = []string{fiber.HeaderConnection, fiber.HeaderUpgrade, "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"}

// trimForUpgrade leaves the request nothing but what the upgrade reads.
// The websocket package copies every header, cookie and query argument of
// the request into maps that the connection keeps for its life, and the
// socket reads none of them: wsParams holds what it needs.
func trimForUpgrade(c *fiber.Ctx) {
	h := &c.Request().Header
	var drop []string
	h.VisitAll(func(k, _ []byte) {
		for _, keep := range handshakeHeaders {
			if strings.EqualFold(keep, string(k)) {
				return
			}
		}
		drop = append(drop, string(k))
	})
	for _, k := range drop {
		h.Del(k)
	}
	h.DelAllCookies()
	c.Context().QueryArgs().Reset()
}

// dropRequest lets go of the upgrade's request and response, headers and
// all, once the socket is open: fasthttp keeps their context until the
// socket's handler returns, and nothing reads it any more (the websocket
// package has copied what it wanted, wsParams holds copies, and the
// server's goroutine that served the request has handed the connection
// over). Zero values, not Reset, which would keep the buffers to reuse:
// anything still pointing into them keeps only what it points to.
func dropRequest(ctx *fasthttp.RequestCtx) {
	ctx.Request = fasthttp.Request{}
	ctx.Response = fasthttp.Response{}
}

// connState follows the server's connections for the sockets' handshakes:
// a hijacked connection goes on to serveWS, which claims its place; one
// closed before that gives its place back at once.
func (a *App) connState(conn net.Conn, state fasthttp.ConnState) {
	switch state {
	case fasthttp.StateHijacked:
		a.handshakes.Delete(conn)
	case fasthttp.StateClosed:
		if release, ok := a.handshakes.LoadAndDelete(conn); ok {
			release.(func())()
		}
	}
}

// serveWS runs one socket. Its goroutine reads; a writer goroutine runs
// only while there is something to write (what the hub queues, a ping, a
// close), so that an idle socket holds one goroutine and its stack, not
// two. It returns only after the last writer has exited and the hub has
// forgotten the connection, since the library hands the connection to
// someone else once it returns.
func (a *App) serveWS(conn *websocket.Conn) {
	p := conn.Locals(localWS).(*wsParams)
	p.giveUp.Stop()
	p.giveUp = nil
	if !p.claimed.CompareAndSwap(false, true) {
		closeNow(conn, hub.CloseTryAgainLater, "too slow to start")
		return
	}
	dropRequest(p.upgrade)
	p.upgrade = nil
	sub := p.sub
	a.log.Info("socket open", "room", p.roomID, "user", p.user.Username)
	w := &socketWriter{a: a, conn: conn, sub: sub, p: p, timeout: a.writeTimeout, replay: p.after >= 0, reported: time.Now()}
	w.idle.L = &w.mu
	// Set under the lock pingDue takes, so that it finds the timer set
	// however soon it fires.
	w.mu.Lock()
	w.ping = time.AfterFunc(a.pingEvery, w.pingDue)
	w.mu.Unlock()
	reason := "client"
	defer func() {
		w.stop()
		// The newest entry this page was sent: what its user has seen.
		a.unread.Seen(p.user.ID, p.roomID, w.seen)
		a.hub.Unsubscribe(sub)
		a.unread.Forget(p.user.Username)
		select {
		case <-sub.Closing():
			reason = closeReason(sub.CloseCode())
		default:
		}
		a.metrics.WSClosed(reason)
		a.log.Info("socket closed", "room", p.roomID, "user", p.user.Username, "reason", reason)
	}()
	// The first writer replays what the page missed, then sends what is
	// queued (the presence list, at least, for a room's socket).
	w.kick()
	sub.Notify(w.kick)
	reason = a.readLoop(conn, sub, p)
}

func (a *App) readLoop(conn *websocket.Conn, sub *hub.Sub, p *wsParams) string {
	conn.SetReadLimit(wsReadLimit)
	conn.SetReadDeadline(time.Now().Add(a.peerTimeout))
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(a.peerTimeout))
	})
	var lastTyping time.Time
	for {
		mt, data, err := conn.ReadMessage()
		if err != nil {
			if errors.Is(err, fws.ErrReadLimit) {
				// The library has sent 1009; let the client's reply arrive
				// so that it sees the code, not a reset connection.
				linger(conn)
				return "protocol"
			}
			var ce *fws.CloseError
			if errors.As(err, &ce) {
				return "client"
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return "idle"
			}
			return "client"
		}
		select {
		case <-sub.Closing():
			// Closing: nothing more is taken; wait for the client's close.
			continue
		default:
		}
		conn.SetReadDeadline(time.Now().Add(a.peerTimeout))
		if mt == websocket.TextMessage && !utf8.Valid(data) {
			sub.Close(websocket.CloseInvalidFramePayloadData, "text is not UTF-8")
			continue
		}
		a.handleFrame(sub, p, data, &lastTyping)
	}
}

// wsFrame is what the page sends: htmx-ext-ws sends the compose form's
// fields and HEADERS; app.js sends {"typing": true}. Other fields are
// ignored.
type wsFrame struct {
	Text     *string `json:"text"`
	ClientID string  `json:"client_id"`
	Typing   bool    `json:"typing"`
}

func (a *App) handleFrame(sub *hub.Sub, p *wsParams, data []byte, lastTyping *time.Time) {
	if p.roomID == hub.NoRoom {
		return // a page that follows no room has nothing to send
	}
	var f wsFrame
	if err := json.Unmarshal(data, &f); err != nil {
		a.sendTo(sub, views.ComposeError(p.lang.T("msg.unreadable")))
		return
	}
	// The reader's language rides in ctx, as in a request's: a refusal
	// the validators word is worded for them.
	ctx, cancel := context.WithTimeout(i18n.With(context.Background(), p.lang), 10*time.Second)
	defer cancel()
	if f.Text == nil && f.Typing {
		now := time.Now()
		if now.Sub(*lastTyping) < typingEvery {
			return
		}
		*lastTyping = now
		if a.mayType(ctx, p.roomID, p.user.ID) {
			a.hub.Publish(p.roomID, hub.Event{Text: frame(views.Typing(p.user.Username))})
		}
		return
	}
	text := ""
	if f.Text != nil {
		text = *f.Text
	}
	_, err := a.post(ctx, p.roomID, p.user, text, f.ClientID)
	var refused *errPostRefused
	switch {
	case errors.As(err, &refused):
		a.sendTo(sub, views.ComposeError(refused.in(p.lang)))
	case err != nil:
		a.log.Error("socket post failed", "room", p.roomID, "user", p.user.Username, "err", err)
		a.sendTo(sub, views.ComposeError(p.lang.T("live.not_stored")))
	default:
		a.sendTo(sub, views.ComposeReset(p.roomID, a.uploadLimit))
	}
}

// socketWriter is a socket's writer: one goroutine at a time, started by
// kick when there is something to write and gone when there is not. It
// keeps the newest entry it has sent.
type socketWriter struct {
	a       *App
	conn    *websocket.Conn
	sub     *hub.Sub
	p       *wsParams
	timeout time.Duration
	ping    *time.Timer
	// Touched by the writer that runs alone, and by the reader once the
	// last writer has stopped. replay: the first writer replays; replayed
	// is the newest entry the replay sent; seen the newest sent; reported
	// when seen was last told to the unread marks; told the newest entry
	// told to them.
	replay         bool
	replayed, seen int64
	reported       time.Time
	told           int64

	mu sync.Mutex
	// running: a writer runs; again: there may be more for it to do;
	// pinging: a ping is due; ended: no writer is to start any more (the
	// reader stopped, the socket is closing, or a write failed).
	running, again, pinging, ended bool
	// idle is signalled when a writer stops running.
	idle sync.Cond
	// wake, while a writer lingers, has it look again (nil otherwise).
	wake chan struct{}
}

// kick has a writer see to what waits: one starts, unless one runs (it
// then looks again before it stops) or the socket is done with. It never
// blocks: the hub calls it while it holds a room's lock.
func (w *socketWriter) kick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.kickLocked()
}

func (w *socketWriter) kickLocked() {
	if w.ended {
		return
	}
	w.again = true
	if !w.running {
		w.running = true
		go w.run()
		return
	}
	if w.wake != nil {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// pingDue runs when the ping timer fires: a ping is sent, the next one
// set.
func (w *socketWriter) pingDue() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return
	}
	w.pinging = true
	w.ping.Reset(w.a.pingEvery)
	w.kickLocked()
}

// stop is the reader's, on its way out: no writer starts any more, and
// the one that runs, if any, is waited for.
func (w *socketWriter) stop() {
	w.mu.Lock()
	w.ended = true
	w.ping.Stop()
	if w.wake != nil {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	for w.running {
		w.idle.Wait()
	}
	w.mu.Unlock()
}

// writeEnd is how a writer's pass ends.
type writeEnd int

const (
	writeIdle   writeEnd = iota // all written; the socket goes on
	writeClosed                 // the close frame is sent; the reader has a moment for the answer
	writeBroken                 // a write failed: the reader is woken
)

// run writes until nothing more has come for wsLinger, then stops; a
// socket closing, or a write failing, ends the writing for good.
func (w *socketWriter) run() {
	end := writeBroken // if a pass panics
	stopped := false
	var batch []hub.Event
	// The linger: the writer stops once wsLinger has gone by since its
	// last pass began with nothing new. Its timer is set when the writer
	// first waits and left to run while passes come and go, rather than
	// set again at every wait: it then fires about once a linger in a
	// busy room, and the writer, woken, waits on for what is left.
	var linger *time.Timer
	var wake chan struct{}
	var fired atomic.Bool // the timer fired: it is not set any more
	armed := false
	var began time.Time // when the last pass began
	defer func() {
		if linger != nil {
			linger.Stop()
		}
		if r := recover(); r != nil {
			w.a.log.Error("socket writer panic", "room", w.p.roomID, "panic", r)
		}
		if stopped {
			return
		}
		if end == writeBroken {
			// Wake the reader, which then ends the socket. Done while
			// running, so that the reader is still there to be woken.
			w.conn.SetReadDeadline(time.Unix(1, 0))
		}
		w.mu.Lock()
		w.ended = true
		w.running = false
		w.idle.Broadcast()
		w.mu.Unlock()
	}()
	for {
		w.mu.Lock()
		if !w.again && !w.ended {
			// Wait a moment for more before stopping.
			if wake == nil {
				wake = make(chan struct{}, 1)
			}
			w.wake = wake
			for {
				left := wsLinger - time.Since(began)
				if left <= 0 {
					break
				}
				w.mu.Unlock()
				// The linger's end comes on the kicks' channel: one
				// channel to wait on. The timer says so before it sends,
				// so a wake that finds fired set knows the timer is not
				// set any more, whichever sent it.
				if !armed {
					armed = true
					if linger == nil {
						linger = time.AfterFunc(left, func() {
							fired.Store(true)
							select {
							case wake <- struct{}{}:
							default:
							}
						})
					} else {
						linger.Reset(left)
					}
				}
				<-wake
				if fired.Swap(false) {
					armed = false
				}
				w.mu.Lock()
				if w.again || w.ended {
					break
				}
			}
			w.wake = nil
		}
		if !w.again && !w.ended && w.seen > w.told {
			// The burst is over: what this writer sent is read, told to
			// the unread marks now (during a burst, every FlushEvery),
			// so that a page asked next shows it so. Told without the
			// lock; a kick meanwhile is written below. (A socket ending
			// is told by its reader.)
			tell := w.seen
			w.told, w.reported = tell, time.Now()
			w.mu.Unlock()
			w.a.unread.Seen(w.p.user.ID, w.p.roomID, tell)
			w.mu.Lock()
		}
		if !w.again || w.ended {
			// Nothing more: the next kick starts another writer.
			w.running = false
			w.idle.Broadcast()
			w.mu.Unlock()
			stopped = true
			return
		}
		ping := w.pinging
		w.again, w.pinging = false, false
		w.mu.Unlock()
		end = writeBroken // should the pass panic
		began = time.Now()
		if end = w.pass(&batch, ping, began); end != writeIdle {
			return
		}
	}
}

// pass writes what waits: the replay, the first time; the events queued;
// a ping if one is due. Asked to close, the socket is sent what was queued
// before (but a socket closed for being too slow) and its close frame. now
// is when the pass began.
func (w *socketWriter) pass(batch *[]hub.Event, ping bool, now time.Time) writeEnd {
	if w.replay {
		w.replay = false
		replayed, err := w.a.replay(*w.p, func(part replayPart) error { return w.write(part.data) })
		if err != nil {
			return writeBroken
		}
		w.replayed, w.seen = replayed, replayed
	}
	closing := w.sub.Asked()
	code, why := 0, ""
	if closing {
		code, why = w.sub.CloseCode()
	}
	if code != hub.CloseTryAgainLater {
		*batch = inLanguage(w.sub.Take((*batch)[:0]), w.sub.Lang)
		if len(*batch) > 0 {
			err := w.send(*batch)
			clear(*batch)
			if err != nil {
				return writeBroken
			}
			if now.Sub(w.reported) > unread.FlushEvery {
				w.a.unread.Seen(w.p.user.ID, w.p.roomID, w.seen)
				w.reported, w.told = now, w.seen
			}
		}
	}
	if closing {
		w.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, why), time.Now().Add(wsCloseGrace))
		// Give the client a moment to answer the close, which the
		// reader takes; then the reader gives up.
		w.conn.SetReadDeadline(time.Now().Add(wsCloseGrace))
		return writeClosed
	}
	if ping {
		if err := w.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(w.timeout)); err != nil {
			return writeBroken
		}
	}
	return writeIdle
}

// write writes one frame.
func (w *socketWriter) write(b []byte) error {
	w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
	return w.conn.WriteMessage(websocket.TextMessage, b)
}

// send writes the events queued in as few frames as fit: htmx swaps every
// element of a frame, in order. A busy room then costs a write per batch
// rather than per event; a quiet one waits for nothing.
func (w *socketWriter) send(batch []hub.Event) error {
	for start := 0; start < len(batch); {
		end, size := start, 0
		for end < len(batch) && (end == start || size+len(batch[end].Data) <= wsFrameMax) {
			size += len(batch[end].Data)
			end++
		}
		if err := w.frame(batch[start:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// frame writes events as one frame, but for those the replay sent.
func (w *socketWriter) frame(evs []hub.Event) error {
	var out io.WriteCloser
	for i, ev := range evs {
		if ev.Seq != 0 && ev.Seq <= w.replayed {
			continue // the replay sent it already
		}
		w.seen = max(w.seen, ev.Seq)
		if out == nil {
			w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
			if i == len(evs)-1 {
				// One event alone: the library writes a whole message
				// straight into its buffer, with no message writer to
				// allocate.
				return w.conn.WriteMessage(websocket.TextMessage, ev.Data)
			}
			var err error
			if out, err = w.conn.NextWriter(websocket.TextMessage); err != nil {
				return err
			}
		}
		if _, err := out.Write(ev.Data); err != nil {
			return err
		}
	}
	if out == nil {
		return nil
	}
	return out.Close()
}

// replayPart is one write of a replay: its bytes, and where a reader who
// has them stands: the newest entry it holds (after) and the room's change
// counter as of the newest change it holds (rev).
type replayPart struct {
	data       []byte
	after, rev int64
}

// replay sends the entries newer than p.after, oldest first, and returns
// the id of the newest sent. A page too far behind gets the latest window
// in place of its history.
func (a *App) replay(p wsParams, write func(replayPart) error) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var changed []store.Message
	if p.rev >= 0 {
		var err error
		changed, err = a.store.ListChangedMessages(ctx, p.roomID, p.rev, p.after, wsReplayMax+1)
		if err != nil {
			a.log.Error("socket replay failed", "room", p.roomID, "err", err)
			return 0, err
		}
	}
	msgs, err := a.store.ListMessagesAfter(ctx, p.roomID, p.after, wsReplayMax+1)
	if err != nil {
		a.log.Error("socket replay failed", "room", p.roomID, "err", err)
		return 0, err
	}
	if len(msgs) > wsReplayMax || len(changed) > wsReplayMax {
		rev, err := a.store.RoomRev(ctx, p.roomID)
		if err != nil {
			a.log.Error("socket replay failed", "room", p.roomID, "err", err)
			return 0, err
		}
		latest, err := a.store.ListLatestMessages(ctx, p.roomID, historyPage+1)
		if err != nil {
			a.log.Error("socket replay failed", "room", p.roomID, "err", err)
			return 0, err
		}
		hasOlder := len(latest) > historyPage
		if hasOlder {
			latest = latest[1:]
		}
		var last int64
		if len(latest) > 0 {
			last = latest[len(latest)-1].ID
		}
		return last, write(replayPart{renderIn(p.lang, views.HistoryReset(p.roomID, p.roomName, entries(latest), hasOlder, rev)), last, rev})
	}
	// Entries the page holds that changed while it was away, as they are
	// now; then the entries it missed.
	rev := max(p.rev, 0)
	for start := 0; start < len(changed); start += wsReplayBatch {
		batch := changed[start:min(start+wsReplayBatch, len(changed))]
		rev = max(rev, maxRev(batch))
		if err := write(replayPart{renderIn(p.lang, views.EntriesChanged(entries(batch))), p.after, rev}); err != nil {
			return 0, err
		}
	}
	last := p.after
	for start := 0; start < len(msgs); start += wsReplayBatch {
		batch := msgs[start:min(start+wsReplayBatch, len(msgs))]
		last, rev = batch[len(batch)-1].ID, max(rev, maxRev(batch))
		if err := write(replayPart{renderIn(p.lang, views.EntriesPush(entries(batch))), last, rev}); err != nil {
			return 0, err
		}
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	return last, nil
}

// maxRev is the newest change among msgs (0: none changed).
func maxRev(msgs []store.Message) int64 {
	var rev int64
	for _, m := range msgs {
		rev = max(rev, m.Rev)
	}
	return rev
}

// closeReason names, for logs and metrics, why the server closed a socket
// or a stream: the code, and for 1008 whether the session ended or the
// room shut the user out (the reasons closeOnEntry and a room's deletion
// give).
func closeReason(code int, why string) string {
	switch code {
	case hub.CloseTryAgainLater:
		return "slow"
	case hub.CloseServiceReboot:
		return "shutdown"
	case hub.ClosePolicy:
		if strings.Contains(why, "room") {
			return "removed"
		}
		return "logout"
	case websocket.CloseInvalidFramePayloadData, websocket.CloseMessageTooBig:
		return "protocol"
	}
	return "error"
}

// closeNow sends a close frame from the handler's own goroutine, when no
// writer runs, and waits briefly for the answer.
func closeNow(conn *websocket.Conn, code int, reason string) {
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(wsCloseGrace))
	linger(conn)
}

// linger reads and drops what the client still sends, for a moment, so
// that its close frame is taken before the connection is dropped: closing
// a socket with unread data resets it, and the browser then reports 1006.
func linger(conn *websocket.Conn) {
	nc := conn.UnderlyingConn()
	nc.SetReadDeadline(time.Now().Add(wsCloseGrace))
	io.Copy(io.Discard, io.LimitReader(nc, 1<<20))
}

// recoverWS turns a panic in a socket handler into a log line and close
// code 1011, without telling the client anything of it.
func (a *App) recoverWS(conn *websocket.Conn) {
	if r := recover(); r != nil {
		a.log.Error("socket handler panic", "panic", r)
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInternalServerErr, ""), time.Now().Add(wsCloseGrace))
	}
}
