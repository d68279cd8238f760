package handlers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"chat/media"
	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/text/unicode/norm"
)

// Limits of files.
const (
	// DefaultUploadLimit is the largest file, when Deps.UploadLimit is 0.
	DefaultUploadLimit = 10 << 20
	// DefaultUploadQuota is what a user may upload in a day, when
	// Deps.UploadQuota is 0.
	DefaultUploadQuota = 500 << 20
	// fileNameMax is the longest file name kept, in characters; a longer
	// one is shortened in its middle, its extension kept.
	fileNameMax = 120
	// previewBox is the most pixels a side of a picture's preview has:
	// twice what a bubble shows, for screens of two pixels a point.
	previewBox = 720
	// pictureMaxPixels bounds the pictures decoded for a preview, and
	// picturesAtOnce how many are decoded at a time: each takes up to 4
	// bytes a pixel while it is (8 for 16-bit pictures).
	pictureMaxPixels = 24_000_000
	picturesAtOnce   = 2
	pictureWait      = 20 * time.Second
	// previewMaxBytes is the largest picture given a preview (which reads
	// it whole); a larger one is kept as a plain file.
	previewMaxBytes = 32 << 20
	// fileUploadsPerUser and fileUploadsAtOnce are the places of uploads
	// of files (see bodyLimitFor): each holds up to 16 MiB of its body
	// in memory, and the rest in a temporary file, until it is answered.
	fileUploadsPerUser = 2
	fileUploadsAtOnce  = 8
	// unattachedFor is how long a file may stay held by no post: one
	// whose post was never stored (a crash in between) is then deleted.
	unattachedFor = time.Hour
)

// NewPictures bounds the chat's decodes of pictures: picturesAtOnce at a
// time, each of at most pictureMaxPixels.
func NewPictures() *media.Pictures { return media.NewPictures(picturesAtOnce, pictureMaxPixels) }

// filesPath reports whether a request to path may carry files: the
// compose form's, or a bot's post.
func filesPath(path []byte) bool {
	rest, ok := bytes.CutPrefix(path, []byte("/api"))
	if !ok {
		rest = path
	}
	id, ok := bytes.CutPrefix(rest, []byte("/rooms/"))
	if !ok {
		return false
	}
	id, ok = bytes.CutSuffix(id, []byte("/messages"))
	if !ok || len(id) == 0 || len(id) > 19 {
		return false
	}
	for _, b := range id {
		if b < '0' || b > '9' {
			return false
		}
	}
	return true
}

// filesBodyMax is the largest body of a post with files: as many files of
// the largest size as a post may have, and its text and form around them.
func (a *App) filesBodyMax() int64 {
	return store.MaxFilesPerPost*a.uploadLimit + 1<<20
}

// isMultipart reports whether the request is a multipart form.
func isMultipart(c *fiber.Ctx) bool {
	return strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm)
}

// formFiles are the request's file parts, if it is a multipart form.
func formFiles(c *fiber.Ctx) ([]*multipart.FileHeader, error) {
	if !isMultipart(c) {
		return nil, nil
	}
	form, err := c.MultipartForm()
	if err != nil {
		return nil, refusePost(http.StatusBadRequest, "files.form_unreadable")
	}
	return form.File["file"], nil
}

// checkFiles refuses what can be told of files before any is read: too
// many, an empty one, one too large, a name that cannot be shown. It
// returns the names to keep.
func (a *App) checkFiles(parts []*multipart.FileHeader) ([]string, error) {
	if len(parts) > store.MaxFilesPerPost {
		return nil, refusePost(http.StatusUnprocessableEntity, "files.too_many", "Max", store.MaxFilesPerPost, "Count", len(parts))
	}
	names := make([]string, len(parts))
	for i, p := range parts {
		name, problem := cleanFileName(p.Filename)
		if problem != "" {
			return nil, refusePost(http.StatusUnprocessableEntity, problem)
		}
		switch {
		case p.Size <= 0:
			return nil, refusePost(http.StatusUnprocessableEntity, "files.empty", "Name", name)
		case p.Size > a.uploadLimit:
			return nil, refusePost(http.StatusRequestEntityTooLarge, "files.too_large",
				"Name", name, "Size", fileSize(p.Size), "Limit", fileSize(a.uploadLimit))
		}
		names[i] = name
	}
	return names, nil
}

// cleanFileName is the name a file is kept under: its last part (a
// browser may send a whole path), in NFC, shortened in its middle past
// fileNameMax characters; a name with control, direction or invisible
// characters is refused, as a room's name is (problem: a key of the
// catalog).
func cleanFileName(raw string) (name, problem string) {
	if !utf8.ValidString(raw) {
		return "", "files.name_not_text"
	}
	name = raw
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(norm.NFC.String(name))
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return "", "files.name_invisible"
		}
	}
	if strings.Trim(name, ".") == "" {
		name = "file"
	}
	if n := utf8.RuneCountInString(name); n > fileNameMax {
		ext := path.Ext(name)
		if utf8.RuneCountInString(ext) > 16 {
			ext = ""
		}
		runes := []rune(strings.TrimSuffix(name, ext))
		keep := fileNameMax - utf8.RuneCountInString(ext) - 1
		name = string(runes[:keep]) + "…" + ext
	}
	return name, ""
}

