package handlers

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

type webhookJob struct {
	bot  store.User
	room int64
	msg  store.Message
}

// webhooks tells bots of the posts meant for them (a mention, or a direct
// message) by POSTing them to the bot's webhook, off the path of the
// post: a bounded queue, a few workers, a timeout per call and a bounded
// number of tries. A call goes only to a host the server was started
// allowing, and follows no redirect. A text answer becomes the bot's post
// in that room.
type webhooks struct {
	allow   []string
	backoff time.Duration
	client  *http.Client
	log     *slog.Logger
	reply   func(ctx context.Context, roomID int64, bot store.User, text string) error
	queue   chan webhookJob
	// count, if set, counts calls by outcome (answered, failed, dropped).
	count func(outcome string)

	mu   sync.Mutex
	bots map[string]store.User // by lower-case name: the active bots

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed bool
}

// newWebhooks starts the workers; timeout bounds one call (0: 5 s) and
// backoff is the pause before the second try, doubled after (0: 500 ms).
func newWebhooks(allow []string, timeout, backoff time.Duration, log *slog.Logger, reply func(ctx context.Context, roomID int64, bot store.User, text string) error) *webhooks {
	ctx, cancel := context.WithCancel(context.Background())
	if timeout <= 0 {
		timeout = webhookTimeout
	}
	if backoff <= 0 {
		backoff = webhookBackoff
	}
	w := &webhooks{
		backoff: backoff,
		log:     log,
		reply:   reply,
		queue:   make(chan webhookJob, webhookQueue),
		bots:    make(map[string]store.User),
		ctx:     ctx, cancel: cancel,
	}
	for _, h := range allow {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			w.allow = append(w.allow, h)
		}
	}
	w.client = &http.Client{
		Timeout: timeout,
		// A redirect could lead anywhere: it is not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for range webhookWorkers {
		w.wg.Add(1)
		go w.work()
	}
	return w
}

func (w *webhooks) allowed() []string { return slices.Clone(w.allow) }

func (w *webhooks) allowedHost(host string) bool {
	return slices.Contains(w.allow, strings.ToLower(host))
}

// learn takes an active bot into the directory.
func (w *webhooks) learn(bot store.User) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if bot.IsBot && !bot.Deactivated {
		w.bots[strings.ToLower(bot.Username)] = bot
	}
}

// replace makes bots, the active ones, the whole directory.
func (w *webhooks) replace(bots []store.User) {
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

func (w *webhooks) forget(name string) {
	w.mu.Lock()
	delete(w.bots, strings.ToLower(name))
	w.mu.Unlock()
}

func (w *webhooks) bot(name string) (store.User, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, ok := w.bots[strings.ToLower(name)]
	return b, ok
}

func (w *webhooks) counted(outcome string) {
	if w.count != nil {
		w.count(outcome)
	}
}

// Close stops the calls under way and waits for the workers.
func (w *webhooks) Close() {
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
// mentions, and the other member of direct messages. Posts by bots go to no bot, so that
// two bots cannot talk to each other for ever. It runs on the writer's
// pushing goroutine and never waits.
func (w *webhooks) Entry(m store.Message, room *roomMembers) {
	if m.Kind != store.KindPost || room == nil {
		return
	}
	if _, isBot := w.bot(m.Author); isBot {
		return
	}
	var targets []store.User
	add := func(b store.User) {
		// Only a bot in the room hears of it: a mention elsewhere (in
		// someone's direct messages, say) tells the bot nothing.
		if _, member := room.members[b.Username]; !member || b.WebhookURL == "" {
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
	if room.kind == store.RoomKindDM {
		for name := range room.members {
			if b, ok := w.bot(name); ok && name != m.Author {
				add(b)
			}
		}
	}
	for _, b := range targets {
		w.enqueue(webhookJob{bot: b, room: m.RoomID, msg: m})
	}
}

func (w *webhooks) enqueue(job webhookJob) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	select {
	case w.queue <- job:
	default:
		w.counted("dropped")
		w.log.Error("webhook dropped: too many waiting", "bot", job.bot.Username, "message", job.msg.ID)
	}
}

func (w *webhooks) work() {
	defer w.wg.Done()
	for job := range w.queue {
		w.deliver(job)
	}
}

// deliver calls the bot's webhook, trying again after a failure of the
// network or the server (not after a refusal), and posts its answer.
func (w *webhooks) deliver(job webhookJob) {
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
func (w *webhooks) call(target string, body []byte) (answer string, retry bool, err error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !w.allowedHost(u.Hostname()) {
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
