package jwt

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

// sameParse reports an error unless a and b (and their failures) are the
// same parse.
func sameParse(t *testing.T, tok string, a unverified, fa Failure, b unverified, fb Failure) {
	t.Helper()
	if fa != fb || a.header != b.header || a.input != b.input ||
		!bytes.Equal(a.rawHeader, b.rawHeader) || !bytes.Equal(a.payload, b.payload) || !bytes.Equal(a.sig, b.sig) {
		t.Errorf("%q: with the memo %+v %v; without %+v %v", tok, a, fa, b, fb)
	}
}

// A remembered header gives exactly the parse of the header itself, for
// every algorithm, kid and typ, and for tokens that share a header but
// differ elsewhere; headers that fail are never remembered.
func TestHeaderMemo(t *testing.T) {
	p := newProvider(t, func(o *Options) { o.Algorithms = SupportedAlgorithms()[:10] })
	var toks []string
	for _, alg := range SupportedAlgorithms()[:10] {
		for i := range 3 {
			toks = append(toks,
				token(t, alg, claims("sub", fmt.Sprint("user-", i))),
				token(t, alg, claims(), "kid", fmt.Sprint("k", i)),
				token(t, alg, claims(), "typ", "at+jwt", "kid", "k\u00e9"),
			)
		}
	}
	toks = append(toks,
		seg(`{"alg":"none"}`)+"."+seg(`{"iss":"x"}`)+".",
		seg(`{"alg":"HS256"}`)+".e30.AAAA", // outside the allow-list
		seg(`{"alg":"ES256","crit":["exp"]}`)+".e30.AAAA",
		seg(`{"alg":"ES256","alg":"ES256"}`)+".e30.AAAA",
		seg(`{"alg":"ES256","kid":"a\u0000b"}`)+".e30.AAAA",
	)
	memo := &headerMemo{}
	for range 3 {
		for _, tok := range toks {
			a, fa := parseUnsafe(tok, p.v.algs, memo)
			b, fb := parseUnsafe(tok, p.v.algs, nil)
			sameParse(t, tok, a, fa, b, fb)
		}
	}
	for i := range memo.slots {
		if k := memo.slots[i].Load(); k != nil {
			if _, f := parseUnsafe(k.seg+".e30.AAAA", p.v.algs, nil); f != FailNone {
				t.Fatalf("the memo holds a header that fails: %q (%v)", k.seg, f)
			}
		}
	}
}

// Each provider remembers under its own allow-list: a header another
// provider accepted is still refused by one that does not allow its alg.
func TestHeaderMemoPerProvider(t *testing.T) {
	rs := newProvider(t, func(o *Options) { o.Algorithms = []string{"RS256"} })
	es := newProvider(t, func(o *Options) { o.Algorithms = []string{"ES256"} })
	tok := token(t, "RS256", claims())
	for range 2 {
		if v := rs.Authenticate(bearer(tok)); v.Err != nil {
			t.Fatalf("RS256 provider: %v", v.Err)
		}
		wantFailure(t, es.Authenticate(bearer(tok)), FailAlgNotAllowed, tok)
	}
}

// Goroutines sharing a memo, each with its own headers (more than the memo
// holds), always get the parse of the header itself.
func TestHeaderMemoConcurrent(t *testing.T) {
	p := newProvider(t, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		toks := make([]string, 3)
		for i := range toks {
			toks[i] = token(t, "ES256", claims(), "kid", fmt.Sprint("g", g, "-", i))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				tok := toks[i%len(toks)]
				a, fa := parseUnsafe(tok, p.v.algs, p.v.headers)
				b, fb := parseUnsafe(tok, p.v.algs, nil)
				sameParse(t, tok, a, fa, b, fb)
			}
		}()
	}
	wg.Wait()
}
