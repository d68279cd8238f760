// Package static holds the files the browser loads: the vendored htmx and
// its ws and sse extensions (kept as published, with their licenses), and
// the chat's own CSS, script, icons and web app manifest. They are
// embedded in the binary.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sort"
	"sync"
)

//go:generate go run icons_gen.go
//go:embed *.js *.css *.svg *.png *.webmanifest *.LICENSE
var files embed.FS

// FS is the embedded files.
func FS() fs.FS { return files }

// Version names this build's set of files: a hash of their contents, put
// in every static URL so that browsers may cache them for a year and still
// fetch the new ones after an upgrade.
var Version = sync.OnceValue(func() string {
	names, _ := fs.Glob(files, "*")
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, _ := files.ReadFile(n)
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
})

// URL is the versioned path of a static file.
func URL(name string) string { return "/static/" + Version() + "/" + name }

// Read returns the contents of one file.
func Read(name string) ([]byte, error) { return files.ReadFile(name) }
