package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The HTTP mode replays a page workload against a running chat: a room of
// 131 posts (13 of them about coffee), four rooms in all, 16 keep-alive
// clients that ask for gzip, and one route at a time: a warm-up of 2 s at
// 4 clients, then 8 s timed. Durable posts come last, each acknowledged
// one looked for in the room's history afterwards.
//
//	go run ./cmd/chatload -mode http -url http://127.0.0.1:8080
const (
	httpFixturePosts  = 131
	httpFixtureCoffee = 13
	httpRooms         = 4
)

// httpRoute is one route of the workload: a request a client makes.
type httpRoute struct {
	name string
	// next returns the request's method, path and form (nil for a GET).
	next func(tag string, client, n int) (string, string, url.Values)
	// ok is the answer a correct request gets.
	ok int
}

// httpResult is one route's figures.
type httpResult struct {
	Route    string    `json:"route"`
	Requests int       `json:"requests"`
	PerSec   float64   `json:"per_second"`
	Latency  quantiles `json:"latency"`
	Failed   int       `json:"failed"`
	// Acknowledged and Stored: posts answered 303, and of those, the ones
	// found in the room's history afterwards.
	Acknowledged int `json:"acknowledged,omitempty"`
	Stored       int `json:"stored,omitempty"`
	// CPUPerRequest is the chat's processor time (user and system, every
	// instance named by -pid) over the timed part, per request: unlike
	// requests per second, it hardly moves when other programs share the
	// cores.
	CPUPerRequest time.Duration `json:"cpu_per_request_ns,omitempty"`
}

// runHTTP seeds the fixture, times each route of the pages workload in
// turn, prints the figures and fails if an acknowledged post was lost.
func runHTTP(ctx context.Context, o options, out io.Writer) error {
	clients := o.clients
	if clients <= 0 {
		clients = 16
	}
	fx, err := seedFixture(ctx, o, out)
	if err != nil {
		return err
	}
	run := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	routes := httpRoutes(fx)
	var results []httpResult
	for _, r := range routes {
		if o.route != "" && !strings.Contains(r.name, o.route) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		res, err := timeRoute(ctx, o, fx, r, run, clients)
		if err != nil {
			return err
		}
		results = append(results, res)
		fmt.Fprintf(out, "%-14s %8.0f req/s  p50 %-9v p99 %-9v cpu/req %-9v failed %d\n", r.name, res.PerSec, res.Latency.P50.Round(10*time.Microsecond), res.Latency.P99.Round(10*time.Microsecond), res.CPUPerRequest, res.Failed)
	}
	printHTTPTable(out, results)
	for _, r := range results {
		// A post cut off by the end of the run may be stored without
		// having been acknowledged; an acknowledged one must be stored.
		if r.Stored < r.Acknowledged {
			return fmt.Errorf("%d acknowledged posts are not stored", r.Acknowledged-r.Stored)
		}
	}
	return writeJSON(o.jsonOut, results)
}

// httpRoutes is the workload: the pages people read most, and posts.
func httpRoutes(fx fixture) []httpRoute {
	return []httpRoute{
		{name: "room page", ok: http.StatusOK, next: func(string, int, int) (string, string, url.Values) {
			return http.MethodGet, fx.room, nil
		}},
		{name: "history page", ok: http.StatusOK, next: func(string, int, int) (string, string, url.Values) {
			return http.MethodGet, fx.room + "/messages?before=" + strconv.FormatInt(fx.before, 10), nil
		}},
		{name: "lobby", ok: http.StatusOK, next: func(string, int, int) (string, string, url.Values) {
			return http.MethodGet, "/", nil
		}},
		{name: "search", ok: http.StatusOK, next: func(string, int, int) (string, string, url.Values) {
			return http.MethodGet, "/search?q=coffee", nil
		}},
		{name: "durable posts", ok: http.StatusSeeOther, next: func(tag string, client, n int) (string, string, url.Values) {
			text := fmt.Sprintf("bench %s %d %d", tag, client, n)
			return http.MethodPost, fx.postRoom + "/messages", url.Values{"text": {text}, "client_id": {fmt.Sprintf("%s-%d-%d", tag, client, n)}}
		}},
	}
}

