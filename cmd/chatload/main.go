// Command chatload measures a running chat: it signs up users as a browser
// would, opens WebSocket connections (or, with -transport sse, event
// streams) to rooms, posts at a fixed rate and counts and times every
// delivery. It starts no server of its own.
//
//	go run ./cmd/chatload -url http://127.0.0.1:8080 -conns 1000 -rate 100 -duration 60s -pid $(pidof chat)
//	go run ./cmd/chatload -url http://127.0.0.1:8080 -conns 1000 -rate 100 -duration 60s -transport sse -pid $(pidof chat)
//	go run ./cmd/chatload -url http://127.0.0.1:8080 -mode broadcast -max 20000
//	go run ./cmd/chatload -url http://127.0.0.1:8080 -mode http -duration 8s
//	go run ./cmd/chatload -url http://127.0.0.1:8080 -mode files -files 20 -pid $(pidof chat)
//	go run ./cmd/chatload -url http://127.0.0.1:8081,http://127.0.0.1:8082,http://127.0.0.1:8083 -pid 11,12,13
//
// With several URLs (instances of one chat), connection i goes to the
// i-th URL in turn; users and rooms are made on the first.
//
// The chat under load wants its per-user limits out of the way, for
// example: chat -post-limit 0 -room-limit 0 -max-sockets 100000.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	fws "github.com/fasthttp/websocket"
)

type options struct {
	url       string
	urls      []string
	pids      []int
	mode      string
	transport string
	users     int
	rooms     int
	conns     int
	senders   int
	rate      float64
	duration  time.Duration
	pid       int
	jsonOut   string
	step      int
	max       int
	p95       time.Duration
	samples   int
	dialEvery time.Duration
	accounts  string
	clients   int
	route     string
	warmup    time.Duration
	files     int
	fileSize  int
	// langs are the Accept-Language headers connections send, in turn.
	langs []string
}

// lang is the Accept-Language of connection i ("" for none).
func (o options) lang(i int) string {
	if len(o.langs) == 0 {
		return ""
	}
	return o.langs[i%len(o.langs)]
}

func main() {
	o, err := parseOptions()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chatload:", err)
		os.Exit(2)
	}
	raiseFileLimit()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch o.mode {
	case "load":
		err = runLoad(ctx, o, os.Stdout)
	case "broadcast":
		err = runBroadcast(ctx, o, os.Stdout)
	case "http":
		err = runHTTP(ctx, o, os.Stdout)
	case "files":
		err = runFiles(ctx, o, os.Stdout)
	default:
		err = fmt.Errorf("unknown -mode %q", o.mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chatload:", err)
		os.Exit(1)
	}
}

// parseOptions reads the command line into options, checked.
func parseOptions() (options, error) {
	var o options
	pids := defineFlags(&o)
	flag.Parse()
	if o.mode == "files" && !flagSet("clients") {
		o.clients = 2 // the uploads one user may have under way at once
	}
	if o.mode == "http" && !flagSet("duration") {
		o.duration = 8 * time.Second // the workload's timed part
	}
	for _, u := range strings.Split(o.url, ",") {
		if u = strings.TrimSpace(u); u != "" {
			o.urls = append(o.urls, strings.TrimRight(u, "/"))
		}
	}
	if len(o.urls) == 0 {
		return o, errors.New("-url names no chat")
	}
	o.url = o.urls[0]
	for _, p := range strings.Split(*pids, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 {
			return o, fmt.Errorf("-pid %q is no process id", p)
		}
		o.pids = append(o.pids, n)
	}
	if len(o.pids) > 0 {
		o.pid = o.pids[0]
	}
	if o.transport != "ws" && (o.transport != "sse" || o.mode != "load") {
		return o, errors.New("-transport is ws, or sse with -mode load")
	}
	return o, nil
}

