package handlers_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"
)

// BenchmarkFanOut posts over one socket, at a fixed rate, into a room that
// other sockets follow, and measures each delivery: from the post being
// sent to each receiver reading it. b.N is the number of posts; rate=0
// posts as fast as the server takes them. langs=en,es splits the readers
// between English and Spanish: each post is then rendered twice.
func BenchmarkFanOut(b *testing.B) {
	for _, tc := range []struct {
		conns, rate int
		langs       string
	}{{100, 100, "en"}, {500, 100, "en"}, {500, 0, "en"}, {500, 100, "en,es"}, {500, 0, "en,es"}} {
		b.Run(fmt.Sprintf("conns=%d/rate=%d/langs=%s", tc.conns, tc.rate, tc.langs), func(b *testing.B) {
			benchFanOut(b, tc.conns, tc.rate, strings.Split(tc.langs, ","))
		})
	}
}

func benchFanOut(b *testing.B, conns, rate int, langs []string) {
	srv := newServer(b, withPostLimit(0), withQueueLen(1024))
	poster := srv.register(b, "poster")
	room := poster.createRoom("bench")
	reader := srv.register(b, "reader")
	cookie := "chat_session=" + reader.cookie("chat_session").Value

	var sent sync.Map // post number -> time sent
	var mu sync.Mutex
	var lat []time.Duration
	var received atomic.Int64
	var wg sync.WaitGroup
	sockets := make([]*fws.Conn, conns)
	for i := range sockets {
		h := http.Header{"Origin": {srv.URL}, "Cookie": {cookie}, "Accept-Language": {langs[i%len(langs)]}}
		c, _, err := fws.DefaultDialer.Dial("ws://"+srv.Host+room+"/ws", h)
		if err != nil {
			b.Fatal(err)
		}
		sockets[i] = c
		c.ReadMessage() // presence: subscribed
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			defer func() {
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
			for {
				_, data, err := c.ReadMessage()
				if err != nil {
					return
				}
				now := time.Now()
				s := string(data)
				i := strings.Index(s, "bench#")
				if i < 0 {
					continue
				}
				j := strings.IndexByte(s[i:], '<')
				n, _ := strconv.Atoi(s[i+6 : i+j])
				if at, ok := sent.Load(n); ok {
					mine = append(mine, now.Sub(at.(time.Time)))
					received.Add(1)
				}
			}
		}()
	}
	ws := poster.dial(room, -1).settle()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if rate > 0 {
			// The offered rate is what is measured: pacing, no synchronization.
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		}
		sent.Store(i, time.Now())
		ws.post("bench#" + strconv.Itoa(i))
	}
	want := int64(b.N * conns)
	for deadline := time.Now().Add(60 * time.Second); received.Load() < want && time.Now().Before(deadline); {
		// A condition polled at the millisecond the elapsed time is read
		// to: testutil.Within's longer intervals would blur the measure.
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	for _, c := range sockets {
		c.Close()
	}
	wg.Wait()
	slices.Sort(lat)
	if len(lat) == 0 {
		b.Fatal("nothing delivered")
	}
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(received.Load())/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(want-received.Load()), "missing")
}