// timeRoute warms route r up untimed, then times it from clients
// connections for the run's duration; a route that posts is audited: every
// acknowledged post must be stored.
func timeRoute(ctx context.Context, o options, fx fixture, r httpRoute, run string, clients int) (httpResult, error) {
	// Warm-up, untimed.
	warmup := 2 * time.Second
	if o.warmup > 0 {
		warmup = o.warmup
	}
	if _, err := hammer(ctx, o.url, fx.cookie, r, "w"+run, 4, warmup); err != nil {
		return httpResult{}, err
	}
	cpu0 := o.cpuTime()
	res, err := hammer(ctx, o.url, fx.cookie, r, "t"+run, clients, o.duration)
	if err != nil {
		return httpResult{}, err
	}
	if cpu0 >= 0 && res.Requests > 0 {
		res.CPUPerRequest = (o.cpuTime() - cpu0) / time.Duration(res.Requests)
	}
	if r.ok == http.StatusSeeOther {
		stored, err := countStored(ctx, o.url, fx.cookie, fx.postRoom, "bench t"+run+" ")
		if err != nil {
			return httpResult{}, err
		}
		res.Acknowledged = res.Requests - res.Failed
		res.Stored = stored
	}
	return res, nil
}

// printHTTPTable prints the results as a table.
func printHTTPTable(out io.Writer, results []httpResult) {
	tw := newTable(out)
	fmt.Fprintf(tw, "\nroute\treq/s\tp50\tp99\tcpu/req\trequests\tfailed\taudit\n")
	for _, r := range results {
		audit := ""
		if r.Acknowledged > 0 || r.Route == "durable posts" {
			audit = fmt.Sprintf("%d of %d acknowledged stored", r.Stored, r.Acknowledged)
		}
		cpu := "-"
		if r.CPUPerRequest > 0 {
			cpu = r.CPUPerRequest.String()
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%v\t%v\t%s\t%d\t%d\t%s\n", r.Route, r.PerSec, r.Latency.P50.Round(10*time.Microsecond), r.Latency.P99.Round(10*time.Microsecond), cpu, r.Requests, r.Failed, audit)
	}
	tw.Flush()
}

// fixture is what the workload reads and writes.
type fixture struct {
	cookie   string
	room     string // the room of 131 posts
	postRoom string // where the durable posts go
	before   int64  // an entry id with 50 older entries in the room
}

// seedFixture signs a user up, makes the four rooms and posts the room's
// 131 posts through the chat's own form.
func seedFixture(ctx context.Context, o options, out io.Writer) (fixture, error) {
	fmt.Fprintf(out, "seeding: 1 user, %d rooms, a room of %d posts\n", httpRooms, httpFixturePosts)
	users, err := signUp(ctx, o.url, 1)
	if err != nil {
		return fixture{}, err
	}
	rooms, err := makeRooms(o.url, users, httpRooms)
	if err != nil {
		return fixture{}, err
	}
	fx := fixture{cookie: users[0].Cookie, room: rooms[0], postRoom: rooms[httpRooms-1]}
	for i := range httpFixturePosts {
		text := fmt.Sprintf("post %d of the fixture: the deploy went out, the tests are green", i)
		if i%10 == 3 && i/10 < httpFixtureCoffee {
			text = fmt.Sprintf("post %d of the fixture: who wants coffee?", i)
		}
		if _, err := postForm(o.url, fx.room+"/messages", fx.cookie, url.Values{"text": {text}}); err != nil {
			return fixture{}, fmt.Errorf("seed post %d: %w (run the chat with -post-limit 0)", i, err)
		}
	}
	ids, err := entryIDs(o.url, fx.cookie, fx.room, "")
	if err != nil {
		return fixture{}, err
	}
	if len(ids) < 50 {
		return fixture{}, fmt.Errorf("the room page shows %d entries", len(ids))
	}
	fx.before = ids[0] // the page's oldest: 50 or more older than it remain
	return fx, nil
}

var entryID = regexp.MustCompile(`id="msg-(\d+)"`)

// entryIDs are the ids of the entries on a room's page (query "") or a
// history fragment (query "?before=…").
func entryIDs(base, cookie, room, query string) ([]int64, error) {
	path := room
	if query != "" {
		path = room + "/messages" + query
	}
	body, err := getBody(base, path, cookie)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, m := range entryID.FindAllStringSubmatch(body, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		ids = append(ids, id)
	}
	return ids, nil
}

func getBody(base, path, cookie string) (string, error) {
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("Cookie", cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %d", path, res.StatusCode)
	}
	return string(b), nil
}

// countStored walks a room's history from the newest entry back and
// counts the posts whose text starts with prefix.
func countStored(ctx context.Context, base, cookie, room, prefix string) (int, error) {
	body, err := getBody(base, room, cookie)
	if err != nil {
		return 0, err
	}
	n := strings.Count(body, prefix)
	ids := entryID.FindAllStringSubmatch(body, -1)
	for len(ids) > 0 && ctx.Err() == nil {
		oldest := ids[0][1]
		body, err = getBody(base, room+"/messages?before="+oldest, cookie)
		if err != nil {
			return 0, err
		}
		n += strings.Count(body, prefix)
		ids = entryID.FindAllStringSubmatch(body, -1)
	}
	return n, ctx.Err()
}

// hammer sends route's requests (tag marks them, a phase of the run) from clients keep-alive connections for
// d, each client waiting for its answer before its next request, and
// times them.
func hammer(ctx context.Context, base, cookie string, r httpRoute, tag string, clients int, d time.Duration) (httpResult, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var failed atomic.Int64
	lat := make([][]time.Duration, clients)
	var firstErr atomic.Pointer[error]
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				method, path, form := r.next(tag, c, n)
				var body io.Reader
				if form != nil {
					body = strings.NewReader(form.Encode())
				}
				req, _ := http.NewRequestWithContext(ctx, method, base+path, body)
				req.Header.Set("Cookie", cookie)
				// Asked as a browser asks; the answer is counted, not
				// inflated, so the tool spends little of the cores it
				// shares with the chat.
				req.Header.Set("Accept-Encoding", "gzip")
				if form != nil {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("Origin", base)
				}
				t0 := time.Now()
				res, err := hc.Do(req)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					failed.Add(1)
					firstErr.CompareAndSwap(nil, &err)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if ctx.Err() != nil && res.StatusCode != r.ok {
					return
				}
				lat[c] = append(lat[c], time.Since(t0))
				if res.StatusCode != r.ok {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	res := httpResult{Route: r.name, Requests: len(all), Failed: int(failed.Load()), Latency: summarize(all), PerSec: float64(len(all)) / elapsed.Seconds()}
	if e := firstErr.Load(); e != nil && res.Requests == 0 {
		return res, *e
	}
	return res, nil
}

// cpuTime is the processor time the chat's processes have used, or -1
// without -pid.
func (o options) cpuTime() time.Duration {
	if len(o.pids) == 0 {
		return -1
	}
	var sum time.Duration
	for _, pid := range o.pids {
		t := procCPU(strconv.Itoa(pid))
		if t < 0 {
			return -1
		}
		sum += t
	}
	return sum
}

// procCPU is the processor time (user and system) a process has used, by
// its id or "self"; -1 if /proc does not tell.
func procCPU(pid string) time.Duration {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return -1
	}
	// The command's name, in parentheses, may hold spaces: the fields
	// are counted after its closing one.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return -1
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	// Clock ticks; 100 a second on Linux for every program.
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// machineCPU is the processor time the whole machine has spent busy, and
// the time its virtual processors waited for the host (steal), over all
// its cores; -1 if /proc does not tell.
func machineCPU() (busy, steal time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1, -1
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return -1, -1
	}
	var ticks [8]int64
	for i := range ticks {
		ticks[i], _ = strconv.ParseInt(f[i+1], 10, 64)
	}
	// user nice system idle iowait irq softirq steal
	busy = time.Duration(ticks[0]+ticks[1]+ticks[2]+ticks[5]+ticks[6]) * 10 * time.Millisecond
	return busy, time.Duration(ticks[7]) * 10 * time.Millisecond
}
