package dpop

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"
	"time"
)

func TestNonces(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, NonceSecretBytes)
	const life = 300 * time.Second
	start := time.Unix(1_800_000_000, 0) // a multiple of 300 s: a window starts here
	cur, acc := Nonces(secret, life, start)
	if len(acc) != 2 || acc[0] != cur {
		t.Fatalf("accepted %v; want [current, previous]", acc)
	}
	// The construction, recomputed independently.
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("dpop-nonce\x00\x00\x00\x00\x00\x00\x5b\x8d\x80"))
	if want := base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16]); cur != want {
		t.Fatalf("nonce %q; want %q", cur, want)
	}
	if len(cur) != 22 {
		t.Fatalf("nonce %q: want 22 base64url characters", cur)
	}
	if c2, _ := Nonces(secret, life, start.Add(life-time.Second)); c2 != cur {
		t.Fatal("the nonce changed within its window")
	}
	next, nacc := Nonces(secret, life, start.Add(life))
	if next == cur || nacc[1] != cur {
		t.Fatalf("next window: %q %v; want a new nonce that still accepts %q", next, nacc, cur)
	}
	if _, later := Nonces(secret, life, start.Add(2*life)); later[0] == cur || later[1] == cur {
		t.Fatal("a nonce is accepted for more than two windows")
	}
	if other, _ := Nonces(bytes.Repeat([]byte{8}, NonceSecretBytes), life, start); other == cur {
		t.Fatal("two secrets give one nonce")
	}
}

// Two worker VMs derive the same nonces from the secret the first one
// created in shared data; a corrupt or unreadable secret is an error.
func TestSharedNonces(t *testing.T) {
	data := newSharedData()
	a := &SharedNonces{Data: data, Key: "p.dpop.nonce.v1.idp", Lifetime: time.Minute}
	b := &SharedNonces{Data: data, Key: "p.dpop.nonce.v1.idp", Lifetime: time.Minute}
	if err := a.Init(); err != nil {
		t.Fatal(err)
	}
	if err := b.Init(); err != nil {
		t.Fatal(err)
	}
	if data.writes != 1 {
		t.Fatalf("%d writes; want the secret created once", data.writes)
	}
	ca, _, err := a.Nonces(testNow)
	if err != nil {
		t.Fatal(err)
	}
	cb, accB, err := b.Nonces(testNow)
	if err != nil || ca != cb || accB[0] != ca {
		t.Fatalf("VMs disagree: %q %q %v", ca, cb, err)
	}
	// A creation race: another VM's write lands between ours and the read
	// back; both then use the stored secret.
	race := &lateWriter{sharedData: newSharedData(), theirs: bytes.Repeat([]byte{9}, NonceSecretBytes)}
	c := &SharedNonces{Data: race, Key: "k", Lifetime: time.Minute}
	got, _, err := c.Nonces(testNow)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := Nonces(race.theirs, time.Minute, testNow); got != want {
		t.Fatal("the nonce does not come from the stored secret")
	}
	bad := newSharedData()
	bad.m["k"] = sharedValue{v: []byte("short"), cas: 1}
	if _, _, err := (&SharedNonces{Data: bad, Key: "k", Lifetime: time.Minute}).Nonces(testNow); !errors.Is(err, ErrNonceSecret) {
		t.Fatalf("corrupt secret: %v", err)
	}
	if _, _, err := (&SharedNonces{Key: "k", Lifetime: time.Minute}).Nonces(testNow); !errors.Is(err, ErrNonceSecret) {
		t.Fatalf("no shared data: %v", err)
	}
	broken := newSharedData()
	broken.getErr = errors.New("host failure")
	if _, _, err := (&SharedNonces{Data: broken, Key: "k", Lifetime: time.Minute}).Nonces(testNow); !errors.Is(err, ErrNonceSecret) {
		t.Fatalf("unreadable secret: %v", err)
	}
}

// lateWriter is shared data where another VM's unconditional write of
// theirs lands right after each of ours.
type lateWriter struct {
	*sharedData
	theirs []byte
}

func (w *lateWriter) SetSharedData(key string, value []byte, cas uint32) error {
	if err := w.sharedData.SetSharedData(key, value, cas); err != nil {
		return err
	}
	return w.sharedData.SetSharedData(key, w.theirs, 0)
}
