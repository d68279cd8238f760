package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	fws "github.com/fasthttp/websocket"
)

// loadResult is what a load run measured.
type loadResult struct {
	URL              string  `json:"url"`
	Transport        string  `json:"transport"`
	Users            int     `json:"users"`
	Rooms            int     `json:"rooms"`
	Conns            int     `json:"conns"`
	Senders          int     `json:"senders"`
	Rate             float64 `json:"rate"`
	Duration         string  `json:"duration"`
	ConnectionsHeld  int     `json:"connections_held"`
	PostsSent        int     `json:"posts_sent"`
	Expected         int     `json:"deliveries_expected"`
	Received         int     `json:"deliveries_received"`
	Missing          int     `json:"deliveries_missing"`
	Duplicated       int     `json:"deliveries_duplicated"`
	P50ms            float64 `json:"latency_p50_ms"`
	P90ms            float64 `json:"latency_p90_ms"`
	P99ms            float64 `json:"latency_p99_ms"`
	MaxMs            float64 `json:"latency_max_ms"`
	DeliveriesPerSec float64 `json:"deliveries_per_second"`
	RSSBeforeKiB     int64   `json:"rss_before_kib"`
	RSSConnectedKiB  int64   `json:"rss_connected_kib"`
	KiBPerConn       float64 `json:"kib_per_connection"`
	RSSEndKiB        int64   `json:"rss_end_kib"`
	// Processor use while posting, in cores (0 when /proc does not
	// tell): the chat's (with -pid), this tool's, the whole machine's
	// busy time, and the time the machine's processors waited for its
	// host. Both programs share the machine's cores, so where the busy
	// time nears the core count, latency is the queue for a core.
	ServerCores  float64 `json:"server_cores,omitempty"`
	ToolCores    float64 `json:"tool_cores,omitempty"`
	MachineCores float64 `json:"machine_busy_cores,omitempty"`
	StealCores   float64 `json:"steal_cores,omitempty"`
	Cores        int     `json:"cores"`
}

// client is one connection, a socket or an event stream, and what its
// reader saw.
type client struct {
	conn    *fws.Conn // a socket, or nil
	stream  *stream   // an event stream, or nil
	room    int
	writeMu sync.Mutex
	seen    seen
	lat     []time.Duration
	done    chan struct{}
}

// read takes frames (or events) until the connection ends, recording this
// tool's posts: the first arrival of each with its latency, and repeats.
func (c *client) read(received *atomic.Int64) {
	defer close(c.done)
	// A socket's frames are read into one buffer, used again for the
	// next: the tool's own garbage is then not what it measures.
	var buf bytes.Buffer
	for {
		var data []byte
		var err error
		if c.stream != nil {
			data, err = c.stream.next()
		} else {
			data, err = readFrame(c.conn, &buf)
		}
		if err != nil {
			return
		}
		now := time.Now()
		posts(data, func(n int, sent int64) {
			if c.seen.mark(n) {
				c.lat = append(c.lat, now.Sub(time.Unix(0, sent)))
				received.Add(1)
			}
		})
	}
}

