package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"chat/internal/axe"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// filesHelpers makes files in a page and hands them to it as a person
// does: pasted into the message box (a ClipboardEvent), dragged over and
// dropped on the room (DragEvents), each carrying a DataTransfer.
const filesHelpers = `window.testFiles = {
	png: async (name, w, h) => {
		const c = document.createElement("canvas");
		c.width = w; c.height = h;
		const g = c.getContext("2d");
		g.fillStyle = "#f59f00"; g.fillRect(0, 0, w, h);
		g.fillStyle = "#3b5bdb"; g.beginPath(); g.arc(w / 2, h / 2, Math.min(w, h) / 3, 0, 7); g.fill();
		const blob = await new Promise(done => c.toBlob(done, "image/png"));
		return new File([blob], name, {type: "image/png"});
	},
	bytes: (name, type, b64) => new File([Uint8Array.from(atob(b64), c => c.charCodeAt(0))], name, {type}),
	sized: (name, type, n) => {
		const a = new Uint8Array(n);
		for (let i = 0; i < n; i += 512) a[i] = i % 251;
		return new File([a], name, {type});
	},
	transfer: files => { const dt = new DataTransfer(); files.forEach(f => dt.items.add(f)); return dt; },
	paste: files => {
		const box = document.querySelector("#compose textarea");
		box.focus();
		return box.dispatchEvent(new ClipboardEvent("paste", {clipboardData: testFiles.transfer(files), bubbles: true, cancelable: true}));
	},
	drag: (type, files) => document.querySelector("#scroller").dispatchEvent(
		new DragEvent(type, {dataTransfer: testFiles.transfer(files), bubbles: true, cancelable: true})),
	drop: files => { testFiles.drag("dragenter", files); testFiles.drag("dragover", files); testFiles.drag("drop", files); },
	strip: () => [...document.querySelectorAll("#compose-files > li")].map(li =>
		li.querySelector(".compose-file-name").textContent + " | " + li.querySelector(".compose-file-meta").textContent + " | " +
		li.querySelector(".compose-file-remove").getAttribute("aria-label")),
};
true`

// aPDF is a small PDF document, with bytes of every value after it so that
// a download that changed any byte would not hash the same.
func aPDF() []byte {
	b := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	for i := range 4096 {
		b = append(b, byte(i*7+i/256))
	}
	return b
}