// defineFlags declares the flags into o; -pid is parsed after.
func defineFlags(o *options) *string {
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8080", "the running chat: comma-separated, its instances")
	flag.StringVar(&o.mode, "mode", "load", "load: fixed-rate posting; broadcast: add clients in steps until broadcasts get slow; http: pages and posts, 16 clients, one route at a time; files: uploads and downloads of large files")
	flag.StringVar(&o.transport, "transport", "ws", "load: ws, WebSockets that post over the socket; sse, event streams whose senders post over HTTP as a page without a socket does")
	flag.IntVar(&o.users, "users", 100, "users to sign up")
	flag.IntVar(&o.rooms, "rooms", 1, "rooms to spread the connections over")
	flag.IntVar(&o.conns, "conns", 1000, "WebSocket connections")
	flag.IntVar(&o.senders, "senders", 10, "connections that post")
	flag.Float64Var(&o.rate, "rate", 100, "posts per second, all senders together")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "how long to post")
	pids := flag.String("pid", "", "the chat's process id, to read its memory from /proc: comma-separated, its instances' (memory is their sum)")
	flag.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file (- for standard output)")
	flag.IntVar(&o.step, "step", 1000, "broadcast: clients added at each step")
	flag.IntVar(&o.max, "max", 20000, "broadcast: the most clients to try")
	flag.DurationVar(&o.p95, "p95", 500*time.Millisecond, "broadcast: the round trip a step's p95 must stay under")
	flag.IntVar(&o.samples, "samples", 20, "broadcast: broadcasts timed at each step")
	flag.DurationVar(&o.dialEvery, "dial-every", 0, "pause between two connections opened")
	flag.StringVar(&o.accounts, "accounts", "", "a file of users and rooms to reuse (made on the first run): measure a freshly started chat without the sign-ups' memory")
	flag.IntVar(&o.clients, "clients", 16, "http: keep-alive clients")
	flag.IntVar(&o.files, "files", 20, "files: files to upload, then download")
	flag.IntVar(&o.fileSize, "file-size", 10<<20, "files: bytes of each file")
	flag.Func("langs", "load, broadcast: the Accept-Language of the connections, comma-separated, taken in turn (en,es: a room split between two languages)", func(v string) error {
		o.langs = strings.Split(v, ",")
		return nil
	})
	flag.StringVar(&o.route, "route", "", "http: only the routes whose name holds this (room, history, lobby, search, posts)")
	return pids
}

// flagSet reports whether the command line gave the flag.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// raiseFileLimit lets this process hold as many sockets as the system lets
// it (root may raise the hard limit too).
func raiseFileLimit() {
	want := syscall.Rlimit{Cur: 200_000, Max: 200_000}
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) == nil {
		return
	}
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// user is one signed-up account.
type user struct {
	Name   string `json:"name"`
	Cookie string `json:"cookie"`
}

// accounts are the users and rooms of a run, kept for the next.
type accounts struct {
	Users []user   `json:"users"`
	Rooms []string `json:"rooms"`
}

// setUp signs users up and makes rooms, or reads them from o.accounts.
func setUp(ctx context.Context, o options, rooms int, out io.Writer) ([]user, []string, error) {
	if o.accounts != "" {
		if b, err := os.ReadFile(o.accounts); err == nil {
			var a accounts
			if err := json.Unmarshal(b, &a); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", o.accounts, err)
			}
			if len(a.Users) < o.users || len(a.Rooms) < rooms {
				return nil, nil, fmt.Errorf("%s holds %d users and %d rooms; remove it to make %d and %d", o.accounts, len(a.Users), len(a.Rooms), o.users, rooms)
			}
			return a.Users[:o.users], a.Rooms[:rooms], nil
		}
	}
	fmt.Fprintf(out, "signing up %d users\n", o.users)
	users, err := signUp(ctx, o.url, o.users)
	if err != nil {
		return nil, nil, err
	}
	roomPaths, err := makeRooms(o.url, users, rooms)
	if err != nil {
		return nil, nil, err
	}
	if o.accounts != "" {
		b, _ := json.Marshal(accounts{Users: users, Rooms: roomPaths})
		if err := os.WriteFile(o.accounts, b, 0o600); err != nil {
			return nil, nil, err
		}
	}
	return users, roomPaths, nil
}

// signUp registers n users with names of this run, as a browser posts the
// form, and returns their session cookies.
func signUp(ctx context.Context, base string, n int) ([]user, error) {
	run := strconv.FormatInt(time.Now().Unix()%100000, 36) + strconv.Itoa(rand.IntN(1000))
	users := make([]user, n)
	err := parallel(ctx, n, 8, func(i int) error {
		name := fmt.Sprintf("cl%s_%d", run, i)
		cookie, err := postForm(base, "/register", "", url.Values{"username": {name}, "password": {"chatload-" + name}})
		if err != nil {
			return fmt.Errorf("sign up %s: %w", name, err)
		}
		users[i] = user{Name: name, Cookie: cookie}
		return nil
	})
	return users, err
}

