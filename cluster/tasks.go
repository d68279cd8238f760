package cluster

import (
	"sync"
	"time"
)

// tasks are the link's goroutines, started now or after a while, and
// waited for when the link stops.
type tasks struct {
	mu      sync.Mutex
	stopped bool
	timers  map[*time.Timer]struct{}
	wg      sync.WaitGroup
}

// start runs f on a goroutine of its own, unless the link stopped.
func (t *tasks) start(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		f()
	}()
}

// after runs f after d, unless the link stops first.
func (t *tasks) after(d time.Duration, f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	if t.timers == nil {
		t.timers = make(map[*time.Timer]struct{})
	}
	t.wg.Add(1)
	var timer *time.Timer
	// The timer's function takes mu, so it finds timer set.
	timer = time.AfterFunc(d, func() {
		defer t.wg.Done()
		t.mu.Lock()
		delete(t.timers, timer)
		stopped := t.stopped
		t.mu.Unlock()
		if !stopped {
			f()
		}
	})
	t.timers[timer] = struct{}{}
}

// stop starts nothing more, calls off the timers and waits for the
// goroutines running.
func (t *tasks) stop() {
	t.mu.Lock()
	t.stopped = true
	for timer := range t.timers {
		if timer.Stop() {
			t.wg.Done()
		}
	}
	t.timers = nil
	t.mu.Unlock()
	t.wg.Wait()
}
