package handlers

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"strconv"
	"sync"
	"time"

	"chat/store"
	"chat/views"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/image/draw"
)

// Limits of people's pictures.
const (
	avatarMaxBytes = 2 << 20
	// avatarBodyMax is the largest body of an avatar's upload: the
	// picture and the multipart form around it.
	avatarBodyMax   = avatarMaxBytes + 64<<10
	avatarMaxPixels = 40_000_000 // width × height decoded, at most
)

// handleAvatarUpload takes a PNG or JPEG, and keeps it cropped to a square
// and re-encoded as a 128-pixel PNG: nothing of the upload but its pixels
// reaches anyone.
func (a *App) handleAvatarUpload(c *fiber.Ctx) error {
	s, _ := session(c)
	page := views.AccountPage{Viewer: viewer(c)}
	// fail shows the form again with what is wrong: a key of the catalog.
	fail := func(status int, key string) error {
		page.AvatarError = a.tr(c).T(key)
		_, _, err := a.store.FindAvatar(c.UserContext(), s.User.ID)
		page.HasAvatar = err == nil
		return render(c, status, views.Account(page))
	}
	fh, err := c.FormFile("avatar")
	if err != nil {
		return fail(http.StatusUnprocessableEntity, "account.picture_missing")
	}
	if fh.Size > avatarMaxBytes {
		return fail(http.StatusRequestEntityTooLarge, "account.picture_over_2mb")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	var raw bytes.Buffer
	raw.Grow(int(fh.Size) + bytes.MinRead) // one buffer of its size, not doublings
	if _, err := raw.ReadFrom(http.MaxBytesReader(nil, f, avatarMaxBytes)); err != nil {
		return fail(http.StatusRequestEntityTooLarge, "account.picture_over_2mb")
	}
	format, msg := checkAvatar(raw.Bytes())
	if msg != "" {
		return fail(http.StatusUnprocessableEntity, msg)
	}
	if !a.decoding.acquire(c.UserContext()) {
		return fail(http.StatusServiceUnavailable, "account.picture_busy")
	}
	out, msg := reencodeAvatar(raw.Bytes(), format)
	a.decoding.release()
	if msg != "" {
		return fail(http.StatusUnprocessableEntity, msg)
	}
	if err := a.store.SetAvatar(c.UserContext(), s.User.ID, out); err != nil {
		return err
	}
	return c.Redirect("/account/password?avatar=1#avatar", fiber.StatusSeeOther)
}

// Reading a picture: what a decode may take, and how many run at once.
const (
	// avatarDecodeBudget bounds the memory decoding and scaling one
	// picture takes: its pixels as decoded (by bit depth and colour
	// model), a progressive JPEG's coefficients, and the scaler's rows.
	avatarDecodeBudget = 64 << 20
	// avatarDecodes are the decodes at once; more wait, up to
	// avatarDecodeWait.
	avatarDecodes    = 2
	avatarDecodeWait = 10 * time.Second
	// jpegMaxScans bounds the scans of a JPEG, each of which the decoder
	// goes over the whole picture for; encoders make about ten.
	jpegMaxScans = 100
)

// decodeSlots bounds the pictures decoded at once, as hashing bounds
// password hashes. Its zero value is ready.
type decodeSlots struct {
	once  sync.Once
	slots chan struct{}
}

// acquire takes a slot, waiting up to avatarDecodeWait; false: none came.
func (d *decodeSlots) acquire(ctx context.Context) bool {
	d.once.Do(func() { d.slots = make(chan struct{}, avatarDecodes) })
	wait := time.NewTimer(avatarDecodeWait)
	defer wait.Stop()
	select {
	case d.slots <- struct{}{}:
		return true
	case <-ctx.Done():
	case <-wait.C:
	}
	return false
}

func (d *decodeSlots) release() { <-d.slots }

// checkAvatar reads a PNG's or JPEG's header, not its pixels, and says
// what format it is, or what is wrong (a key of the catalog): a size past
// the limits, or a decode that would take more than avatarDecodeBudget.
func checkAvatar(raw []byte) (format, problem string) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil || (format != "png" && format != "jpeg") {
		return "", "account.picture_not_png_jpeg"
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width*cfg.Height > avatarMaxPixels || cfg.Width > 10000 || cfg.Height > 10000 {
		return "", "account.picture_too_wide"
	}
	var cost int64
	if format == "png" {
		cost = pngCost(raw, cfg)
	} else {
		var scans int
		cost, scans = jpegCost(raw, cfg)
		if scans > jpegMaxScans {
			return "", "account.picture_too_many_scans"
		}
	}
	// The scaler keeps four float64s for each of the picture's rows
	// times each column of the avatar.
	cost += int64(min(cfg.Width, cfg.Height)) * store.MaxAvatarSide * 32
	if cost > avatarDecodeBudget {
		return "", "account.picture_too_costly"
	}
	return format, ""
}

// pngCost is what decoding a PNG takes. Grey pixels become colour ones
// when a later chunk gives a transparent colour, which DecodeConfig does
// not read: they are counted as colour. An interlaced PNG also holds its
// largest pass, half the picture.
func pngCost(raw []byte, cfg image.Config) int64 {
	bpp := int64(4)
	switch cfg.ColorModel.(type) {
	case color.Palette:
		bpp = 1
	}
	switch cfg.ColorModel {
	case color.Gray16Model, color.RGBA64Model, color.NRGBA64Model:
		bpp = 8
	}
	cost := int64(cfg.Width) * int64(cfg.Height) * bpp
	// The IHDR chunk comes first, at a fixed place; its last byte says
	// whether the picture is interlaced.
	if len(raw) > 28 && raw[28] != 0 {
		cost += cost / 2
	}
	return cost
}

// jpegCost is what decoding a JPEG takes, from its frame header: each
// component's samples (rounded up to whole blocks), 4 bytes a sample more
// for a progressive JPEG's coefficients, and for CMYK or RGB the picture
// made of them. It also counts the JPEG's scans.
func jpegCost(raw []byte, cfg image.Config) (cost int64, scans int) {
	f := readJPEGFrame(raw)
	var hmax, vmax int64 = 1, 1
	for _, c := range f.comps {
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	mxx := (int64(cfg.Width) + 8*hmax - 1) / (8 * hmax)
	myy := (int64(cfg.Height) + 8*vmax - 1) / (8 * vmax)
	var samples int64
	for _, c := range f.comps {
		samples += 8 * c.h * mxx * 8 * c.v * myy
	}
	cost = samples
	if f.progressive {
		cost += 4 * samples
	}
	n := len(f.comps)
	named := n == 3 && f.comps[0].id == 'R' && f.comps[1].id == 'G' && f.comps[2].id == 'B'
	if n == 4 || n == 3 && (f.adobeRGB || named) {
		cost += 4 * int64(cfg.Width) * int64(cfg.Height)
	}
	return cost, f.scans
}

// jpegFrame is what jpegCost needs of a JPEG's markers.
type jpegFrame struct {
	comps       []jpegComponent
	progressive bool
	// adobeRGB: an Adobe marker saying "no transform", with which the
	// decoder builds an RGBA picture besides the samples.
	adobeRGB bool
	scans    int
}

type jpegComponent struct {
	id   byte
	h, v int64
}

// readJPEGFrame walks a JPEG's markers as the decoder would, without
// decoding any scan.
func readJPEGFrame(raw []byte) jpegFrame {
	var f jpegFrame
	for i := 2; i+3 < len(raw); {
		if raw[i] != 0xff {
			i++ // not a marker: bytes the decoder skips too
			continue
		}
		marker := raw[i+1]
		switch {
		case marker == 0xff || marker == 0x00 || marker == 0x01 || marker >= 0xd0 && marker <= 0xd7:
			i++ // fill bytes and markers without a segment
			continue
		case marker == 0xd9:
			return f
		}
		end := min(i+2+(int(raw[i+2])<<8|int(raw[i+3])), len(raw))
		if end < i+4 {
			return f // a segment shorter than its own length: the decoder refuses it
		}
		seg := raw[i+4 : end]
		switch marker {
		case 0xc0, 0xc1, 0xc2:
			f.progressive = marker == 0xc2
			if len(seg) >= 6 {
				for c := seg[6:]; len(c) >= 3 && len(f.comps) < int(seg[5]); c = c[3:] {
					f.comps = append(f.comps, jpegComponent{c[0], max(int64(c[1]>>4), 1), max(int64(c[1]&15), 1)})
				}
			}
		case 0xee:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" && seg[11] == 0 {
				f.adobeRGB = true
			}
		case 0xda:
			f.scans++
			// The scan's data runs to the next marker that is not a
			// stuffed 0xff or a restart.
			for end < len(raw)-1 && !(raw[end] == 0xff && raw[end+1] != 0 && (raw[end+1] < 0xd0 || raw[end+1] > 0xd7)) {
				end++
			}
		}
		i = end
	}
	return f
}

// reencodeAvatar decodes a PNG or JPEG that checkAvatar took, crops it to
// a centred square and scales it to MaxAvatarSide; its problem is a key
// of the catalog, as checkAvatar's.
func reencodeAvatar(raw []byte, format string) ([]byte, string) {
	var img image.Image
	var err error
	if format == "png" {
		img, err = png.Decode(bytes.NewReader(raw))
	} else {
		img, err = jpeg.Decode(bytes.NewReader(raw))
	}
	if err != nil {
		return nil, "account.picture_unreadable"
	}
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	crop := image.Rect(b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2, 0, 0)
	crop.Max = crop.Min.Add(image.Pt(side, side))
	n := min(side, store.MaxAvatarSide)
	dst := image.NewRGBA(image.Rect(0, 0, n, n))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, crop, draw.Src, nil)
	var out bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, dst); err != nil {
		return nil, "account.picture_unreadable"
	}
	return out.Bytes(), ""
}

func (a *App) handleAvatarDelete(c *fiber.Ctx) error {
	s, _ := session(c)
	if err := a.store.DeleteAvatar(c.UserContext(), s.User.ID); err != nil {
		return err
	}
	return c.Redirect("/account/password#avatar", fiber.StatusSeeOther)
}

// handleAvatar answers a user's avatar: their initials on a colour of
// their own.
// An uploaded picture replaces them. Browsers keep either, and ask again
// each time whether it changed (ETag): a new picture shows at once.
func (a *App) handleAvatar(c *fiber.Ctx) error {
	u, err := a.store.FindUserByUsername(c.UserContext(), c.Params("username"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	img, updated, err := a.store.FindAvatar(c.UserContext(), u.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	etag := `"initials"`
	if err == nil {
		etag = `"` + strconv.FormatInt(updated.UnixMilli(), 36) + `"`
	}
	c.Set(fiber.HeaderETag, etag)
	if c.Get(fiber.HeaderIfNoneMatch) == etag {
		return c.SendStatus(http.StatusNotModified)
	}
	if img != nil {
		c.Set(fiber.HeaderContentType, "image/png")
		return c.Send(img)
	}
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	return views.Avatar(u.Username).Render(c.UserContext(), c.Response().BodyWriter())
}
