package media

import (
	"bytes"
	"context"
	"image"
	"testing"
)

func TestSmoke(t *testing.T) {
	p := NewPictures(2, 50_000_000)
	for name, raw := range map[string][]byte{
		"png":  encodePNG(t, gradient(640, 480)),
		"jpeg": afterSOI(encodeJPEG(t, gradient(640, 480)), exifSegment(6, "SecretCam"), comSegment("hello")),
		"gif":  encodeGIF(t, paletted(640, 480, true)),
	} {
		typ, w, h, err := p.Info(bytes.NewReader(raw))
		t.Logf("%s: Info %s %dx%d %v", name, typ, w, h, err)
		data, typ, w, h, err := p.Preview(context.Background(), bytes.NewReader(raw), 200)
		t.Logf("%s: Preview %s %dx%d %d bytes %v", name, typ, w, h, len(data), err)
		if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
			t.Error(err)
		}
		var out bytes.Buffer
		err = Clean(Sniff(raw), bytes.NewReader(raw), &out)
		t.Logf("%s: Clean %d -> %d %v", name, len(raw), out.Len(), err)
	}
}
