package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"chat/internal/testutil"
	"chat/store"

	fws "github.com/fasthttp/websocket"
)

// TestCrashSafety kills the built chat with SIGKILL at random moments while
// several clients post, restarts it on the same database, and checks that
// the file is sound and holds every post the server acknowledged (pushed
// back to its sender) exactly once, and nothing that was never sent.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "chat")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	dbPath := filepath.Join(dir, "chat.db")

	// The binary's own answers to its flags: -h lists them all with their
	// environment variables; a bad value stops it with status 2.
	help, err := exec.Command(bin, "-h").CombinedOutput()
	if err != nil {
		t.Errorf("-h: %v", err)
	}
	for _, want := range []string{"-addr", "CHAT_ADDR", "-db", "CHAT_DB", "-post-limit", "CHAT_POST_LIMIT", "-metrics-addr", "-log-format", "-pprof-addr", "-trusted-proxies"} {
		if !strings.Contains(string(help), want) {
			t.Errorf("-h does not mention %s", want)
		}
	}
	bad := exec.Command(bin, "-post-limit", "lots", "-db", dbPath)
	out, err := bad.CombinedOutput()
	if code := bad.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), "-post-limit") {
		t.Errorf("a bad flag: exit %d, %q (%v)", code, out, err)
	}

	type proc struct {
		cmd  *exec.Cmd
		base string
	}
	launch := func() proc {
		cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-db", dbPath, "-post-limit", "0")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		logs := testutil.NewLogBuffer(listenRE)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				logs.Write(append(sc.Bytes(), '\n'))
			}
		}()
		select {
		case addr := <-logs.Found():
			return proc{cmd: cmd, base: "http://" + addr}
		case <-time.After(long):
			cmd.Process.Kill()
			t.Fatal("the chat did not start")
			return proc{}
		}
	}

	// Set up: three members of one room, their sessions kept in the file.
	p := launch()
	names := []string{"ann", "ben", "cat"}
	members := make([]member, len(names))
	var roomPath string
	for i, name := range names {
		members[i] = signUp(t, p.base, name)
		if i == 0 {
			_, roomPath = members[i].do(t, p.base, "/rooms", url.Values{"name": {"crash"}})
		} else {
			members[i].do(t, p.base, roomPath+"/join", nil)
		}
	}
	// SIGTERM, as a supervisor stops it: exit status 0 within 10 s, and no
	// write-ahead log left behind.
	began := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v", err)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("SIGTERM took %v", took)
	}
	if _, err := os.Stat(dbPath + "-wal"); !os.IsNotExist(err) {
		t.Errorf("write-ahead log left after SIGTERM: %v", err)
	}

	textRE := regexp.MustCompile(`<p class="text"[^>]*>(r\d+-\w+-\d+)</p>`)
	var mu sync.Mutex
	acked := map[string]bool{}
	sent := map[string]bool{}
	const rounds = 6
	for round := range rounds {
		p := launch()
		var wg sync.WaitGroup
		ctx, cancel := context.WithCancel(context.Background())
		for i, name := range names {
			h := http.Header{"Origin": {p.base}, "Cookie": {members[i].cookie}}
			conn, _, err := fws.DefaultDialer.Dial("ws"+strings.TrimPrefix(p.base, "http")+roomPath+"/ws", h)
			if err != nil {
				t.Fatalf("round %d: dial: %v", round, err)
			}
			wg.Add(2)
			go func() { // read: what comes back as an entry is acknowledged
				defer wg.Done()
				for {
					_, data, err := conn.ReadMessage()
					if err != nil {
						return
					}
					for _, m := range textRE.FindAllStringSubmatch(string(data), -1) {
						if strings.Contains(m[1], "-"+name+"-") {
							mu.Lock()
							acked[m[1]] = true
							mu.Unlock()
						}
					}
				}
			}()
			go func() { // write posts until the process dies
				defer wg.Done()
				defer conn.Close()
				for n := 0; ctx.Err() == nil; n++ {
					text := fmt.Sprintf("r%d-%s-%d", round, name, n)
					mu.Lock()
					sent[text] = true
					mu.Unlock()
					if err := conn.WriteMessage(fws.TextMessage, []byte(fmt.Sprintf(`{"text":%q,"client_id":"id-%s"}`, text, text))); err != nil {
						return
					}
					time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond) // the stream's pace, no synchronization
				}
			}()
		}
		// A kill at a random moment of the stream is the behaviour under
		// test: this is no synchronization.
		time.Sleep(time.Duration(150+rand.IntN(500)) * time.Millisecond)
		p.cmd.Process.Kill() // SIGKILL: no shutdown at all
		p.cmd.Wait()
		cancel()
		wg.Wait()
	}

	db, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatalf("reopen after the crashes: %v", err)
	}
	defer db.Close()
	if verdict, err := db.IntegrityCheck(context.Background()); err != nil || verdict != "ok" {
		t.Fatalf("integrity check: %q %v", verdict, err)
	}
	var all []store.Message
	for after := int64(0); ; {
		page, err := db.ListMessagesAfter(context.Background(), 1, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].ID
	}
	seen := map[string]int{}
	for _, m := range all {
		if m.Kind != store.KindPost {
			continue
		}
		seen[m.Text]++
		if !sent[m.Text] {
			t.Errorf("stored %q, which no one sent", m.Text)
		}
	}
	missing, doubled := 0, 0
	for text := range acked {
		if seen[text] == 0 {
			missing++
		}
	}
	for text, n := range seen {
		if n > 1 {
			doubled++
			t.Errorf("%q stored %d times", text, n)
		}
	}
	if missing > 0 {
		t.Errorf("%d acknowledged posts lost", missing)
	}
	if len(acked) == 0 {
		t.Fatal("no post was acknowledged: the test proved nothing")
	}
	t.Logf("%d rounds: %d posts sent, %d acknowledged, %d stored, none lost or doubled", rounds, len(sent), len(acked), len(seen))
}