// readFrame reads the next data frame into buf and returns its bytes,
// which are good until the next call.
func readFrame(conn *fws.Conn, buf *bytes.Buffer) ([]byte, error) {
	_, r, err := conn.NextReader()
	if err != nil {
		return nil, err
	}
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (c *client) post(n int) error {
	text := "cl " + strconv.Itoa(n) + " " + strconv.FormatInt(time.Now().UnixNano(), 10)
	if c.stream != nil {
		// As a page without a socket sends: over HTTP, not waited for here
		// (the rate is the tool's, not one sender's round trips).
		go func() {
			if err := c.stream.post(text); err != nil {
				fmt.Fprintf(os.Stderr, "post %d: %v\n", n, err)
			}
		}()
		return nil
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.conn.WriteMessage(fws.TextMessage, []byte(`{"text":"`+text+`"}`))
}

// close ends the connection; its reader then returns.
func (c *client) close() {
	if c.stream != nil {
		c.stream.close()
	} else {
		c.conn.Close()
	}
}

// open opens connection i to the room: a socket, or with -transport sse
// an event stream.
func open(o options, i int, room, cookie string) (*client, error) {
	if o.transport == "sse" {
		s, err := openStream(o.instance(i), room, cookie, o.lang(i))
		if err != nil {
			return nil, err
		}
		return &client{stream: s, done: make(chan struct{})}, nil
	}
	conn, err := dial(o.instance(i), room, cookie, o.lang(i))
	if err != nil {
		return nil, err
	}
	return &client{conn: conn, done: make(chan struct{})}, nil
}

func connect(ctx context.Context, o options, users []user, rooms []string, n int, received *atomic.Int64, out io.Writer) ([]*client, error) {
	clients := make([]*client, n)
	var opened atomic.Int64
	done := make(chan error, 1)
	go func() {
		done <- parallel(ctx, n, 32, func(i int) error {
			room := i % len(rooms)
			c, err := open(o, i, rooms[room], users[i%len(users)].Cookie)
			if err != nil {
				return fmt.Errorf("connection %d: %w", i, err)
			}
			c.room = room
			clients[i] = c
			opened.Add(1)
			go c.read(received)
			if o.dialEvery > 0 {
				time.Sleep(o.dialEvery)
			}
			return nil
		})
	}()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			var held []*client
			for _, c := range clients {
				if c != nil {
					held = append(held, c)
				}
			}
			return held, err
		case <-tick.C:
			fmt.Fprintf(out, "connecting: %d of %d\n", opened.Load(), n)
		}
	}
}

// runLoad signs up, connects, posts at a fixed rate for o.duration,
// waits for what is on its way, and reports every delivery.
func runLoad(ctx context.Context, o options, out io.Writer) error {
	if o.senders > o.conns || o.senders < 1 || o.rate <= 0 || o.rooms < 1 || o.users < 1 {
		return fmt.Errorf("need 1 <= -senders <= -conns, -rate > 0, -rooms >= 1, -users >= 1")
	}
	users, rooms, err := setUp(ctx, o, o.rooms, out)
	if err != nil {
		return err
	}
	res := loadResult{URL: strings.Join(o.urls, ","), Transport: o.transport, Users: o.users, Rooms: o.rooms, Conns: o.conns, Senders: o.senders, Rate: o.rate, Duration: o.duration.String()}
	res.RSSBeforeKiB = o.rss()
	var received atomic.Int64
	clients, err := connect(ctx, o, users, rooms, o.conns, &received, out)
	res.ConnectionsHeld = len(clients)
	if err != nil {
		fmt.Fprintln(out, "connecting stopped:", err)
	}
	if len(clients) < o.senders {
		return fmt.Errorf("only %d connections held", len(clients))
	}
	// Let the greetings of the last connections go out before measuring.
	if o.pid > 0 {
		time.Sleep(5 * time.Second)
	} else {
		time.Sleep(500 * time.Millisecond)
	}
	res.RSSConnectedKiB = o.rss()
	if res.RSSBeforeKiB > 0 && len(clients) > 0 {
		res.KiBPerConn = float64(res.RSSConnectedKiB-res.RSSBeforeKiB) / float64(len(clients))
	}
	connsIn := make([]int, len(rooms))
	for _, c := range clients {
		connsIn[c.room]++
	}

	start := time.Now()
	server0, tool0 := o.cpuTime(), procCPU("self")
	busy0, steal0 := machineCPU()
	postRoom := postAtRate(ctx, o, clients, start, &received, out)
	res.PostsSent = len(postRoom)
	expect := 0
	for _, r := range postRoom {
		expect += connsIn[r]
	}
	awaitDeliveries(&received, expect)
	elapsed := time.Since(start)
	cores := func(t0, t1 time.Duration) float64 {
		if t0 < 0 || t1 < 0 {
			return 0
		}
		return (t1 - t0).Seconds() / elapsed.Seconds()
	}
	res.Cores = runtime.NumCPU()
	res.ServerCores, res.ToolCores = cores(server0, o.cpuTime()), cores(tool0, procCPU("self"))
	busy1, steal1 := machineCPU()
	res.MachineCores, res.StealCores = cores(busy0, busy1), cores(steal0, steal1)
	res.RSSEndKiB = o.rss()
	tallyClients(&res, clients, postRoom)
	res.DeliveriesPerSec = float64(res.Received) / elapsed.Seconds()
	printLoad(out, o, res)
	return writeJSON(o.jsonOut, res)
}

