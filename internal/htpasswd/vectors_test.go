package htpasswd

import (
	"strconv"
	"strings"
	"testing"
)

// cryptSHA computes crypt(key, setting) for a $5$ or $6$ setting the way
// Drepper's specification reads one: rounds clamped to [1000, 999999999] and
// written back only when given, the salt cut at '$' or 16 characters.
// (Parse is stricter: a stored hash must already be in that output form.)
func cryptSHA(t *testing.T, key, setting string) string {
	t.Helper()
	alg := sha256Crypt
	if strings.HasPrefix(setting, sha512Crypt.prefix) {
		alg = sha512Crypt
	}
	rest := strings.TrimPrefix(setting, alg.prefix)
	rounds, custom := shaCryptDefaultRounds, false
	if r, ok := strings.CutPrefix(rest, shaCryptRoundsPrefix); ok {
		if digits, after, found := strings.Cut(r, "$"); found {
			if n, err := strconv.ParseUint(digits, 10, 64); err == nil {
				rounds = int(max(shaCryptMinRounds, min(n, shaCryptMaxRounds)))
				custom, rest = true, after
			}
		}
	}
	salt, _, _ := strings.Cut(rest, "$")
	salt = salt[:min(len(salt), shaCryptMaxSalt)]
	out := alg.prefix
	if custom {
		out += shaCryptRoundsPrefix + strconv.Itoa(rounds) + "$"
	}
	sum := shaCryptSum(alg, []byte(key), []byte(salt), rounds, nil)
	return out + salt + "$" + string(appendCrypt64(nil, sum, alg.order))
}

