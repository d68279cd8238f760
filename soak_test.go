package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"
)

// TestSoak holds many connections posting for a long while and shows that
// memory and goroutines stay flat, and go back to where they were once
// everyone leaves. It runs only when asked:
//
//	CHAT_SOAK=5m go test -run TestSoak -v -timeout 30m .
//
// CHAT_SOAK_CONNS sets the connections (default 2000), spread over 10
// rooms and 125 users, all posting 200 times a second in total.
func TestSoak(t *testing.T) {
	dur, err := time.ParseDuration(os.Getenv("CHAT_SOAK"))
	if err != nil {
		t.Skip("set CHAT_SOAK to a duration to run the soak test")
	}
	conns := 2000
	if n, err := strconv.Atoi(os.Getenv("CHAT_SOAK_CONNS")); err == nil {
		conns = n
	}
	const users, rooms, rate = 125, 10, 200

	srv := start(t, filepath.Join(t.TempDir(), "chat.db"), "-post-limit", "0", "-room-limit", "0")
	var members []member
	for i := range users {
		m := signUp(t, srv.base, fmt.Sprintf("soak%03d", i))
		members = append(members, m)
		if i < rooms {
			m.do(t, srv.base, "/rooms", url.Values{"name": {fmt.Sprintf("soak room %d", i)}})
		}
		for r := 1; r <= rooms; r++ {
			m.do(t, srv.base, fmt.Sprintf("/rooms/%d/join", r), nil)
		}
	}
	settle := func() (rss int64, goroutines int) {
		runtime.GC()
		debug.FreeOSMemory()
		// A pause for the runtime to hand memory back before the RSS is
		// read: part of the measure, no synchronization.
		time.Sleep(500 * time.Millisecond)
		return rssKiB(), runtime.NumGoroutine()
	}
	baseRSS, baseG := settle()
	t.Logf("baseline: RSS %d KiB, %d goroutines", baseRSS, baseG)

	var received, posted atomic.Int64
	var wg sync.WaitGroup
	sockets := make([]*fws.Conn, 0, conns)
	for i := range conns {
		m := members[i%users]
		room := 1 + i%rooms
		h := http.Header{"Origin": {srv.base}, "Cookie": {m.cookie}}
		c, _, err := fws.DefaultDialer.Dial(fmt.Sprintf("ws%s/rooms/%d/ws", strings.TrimPrefix(srv.base, "http"), room), h)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		sockets = append(sockets, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
				received.Add(1)
			}
		}()
	}
	var writeMu sync.Mutex // one writer per client socket
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	began := time.Now()
	tick := time.NewTicker(time.Second / rate)
	sample := time.NewTicker(dur / 10)
	var samples []int64
	for n := 0; ctx.Err() == nil; {
		select {
		case <-tick.C:
			c := sockets[n%len(sockets)]
			writeMu.Lock()
			err := c.WriteMessage(fws.TextMessage, []byte(fmt.Sprintf(`{"text":"soak %d"}`, n)))
			writeMu.Unlock()
			if err != nil {
				t.Fatalf("post %d: %v", n, err)
			}
			posted.Add(1)
			n++
		case <-sample.C:
			rss := rssKiB()
			samples = append(samples, rss)
			t.Logf("%v: RSS %d KiB, %d goroutines, %d posts, %d frames received", time.Since(began).Round(time.Second), rss, runtime.NumGoroutine(), posted.Load(), received.Load())
		case <-ctx.Done():
		}
	}
	tick.Stop()
	sample.Stop()
	for _, c := range sockets {
		c.Close()
	}
	wg.Wait()
	sockets = nil // the clients' buffers are no part of what the server keeps
	endRSS, endG := settle()
	if path := os.Getenv("CHAT_SOAK_HEAPPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("after everyone left: RSS %d KiB, %d goroutines (baseline %d KiB, %d); Go heap in use %d KiB, held but free %d KiB, stacks %d KiB",
		endRSS, endG, baseRSS, baseG, ms.HeapInuse>>10, (ms.HeapIdle-ms.HeapReleased)>>10, ms.StackInuse>>10)
	if endG > baseG+10 {
		t.Errorf("goroutines did not come back: %d, baseline %d", endG, baseG)
	}
	if len(samples) >= 4 {
		early, late := samples[1], samples[len(samples)-1]
		if late > early+early/5 {
			t.Errorf("RSS grew under steady load from %d to %d KiB", early, late)
		}
	}
}

// rssKiB reads this process's resident memory from /proc.
func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return -1
}
