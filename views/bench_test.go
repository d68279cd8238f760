package views_test

import (
	"bytes"
	"context"
	"testing"

	"chat/views"
)

// BenchmarkMessageItem renders one post, as every push and page does.
func BenchmarkMessageItem(b *testing.B) {
	e := views.Entry{ID: 123456, Kind: "post", Author: "alice", Text: "Hello everyone, the build is green <again> & ready.", Time: when}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := views.EntryPush(e).Render(context.Background(), &buf); err != nil {
			b.Fatal(err)
		}
	}
}