// parallel runs do(0) to do(n-1) on a number of workers, and stops at the
// first error, which it returns.
func parallel(ctx context.Context, n, workers int, do func(i int) error) error {
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for failed.Load() == nil && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := do(i); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		return *err
	}
	return ctx.Err()
}

// postForm posts a form as a page of the chat would and returns the
// session cookie it was given (or had).
func postForm(base, path, cookie string, form url.Values) (string, error) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	res, err := client.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("%s answered %d", path, res.StatusCode)
	}
	for _, c := range res.Cookies() {
		if c.Name == "chat_session" {
			return c.Name + "=" + c.Value, nil
		}
	}
	return cookie, nil
}

// makeRooms creates n rooms of this run and puts every user in each; it
// returns the rooms' paths.
func makeRooms(base string, users []user, n int) ([]string, error) {
	var rooms []string
	for i := range n {
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		form := url.Values{"name": {fmt.Sprintf("load %s %d", users[0].Name, i)}}
		req, _ := http.NewRequest(http.MethodPost, base+"/rooms", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		req.Header.Set("Cookie", users[0].Cookie)
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			return nil, fmt.Errorf("create room: %d (run the chat with -room-limit 0)", res.StatusCode)
		}
		rooms = append(rooms, res.Header.Get("Location"))
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(users)*len(rooms))
	sem := make(chan struct{}, 16)
	for _, u := range users[1:] {
		for _, r := range rooms {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if _, err := postForm(base, r+"/join", u.Cookie, nil); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	return rooms, <-errs
}

func dial(base, room, cookie, lang string) (*fws.Conn, error) {
	h := http.Header{"Origin": {base}, "Cookie": {cookie}}
	if lang != "" {
		h.Set("Accept-Language", lang)
	}
	d := fws.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 2048, WriteBufferSize: 1024}
	c, res, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+room+"/ws", h)
	if err != nil && res != nil {
		return nil, fmt.Errorf("%w (status %d)", err, res.StatusCode)
	}
	return c, err
}

// instance is the URL connection i goes to.
func (o options) instance(i int) string {
	if len(o.urls) == 0 {
		return o.url
	}
	return o.urls[i%len(o.urls)]
}

// rss is the resident memory of every process of the chat, or -1.
func (o options) rss() int64 {
	if len(o.pids) == 0 {
		return -1
	}
	var sum int64
	for _, p := range o.pids {
		kib := rssKiB(p)
		if kib < 0 {
			return -1
		}
		sum += kib
	}
	return sum
}

// rssKiB reads a process's resident memory from /proc, or -1.
func rssKiB(pid int) int64 {
	if pid <= 0 {
		return -1
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return -1
}

// posts finds the posts of this tool in a frame, "cl <number> <send time
// in unix nanoseconds>", and calls found for each.
func posts(frame []byte, found func(n int, sent int64)) {
	// The text's element, whatever its other attributes, then the text.
	const open, mark = `<p class="text"`, `>cl `
	for {
		i := bytes.Index(frame, []byte(open))
		if i < 0 {
			return
		}
		frame = frame[i+len(open):]
		j := bytes.IndexByte(frame, '>')
		if j < 0 {
			return
		}
		if !bytes.HasPrefix(frame[j:], []byte(mark)) {
			continue
		}
		frame = frame[j+len(mark):]
		end := bytes.IndexByte(frame, '<')
		if end < 0 {
			return
		}
		num, at, ok := bytes.Cut(frame[:end], []byte(" "))
		if !ok {
			continue
		}
		n, ok1 := digits(num)
		sent, ok2 := digits(at)
		if ok1 && ok2 {
			found(int(n), sent)
		}
	}
}

// digits reads a decimal number that fits an int64, without the
// allocation strconv would make of a string.
func digits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return int64(n), n <= math.MaxInt64
}

func writeJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	if path == "-" {
		_, err := os.Stdout.Write(append(b, '\n'))
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

var errStopped = errors.New("stopped")
