package password

import (
	"errors"
	"testing"
)

func TestHashCheck(t *testing.T) {
	cheap := Params{Memory: 64, Time: 1, Threads: 1}
	h := Hash(cheap, "correct horse")
	if ok, err := Check(h, "correct horse"); !ok || err != nil {
		t.Errorf("right password: %v %v", ok, err)
	}
	if ok, err := Check(h, "wrong horse"); ok || err != nil {
		t.Errorf("wrong password: %v %v", ok, err)
	}
	if Hash(cheap, "correct horse") == h {
		t.Error("two hashes of one password share a salt")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$a2V5", h[:len(h)-3] + "!!!", "$argon2id$v=18$m=64,t=1,p=1$c2FsdA$a2V5"} {
		if _, err := Check(bad, "x"); !errors.Is(err, ErrBadHash) {
			t.Errorf("%q: %v, want ErrBadHash", bad, err)
		}
	}
}
