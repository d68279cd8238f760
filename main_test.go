package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"chat/internal/testutil"
	"chat/store"

	fws "github.com/fasthttp/websocket"
)

// listenRE finds the chat's address in its first log line, text or JSON.
var listenRE = regexp.MustCompile(`"?msg"?[=:]"?listening"?.*?"?url"?[=:]"?http://([^"\s]+)`)

// long bounds the tests' waits for a server or a cluster: generous for a
// loaded machine, and free when things are fast, as a wait that is met
// returns.
const long = 60 * time.Second

type running struct {
	base    string
	logs    *testutil.LogBuffer
	stop    context.CancelFunc
	done    chan error
	stopped bool
}

// start runs the chat as main does, on a port of its own, and waits until
// /healthz answers.
func start(t *testing.T, dbPath string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := testutil.NewLogBuffer(listenRE)
	r := &running{logs: logs, stop: cancel, done: make(chan error, 1)}
	env := map[string]string{"CHAT_ADDR": "127.0.0.1:0", "CHAT_DB": dbPath}
	go func() { r.done <- run(ctx, args, func(k string) string { return env[k] }, logs) }()
	select {
	case addr := <-logs.Found():
		r.base = "http://" + addr
	case err := <-r.done:
		t.Fatalf("run ended at start: %v\n%s", err, logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("run did not listen\n%s", logs)
	}
	testutil.Eventually(t, 60*time.Second, func() bool {
		res, err := http.Get(r.base + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, "healthz never answered")
	t.Cleanup(func() {
		if r.stopped {
			return
		}
		cancel()
		select {
		case <-r.done:
		case <-time.After(15 * time.Second):
		}
	})
	return r
}

// shutdown stops the server as SIGTERM would, and returns run's result
// and how long it took.
func (r *running) shutdown(t *testing.T) (error, time.Duration) {
	t.Helper()
	began := time.Now()
	r.stopped = true
	r.stop()
	select {
	case err := <-r.done:
		return err, time.Since(began)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after the stop")
		return nil, 0
	}
}

func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func getBody(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// The chat keeps everything across a restart, stops within the time a
// supervisor allows with exit status 0, and leaves a clean database file.
func TestRunRestartKeepsEverything(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "chat.db")
	r := start(t, dbPath)
	c := browser(t)
	if res := postForm(t, c, r.base+"/register", url.Values{"username": {"alice"}, "password": {"hunter2hunter2"}}); res.StatusCode != http.StatusOK {
		t.Fatalf("register: %d", res.StatusCode)
	}
	res := postForm(t, c, r.base+"/rooms", url.Values{"name": {"general"}})
	roomURL := res.Request.URL.String()
	postForm(t, c, roomURL+"/messages", url.Values{"text": {"remember me"}})

	// A socket open at shutdown is told 1012, to come back by itself.
	u, _ := url.Parse(r.base)
	h := http.Header{"Origin": {r.base}}
	for _, ck := range c.Jar.Cookies(u) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	ws, _, err := fws.DefaultDialer.Dial("ws"+strings.TrimPrefix(roomURL, "http")+"/ws", h)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(time.Second))
	ws.ReadMessage() // the presence list: subscribed

	closed := make(chan int, 1)
	go func() {
		ws.SetReadDeadline(time.Now().Add(15 * time.Second))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				var ce *fws.CloseError
				if errors.As(err, &ce) {
					closed <- ce.Code
				} else {
					closed <- 1006
				}
				return
			}
		}
	}()
	err, took := r.shutdown(t)
	if err != nil {
		t.Fatalf("run returned %v", err)
	}
	t.Logf("shutdown took %v", took)
	if took > 10*time.Second {
		t.Errorf("shutdown took %v", took)
	}
	if code := <-closed; code != 1012 {
		t.Errorf("socket closed with %d, want 1012", code)
	}
	if _, err := os.Stat(dbPath + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("write-ahead log left behind: %v", err)
	}
	if !strings.Contains(r.logs.String(), "stopped") {
		t.Error("no clean stop logged")
	}
	if strings.Contains(r.logs.String(), "hunter2") {
		t.Error("a password reached the logs")
	}

	r2 := start(t, dbPath)
	roomURL2 := strings.Replace(roomURL, r.base, r2.base, 1)
	// The session lives in the database: the same cookie still works.
	c2 := browser(t)
	u2, _ := url.Parse(r2.base)
	c2.Jar.SetCookies(u2, c.Jar.Cookies(u))
	status, body := getBody(t, c2, roomURL2)
	if status != http.StatusOK || !strings.Contains(body, "remember me") {
		t.Errorf("after restart: %d, post kept: %v", status, strings.Contains(body, "remember me"))
	}
}

func TestRunFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-post-limit", "-1"}, {"-post-limit", "x"}, {"-nope"}, {"-max-sockets", "0"},
		{"-body-limit", "1000"}, {"-session-idle", "soon"}, {"-session-idle", "1s"},
		{"-trusted-proxies", "10.0.0.0/8,not-an-ip"}, {"-room-limit", "-2"}, {"-login-limit", "lots"},
		{"stray"}, {"backup"}, {"backup", "a", "b"}, {"-webhook-allow", "https://bots.example"}, {"-webhook-allow", "bots.example:8443"},
	} {
		err := run(context.Background(), args, func(string) string { return "" }, io.Discard)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("run %v: %v, want a usage error", args, err)
		}
	}
	err := run(context.Background(), nil, func(k string) string {
		return map[string]string{"CHAT_POST_LIMIT": "many"}[k]
	}, io.Discard)
	var u usageError
	if !errors.As(err, &u) {
		t.Errorf("bad CHAT_POST_LIMIT: %v", err)
	}
}

// A backup taken while the chat runs and takes posts is a sound database
// holding what was stored before it, and the chat runs from it.
func TestBackupWhileRunning(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "chat.db")
	r := start(t, dbPath, "-post-limit", "0")
	c := browser(t)
	postForm(t, c, r.base+"/register", url.Values{"username": {"alice"}, "password": {"password-alice"}})
	res := postForm(t, c, r.base+"/rooms", url.Values{"name": {"general"}})
	roomURL := res.Request.URL.String()
	for i := range 20 {
		postForm(t, c, roomURL+"/messages", url.Values{"text": {fmt.Sprintf("before %d", i)}})
	}
	// Keep posting while the backup runs.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			postForm(t, c, roomURL+"/messages", url.Values{"text": {fmt.Sprintf("during %d", i)}})
		}
	}()
	dest := filepath.Join(dir, "backup.db")
	var out strings.Builder
	err := run(context.Background(), []string{"backup", "-db", dbPath, dest}, func(string) string { return "" }, &out)
	close(stop)
	<-done
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if err := run(context.Background(), []string{"backup", "-db", dbPath, dest}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("a backup overwrote an existing file")
	}

	// Restore: the chat runs from the copy, with every post made before.
	restored := filepath.Join(dir, "restored.db")
	b, _ := os.ReadFile(dest)
	os.WriteFile(restored, b, 0o600)
	db, err := store.Open(context.Background(), restored)
	if err != nil {
		t.Fatal(err)
	}
	verdict, err := db.IntegrityCheck(context.Background())
	if err != nil || verdict != "ok" {
		t.Errorf("integrity: %q %v", verdict, err)
	}
	msgs, _ := db.ListLatestMessages(context.Background(), 1, 1000)
	db.Close()
	var before int
	for _, m := range msgs {
		if strings.HasPrefix(m.Text, "before ") {
			before++
		}
	}
	if before != 20 {
		t.Errorf("the backup holds %d of the 20 posts made before it", before)
	}
	r2 := start(t, restored)
	c2 := browser(t)
	postForm(t, c2, r2.base+"/login", url.Values{"username": {"alice"}, "password": {"password-alice"}})
	if status, body := getBody(t, c2, strings.Replace(roomURL, r.base, r2.base, 1)); status != http.StatusOK || !strings.Contains(body, "before 19") {
		t.Errorf("restored chat: %d", status)
	}
}

// A backup of a file that is not there, or is no chat database, fails and
// creates nothing: neither the source nor the copy.
func TestBackupRefusesMissingSource(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	dest := filepath.Join(dir, "out.db")
	var out strings.Builder
	err := run(context.Background(), []string{"backup", "-db", missing, dest}, func(string) string { return "" }, &out)
	if err == nil {
		t.Fatalf("a backup of a missing file succeeded: %q", out.String())
	}
	if strings.Contains(out.String(), "backed up") {
		t.Errorf("said %q", out.String())
	}
	for _, p := range []string{missing, dest} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was created", p)
		}
	}

	// A file that is not a chat's database is not touched either.
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(other, []byte("shopping list"), 0o600)
	if err := run(context.Background(), []string{"backup", "-db", other, dest}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("a backup of a text file succeeded")
	}
	if b, _ := os.ReadFile(other); string(b) != "shopping list" {
		t.Errorf("the text file was changed: %q", b)
	}
	if _, err := os.Stat(dest); err == nil {
		t.Error("a copy was made of a text file")
	}
}

