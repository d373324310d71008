package dpop

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// Server nonces (RFC 9449 §8-9) without a record per nonce: the nonce of a
// time window is
//
//	base64url(first 16 bytes of HMAC-SHA256(secret, "dpop-nonce" || 0x00 || window))
//
// with window = floor(unix time / lifetime) as a big-endian uint64. A proof
// may carry the current window's nonce or the previous one's, so a nonce
// issued at the end of a window stays good for one more lifetime. Every
// worker VM derives the same nonces from one secret kept in proxy-wasm
// shared data (see SharedNonces), so a nonce issued by one is accepted by
// all.

// NonceSecretBytes is the size of a nonce secret.
const NonceSecretBytes = 32

// Nonces returns the nonce that is current at now and the nonces a proof
// may carry at now (the current one, then the previous window's), for
// secret and lifetime.
func Nonces(secret []byte, lifetime time.Duration, now time.Time) (current string, accepted []string) {
	w := uint64(now.Unix()) / uint64(max(lifetime/time.Second, 1))
	current = nonceOf(secret, w)
	return current, []string{current, nonceOf(secret, w-1)}
}

func nonceOf(secret []byte, window uint64) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("dpop-nonce\x00"))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], window)
	m.Write(b[:])
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// SharedNonces issues server nonces from a secret in proxy-wasm shared
// data, which the first VM to need it creates. Its fields are set at
// configure time; Current and Accepted run in proxy_on_request_headers.
type SharedNonces struct {
	Data SharedData
	// Key is the shared-data key of the secret; include the encoding's
	// version, e.g. "wasm-authn.dpop.nonce.v1.<provider>".
	Key string
	// Lifetime is a window's length: a nonce is accepted for between one
	// and two lifetimes.
	Lifetime time.Duration
}

// ErrNonceSecret means the shared nonce secret could not be read or
// created.
var ErrNonceSecret = errors.New("dpop: the shared nonce secret is unavailable")

// Nonces reads the secret (creating it if no VM has yet) and returns
// Nonces(secret, s.Lifetime, now). The secret is read from shared data
// every time, so that every VM uses the one value that won a creation race.
func (s *SharedNonces) Nonces(now time.Time) (current string, accepted []string, err error) {
	secret, err := s.secret()
	if err != nil {
		return "", nil, err
	}
	current, accepted = Nonces(secret, s.Lifetime, now)
	return current, accepted, nil
}

// Init creates the secret if no VM has yet. The filter calls it in
// proxy_on_configure, so that VMs racing to create it can only do so
// before traffic; a nonce issued from a secret that lost such a race is
// refused later with a fresh nonce, which a client retries with.
func (s *SharedNonces) Init() error {
	_, err := s.secret()
	return err
}

func (s *SharedNonces) secret() ([]byte, error) {
	if s.Data == nil {
		return nil, ErrNonceSecret
	}
	for range 2 {
		v, _, err := s.Data.GetSharedData(s.Key)
		if err != nil {
			return nil, errors.Join(ErrNonceSecret, err)
		}
		if len(v) == NonceSecretBytes {
			return v, nil
		}
		if v != nil {
			return nil, ErrNonceSecret
		}
		// Absent: create it, then read back whichever VM's write won.
		fresh := make([]byte, NonceSecretBytes)
		if _, err := rand.Read(fresh); err != nil {
			return nil, errors.Join(ErrNonceSecret, err)
		}
		if err := s.Data.SetSharedData(s.Key, fresh, 0); err != nil && !errors.Is(err, ErrCASMismatch) {
			return nil, errors.Join(ErrNonceSecret, err)
		}
	}
	return nil, ErrNonceSecret
}