// storeFiles stores the files of a post, in order, as the user's: each
// sniffed from its bytes; a picture checked from its header, given a
// preview, and kept without its metadata (a photo's position). Files
// stored before one is refused are deleted again.
func (a *App) storeFiles(ctx context.Context, user store.User, parts []*multipart.FileHeader, names []string) ([]int64, error) {
	ids := make([]int64, 0, len(parts))
	for i, p := range parts {
		f, err := a.storeFile(ctx, user, p, names[i])
		if err != nil {
			if derr := a.deleteUnattached(ctx, user.ID, ids); derr != nil {
				a.log.Error("delete files of a refused post", "user", user.ID, "err", derr)
			}
			return nil, err
		}
		ids = append(ids, f.ID)
	}
	return ids, nil
}

func (a *App) storeFile(ctx context.Context, user store.User, part *multipart.FileHeader, name string) (store.File, error) {
	src, err := part.Open()
	if err != nil {
		return store.File{}, err
	}
	defer src.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(src, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return store.File{}, err
	}
	nf := store.NewFile{UserID: user.ID, Name: name, Type: media.Sniff(head[:n]), MaxSize: a.uploadLimit + 64<<10, Quota: a.uploadQuota}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return store.File{}, err
	}
	if media.IsPicture(nf.Type) {
		if part.Size > previewMaxBytes {
			// Its preview would be read whole: kept as a plain file.
			nf.Type = media.Opaque
		} else if err := a.picture(ctx, src, &nf); err != nil {
			return store.File{}, err
		}
		if _, err := src.Seek(0, io.SeekStart); err != nil {
			return store.File{}, err
		}
	}
	f, err := a.putFile(ctx, nf, src)
	switch {
	case errors.Is(err, store.ErrQuota):
		if used, err := a.store.UploadedToday(ctx, user.ID); err == nil {
			return store.File{}, refusePost(http.StatusRequestEntityTooLarge, "files.quota_used",
				"Used", fileSize(used), "Limit", fileSize(a.uploadQuota), "Name", name)
		}
		return store.File{}, refusePost(http.StatusRequestEntityTooLarge, "files.quota", "Limit", fileSize(a.uploadQuota), "Name", name)
	case errors.Is(err, media.ErrNotPicture):
		return store.File{}, refusePost(http.StatusUnprocessableEntity, "files.not_picture", "Name", name)
	case errors.Is(err, store.ErrTooLarge):
		return store.File{}, refusePost(http.StatusRequestEntityTooLarge, "files.larger", "Name", name, "Limit", fileSize(a.uploadLimit))
	case errors.Is(err, store.ErrEmpty):
		return store.File{}, refusePost(http.StatusUnprocessableEntity, "files.empty", "Name", name)
	}
	return f, err
}

// putFile stores a file: a picture without its metadata, streamed
// through the cleaner as it is stored, which is waited for.
func (a *App) putFile(ctx context.Context, nf store.NewFile, src io.Reader) (store.File, error) {
	if !media.IsPicture(nf.Type) {
		return a.store.PutFile(ctx, nf, src)
	}
	pr, pw := io.Pipe()
	cleaned := make(chan error, 1)
	go func() {
		err := media.Clean(nf.Type, src, pw)
		pw.CloseWithError(err)
		cleaned <- err
	}()
	f, err := a.store.PutFile(ctx, nf, pr)
	// A store that stopped reading early ends the cleaner's writes.
	pr.CloseWithError(errors.New("the file was not stored"))
	if cerr := <-cleaned; err != nil && errors.Is(cerr, media.ErrNotPicture) {
		return store.File{}, cerr // the picture, not the store, failed
	}
	return f, err
}

// picture reads a picture's header and makes its preview; a file whose
// bytes begin as a picture's but are not one is kept as a plain file,
// offered for download only.
func (a *App) picture(ctx context.Context, src multipart.File, nf *store.NewFile) error {
	typ, w, h, err := a.pictures.Info(src)
	if errors.Is(err, media.ErrTooManyPixels) {
		return refusePost(http.StatusUnprocessableEntity, "files.too_many_pixels", "Name", nf.Name, "Millions", pictureMaxPixels/1_000_000)
	}
	if err == nil {
		_, err = src.Seek(0, io.SeekStart)
	}
	var preview []byte
	var ptype string
	var pw, ph int
	if err == nil {
		// A slot to decode in, waited for a while: past that, the server
		// is busy. One picture of a user's decodes at a time, so that one
		// user cannot take every slot.
		wait, cancel := context.WithTimeout(ctx, pictureWait)
		if err = a.userDecodes.take(wait, nf.UserID); err == nil {
			preview, ptype, pw, ph, err = a.pictures.Preview(wait, src, previewBox)
			a.userDecodes.release(nf.UserID)
		}
		cancel()
	}
	switch {
	case err == nil:
		nf.Type, nf.Width, nf.Height = typ, w, h
		nf.Preview, nf.PreviewType, nf.PreviewWidth, nf.PreviewHeight = preview, ptype, pw, ph
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		return errBusy
	}
	nf.Type = media.Opaque
	return nil
}