func TestParseConfig(t *testing.T) {
	env := map[string]string{"CHAT_POST_LIMIT": "5", "CHAT_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1", "CHAT_SESSION_IDLE": "2h"}
	cfg, err := parseConfig([]string{"-post-limit", "7"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.postLimit != 7 || cfg.sessionIdle != 2*time.Hour || cfg.maxSockets != 16 || cfg.bodyLimit != 256<<10 || cfg.addr != ":8080" || cfg.db != "chat.db" {
		t.Errorf("config %+v", cfg)
	}
	if len(cfg.trustedProxies) != 2 || cfg.trustedProxies[1].String() != "192.0.2.1/32" {
		t.Errorf("proxies %v", cfg.trustedProxies)
	}
	hooks, err := parseConfig([]string{"-webhook-allow", " Bots.example, 127.0.0.1 ,"}, func(string) string { return "" }, io.Discard)
	if err != nil || strings.Join(hooks.webhookAllow, " ") != "bots.example 127.0.0.1" {
		t.Errorf("webhook hosts %v %v", hooks.webhookAllow, err)
	}
	if env, _ := parseConfig(nil, func(k string) string { return map[string]string{"CHAT_WEBHOOK_ALLOW": "hooks.internal"}[k] }, io.Discard); strings.Join(env.webhookAllow, "") != "hooks.internal" {
		t.Errorf("CHAT_WEBHOOK_ALLOW: %v", env.webhookAllow)
	}
	var help strings.Builder
	if _, err := parseConfig([]string{"-h"}, func(string) string { return "" }, &help); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	// -nats links instances sharing one PostgreSQL database: with a
	// SQLite file it is refused, saying why; with a URL it is taken.
	noEnv := func(string) string { return "" }
	if _, err := parseConfig([]string{"-nats", "nats://127.0.0.1:4222"}, noEnv, io.Discard); err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("-nats with a SQLite file: %v", err)
	}
	linked, err := parseConfig([]string{"-nats", "nats://127.0.0.1:4222", "-db", "postgres://chat@db/chat"}, noEnv, io.Discard)
	if err != nil || linked.nats != "nats://127.0.0.1:4222" || linked.natsSubject != "chat" {
		t.Errorf("-nats with PostgreSQL: %+v %v", linked, err)
	}
	if _, err := parseConfig([]string{"-nats-subject", "chat.>"}, noEnv, io.Discard); err == nil {
		t.Error("a wildcard NATS subject was taken")
	}
	for _, f := range []string{"-addr", "CHAT_ADDR", "-db", "CHAT_DB", "-post-limit", "CHAT_POST_LIMIT", "-trusted-proxies", "-webhook-allow", "CHAT_WEBHOOK_ALLOW", "-nats", "CHAT_NATS"} {
		if !strings.Contains(help.String(), f) {
			t.Errorf("-h does not mention %s", f)
		}
	}
}

// With -metrics-addr the metrics are served there, for anyone, and not on
// the chat's address; -log-format json logs JSON lines.
func TestRunMetricsAddrAndJSONLogs(t *testing.T) {
	r := start(t, filepath.Join(t.TempDir(), "chat.db"), "-metrics-addr", "127.0.0.1:0", "-log-format", "json", "-log-level", "info", "-pprof-addr", "127.0.0.1:0")
	if p := regexp.MustCompile(`"msg":"serving profiles","url":"(http://[^"]+)"`).FindStringSubmatch(r.logs.String()); p == nil {
		t.Error("no profiles address logged")
	} else if status, body := getBody(t, http.DefaultClient, p[1]); status != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("profiles: %d", status)
	}
	if _, body := getBody(t, http.DefaultClient, r.base+"/debug/pprof/"); strings.Contains(body, "goroutine") {
		t.Error("profiles on the chat's own address")
	}
	m := regexp.MustCompile(`"msg":"serving metrics","url":"(http://[^"]+)"`).FindStringSubmatch(r.logs.String())
	if m == nil {
		t.Fatalf("no metrics address logged:\n%s", r.logs)
	}
	status, body := getBody(t, http.DefaultClient, m[1])
	if status != http.StatusOK || !strings.Contains(body, "chat_ws_connections 0") || !strings.Contains(body, `chat_http_requests_total{route="/healthz",status="200"}`) {
		t.Errorf("metrics address: %d\n%.500s", status, body)
	}
	c := browser(t)
	postForm(t, c, r.base+"/register", url.Values{"username": {"alice"}, "password": {"password-alice"}})
	res, err := c.Get(r.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the chat's address with -metrics-addr: %d, want 404", res.StatusCode)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.logs.String()), "\n") {
		if !strings.HasPrefix(line, "{") || !strings.HasSuffix(line, "}") {
			t.Fatalf("not a JSON line: %q", line)
		}
	}
}

