// Package posting is the life of a room's entries once they are valid:
// the group commit that stores them, the search index that follows, and
// their publication, in stored order, before their writers are answered.
package posting

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"chat/hub"
	"chat/metrics"
	"chat/store"
)

// ErrShuttingDown refuses writes once the server is stopping.
var ErrShuttingDown = errors.New("the server is shutting down")

// Writer stores the rooms' entries through one goroutine. It takes
// every write waiting, commits them in one transaction (a group commit:
// one wait for the disk for the lot), and then, in the order they were
// stored, pushes each entry to its room and answers its writer. Nothing is
// pushed or answered before it is on disk, and every room's connections
// get its entries in stored order.
type Writer struct {
	store   *store.Store
	hub     *hub.Hub
	metrics *metrics.Metrics
	frame   func(store.Message) *hub.Text
	reqs    chan *writeReq
	// stored carries committed batches, in order, to the goroutine that
	// renders, pushes and answers them, while the next batch commits.
	stored   chan []*writeReq
	pushed   chan struct{}
	stop     chan struct{}
	done     chan struct{}
	maxBatch int

	// commits and writes count transactions and the writes in them.
	commits, writes atomic.Int64

	onEntry   func(store.Message)
	noteFirst bool
	// meta, if set, describes each entry to other instances (Event.Meta).
	meta func(store.Message) *hub.Meta

	// unindexed counts the entries stored since the search index last
	// caught up (1 at start: unknown). The index takes them after a pause
	// in the writes, or once indexForceAt wait, so that indexing never
	// stands in a burst's way and search's unindexed tail stays short.
	unindexed int
	log       *slog.Logger
}

const (
	indexChunk     = 2000
	indexForceAt   = 4000
	indexAfterIdle = 20 * time.Millisecond
)

// writeReq is one write waiting for the writer.
type writeReq struct {
	ctx    context.Context
	roomID int64
	write  func(ctx context.Context, b *store.Batch) (store.Message, bool, error)
	// change, if set, renders the frame of a change to an existing entry;
	// without it the write adds an entry, pushed as one.
	change func(store.Message) *hub.Text

	msg     store.Message
	changed bool
	err     error
	done    chan struct{}

	accepted, durable time.Time
}

// Config is what the writer is built from.
type Config struct {
	Store   *store.Store
	Hub     *hub.Hub
	Metrics *metrics.Metrics
	Log     *slog.Logger
	// Frame renders a new entry as pushed to its room.
	Frame func(store.Message) *hub.Text
	// OnEntry, if set, is told of each new entry once it is pushed, on
	// the pushing goroutine; with NoteFirst, just before.
	OnEntry   func(store.Message)
	NoteFirst bool
	// Meta, if set, describes each entry to other instances (Event.Meta).
	Meta func(store.Message) *hub.Meta
}

// New makes the writer; Start starts it, Close stops it.
func New(c Config) *Writer {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return &Writer{
		unindexed: 1,
		log:       c.Log,
		store:     c.Store,
		hub:       c.Hub,
		metrics:   c.Metrics,
		frame:     c.Frame,
		onEntry:   c.OnEntry,
		noteFirst: c.NoteFirst,
		meta:      c.Meta,
		reqs:      make(chan *writeReq, 4096),
		stored:    make(chan []*writeReq, 4),
		pushed:    make(chan struct{}),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		maxBatch:  1024,
	}
}

// Start starts the goroutine that commits and the one that pushes.
func (w *Writer) Start() {
	go w.run()
	go w.push()
}

// Write stores one entry of the room through write and, once it is on
// disk, pushes it live; it reports the entry and whether write stored one.
func (w *Writer) Write(ctx context.Context, roomID int64, write func(ctx context.Context, b *store.Batch) (store.Message, bool, error)) (store.Message, bool, error) {
	return w.do(&writeReq{ctx: ctx, roomID: roomID, write: write})
}

// Change changes an existing entry through write and, once that is on
// disk, pushes the frame change renders of it to the entry's room; it
// reports the entry and whether write changed it.
func (w *Writer) Change(ctx context.Context, write func(ctx context.Context, b *store.Batch) (store.Message, bool, error), change func(store.Message) *hub.Text) (store.Message, bool, error) {
	return w.do(&writeReq{ctx: ctx, write: write, change: change})
}

