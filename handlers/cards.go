package handlers

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"time"

	"chat/linkpreview"
	"chat/store"

	"github.com/gofiber/fiber/v2"
)

// Link cards: with -link-previews, the first link of a post is fetched
// after the post is stored and pushed (the post never waits for it), by a
// few workers; the card comes to the entry as a change, like an edit.
const (
	cardWorkers = 4
	// cardQueue posts wait for a worker at most; past that, a post gets
	// no card (a burst of links must not pile up fetches).
	cardQueue = 256
	// cardTimeout bounds the whole of one card: the page, its picture,
	// and storing them.
	cardTimeout = 15 * time.Second
)

// cards fetches the cards of posts' links; nil when previews are off.
type cards struct {
	fetch func(ctx context.Context, rawURL string) (linkpreview.Card, error)
	queue chan store.Message
	// ctx ends with close: the fetches under way end with it.
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
}

func newCards(f *linkpreview.Fetcher) *cards {
	if f == nil {
		return nil
	}
	ctx, stop := context.WithCancel(context.Background())
	return &cards{fetch: f.Fetch, queue: make(chan store.Message, cardQueue), ctx: ctx, stop: stop}
}

// start starts the workers, each with the app's way to store a card.
func (cs *cards) start(a *App) {
	for range cardWorkers {
		cs.wg.Add(1)
		go func() {
			defer cs.wg.Done()
			for {
				select {
				case <-cs.ctx.Done():
					return
				case m := <-cs.queue:
					a.fetchCard(m)
				}
			}
		}()
	}
}

// close stops the workers: a card under way is abandoned, its fetch
// ended at once.
func (cs *cards) close() {
	cs.stop()
	cs.wg.Wait()
}

// postStored hands a post just stored to the card workers, if it has a
// link and previews are on.
func (a *App) postStored(m store.Message) {
	if a.cards == nil || m.Kind != store.KindPost || linkpreview.FirstLink(m.Text) == "" {
		return
	}
	select {
	case a.cards.queue <- m:
	default:
		a.log.Warn("link previews are behind: a post gets no card", "message", m.ID)
	}
}

// fetchCard fetches the card of a post's first link, stores its picture,
// and gives the post the card, pushed to the room as a change.
func (a *App) fetchCard(m store.Message) {
	ctx, cancel := context.WithTimeout(a.cards.ctx, cardTimeout)
	defer cancel()
	link := linkpreview.FirstLink(m.Text)
	card, err := a.cards.fetch(ctx, link)
	if err != nil {
		// The site, not the address: a link may carry what is not ours
		// to log (a token in its query), and so may an error that names
		// the request.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		a.log.Info("no link preview", "message", m.ID, "site", siteOf(link), "err", err)
		return
	}
	if card.Title == "" && card.Description == "" {
		return
	}
	sc := store.Card{URL: link, Title: card.Title, Description: card.Description, Site: card.Site}
	if len(card.Image) > 0 {
		img, err := a.store.PutCardImage(ctx, m.ID, card.Image, card.ImageType, card.ImageWidth, card.ImageHeight)
		if err != nil {
			a.log.Error("store a link preview's picture", "message", m.ID, "err", err)
		} else {
			sc.ImageID, sc.ImageWidth, sc.ImageHeight = img.ID, card.ImageWidth, card.ImageHeight
		}
	}
	_, _, err = a.writer.Change(ctx, func(ctx context.Context, b *store.Batch) (store.Message, bool, error) {
		return b.SetCard(ctx, m.ID, sc)
	}, changedFrame)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.log.Error("give a post its link preview", "message", m.ID, "err", err)
	}
}

// siteOf is the host of a link, for the log.
func siteOf(link string) string {
	if u, err := url.Parse(link); err == nil {
		return u.Hostname()
	}
	return ""
}

// handleCardRemove takes the card away from the author's own post, for
// good: it is pushed again without it.
func (a *App) handleCardRemove(c *fiber.Ctx) error {
	return a.changeMessage(c, changeCard, func(ctx context.Context, b *store.Batch, id int64, user store.User) (store.Message, bool, error) {
		return b.RemoveCard(ctx, id, user.ID)
	})
}