// handleFile answers a file, or its preview, to a reader of the room it
// was posted in; to anyone else, the same 404 as for a file that does not
// exist. Files never change: a browser keeps them, and asks again only
// with the ETag.
func (a *App) handleFile(c *fiber.Ctx) error {
	preview := strings.HasPrefix(c.Route().Path, "/files/:id/preview/")
	f, err := a.readableFile(c)
	if err != nil {
		return err
	}
	if name, err := url.PathUnescape(c.Params("name")); err != nil || name != f.Name || preview && f.PreviewType == "" {
		return a.noFile(c)
	}
	etag := `"` + f.ETag + `"`
	typ, size := f.Type, f.Size
	if preview {
		etag = `"` + f.ETag + `-preview"`
		typ, size = f.PreviewType, f.PreviewSize
	}
	// What a file is the server decided from its bytes: the browser is
	// never to guess, nor to run it as a page of the chat.
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	// As the contract has it: sandbox, and nothing else. A sandboxed
	// answer runs no script and has no origin of the chat's; anything that
	// could be a page is a download besides.
	c.Set(fiber.HeaderContentSecurityPolicy, "sandbox")
	c.Set(fiber.HeaderCacheControl, "private, max-age=31536000, immutable")
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderContentType, typ)
	if preview || media.IsPicture(f.Type) {
		c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("inline", map[string]string{"filename": f.Name}))
	} else {
		c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	}
	if match := c.Get(fiber.HeaderIfNoneMatch); match != "" && etagMatches(match, etag) {
		return c.SendStatus(http.StatusNotModified)
	}
	if c.Method() == fiber.MethodHead {
		c.Response().Header.SetContentLength(int(size))
		return nil
	}
	return c.SendStream(a.store.OpenFile(c.UserContext(), f, preview), int(size))
}

// noFile is the one answer to a file that is not there for the asker.
func (a *App) noFile(c *fiber.Ctx) error {
	return fiber.NewError(http.StatusNotFound, a.tr(c).T("files.not_found"))
}

// readableFile finds the file of the request's id, if the user may read
// the room it was posted in.
func (a *App) readableFile(c *fiber.Ctx) (store.File, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return store.File{}, a.noFile(c)
	}
	f, err := a.store.FindFile(c.UserContext(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.File{}, a.noFile(c)
	}
	if err != nil {
		return store.File{}, err
	}
	s, _ := session(c)
	if _, err := a.readableRoom(c.UserContext(), f.RoomID, s.User); err != nil {
		var fe *fiber.Error
		if errors.Is(err, store.ErrNotFound) || errors.As(err, &fe) && fe.Code < 500 {
			return store.File{}, a.noFile(c)
		}
		return store.File{}, err
	}
	return f, nil
}

// etagMatches reports whether an If-None-Match header names etag.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// sweepFiles deletes, every while, the files that no post came to hold,
// until stop ends; then it closes done.
func (a *App) sweepFiles(stop context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(unattachedFor / 4)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(stop, time.Minute)
		if n, err := a.store.SweepFiles(ctx, a.now().Add(-unattachedFor)); err != nil && stop.Err() == nil {
			a.log.Error("sweep files", "err", err)
		} else if n > 0 {
			a.log.Info("swept files that no post holds", "files", n)
		}
		cancel()
		select {
		case <-stop.Done():
			return
		case <-t.C:
		}
	}
}

// attachments are a message's files as the page shows them.
func attachments(files []store.File) []views.Attachment {
	if len(files) == 0 {
		return nil
	}
	out := make([]views.Attachment, len(files))
	for i, f := range files {
		out[i] = views.Attachment{ID: f.ID, Name: f.Name, Type: f.Type, Size: f.Size,
			Picture: f.PreviewType != "", PreviewWidth: f.PreviewWidth, PreviewHeight: f.PreviewHeight}
	}
	return out
}

// perUser lets each user do one thing at a time: a user's second waits
// for the first, and no one else waits for either. Its zero value is
// ready.
type perUser struct {
	mu   sync.Mutex
	busy map[int64]chan struct{}
}

// take waits until the user does nothing else, or ctx ends.
func (p *perUser) take(ctx context.Context, userID int64) error {
	for {
		p.mu.Lock()
		ch, ok := p.busy[userID]
		if !ok {
			if p.busy == nil {
				p.busy = make(map[int64]chan struct{})
			}
			p.busy[userID] = make(chan struct{})
			p.mu.Unlock()
			return nil
		}
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release ends the user's turn.
func (p *perUser) release(userID int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ch, ok := p.busy[userID]; ok {
		close(ch)
		delete(p.busy, userID)
	}
}

// deleteUnattached deletes the files of a post that was not stored, even
// once its request has ended, within a minute.
func (a *App) deleteUnattached(ctx context.Context, userID int64, ids []int64) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	return a.store.DeleteUnattachedFiles(ctx, userID, ids)
}
