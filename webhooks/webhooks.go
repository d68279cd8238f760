// Package webhooks calls bots' webhooks with the posts meant for them, off
// the path of the post, and posts their answers.
package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"chat/store"
)

// Webhook delivery: how long one call may take, how many calls a message
// gets, how many wait at most.
const (
	webhookTimeout   = 5 * time.Second
	webhookAttempts  = 3
	webhookBackoff   = 500 * time.Millisecond
	webhookQueue     = 256
	webhookWorkers   = 4
	webhookReplyMax  = 16 << 10
	webhookUserAgent = "chat-webhook/1"
)

// webhookPayload is what a bot's webhook is sent.
type webhookPayload struct {
	Room    int64          `json:"room"`
	Message webhookMessage `json:"message"`
}

type webhookMessage struct {
	ID     int64     `json:"id"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
	Time   time.Time `json:"time"`
}

// task is a call to make: to bot, or, with no bot, to each bot the entry
// is for, once the worker has read its room.
type task struct {
	bot  store.User
	room int64
	msg  store.Message
}

// Config is what the webhooks are built from.
type Config struct {
	// Allow are the hosts webhooks may be called on; none when empty.
	Allow []string
	// Timeout bounds one call (0: 5 s); Backoff is the pause before the
	// second try, doubled after (0: 500 ms).
	Timeout, Backoff time.Duration
	Log              *slog.Logger
	// Reply posts a bot's answer in the room.
	Reply func(ctx context.Context, roomID int64, bot store.User, text string) error
	// Count, if set, counts calls by outcome (answered, failed, dropped).
	Count func(outcome string)
	// Store is where the bots are read from when the webhooks start,
	// every Refresh if that is set (bots made on other instances), and
	// where the members of a room are read for an entry whose room the
	// caller could not tell (see Written).
	Store   *store.Store
	Refresh time.Duration
}

// Webhooks tells bots of the posts meant for them (a mention, or a direct
// message) by POSTing them to the bot's webhook, off the path of the
// post: a bounded queue, a few workers, a timeout per call and a bounded
// number of tries. A call goes only to a host the server was started
// allowing, and follows no redirect. A text answer becomes the bot's post
// in that room.
type Webhooks struct {
	allow   []string
	backoff time.Duration
	client  *http.Client
	log     *slog.Logger
	reply   func(ctx context.Context, roomID int64, bot store.User, text string) error
	count   func(outcome string)
	store   *store.Store
	refresh time.Duration
	queue   chan task

	mu   sync.Mutex
	bots map[string]store.User // by lower-case name: the active bots

	written written

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed bool
}

// New makes the webhooks; Start starts their workers.
func New(c Config) *Webhooks {
	ctx, cancel := context.WithCancel(context.Background())
	if c.Timeout <= 0 {
		c.Timeout = webhookTimeout
	}
	if c.Backoff <= 0 {
		c.Backoff = webhookBackoff
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	w := &Webhooks{
		backoff: c.Backoff,
		log:     c.Log,
		reply:   c.Reply,
		count:   c.Count,
		store:   c.Store,
		refresh: c.Refresh,
		queue:   make(chan task, webhookQueue),
		bots:    make(map[string]store.User),
		ctx:     ctx, cancel: cancel,
	}
	w.written.init()
	for _, h := range c.Allow {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			w.allow = append(w.allow, h)
		}
	}
	w.client = &http.Client{
		Timeout: c.Timeout,
		// A redirect could lead anywhere: it is not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return w
}

// Start reads the bots and starts the workers (and, with Refresh, the
// reading of the bots every Refresh); Close stops them.
func (w *Webhooks) Start() {
	if bots, err := w.store.ListBots(w.ctx); err != nil {
		w.log.Error("bots not read: their webhooks wait for a restart", "err", err)
	} else {
		for _, b := range bots {
			w.Learn(b)
		}
	}
	for range webhookWorkers {
		w.wg.Add(1)
		go w.work()
	}
	if w.refresh > 0 {
		w.wg.Add(1)
		go w.refreshBots()
	}
}

// refreshBots reads the bots every Refresh, so that bots made, changed or
// deactivated on another instance reach this one's directory.
func (w *Webhooks) refreshBots() {
	defer w.wg.Done()
	t := time.NewTicker(w.refresh)
	defer t.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
			bots, err := w.store.ListBots(ctx)
			cancel()
			if err != nil {
				w.log.Error("bots not read", "err", err)
				continue
			}
			w.replace(bots)
		}
	}
}

// Allowed are the hosts webhooks may be called on.
func (w *Webhooks) Allowed() []string { return slices.Clone(w.allow) }

// AllowedHost tells whether webhooks may be called on host.
func (w *Webhooks) AllowedHost(host string) bool {
	return slices.Contains(w.allow, strings.ToLower(host))
}

// Learn takes an active bot into the directory.
func (w *Webhooks) Learn(bot store.User) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if bot.IsBot && !bot.Deactivated {
		w.bots[strings.ToLower(bot.Username)] = bot
	}
}

// replace makes bots, the active ones, the whole directory.
func (w *Webhooks) replace(bots []store.User) {
	m := make(map[string]store.User, len(bots))
	for _, b := range bots {
		if b.IsBot && !b.Deactivated {
			m[strings.ToLower(b.Username)] = b
		}
	}
	w.mu.Lock()
	w.bots = m
	w.mu.Unlock()
}

// Forget drops a bot from the directory.
func (w *Webhooks) Forget(name string) {
	w.mu.Lock()
	delete(w.bots, strings.ToLower(name))
	w.mu.Unlock()
}

func (w *Webhooks) bot(name string) (store.User, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, ok := w.bots[strings.ToLower(name)]
	return b, ok
}

func (w *Webhooks) counted(outcome string) {
	if w.count != nil {
		w.count(outcome)
	}
}

// Close stops the calls under way and waits for the workers.
func (w *Webhooks) Close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		w.cancel()
		close(w.queue)
	}
	w.mu.Unlock()
	w.wg.Wait()
}

// Entry hands a new post to the bots it is for: those in the room it
// mentions, and the other member of direct messages. roomKind and members
// are the room's (store.RoomKind…, and its members by name). Posts by bots
// go to no bot, so that two bots cannot talk to each other for ever. It
// runs on the writer's pushing goroutine and never waits.
func (w *Webhooks) Entry(m store.Message, roomKind string, members map[string]struct{}) {
	for _, b := range w.targets(m, roomKind, members) {
		w.enqueue(task{bot: b, room: m.RoomID, msg: m})
	}
}

func (w *Webhooks) targets(m store.Message, roomKind string, members map[string]struct{}) []store.User {
	if m.Kind != store.KindPost {
		return nil
	}
	if _, isBot := w.bot(m.Author); isBot {
		return nil
	}
	var targets []store.User
	add := func(b store.User) {
		// Only a bot in the room hears of it: a mention elsewhere (in
		// someone's direct messages, say) tells the bot nothing.
		if _, member := members[b.Username]; !member || b.WebhookURL == "" {
			return
		}
		if !slices.ContainsFunc(targets, func(t store.User) bool { return t.ID == b.ID }) {
			targets = append(targets, b)
		}
	}
	for _, mention := range m.Mentions {
		if b, ok := w.bot(mention.Username); ok {
			add(b)
		}
	}
	if roomKind == store.RoomKindDM {
		for name := range members {
			if b, ok := w.bot(name); ok && name != m.Author {
				add(b)
			}
		}
	}
	return targets
}

func (w *Webhooks) enqueue(j task) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	select {
	case w.queue <- j:
	default:
		w.counted("dropped")
		w.log.Error("webhook dropped: too many waiting", "bot", j.bot.Username, "message", j.msg.ID)
	}
}

func (w *Webhooks) work() {
	defer w.wg.Done()
	for j := range w.queue {
		if j.bot.ID == 0 {
			w.resolve(j.msg)
			continue
		}
		w.deliver(j)
	}
}

// deliver calls the bot's webhook, trying again after a failure of the
// network or the server (not after a refusal), and posts its answer.
func (w *Webhooks) deliver(job task) {
	body, err := json.Marshal(webhookPayload{Room: job.room, Message: webhookMessage{
		ID: job.msg.ID, Author: job.msg.Author, Text: job.msg.Text, Time: job.msg.CreatedAt,
	}})
	if err != nil {
		w.log.Error("webhook payload", "err", err)
		return
	}
	var answer string
	for attempt := 1; ; attempt++ {
		var retry bool
		answer, retry, err = w.call(job.bot.WebhookURL, body)
		if err == nil {
			w.counted("answered")
			break
		}
		w.counted("failed")
		w.log.Error("webhook failed", "bot", job.bot.Username, "message", job.msg.ID, "attempt", attempt, "err", err)
		if !retry || attempt == webhookAttempts {
			return
		}
		select {
		case <-time.After(w.backoff << (attempt - 1)):
		case <-w.ctx.Done():
			return
		}
	}
	if answer == "" {
		return
	}
	ctx, cancel := context.WithTimeout(w.ctx, 10*time.Second)
	defer cancel()
	if err := w.reply(ctx, job.room, job.bot, answer); err != nil {
		w.log.Error("webhook answer not posted", "bot", job.bot.Username, "room", job.room, "err", err)
	}
}

// call makes one call; retry says whether another may do better.
func (w *Webhooks) call(target string, body []byte) (answer string, retry bool, err error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !w.AllowedHost(u.Hostname()) {
		return "", false, fmt.Errorf("webhook %q is not to an allowed host", u.Redacted())
	}
	req, err := http.NewRequestWithContext(w.ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", webhookUserAgent)
	res, err := w.client.Do(req)
	if err != nil {
		return "", !errors.Is(err, context.Canceled), err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, webhookReplyMax+1))
	if err != nil {
		return "", true, fmt.Errorf("reading the answer: %w", err)
	}
	switch {
	case res.StatusCode >= 500:
		return "", true, fmt.Errorf("answered %s", res.Status)
	case res.StatusCode >= 300:
		return "", false, fmt.Errorf("answered %s", res.Status)
	case res.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(raw)) == 0:
		return "", false, nil
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "text/plain" {
		return "", false, fmt.Errorf("answered %q, not text/plain", res.Header.Get("Content-Type"))
	}
	if len(raw) > webhookReplyMax || !utf8.Valid(raw) {
		return "", false, errors.New("answered more than 16 KiB, or not UTF-8 text")
	}
	return string(raw), false, nil
}
