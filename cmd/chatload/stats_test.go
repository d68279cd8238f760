package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSeen(t *testing.T) {
	var s seen
	if !s.mark(3) || !s.mark(130) || s.mark(3) || s.mark(3) {
		t.Error("mark")
	}
	if !s.has(3) || !s.has(130) || s.has(4) || s.has(5000) {
		t.Error("has")
	}
	if s.doubled != 2 {
		t.Errorf("doubled %d, want 2", s.doubled)
	}
}

func TestTally(t *testing.T) {
	// Two rooms; posts 0 and 2 in room 0, post 1 in room 1.
	postRoom := []int{0, 1, 0}
	connRoom := []int{0, 0, 1}
	a, b, c := &seen{}, &seen{}, &seen{}
	a.mark(0)
	a.mark(2)
	a.mark(2) // a duplicate
	b.mark(0) // b misses post 2
	c.mark(1)
	c.mark(0) // a post of the other room does not count as expected
	expected, received, missing, doubled := tally([]*seen{a, b, c}, connRoom, postRoom)
	if expected != 5 || received != 4 || missing != 1 || doubled != 1 {
		t.Errorf("expected %d received %d missing %d doubled %d", expected, received, missing, doubled)
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	q := summarize(ds)
	if q.P50 != 50*time.Millisecond || q.P90 != 90*time.Millisecond || q.P95 != 95*time.Millisecond || q.P99 != 99*time.Millisecond || q.Max != 100*time.Millisecond || q.Count != 100 {
		t.Errorf("%+v", q)
	}
	if one := summarize([]time.Duration{7}); one.P50 != 7 || one.P99 != 7 || one.Max != 7 {
		t.Errorf("one: %+v", one)
	}
	if empty := summarize(nil); empty.Count != 0 || empty.Max != 0 {
		t.Errorf("empty: %+v", empty)
	}
}

func TestDigits(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "12": 12, "1700000000000000001": 1700000000000000001, "9223372036854775807": 9223372036854775807} {
		if got, ok := digits([]byte(in)); !ok || got != want {
			t.Errorf("digits(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "-1", "1x", " 1", "9223372036854775808", "99999999999999999999"} {
		if got, ok := digits([]byte(in)); ok {
			t.Errorf("digits(%q) = %d, true; want false", in, got)
		}
	}
}

func TestPosts(t *testing.T) {
	frame := []byte(`<div hx-swap-oob="beforeend:#messages"><li id="msg-9"><p class="text">cl 12 1700000000000000000</p></li>` +
		`<li id="msg-10"><p class="text" dir="auto">someone else</p></li><li><p class="text" dir="auto">cl 13 1700000000000000001</p></li>` +
		`<li><p class="text">cl x y</p></li></div>`)
	var got []string
	posts(frame, func(n int, sent int64) { got = append(got, fmt.Sprint(n, " ", sent)) })
	if strings.Join(got, ",") != "12 1700000000000000000,13 1700000000000000001" {
		t.Errorf("found %q", got)
	}
}
