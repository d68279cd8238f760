package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// stepResult is one step of the broadcast test.
type stepResult struct {
	Clients int     `json:"clients"`
	P50ms   float64 `json:"rtt_p50_ms"`
	P95ms   float64 `json:"rtt_p95_ms"`
	MaxMs   float64 `json:"rtt_max_ms"`
	Lost    int     `json:"broadcasts_incomplete"`
}

// arrivals counts the clients a broadcast reached and when the last did.
type arrivals struct {
	count atomic.Int64
	last  atomic.Int64 // unix nanoseconds
}

// broadcaster times broadcasts: it knows which posts are awaited and how
// many clients each reached.
type broadcaster struct {
	mu      sync.Mutex
	pending map[int]*arrivals
	n       int // the next post's number
}

// onPost counts post n's arrival at one client.
func (bc *broadcaster) onPost(n int) {
	bc.mu.Lock()
	a := bc.pending[n]
	bc.mu.Unlock()
	if a != nil {
		a.last.Store(time.Now().UnixNano())
		a.count.Add(1)
	}
}

// runBroadcast adds clients to one room in steps, and at each step times
// broadcasts: from a post sent by one client until every client has it.
// It reports the most clients whose p95 round trip stays under -p95.
func runBroadcast(ctx context.Context, o options, out io.Writer) error {
	users, rooms, err := setUp(ctx, o, 1, out)
	if err != nil {
		return err
	}
	bc := &broadcaster{pending: map[int]*arrivals{}}
	var clients []*client
	var steps []stepResult
	best := 0
	defer func() {
		for _, c := range clients {
			c.conn.Close()
		}
	}()
	for target := o.step; target <= o.max && ctx.Err() == nil; target += o.step {
		for len(clients) < target {
			i := len(clients)
			conn, err := dial(o.instance(i), rooms[0], users[i%len(users)].Cookie, o.lang(i))
			if err != nil {
				fmt.Fprintf(out, "connection %d: %v\n", i, err)
				return report(out, o, steps, best)
			}
			c := &client{conn: conn, done: make(chan struct{})}
			clients = append(clients, c)
			go func() {
				defer close(c.done)
				for {
					_, data, err := c.conn.ReadMessage()
					if err != nil {
						return
					}
					posts(data, func(k int, _ int64) { bc.onPost(k) })
				}
			}()
		}
		time.Sleep(500 * time.Millisecond) // let the greetings pass
		rtts, lost, err := bc.step(clients, o.samples)
		if err != nil {
			return err
		}
		q := summarize(rtts)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		s := stepResult{Clients: len(clients), P50ms: ms(q.P50), P95ms: ms(q.P95), MaxMs: ms(q.Max), Lost: lost}
		steps = append(steps, s)
		fmt.Fprintf(out, "%6d clients: broadcast round trip p50 %.1f ms, p95 %.1f ms, max %.1f ms, incomplete %d; server RSS %d KiB\n",
			s.Clients, s.P50ms, s.P95ms, s.MaxMs, lost, o.rss())
		if q.P95 > o.p95 || lost > 0 {
			break
		}
		best = len(clients)
	}
	return report(out, o, steps, best)
}

// step times samples broadcasts, each from a client picked at random, until
// every client has it (or 10 s, counted as lost).
func (bc *broadcaster) step(clients []*client, samples int) (rtts []time.Duration, lost int, err error) {
	for range samples {
		n := bc.n
		a := &arrivals{}
		bc.mu.Lock()
		bc.pending[n] = a
		bc.mu.Unlock()
		sender := clients[rand.IntN(len(clients))]
		sent := time.Now()
		if err := sender.post(n); err != nil {
			return nil, 0, err
		}
		deadline := sent.Add(10 * time.Second)
		for a.count.Load() < int64(len(clients)) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if a.count.Load() < int64(len(clients)) {
			lost++
			rtts = append(rtts, 10*time.Second)
		} else {
			rtts = append(rtts, time.Unix(0, a.last.Load()).Sub(sent))
		}
		bc.mu.Lock()
		delete(bc.pending, n)
		bc.mu.Unlock()
		bc.n++
	}
	return rtts, lost, nil
}

func report(out io.Writer, o options, steps []stepResult, best int) error {
	fmt.Fprintf(out, "most clients with broadcast p95 under %v: %d\n", o.p95, best)
	return writeJSON(o.jsonOut, struct {
		Steps []stepResult `json:"steps"`
		Best  int          `json:"best_clients"`
	}{steps, best})
}
