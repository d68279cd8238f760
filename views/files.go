package views

import (
	"mime"
	"net/url"
	"strconv"
	"strings"

	"chat/i18n"
)

// Attachment is a file a post carries: a picture, shown by the preview the
// server made of it, or any other file, offered for download.
type Attachment struct {
	ID   int64
	Name string
	Type string // the MIME type of its bytes
	Size int64
	// Picture: it has a preview of PreviewWidth × PreviewHeight pixels.
	Picture                     bool
	PreviewWidth, PreviewHeight int
}

// Card is the preview of a post's first link, as the server fetched it.
type Card struct {
	URL, Title, Description, Site string
	// ImageID is the file holding the card's picture (0: none), of
	// ImageWidth × ImageHeight pixels.
	ImageID                 int64
	ImageWidth, ImageHeight int
}

// FileURL is the address of a file; the name is part of it so that a
// download keeps it.
func FileURL(id int64, name string) string {
	return "/files/" + strconv.FormatInt(id, 10) + "/" + url.PathEscape(name)
}

// PreviewURL is the address of the preview the server made of a picture.
func PreviewURL(id int64, name string) string {
	return "/files/" + strconv.FormatInt(id, 10) + "/preview/" + url.PathEscape(name)
}

// FileSize is a size for people in a language: 512 B, 14 KB, 1.2 MB
// (units of 1024); in Spanish 1,2 MB: the catalog gives the decimal mark.
func FileSize(l *i18n.Lang, n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, u := float64(n)/unit, "KB"
	for _, next := range []string{"MB", "GB"} {
		if v < unit {
			break
		}
		v, u = v/unit, next
	}
	if v < 10 {
		return strings.Replace(strconv.FormatFloat(v, 'f', 1, 64), ".", l.T("files.decimal_mark"), 1) + " " + u
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " " + u
}

// kindKeys name the common kinds of file the way people call them: keys
// of the catalog ("ZIP archive", "Archivo ZIP").
var kindKeys = map[string]string{
	"application/pdf":  "files.kind_pdf",
	"application/zip":  "files.kind_zip",
	"application/gzip": "files.kind_gzip",
	"text/plain":       "files.kind_text",
	"image/png":        "files.kind_png",
	"image/jpeg":       "files.kind_jpeg",
	"image/gif":        "files.kind_gif",
	"image/webp":       "files.kind_webp",
	"audio/mpeg":       "files.kind_mp3",
	"audio/wave":       "files.kind_wav",
	"video/mp4":        "files.kind_mp4",
	"video/webm":       "files.kind_webm",
	"application/ogg":  "files.kind_ogg",
}

// FileKind names a file's type for people in a language: "PDF", "Text",
// else the subtype of its MIME type in capitals, else "File".
func FileKind(l *i18n.Lang, typ string) string {
	mt, _, err := mime.ParseMediaType(typ)
	if err != nil {
		return l.T("files.kind_file")
	}
	if k, ok := kindKeys[mt]; ok {
		return l.T(k)
	}
	if _, sub, ok := strings.Cut(mt, "/"); ok && sub != "octet-stream" && len(sub) <= 12 && !strings.ContainsAny(sub, ".+-") {
		return strings.ToUpper(sub)
	}
	return l.T("files.kind_file")
}

// cardHost is the host a card's link goes to, shown when the page named
// no site.
func cardHost(c *Card) string {
	if c.Site != "" {
		return c.Site
	}
	if u, err := url.Parse(c.URL); err == nil {
		return u.Hostname()
	}
	return ""
}