// TestSHACryptSpecVectors checks the test vectors published with Drepper's
// specification, including its clamped rounds and truncated salts, then
// parses and verifies each output.
func TestSHACryptSpecVectors(t *testing.T) {
	const longText = "a very much longer text to encrypt.  This one even stretches over morethan one line."
	vectors := []struct{ setting, key, want string }{
		{"$5$saltstring", "Hello world!",
			"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"},
		{"$5$rounds=10000$saltstringsaltstring", "Hello world!",
			"$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"},
		{"$5$rounds=5000$toolongsaltstring", "This is just a test",
			"$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5"},
		{"$5$rounds=1400$anotherlongsaltstring", longText,
			"$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1"},
		{"$5$rounds=77777$short", "we have a short salt string but not a short password",
			"$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/"},
		{"$5$rounds=123456$asaltof16chars..", "a short string",
			"$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD"},
		{"$5$rounds=10$roundstoolow", "the minimum number is still observed",
			"$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC"},
		{"$6$saltstring", "Hello world!",
			"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
		{"$6$rounds=10000$saltstringsaltstring", "Hello world!",
			"$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."},
		{"$6$rounds=5000$toolongsaltstring", "This is just a test",
			"$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"},
		{"$6$rounds=1400$anotherlongsaltstring", longText,
			"$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1"},
		{"$6$rounds=77777$short", "we have a short salt string but not a short password",
			"$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0"},
		{"$6$rounds=123456$asaltof16chars..", "a short string",
			"$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1"},
		{"$6$rounds=10$roundstoolow", "the minimum number is still observed",
			"$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX."},
	}
	for _, v := range vectors {
		t.Run(v.setting, func(t *testing.T) {
			if got := cryptSHA(t, v.key, v.setting); got != v.want {
				t.Errorf("crypt(%q, %q) = %q; want %q", v.key, v.setting, got, v.want)
			}
			f, _, err := Parse("user:"+v.want, Options{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !f.Verify("user", v.key) {
				t.Errorf("Verify(%q) = false; want true", v.key)
			}
			if f.Verify("user", v.key+".") {
				t.Errorf("Verify(%q) = true; want false", v.key+".")
			}
		})
	}
	// A stored hash must carry the clamped rounds it was computed with.
	_, _, err := Parse("user:$5$rounds=10$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC", Options{})
	if err == nil || !strings.Contains(err.Error(), "line 1: malformed sha256-crypt hash: rounds=10 is below the minimum 1000") {
		t.Errorf("Parse(rounds=10) error = %v; want the minimum named", err)
	}
}

// TestMD5CryptVectors checks md5-crypt and apr1 against published and
// openssl-made values.
func TestMD5CryptVectors(t *testing.T) {
	for _, v := range []struct{ key, hash string }{
		{"password", "$1$3azHgidD$SrJPt7B.9rekpmwJwtON31"}, // glibc, libxcrypt
		{"pw", "$1$abc$Kb85XxsXB.VXinPhbS4431"},            // openssl passwd -1 -salt abc pw
		{"pw", "$apr1$abc$NKxAkoTtUloZMd1uGIvNG0"},         // openssl passwd -apr1 -salt abc pw
		{"", "$apr1$abc$BfqKdn9xFDWJPa3kcp/PH0"},           // openssl passwd -apr1 -salt abc ''
	} {
		f, _, err := Parse("u:"+v.hash, Options{AllowLegacy: true})
		if err != nil {
			t.Fatalf("Parse(%q): %v", v.hash, err)
		}
		if !f.Verify("u", v.key) {
			t.Errorf("Verify(%q) against %s = false; want true", v.key, v.hash)
		}
		if f.Verify("u", v.key+"x") {
			t.Errorf("Verify(%q) against %s = true; want false", v.key+"x", v.hash)
		}
	}
}

func TestUnknownUserStandIn(t *testing.T) {
	const (
		b4  = "$2y$04$UaXFfPqCikBnlWPKiYwTW.19Z68tur4veecVG8kODUY.HLdTZUpfa"
		s5  = "$5$rounds=1000$OWjrfMgMQaftJAYH$h3K0ExgEfMMpIRbNp72MX6xGoxbaVj4d0IsWCBvJEBA"
		b10 = "$2y$10$" + "UaXFfPqCikBnlWPKiYwTW.19Z68tur4veecVG8kODUY.HLdTZUpfa"
	)
	tests := []struct {
		name, text, want string
	}{
		{"single", "a:" + b4, "bcrypt cost 4"},
		{"majority", "a:" + s5 + "\nb:" + b4 + "\nc:" + b4, "bcrypt cost 4"},
		{"costs count apart", "a:" + b10 + "\nb:" + b4 + "\nc:" + b10, "bcrypt cost 10"},
		{"tie goes to the first", "a:" + s5 + "\nb:" + b4, "sha256-crypt rounds 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, err := Parse(tt.text, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := f.unknown.work().String(); got != tt.want {
				t.Errorf("stand-in work = %q; want %q", got, tt.want)
			}
		})
	}
	// The stand-in's own answer is ignored: even a password it matched
	// could not verify an unknown user.
	f := &File{users: map[string]verifier{}, unknown: &alwaysMatches{}}
	if f.Verify("nobody", "anything") {
		t.Errorf("Verify(unknown user) = true with a matching stand-in; want false")
	}
}

type alwaysMatches struct{}

func (alwaysMatches) verify([]byte) bool { return true }
func (alwaysMatches) work() work         { return work{schemeSHA1, 1} }
func (a alwaysMatches) dummy() verifier  { return a }

// TestCrypt64Canonical checks the spare-bit rule on each digest size.
func TestCrypt64Canonical(t *testing.T) {
	for _, tc := range []struct {
		n    int
		last byte
		want bool
	}{
		{32, 'D', true}, {32, 'E', false}, // 43 chars, 2 spare bits: index < 16
		{64, '1', true}, {64, '2', false}, // 86 chars, 4 spare bits: index < 4
		{16, '1', true}, {16, '2', false},
	} {
		enc := strings.Repeat(".", crypt64Len(tc.n)-1) + string(tc.last)
		if got := crypt64Canonical(enc, tc.n); got != tc.want {
			t.Errorf("crypt64Canonical(...%c, %d) = %v; want %v", tc.last, tc.n, got, tc.want)
		}
	}
}
