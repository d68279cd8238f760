package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// The files mode: one user uploads -files files of -file-size bytes each
// (random, so that nothing compresses them), one post each, -clients at a
// time; then downloads every one and checks its bytes. It prints the
// throughput both ways and, with -pid, the chat's resident memory before
// and at its peak, sampled every 10 ms.

var fileLinkRE = regexp.MustCompile(`class="attachment attachment-file" href="(/files/[^"]+)"`)

func runFiles(ctx context.Context, o options, out io.Writer) error {
	o.users = 1
	users, rooms, err := setUp(ctx, o, 1, out)
	if err != nil {
		return err
	}
	cookie, room := users[0].Cookie, rooms[0]
	data, sums := randomFiles(o.files, o.fileSize)
	r := filesResult{before: rssKiB(o.pid)}
	peak := samplePeak(o.pid)
	start := time.Now()
	err = parallel(ctx, o.files, o.clients, func(i int) error {
		return uploadFile(o.url, room, cookie, fmt.Sprintf("load-%d.bin", i), data[i])
	})
	r.up = time.Since(start)
	r.upPeak = peak()
	if err != nil {
		return err
	}
	links, err := fileLinks(o, room, cookie)
	if err != nil {
		return err
	}
	peak = samplePeak(o.pid)
	var bad atomic.Int64
	start = time.Now()
	err = parallel(ctx, len(links), o.clients, func(i int) error {
		sum, err := downloadFile(o.url+links[i], cookie)
		if err == nil && !sums[sum] {
			bad.Add(1)
		}
		return err
	})
	r.down = time.Since(start)
	r.downPeak = peak()
	if err != nil {
		return err
	}
	r.bad = bad.Load()
	r.print(out, o)
	if r.bad > 0 {
		return errors.New("a download did not match what was sent")
	}
	return nil
}

// randomFiles makes n files of size random bytes, and the set of their
// SHA-256 sums.
func randomFiles(n, size int) ([][]byte, map[[32]byte]bool) {
	data := make([][]byte, n)
	sums := make(map[[32]byte]bool)
	for i := range data {
		data[i] = make([]byte, size)
		rand.Read(data[i])
		sums[sha256.Sum256(data[i])] = true
	}
	return data, sums
}

// fileLinks are the links of the last o.files files the room's page
// shows; fewer is an error.
func fileLinks(o options, room, cookie string) ([]string, error) {
	page, err := getBody(o.url, room, cookie)
	if err != nil {
		return nil, err
	}
	var links []string
	for _, m := range fileLinkRE.FindAllStringSubmatch(page, -1) {
		links = append(links, m[1])
	}
	if len(links) < o.files {
		return nil, fmt.Errorf("the room shows %d files of the %d sent", len(links), o.files)
	}
	return links[len(links)-o.files:], nil
}

// filesResult is what runFiles measured: the time each way, the chat's
// resident memory (KiB) before and at each way's peak, and how many
// downloads had other bytes than any sent.
type filesResult struct {
	up, down                 time.Duration
	before, upPeak, downPeak int64
	bad                      int64
}

// print writes the result: throughput both ways, and memory with -pid.
func (r filesResult) print(out io.Writer, o options) {
	mb := float64(o.files*o.fileSize) / (1 << 20)
	fmt.Fprintf(out, "files: %d of %.1f MiB, %d at a time\n", o.files, float64(o.fileSize)/(1<<20), o.clients)
	fmt.Fprintf(out, "upload:   %6.1f MiB/s (%v)\n", mb/r.up.Seconds(), r.up.Round(time.Millisecond))
	fmt.Fprintf(out, "download: %6.1f MiB/s (%v), %d with other bytes\n", mb/r.down.Seconds(), r.down.Round(time.Millisecond), r.bad)
	if o.pid > 0 {
		fmt.Fprintf(out, "chat RSS: %d MiB before; peak %d MiB uploading (+%d), %d MiB downloading (+%d)\n",
			r.before>>10, r.upPeak>>10, (r.upPeak-r.before)>>10, r.downPeak>>10, (r.downPeak-r.before)>>10)
	}
}

// samplePeak samples the process's resident memory until the function it
// returns is called, which gives the highest seen, in KiB.
func samplePeak(pid int) func() int64 {
	if pid <= 0 {
		return func() int64 { return -1 }
	}
	var mu sync.Mutex
	high := rssKiB(pid)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if kib := rssKiB(pid); kib > 0 {
					mu.Lock()
					high = max(high, kib)
					mu.Unlock()
				}
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return high
	}
}

// uploadFile posts one file to the room as its compose form does.
func uploadFile(base, room, cookie, name string, data []byte) error {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormFile("file", name)
	w.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+room+"/messages", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", base)
	req.Header.Set("Cookie", cookie)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("upload %s: %d %s", name, res.StatusCode, msg)
	}
	return nil
}

// downloadFile reads a file through and returns its SHA-256.
func downloadFile(u, cookie string) ([32]byte, error) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Cookie", cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return [32]byte{}, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return [32]byte{}, fmt.Errorf("download %s: %d", u, res.StatusCode)
	}
	h := sha256.New()
	if _, err := io.Copy(h, res.Body); err != nil {
		return [32]byte{}, err
	}
	return [32]byte(h.Sum(nil)), nil
}