// bigPNGHeader is the start of a PNG that says it is w × h pixels: its
// signature and header chunk, and no pixels.
func bigPNGHeader(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		b = append(append(b, typ...), data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	b := append([]byte("\x89PNG\r\n\x1a\n"), chunk("IHDR", ihdr)...)
	return append(b, chunk("IEND", nil)...)
}

// Files in the page: Alice pastes a picture and sends it with a caption;
// Bob sees its preview live. She drops a PDF on the room and sends it
// alone; Bob's link downloads the same bytes. The list of what will be
// sent shows each file with a named remove button, and the page refuses
// what the server would (too big, too many) before sending anything. A big
// file shows the upload's progress, the send button disabled meanwhile.
// The compose form with files, and entries with them, pass axe in all
// four looks.
func TestBrowserFiles(t *testing.T) {
	srv := start(t, filepath.Join(t.TempDir(), "chat.db"), "-post-limit", "0")
	base := srv.base
	errs := &pageErrors{}
	alice := newPerson(t, "alice", errs)
	bob := newPerson(t, "bob", errs)
	meetInARoom(base, "Pictures", alice, bob)
	alice.do(chromedp.WaitVisible(`#presence [data-user="bob"]`, chromedp.ByQuery), socketOpen(), chromedp.Evaluate(filesHelpers, nil))
	bob.do(chromedp.WaitVisible(`#presence [data-user="alice"]`, chromedp.ByQuery), socketOpen())
	strip := func() []string {
		var s []string
		alice.eval(`testFiles.strip()`, &s)
		return s
	}

	// The attach button is a named button that opens the file field; the
	// field itself, for pages without scripts, is out of sight.
	var attach struct {
		Name, FieldDisplay string
		Tabbable           bool
	}
	alice.eval(`(() => {
		const b = document.querySelector("#compose button.attach");
		return {name: b.textContent.trim(), fieldDisplay: getComputedStyle(document.querySelector(".compose-attach")).display,
			tabbable: b.tabIndex === 0 && b.checkVisibility()};
	})()`, &attach)
	if attach.Name != "Attach files" || attach.FieldDisplay != "none" || !attach.Tabbable {
		t.Errorf("the attach button: %+v", attach)
	}

	// Alice pastes a picture into the message box: it is listed with its
	// thumbnail, and said to a screen reader.
	var prevented bool
	alice.do(chromedp.Evaluate(`testFiles.png("cat.png", 480, 360).then(f => !testFiles.paste([f]))`, &prevented, awaitPromise),
		chromedp.WaitVisible(`#compose-files canvas.compose-thumb[data-drawn]`, chromedp.ByQuery))
	if got := strip(); !prevented || len(got) != 1 || !strings.HasPrefix(got[0], "cat.png | PNG · ") || !strings.HasSuffix(got[0], " | Remove cat.png") {
		t.Errorf("after pasting a picture (default prevented: %v) the list holds %q", prevented, got)
	}
	var said string
	alice.eval(`document.getElementById("announce").textContent`, &said)
	if !strings.Contains(said, "cat.png attached. 1 file to send.") {
		t.Errorf("#announce says %q", said)
	}
	alice.shot("files-1-pasted")

	// She sends it with a caption. Bob sees the picture live: a preview
	// the server made, loaded, inside the entry's attachment link.
	alice.do(chromedp.SendKeys(`#compose textarea`, "Look at this", chromedp.ByQuery), pressEnter(false))
	picture := `#messages [data-author="alice"] .attachments a.attachment img`
	bob.do(chromedp.WaitVisible(picture, chromedp.ByQuery),
		chromedp.Poll(`(() => { const i = document.querySelector('`+picture+`'); return i.complete && i.naturalWidth > 0; })()`, nil))
	var pic struct {
		Alt, Src, Width, Height, Caption string
	}
	bob.eval(`(() => { const i = document.querySelector('`+picture+`'), e = i.closest(".entry");
		return {alt: i.alt, src: i.getAttribute("src"), width: i.getAttribute("width"), height: i.getAttribute("height"),
			caption: e.querySelector(".text").textContent}; })()`, &pic)
	if pic.Alt != "cat.png" || !strings.HasPrefix(pic.Src, "/files/") || pic.Width == "" || pic.Height == "" || pic.Caption != "Look at this" {
		t.Errorf("bob's entry: %+v", pic)
	}
	// Alice's form is cleared: no text, no files, a new id for the next.
	alice.do(chromedp.WaitVisible(picture, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector("#compose textarea").value === "" && document.querySelectorAll("#compose-files > li").length === 0 && document.getElementById("compose-files").hidden`, nil))

	// She drops a PDF on the room: the target shows while it is dragged
	// over, and it is listed with its type and size.
	pdf := aPDF()
	sum := sha256.Sum256(pdf)
	pdfFile := fmt.Sprintf(`testFiles.bytes("report.pdf", "application/pdf", %q)`, base64.StdEncoding.EncodeToString(pdf))
	var dropShown bool
	alice.eval(`(() => { const f = [`+pdfFile+`]; testFiles.drag("dragenter", f); testFiles.drag("dragover", f);
		const z = document.getElementById("drop-zone"); return !!z && z.checkVisibility() && z.textContent.includes("Drop files"); })()`, &dropShown)
	alice.shot("files-2-dragging")
	alice.eval(`testFiles.drag("drop", [`+pdfFile+`]); true`, nil)
	if !dropShown {
		t.Error("no drop target shows while files are dragged over the room")
	}
	alice.do(chromedp.WaitNotVisible(`#drop-zone`, chromedp.ByQuery))
	if got := strip(); len(got) != 1 || got[0] != "report.pdf | PDF · 4.1 KB | Remove report.pdf" {
		t.Errorf("after the drop the list holds %q", got)
	}
	alice.shot("files-3-dropped")
	// Sent alone, with Enter in the empty box. Bob downloads the same
	// bytes from his link.
	alice.do(chromedp.Focus(`#compose textarea`, chromedp.ByQuery), pressEnter(false))
	link := `#messages [data-author="alice"] a.attachment[download="report.pdf"]`
	bob.do(chromedp.WaitVisible(link, chromedp.ByQuery))
	var got struct {
		Hash, Disposition, Name string
		Status                  int
	}
	bob.do(chromedp.Evaluate(`(async () => {
		const a = document.querySelector('`+link+`');
		const res = await fetch(a.getAttribute("href"));
		const hash = [...new Uint8Array(await crypto.subtle.digest("SHA-256", await res.arrayBuffer()))].map(b => b.toString(16).padStart(2, "0")).join("");
		return {hash, status: res.status, disposition: res.headers.get("Content-Disposition") || "", name: a.textContent};
	})()`, &got, awaitPromise))
	if got.Status != 200 || got.Hash != hex.EncodeToString(sum[:]) || !strings.HasPrefix(got.Disposition, "attachment") || !strings.Contains(got.Name, "report.pdf") {
		t.Errorf("bob's download: %+v, want the sha256 %x", got, sum)
	}
	alice.shot("files-4-sent")
	bob.shot("files-5-bob")

	// A file the server refuses (a picture of 50,000 × 50,000 pixels, by
	// its header): its reason shows, and the file stays listed, to take
	// out or try again.
	bomb := fmt.Sprintf(`testFiles.bytes("huge.png", "image/png", %q)`, base64.StdEncoding.EncodeToString(bigPNGHeader(50000, 50000)))
	alice.eval(`testFiles.drop([`+bomb+`]); true`, nil)
	alice.do(chromedp.WaitVisible(`#compose-files li[data-key]`, chromedp.ByQuery), chromedp.Click(`#compose button.compose-send`, chromedp.ByQuery),
		chromedp.WaitVisible(`#compose-error[data-kind=error]`, chromedp.ByQuery),
		chromedp.Poll(`!document.querySelector("#compose[data-uploading]")`, nil))
	var reason string
	alice.do(chromedp.Text(`#compose-error`, &reason, chromedp.ByQuery))
	if got := strip(); !strings.Contains(reason, "huge.png is too large a picture") || len(got) != 1 || !strings.HasPrefix(got[0], "huge.png") {
		t.Errorf("refused by the server: %q, the list holds %q", reason, got)
	}
	alice.shot("files-5-refused")
	alice.do(chromedp.Click(`#compose-files button[aria-label="Remove huge.png"]`, chromedp.ByQuery),
		chromedp.Poll(`document.getElementById("compose-files").hidden`, nil))
	for _, e := range errs.take() {
		// The browser notes the refusal itself; anything else is wrong.
		if !strings.Contains(e, "status of 422") {
			t.Errorf("page error: %s", e)
		}
	}

	// Too big, too many, empty: refused in the page, said why, nothing
	// listed. A file taken out with its button leaves the list.
	alice.eval(`testFiles.drop([testFiles.sized("huge.bin", "application/octet-stream", 10 * 1024 * 1024 + 1), testFiles.sized("empty.txt", "text/plain", 0)]); true`, nil)
	var problem string
	alice.do(chromedp.WaitVisible(`#compose-error[data-kind=error]`, chromedp.ByQuery), chromedp.Text(`#compose-error`, &problem, chromedp.ByQuery))
	if !strings.Contains(problem, "huge.bin is larger than 10 MB, the most a file may be.") || !strings.Contains(problem, "empty.txt is empty.") || len(strip()) != 0 {
		t.Errorf("too big and empty: %q, list %q", problem, strip())
	}
	alice.eval(`testFiles.drop(Array.from({length: 11}, (_, i) => testFiles.sized("note-" + i + ".txt", "text/plain", 10))); true`, nil)
	alice.do(chromedp.Text(`#compose-error`, &problem, chromedp.ByQuery))
	if !strings.Contains(problem, "at most 10 files: 1 was left out") || len(strip()) != 10 {
		t.Errorf("eleven files: %q, list of %d", problem, len(strip()))
	}
	alice.do(chromedp.Click(`#compose-files button[aria-label="Remove note-3.txt"]`, chromedp.ByQuery),
		chromedp.Poll(`document.activeElement.getAttribute("aria-label") === "Remove note-4.txt"`, nil))
	if got := strip(); len(got) != 9 || strings.Contains(strings.Join(got, "\n"), "note-3.txt") {
		t.Errorf("after removing note-3.txt the list holds %q", got)
	}
	alice.eval(`document.getElementById("announce").textContent`, &said)
	if !strings.Contains(said, "note-3.txt removed. 9 files to send.") {
		t.Errorf("#announce says %q", said)
	}
	alice.shot("files-6-many")

	// The compose form with files listed, and the room with files in it,
	// in the four looks.
	for _, l := range []look{lookDesktop, lookDesktopDark, lookPhone, lookPhoneDark} {
		for _, p := range []*person{alice, bob} {
			var found []axe.Violation
			p.do(l.apply(), nextFrame())
			p.shot("files-a11y-" + p.name + "-" + l.name)
			p.do(axe.Run(axe.Options{}, &found))
			if len(found) > 0 {
				t.Errorf("%s's room with files at %s: %d rules broken:\n%s", p.name, l.name, len(found), axe.Report(found))
			}
		}
	}
	alice.do(lookDesktop.apply(), emulation.ClearDeviceMetricsOverride())
	bob.do(lookDesktop.apply())

	// A big file over a slow line: the progress shows, the send button is
	// disabled until the answer, then all is cleared.
	for range 9 {
		alice.do(chromedp.Click(`#compose-files .compose-file-remove`, chromedp.ByQuery))
	}
	alice.do(chromedp.Poll(`document.querySelectorAll("#compose-files > li").length === 0`, nil))
	alice.eval(`window.uploadSeen = {values: [], disabled: false};
		new MutationObserver(() => {
			const f = document.getElementById("compose"), bar = f && f.querySelector(".compose-progress");
			if (!bar || bar.hidden) return;
			uploadSeen.values.push(bar.value);
			if (f.querySelector(".compose-send").disabled) uploadSeen.disabled = true;
		}).observe(document.querySelector(".conversation"), {subtree: true, attributes: true, childList: true});
		testFiles.drop([testFiles.sized("big.bin", "application/octet-stream", 4 * 1024 * 1024)]); true`, nil)
	alice.do(network.Enable(), chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := network.EmulateNetworkConditionsByRule(false, []*network.Conditions{{Latency: 0, DownloadThroughput: -1, UploadThroughput: 1 << 20}}).Do(ctx)
		return err
	}))
	alice.do(chromedp.Click(`#compose button.compose-send`, chromedp.ByQuery),
		chromedp.Poll(`uploadSeen.values.some(v => v > 0 && v < 100)`, nil))
	alice.shot("files-7-progress")
	bob.do(chromedp.WaitVisible(`#messages a.attachment[download="big.bin"]`, chromedp.ByQuery))
	alice.do(chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := network.EmulateNetworkConditionsByRule(false, nil).Do(ctx)
		return err
	}), chromedp.Poll(`!document.querySelector("#compose [data-uploading]") && document.querySelectorAll("#compose-files > li").length === 0`, nil))
	var seen struct {
		Values   []float64
		Disabled bool
	}
	alice.eval(`uploadSeen`, &seen)
	if !seen.Disabled || len(seen.Values) < 2 {
		t.Errorf("while uploading: %+v", seen)
	}
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %q", e)
	}
}

// Without JavaScript the compose form sends files as a plain multipart
// form: picked in the file field, posted with the text, shown in the
// entry after the redirect.
func TestBrowserFilesWithoutJavaScript(t *testing.T) {
	srv := start(t, filepath.Join(t.TempDir(), "chat.db"), "-post-limit", "0")
	errs := &pageErrors{}
	ada := newPerson(t, "ada", errs)
	ada.do(emulation.SetScriptExecutionDisabled(true))
	meetInARoom(srv.base, "Plain files", ada)
	dir := t.TempDir()
	pdf := filepath.Join(dir, "notes.pdf")
	if err := os.WriteFile(pdf, aPDF(), 0o644); err != nil {
		t.Fatal(err)
	}
	ada.do(chromedp.SetUploadFiles(`#compose input[type=file][name=file]`, []string{pdf}, chromedp.ByQuery),
		chromedp.Submit(`#compose textarea`, chromedp.ByQuery),
		chromedp.WaitVisible(`#messages [data-author="ada"] a.attachment[download="notes.pdf"]`, chromedp.ByQuery))
	ada.shot("files-nojs")
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %q", e)
	}
}