func (w *Writer) do(req *writeReq) (store.Message, bool, error) {
	ctx := req.ctx
	req.done = make(chan struct{})
	req.accepted = time.Now()
	select {
	case <-w.stop:
		return store.Message{}, false, ErrShuttingDown
	default:
	}
	select {
	case w.reqs <- req:
	case <-w.stop:
		return store.Message{}, false, ErrShuttingDown
	case <-ctx.Done():
		return store.Message{}, false, ctx.Err()
	}
	// Taken: the writer answers it, whatever happens.
	<-req.done
	return req.msg, req.changed, req.err
}

// Close stops taking writes, finishes those taken, and waits for the
// writer to end.
func (w *Writer) Close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

func (w *Writer) run() {
	defer func() {
		close(w.stored)
		<-w.pushed
		close(w.done)
	}()
	idle := time.NewTimer(time.Hour)
	defer idle.Stop()
	for {
		if w.unindexed >= indexForceAt && !w.stopping() {
			w.index()
		}
		// Otherwise the index waits for a pause in the writes.
		var pause <-chan time.Time
		if w.unindexed > 0 {
			idle.Reset(indexAfterIdle)
			pause = idle.C
		}
		batch := make([]*writeReq, 0, 16)
		select {
		case <-pause:
			w.index()
			continue
		case req := <-w.reqs:
			batch = append(batch, req)
		case <-w.stop:
			// Finish what was taken before the stop.
			for {
				select {
				case req := <-w.reqs:
					w.commit([]*writeReq{req})
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < w.maxBatch {
			select {
			case req := <-w.reqs:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		w.commit(batch)
	}
}

func (w *Writer) stopping() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

// index has the search index take the next posts waiting for it.
func (w *Writer) index() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, more, err := w.store.IndexPosts(ctx, indexChunk)
	switch {
	case err != nil:
		// Search still reads the posts waiting; the next write tries
		// again.
		w.log.Error("search index not updated", "err", err)
		w.unindexed = 0
	case more:
		w.unindexed = max(1, w.unindexed-n)
	default:
		w.unindexed = 0
	}
}

func (w *Writer) commit(batch []*writeReq) {
	w.commits.Add(1)
	w.writes.Add(int64(len(batch)))
	// The rooms written to, locked first and in order on PostgreSQL.
	rooms := make([]int64, 0, len(batch))
	for _, r := range batch {
		if r.change == nil && r.roomID != 0 {
			rooms = append(rooms, r.roomID)
		}
	}
	err := w.store.WriteBatch(context.Background(), func(b *store.Batch) error {
		if err := b.LockRooms(context.Background(), rooms); err != nil {
			return err
		}
		for _, r := range batch {
			r.msg, r.changed, r.err = r.write(r.ctx, b)
		}
		return nil
	})
	durable := time.Now()
	for _, r := range batch {
		if err != nil {
			r.msg, r.changed, r.err = store.Message{}, false, err
		}
		if r.err == nil && r.changed && r.change == nil {
			w.unindexed++
		}
		if r.err == nil && r.changed && r.change == nil && r.msg.Kind == store.KindPost {
			r.durable = durable
			w.metrics.PostStored(durable.Sub(r.accepted))
		}
	}
	w.stored <- batch
}

// push renders and pushes the entries of each committed batch in the
// order stored, then answers their writers.
func (w *Writer) push() {
	defer close(w.pushed)
	for batch := range w.stored {
		for _, r := range batch {
			if r.err == nil && r.changed && r.change != nil {
				// A change carries no new id: every connection takes it,
				// whatever it replayed.
				n := w.hub.Publish(r.msg.RoomID, hub.Event{Rev: r.msg.Rev, Text: r.change(r.msg)})
				w.metrics.Delivered(n)
			} else if r.err == nil && r.changed {
				if w.onEntry != nil && w.noteFirst {
					w.onEntry(r.msg)
				}
				ev := hub.Event{Seq: r.msg.ID, Prev: r.msg.Prev, Text: w.frame(r.msg)}
				if w.meta != nil {
					ev.Meta = w.meta(r.msg)
				}
				n := w.hub.Publish(r.msg.RoomID, ev)
				w.metrics.Delivered(n)
				if !r.durable.IsZero() {
					w.metrics.PostDelivered(time.Since(r.durable))
				}
				if w.onEntry != nil && !w.noteFirst {
					w.onEntry(r.msg)
				}
			}
			close(r.done)
		}
	}
}
