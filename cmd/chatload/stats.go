package main

import (
	"math"
	"slices"
	"time"
)

// seen records which posts one connection received, and how often: a
// bit per post for the first delivery, and a count of repeats.
type seen struct {
	bits    []uint64
	doubled int
}

// mark records the delivery of post n and reports whether it is the first.
func (s *seen) mark(n int) bool {
	w := n / 64
	for w >= len(s.bits) {
		s.bits = append(s.bits, 0)
	}
	bit := uint64(1) << (n % 64)
	if s.bits[w]&bit != 0 {
		s.doubled++
		return false
	}
	s.bits[w] |= bit
	return true
}

// has reports whether post n was received.
func (s *seen) has(n int) bool {
	w := n / 64
	return w < len(s.bits) && s.bits[w]&(uint64(1)<<(n%64)) != 0
}

// tally counts, over every connection, the deliveries expected, received,
// missing and doubled: post n was expected once on each connection of its
// room (rooms[n]).
func tally(conns []*seen, connRoom []int, postRoom []int) (expected, received, missing, doubled int) {
	for c, s := range conns {
		for n, room := range postRoom {
			if room != connRoom[c] {
				continue
			}
			expected++
			if s.has(n) {
				received++
			} else {
				missing++
			}
		}
		doubled += s.doubled
	}
	return
}

// quantiles are the percentiles of a set of durations.
type quantiles struct {
	P50, P90, P95, P99, Max time.Duration
	Count                   int
}

// summarize sorts ds and reads its percentiles, by the nearest-rank rule.
func summarize(ds []time.Duration) quantiles {
	if len(ds) == 0 {
		return quantiles{}
	}
	slices.Sort(ds)
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p/100*float64(len(ds)))) - 1
		return ds[max(0, min(i, len(ds)-1))]
	}
	return quantiles{P50: rank(50), P90: rank(90), P95: rank(95), P99: rank(99), Max: ds[len(ds)-1], Count: len(ds)}
}
