package handlers

import (
	"testing"
	"time"
)

func TestLoginDelay(t *testing.T) {
	prev := time.Duration(0)
	for failures := range 200 {
		d := loginDelay(failures)
		switch {
		case failures < loginFreeFailures && d != 0:
			t.Errorf("%d failures: delayed %v", failures, d)
		case failures >= loginFreeFailures && d <= 0:
			t.Errorf("%d failures: not delayed", failures)
		case d < prev:
			t.Errorf("%d failures: %v, shorter than after one fewer (%v)", failures, d, prev)
		case d > loginDelayMax:
			t.Errorf("%d failures: %v, past the cap", failures, d)
		}
		prev = d
	}
	if loginDelay(1000) != loginDelayMax || loginDelayMax > 3*time.Second {
		t.Errorf("cap %v", loginDelay(1000))
	}
}
