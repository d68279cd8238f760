// Package media says what a file is from its bytes, and makes the
// pictures the server shows: bounded header reads, previews scaled and
// re-encoded, and copies of pictures without their metadata.
//
// It knows nothing of HTTP or the store: the handlers hand it readers and
// writers.
package media

import (
	"bytes"
	"net/http"
	"strings"
)

// The four picture types, the only ones shown inline.
const (
	PNG  = "image/png"
	JPEG = "image/jpeg"
	GIF  = "image/gif"
	WebP = "image/webp"
)

// Opaque is the type of anything that must never be rendered: markup,
// scripts, and text that is not plainly UTF-8.
const Opaque = "application/octet-stream"

// SniffLen is how much of a file's head Sniff looks at.
const SniffLen = 512

// Sniff returns the MIME type of a file from its first bytes (up to
// SniffLen are read): one of the four picture types when the head has its
// signature, else http.DetectContentType's answer. Anything a browser
// could run or lay out — HTML, XML, SVG, scripts, and text that starts as
// markup or is in an encoding other than UTF-8 — is reported as Opaque
// (application/octet-stream), not as text/plain: an octet stream is
// never rendered nor sniffed into something else by any browser, so a
// mistake further on (a missing header, a cache that drops nosniff) still
// cannot run it; the file's name still tells people what it is.
func Sniff(head []byte) string {
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	switch {
	case bytes.HasPrefix(head, pngSignature):
		return PNG
	case len(head) >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff:
		return JPEG
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return GIF
	case len(head) >= 16 && string(head[:4]) == "RIFF" && string(head[8:15]) == "WEBPVP8":
		return WebP
	}
	typ := http.DetectContentType(head)
	if renderable(typ, head) {
		return Opaque
	}
	return typ
}

// renderable says whether a detected type is one a browser may lay out or
// run, or text that may be markup.
func renderable(typ string, head []byte) bool {
	t := strings.ToLower(typ)
	for _, bad := range []string{"html", "xml", "svg", "script", "javascript"} {
		if strings.Contains(t, bad) {
			return true
		}
	}
	if strings.HasPrefix(t, "text/") {
		if t != "text/plain; charset=utf-8" {
			return true // UTF-16 and others: markup could hide in them
		}
		// Text whose first non-space character opens a tag is markup to
		// a browser, whatever DetectContentType's list of tags knows.
		s := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), "\t\n\x0c\r ")
		if len(s) > 0 && s[0] == '<' {
			return true
		}
	}
	return false
}

// IsPicture reports whether typ is one of the four picture types.
func IsPicture(typ string) bool {
	switch typ {
	case PNG, JPEG, GIF, WebP:
		return true
	}
	return false
}