// postAtRate posts at a fixed total rate from start for o.duration, round
// robin over the senders, and returns the room of each post sent.
func postAtRate(ctx context.Context, o options, clients []*client, start time.Time, received *atomic.Int64, out io.Writer) []int {
	var postRoom []int
	progress := time.NewTicker(5 * time.Second)
	defer progress.Stop()
	stopAt := start.Add(o.duration)
	for n := 0; ; n++ {
		at := start.Add(time.Duration(float64(n) / o.rate * float64(time.Second)))
		if at.After(stopAt) || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Until(at))
		select {
		case <-progress.C:
			fmt.Fprintf(out, "%4.0fs: %d posts sent, %d deliveries received\n", time.Since(start).Seconds(), n, received.Load())
		default:
		}
		s := clients[n%o.senders]
		postRoom = append(postRoom, s.room)
		if err := s.post(n); err != nil {
			fmt.Fprintf(out, "post %d: %v\n", n, err)
		}
	}
	return postRoom
}

// awaitDeliveries lets what is on its way arrive: it returns once expect
// deliveries are in, or none has come for 3 s.
func awaitDeliveries(received *atomic.Int64, expect int) {
	last, quiet := received.Load(), time.Now()
	for received.Load() < int64(expect) && time.Since(quiet) < 3*time.Second {
		time.Sleep(100 * time.Millisecond)
		if n := received.Load(); n != last {
			last, quiet = n, time.Now()
		}
	}
}

// tallyClients closes every connection, waits for its reader, and counts
// and times what they received into res.
func tallyClients(res *loadResult, clients []*client, postRoom []int) {
	for _, c := range clients {
		c.close()
	}
	var seens []*seen
	var connRoom []int
	var lat []time.Duration
	for _, c := range clients {
		<-c.done
		seens = append(seens, &c.seen)
		connRoom = append(connRoom, c.room)
		lat = append(lat, c.lat...)
	}
	res.Expected, res.Received, res.Missing, res.Duplicated = tally(seens, connRoom, postRoom)
	q := summarize(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res.P50ms, res.P90ms, res.P99ms, res.MaxMs = ms(q.P50), ms(q.P90), ms(q.P99), ms(q.Max)
}

// printLoad writes a load run's results as a table.
func printLoad(out io.Writer, o options, res loadResult) {
	t := newTable(out)
	fmt.Fprintf(t, "connections held\t%d (%s)\n", res.ConnectionsHeld, res.Transport)
	fmt.Fprintf(t, "posts sent\t%d (%.0f/s for %v)\n", res.PostsSent, o.rate, o.duration)
	fmt.Fprintf(t, "deliveries expected\t%d\n", res.Expected)
	fmt.Fprintf(t, "deliveries received\t%d\n", res.Received)
	fmt.Fprintf(t, "deliveries missing\t%d\n", res.Missing)
	fmt.Fprintf(t, "deliveries duplicated\t%d\n", res.Duplicated)
	fmt.Fprintf(t, "latency p50 / p90 / p99 / max\t%.1f / %.1f / %.1f / %.1f ms\n", res.P50ms, res.P90ms, res.P99ms, res.MaxMs)
	fmt.Fprintf(t, "deliveries per second\t%.0f\n", res.DeliveriesPerSec)
	fmt.Fprintf(t, "cores busy: chat / this tool / machine (of %d); host steal\t%.2f / %.2f / %.2f; %.2f\n", res.Cores, res.ServerCores, res.ToolCores, res.MachineCores, res.StealCores)
	if o.pid > 0 {
		fmt.Fprintf(t, "server RSS before / connected / end\t%d / %d / %d KiB\n", res.RSSBeforeKiB, res.RSSConnectedKiB, res.RSSEndKiB)
		fmt.Fprintf(t, "server RSS per connection\t%.1f KiB\n", res.KiBPerConn)
	}
	t.Flush()
}