// -base-url is scheme and host alone; without it, links start with the
// address the chat listens on, never a client's Host header.
func TestBaseURL(t *testing.T) {
	none := func(string) string { return "" }
	for given, want := range map[string]string{
		"":                              "",
		"https://chat.example.com":      "https://chat.example.com",
		"https://chat.example.com/":     "https://chat.example.com",
		"http://10.0.0.5:8080":          "http://10.0.0.5:8080",
		"HTTPS://Chat.Example.com:8443": "https://Chat.Example.com:8443",
	} {
		cfg, err := parseConfig([]string{"-base-url", given}, none, io.Discard)
		if err != nil || cfg.baseURL != want {
			t.Errorf("-base-url %q: %q %v, want %q", given, cfg.baseURL, err, want)
		}
	}
	for _, bad := range []string{"chat.example.com", "ftp://chat.example.com", "https://chat.example.com/chat", "https://u:p@chat.example.com", "https://chat.example.com/?a=1", "https://"} {
		if _, err := parseConfig([]string{"-base-url", bad}, none, io.Discard); err == nil {
			t.Errorf("-base-url %q was taken", bad)
		}
	}
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080",
		"[::]:8080":      "http://localhost:8080",
		"0.0.0.0:9000":   "http://localhost:9000",
		"[::1]:8080":     "http://[::1]:8080",
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := listenBaseURL(a); got != want {
			t.Errorf("listening on %s: %q, want %q", addr, got, want)
		}
	}
}

// The files' flags: sizes with units, previews off unless asked for, bad
// values refused.
func TestFileFlags(t *testing.T) {
	noEnv := func(string) string { return "" }
	cfg, err := parseConfig(nil, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.uploadLimit != 10<<20 || cfg.uploadQuota != 500<<20 || cfg.linkPreviews {
		t.Errorf("defaults: limit %d, quota %d, previews %v", cfg.uploadLimit, cfg.uploadQuota, cfg.linkPreviews)
	}
	if d := appDeps(cfg, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, nil, nil, nil, nil); d.LinkPreviews != nil || d.UploadLimit != 10<<20 {
		t.Errorf("the app's deps by default: previews %v, limit %d", d.LinkPreviews, d.UploadLimit)
	}
	env := map[string]string{"CHAT_UPLOAD_LIMIT": "2 MB", "CHAT_LINK_PREVIEWS": "true"}
	cfg, err = parseConfig([]string{"-upload-quota", "1GB"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || cfg.uploadLimit != 2<<20 || cfg.uploadQuota != 1<<30 || !cfg.linkPreviews {
		t.Errorf("set: %d %d %v %v", cfg.uploadLimit, cfg.uploadQuota, cfg.linkPreviews, err)
	}
	if d := appDeps(cfg, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, nil, nil, nil, nil); d.LinkPreviews == nil {
		t.Error("-link-previews made no fetcher")
	}
	for _, bad := range [][]string{{"-upload-limit", "0"}, {"-upload-limit", "ten"}, {"-upload-quota", "-5MB"}, {"-link-previews", "maybe"}, {"-upload-limit", "99999999999GB"}} {
		if _, err := parseConfig(bad, noEnv, io.Discard); err == nil {
			t.Errorf("%v was taken", bad)
		}
	}
	if n, err := parseSize("512"); err != nil || n != 512 {
		t.Errorf("512: %d %v", n, err)
	}
}
