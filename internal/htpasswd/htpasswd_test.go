package htpasswd_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/htpasswd"
	"golang.org/x/crypto/bcrypt"
)

// Hashes of the password "hunter2", made with Apache's htpasswd (and, for $1$,
// openssl passwd -1) at low costs.
const (
	pw        = "hunter2"
	hBcrypt   = "$2y$04$UaXFfPqCikBnlWPKiYwTW.19Z68tur4veecVG8kODUY.HLdTZUpfa"
	hSHA256   = "$5$rounds=1000$OWjrfMgMQaftJAYH$h3K0ExgEfMMpIRbNp72MX6xGoxbaVj4d0IsWCBvJEBA"
	hSHA512   = "$6$rounds=1000$EU099xr.IGHf5zl5$Gj.zd4fqE8PrDS7Aa6zo77VvXi3cPBK6OoZJ1TlVse5FUC7HxZZZc8x06X/XVadV.G93JDMkGMwE8gqWT77gf."
	hAPR1     = "$apr1$.n345H7u$BCOOvBndfmuGhKsfI5Flk1"
	hMD5Crypt = "$1$qRnYFq1K$uuWfn.MOvScVtcKIkZFAZ0"
	hSHA1     = "{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0="
	// SHA-1 by openssl dgst -sha1 over "hunter2" and an 8-byte salt from
	// openssl rand.
	hSSHA = "{SSHA}Zy7Y5J23M5a2oU7gPSwWQZJ/N2NVzfaE0gnKqg=="
	// passlib's documented example of ldap_salted_sha1 (4-byte salt, as
	// OpenLDAP's slappasswd writes): the hash of "password".
	hSSHAPasslib = "{SSHA}pKqkNr1tq3wtQqk+UcPyA3HnA2NsU5NJ"
	// libxcrypt's crypt("a", "$5$$"), an empty salt (recorded from
	// Python's crypt module).
	hSHA256EmptySalt = "$5$$QG6CCM7eJAxpUPcBpn0Z2K29NHtaI6Mk1fCpPrpjdj3"
)

var legacy = htpasswd.Options{AllowLegacy: true}

func mustParse(t testing.TB, text string, opt htpasswd.Options) *htpasswd.File {
	t.Helper()
	f, _, err := htpasswd.Parse(text, opt)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		opt   htpasswd.Options
		users map[string]string // user -> password that must verify
	}{
		{"bcrypt $2y$", "alice:" + hBcrypt, htpasswd.Options{}, map[string]string{"alice": pw}},
		{"bcrypt $2b$", "alice:$2b$" + hBcrypt[4:], htpasswd.Options{}, map[string]string{"alice": pw}},
		{"bcrypt $2a$", "alice:$2a$" + hBcrypt[4:], htpasswd.Options{}, map[string]string{"alice": pw}},
		{"sha256-crypt", "alice:" + hSHA256, htpasswd.Options{}, map[string]string{"alice": pw}},
		{"sha512-crypt", "alice:" + hSHA512, htpasswd.Options{}, map[string]string{"alice": pw}},
		{"sha256-crypt empty salt", "alice:" + hSHA256EmptySalt, htpasswd.Options{}, map[string]string{"alice": "a"}},
		{"apr1 with AllowLegacy", "alice:" + hAPR1, legacy, map[string]string{"alice": pw}},
		{"md5-crypt with AllowLegacy", "alice:" + hMD5Crypt, legacy, map[string]string{"alice": pw}},
		{"{SHA} with AllowLegacy", "alice:" + hSHA1, legacy, map[string]string{"alice": pw}},
		{"{SSHA} with AllowLegacy", "alice:" + hSSHA + "\nbob:" + hSSHAPasslib, legacy, map[string]string{"alice": pw, "bob": "password"}},
		{"every format", strings.Join([]string{
			"a:" + hBcrypt, "b:" + hSHA256, "c:" + hSHA512, "d:" + hAPR1, "e:" + hMD5Crypt, "f:" + hSHA1,
		}, "\n"), legacy, map[string]string{"a": pw, "b": pw, "c": pw, "d": pw, "e": pw, "f": pw}},
		{"CRLF", "alice:" + hBcrypt + "\r\nbob:" + hSHA256 + "\r\n", htpasswd.Options{}, map[string]string{"alice": pw, "bob": pw}},
		{"comments and blank lines", "# users\n\n  # indented comment\n\t\nalice:" + hBcrypt + "\n\n# end\n",
			htpasswd.Options{}, map[string]string{"alice": pw}},
		{"whitespace around the line", "  alice:" + hBcrypt + " \t\n\tbob:" + hSHA256, htpasswd.Options{},
			map[string]string{"alice": pw, "bob": pw}},
		{"byte order mark", "\uFEFFalice:" + hBcrypt, htpasswd.Options{}, map[string]string{"alice": pw}},
		{"user with spaces", "john doe:" + hBcrypt, htpasswd.Options{}, map[string]string{"john doe": pw}},
		{"non-ASCII user", "jürgen 日本:" + hBcrypt, htpasswd.Options{}, map[string]string{"jürgen 日本": pw}},
		{"user names are case-sensitive", "alice:" + hBcrypt + "\nAlice:" + hSHA256, htpasswd.Options{},
			map[string]string{"alice": pw, "Alice": pw}},
		// nginx documents "name:password:comment"; Apache ignores the field.
		{"comment field", "alice:" + hBcrypt + ":Alice Liddell, ops\nbob:" + hSHA256 + ":\r\n", htpasswd.Options{},
			map[string]string{"alice": pw, "bob": pw}},
		{"empty", "", htpasswd.Options{}, nil},
		{"comments only", "# nobody yet\n", htpasswd.Options{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.text, tt.opt)
			if got := f.Len(); got != len(tt.users) {
				t.Errorf("Len() = %d; want %d", got, len(tt.users))
			}
			for user, password := range tt.users {
				if !f.Verify(user, password) {
					t.Errorf("Verify(%q, %q) = false; want true", user, password)
				}
				if f.Verify(user, password+"x") {
					t.Errorf("Verify(%q, %q) = true; want false", user, password+"x")
				}
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	bc := hBcrypt
	tests := []struct {
		name   string
		text   string
		opt    htpasswd.Options
		line   int
		reason string // a substring of the LineError's Reason
	}{
		{"no colon", "alice", htpasswd.Options{}, 1, "no ':'"},
		{"plaintext", "alice:correct horse battery staple", htpasswd.Options{}, 1, "plaintext passwords are not accepted"},
		{"plaintext even with AllowLegacy", "alice:hunter2hunter2", legacy, 1, "plaintext passwords are not accepted"},
		{"DES crypt", "alice:Gw0QnrRSzSpDs", legacy, 1, "DES crypt"},
		{"htpasswd failure token", "alice:*0", htpasswd.Options{}, 1, "not a supported hash"},
		{"empty user", ":" + bc, htpasswd.Options{}, 1, "empty user name"},
		// A user name ends at the first ':' (RFC 7617): "ice" is then the
		// hash, and the real hash a comment.
		{"colon in user name", "al:ice:" + bc, htpasswd.Options{}, 1, "plaintext passwords are not accepted"},
		{"comment after a bad hash", "alice:nope:" + bc, htpasswd.Options{}, 1, "not a supported hash"},
		{"duplicate user", "alice:" + bc + "\n# again\nalice:" + hSHA256, htpasswd.Options{}, 3,
			"duplicate user name (first defined on line 1)"},
		{"empty hash", "alice:", htpasswd.Options{}, 1, "empty hash"},
		{"space after colon", "alice: " + bc, htpasswd.Options{}, 1, "whitespace between ':' and the hash"},
		{"control character in user", "al\x01ice:" + bc, htpasswd.Options{}, 1, "control character"},
		{"DEL in user", "alice\x7f:" + bc, htpasswd.Options{}, 1, "control character"},
		{"user not UTF-8", "al\xffice:" + bc, htpasswd.Options{}, 1, "not valid UTF-8"},
		{"line number after CRLF and comments", "# c\r\n\r\nalice:" + bc + "\r\nbob:nope-not-a-hash\r\n", htpasswd.Options{}, 4,
			"not a supported hash"},

		{"bcrypt too short", "alice:" + bc[:59], htpasswd.Options{}, 1, "malformed bcrypt hash: 59 characters, want 60"},
		{"bcrypt too long", "alice:" + bc + "a", htpasswd.Options{}, 1, "malformed bcrypt hash: 61 characters, want 60"},
		{"bcrypt cost 3", "alice:$2y$03" + bc[6:], htpasswd.Options{}, 1, "cost 3 is outside 4..31"},
		{"bcrypt cost 32", "alice:$2y$32" + bc[6:], htpasswd.Options{}, 1, "cost 32 is outside 4..31"},
		{"bcrypt cost not digits", "alice:$2y$+4" + bc[6:], htpasswd.Options{}, 1, "cost is not two decimal digits"},
		{"bcrypt salt alphabet", "alice:" + bc[:10] + "!" + bc[11:], htpasswd.Options{}, 1, "salt has a character outside"},
		{"bcrypt digest alphabet", "alice:" + bc[:40] + "+" + bc[41:], htpasswd.Options{}, 1, "digest has a character outside"},
		{"bcrypt digest not canonical", "alice:" + bc[:59] + "b", htpasswd.Options{}, 1, "unused bits"},
		{"bcrypt $2x$", "alice:$2x$" + bc[4:], htpasswd.Options{}, 1, "$2x$"},
		{"bcrypt $2$", "alice:$2$04" + bc[6:], htpasswd.Options{}, 1, "original bcrypt $2$"},

		{"sha256 digest short", "alice:" + hSHA256[:len(hSHA256)-1], htpasswd.Options{}, 1,
			"malformed sha256-crypt hash: digest has 42 characters, want 43"},
		{"sha512 digest long", "alice:" + hSHA512 + "a", htpasswd.Options{}, 1,
			"malformed sha512-crypt hash: digest has 87 characters, want 86"},
		{"sha256 digest alphabet", "alice:" + hSHA256[:40] + "_" + hSHA256[41:], htpasswd.Options{}, 1, "digest has a character outside"},
		{"sha256 digest not canonical", "alice:" + hSHA256[:len(hSHA256)-1] + "z", htpasswd.Options{}, 1, "unused bits"},
		{"sha512 digest not canonical", "alice:" + hSHA512[:len(hSHA512)-1] + "A", htpasswd.Options{}, 1, "unused bits"},
		{"sha salt 17 characters", "alice:$5$rounds=1000$OWjrfMgMQaftJAYHx" + hSHA256[31:], htpasswd.Options{}, 1,
			"salt has 17 characters, more than 16"},
		{"sha salt alphabet", "alice:$5$rounds=1000$OWjr-MgMQaftJAYH" + hSHA256[31:], htpasswd.Options{}, 1,
			"salt has a character outside"},
		{"sha rounds below minimum", "alice:$5$rounds=999" + hSHA256[14:], htpasswd.Options{}, 1,
			"rounds=999 is below the minimum 1000"},
		{"sha rounds above maximum", "alice:$5$rounds=1000000000" + hSHA256[14:], htpasswd.Options{}, 1,
			"rounds is above the maximum 999999999"},
		{"sha rounds overflow", "alice:$5$rounds=99999999999999999999999" + hSHA256[14:], htpasswd.Options{}, 1,
			"rounds is above the maximum"},
		{"sha rounds leading zero", "alice:$5$rounds=01000" + hSHA256[14:], htpasswd.Options{}, 1, "leading zeros"},
		{"sha rounds not a number", "alice:$5$rounds=1e3" + hSHA256[14:], htpasswd.Options{}, 1, "not a decimal number"},
		{"sha rounds empty", "alice:$5$rounds=" + hSHA256[14:], htpasswd.Options{}, 1, "not a decimal number"},
		{"sha rounds without salt", "alice:$6$rounds=5000", htpasswd.Options{}, 1, "without a salt"},
		{"sha no digest", "alice:$6$saltsalt", htpasswd.Options{}, 1, "no '$' between salt and digest"},

		{"apr1 without AllowLegacy", "alice:" + hAPR1, htpasswd.Options{}, 1, "apr1-md5 is a weak legacy format"},
		{"md5-crypt without AllowLegacy", "alice:" + hMD5Crypt, htpasswd.Options{}, 1, "md5-crypt is a weak legacy format"},
		{"{SHA} without AllowLegacy", "alice:" + hSHA1, htpasswd.Options{}, 1, "{SHA} is a weak legacy format"},
		{"apr1 salt 9 characters", "alice:$apr1$.n345H7uX$BCOOvBndfmuGhKsfI5Flk1", legacy, 1, "salt has 9 characters, more than 8"},
		{"apr1 digest short", "alice:" + hAPR1[:len(hAPR1)-1], legacy, 1, "digest has 21 characters, want 22"},
		{"apr1 digest not canonical", "alice:" + hAPR1[:len(hAPR1)-1] + "9", legacy, 1, "unused bits"},
		{"md5-crypt salt alphabet", "alice:$1$qRnY~q1K$uuWfn.MOvScVtcKIkZFAZ0", legacy, 1, "salt has a character outside"},
		{"md5-crypt no digest", "alice:$1$qRnYFq1K", legacy, 1, "no '$' between salt and digest"},
		{"{SHA} short", "alice:" + hSHA1[:len(hSHA1)-1], legacy, 1, "27 characters after {SHA}, want 28"},
		{"{SHA} not base64", "alice:{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h.=", legacy, 1, "not canonical base64"},
		{"{SHA} not canonical", "alice:{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h1=", legacy, 1, "not canonical base64"},
		{"{SHA} without padding", "alice:{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0A", legacy, 1, "not canonical base64"},
		{"{SSHA} without AllowLegacy", "alice:" + hSSHA, htpasswd.Options{}, 1, "{SSHA} is a weak legacy format"},
		{"{SSHA} without salt", "alice:{SSHA}" + hSHA1[len("{SHA}"):], legacy, 1, "20 bytes after decoding"},
		{"{SSHA} salt too long", "alice:{SSHA}" + strings.Repeat("A", 116), legacy, 1, "87 bytes after decoding"},
		{"{SSHA} not canonical", "alice:" + hSSHA[:len(hSSHA)-3] + "r==", legacy, 1, "not canonical base64"},
		{"{SSHA} short", "alice:{SSHA}AAAA", legacy, 1, "3 bytes after decoding"},

		{"yescrypt", "alice:$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7", legacy, 1, "yescrypt"},
		{"argon2", "alice:$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", legacy, 1, "argon2"},
		{"scrypt", "alice:$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D", legacy, 1, "scrypt"},
		{"unknown modular crypt", "alice:$9$salt$digestdigestdigest", legacy, 1, "not a supported hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, err := htpasswd.Parse(tt.text, tt.opt)
			if err == nil {
				t.Fatalf("Parse = %d users, nil error; want an error", f.Len())
			}
			if f != nil {
				t.Errorf("Parse returned a File with an error")
			}
			var le *htpasswd.LineError
			if !errors.As(err, &le) {
				t.Fatalf("Parse error %v is not a *LineError", err)
			}
			if le.Line != tt.line || !strings.Contains(le.Reason, tt.reason) {
				t.Errorf("Parse error = %q; want line %d with %q", err, tt.line, tt.reason)
			}
			if want := "line " + itoa(tt.line) + ": "; !strings.HasPrefix(le.Error(), want) {
				t.Errorf("Error() = %q; want prefix %q", le.Error(), want)
			}
			assertNoSecrets(t, err.Error(), tt.text)
		})
	}
}

// assertNoSecrets fails if msg quotes the hash field (or, for a line without
// ':', the line) of any line of text, or the password used in these tests.
func assertNoSecrets(t *testing.T, msg, text string) {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		secret := line
		if _, h, ok := strings.Cut(line, ":"); ok {
			secret = h
		}
		if len(secret) >= 6 && strings.Contains(msg, secret) {
			t.Errorf("message %q quotes a line's secret part %q", msg, secret)
		}
		if len(secret) > 12 && strings.Contains(msg, secret[len(secret)-12:]) {
			t.Errorf("message %q quotes the end of a line's secret part %q", msg, secret)
		}
	}
	for _, s := range []string{pw, "correct horse", "hunter2hunter2"} {
		if strings.Contains(msg, s) {
			t.Errorf("message %q contains a password", msg)
		}
	}
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	text := strings.Join([]string{
		"alice:" + hBcrypt,          // 1 ok
		"bob",                       // 2 no colon
		"# comment",                 // 3
		":" + hSHA256,               // 4 empty user
		"carol:" + hAPR1,            // 5 legacy not allowed
		"alice:" + hSHA512,          // 6 duplicate
		"dave:plain text",           // 7 plaintext
		"erin:$2y$99" + hBcrypt[6:], // 8 cost out of range
		"",                          // 9
		"frank:" + hSHA256,          // 10 ok
	}, "\n")
	_, _, err := htpasswd.Parse(text, htpasswd.Options{})
	if err == nil {
		t.Fatal("Parse = nil error; want errors")
	}
	var lines []int
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var le *htpasswd.LineError
		if !errors.As(e, &le) {
			t.Fatalf("error %v is not a *LineError", e)
		}
		lines = append(lines, le.Line)
	}
	want := []int{2, 4, 5, 6, 7, 8}
	if !equalInts(lines, want) {
		t.Errorf("Parse error lines = %v; want %v\n%v", lines, want, err)
	}
	assertNoSecrets(t, err.Error(), text)
}

func TestParseBoundsErrorCount(t *testing.T) {
	text := strings.Repeat("nocolon\n", 250)
	_, _, err := htpasswd.Parse(text, htpasswd.Options{})
	if err == nil {
		t.Fatal("Parse = nil error; want errors")
	}
	errs := err.(interface{ Unwrap() []error }).Unwrap()
	if len(errs) != 101 || !strings.Contains(errs[100].Error(), "150 more problems not shown") {
		t.Errorf("Parse reported %d errors, last %q; want 100 and a count of 150 more", len(errs), errs[len(errs)-1])
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseWarnings(t *testing.T) {
	// Syntactically valid hashes: warnings need no verification.
	bcrypt11 := "$2y$11$" + strings.Repeat("a", 22) + strings.Repeat("b", 30) + "e"
	sha512High := "$6$rounds=150000$salt$" + strings.Repeat("x", 85) + "."
	tests := []struct {
		name string
		text string
		opt  htpasswd.Options
		want []string // substrings, one warning each, in order
	}{
		{"none", "alice:" + hBcrypt + "\nbob:$2y$04$" + hBcrypt[7:], htpasswd.Options{}, nil},
		{"bcrypt cost 10 is fine", "alice:$2y$10$" + hBcrypt[7:], htpasswd.Options{}, nil},
		{"bcrypt cost 11", "alice:" + bcrypt11, htpasswd.Options{},
			[]string{"line 1: bcrypt cost 11 is above 10: each request for this user costs 2 times the work of cost 10"}},
		{"sha-crypt rounds", "alice:" + sha512High, htpasswd.Options{},
			[]string{"line 1: sha512-crypt rounds 150000 is above 30000"}},
		{"legacy", "# x\nalice:" + hAPR1 + "\nbob:" + hSHA1 + "\ncarol:" + hMD5Crypt, legacy, []string{
			"line 2: accepted legacy apr1-md5 hash",
			"line 3: accepted legacy {SHA} hash",
			"line 4: accepted legacy md5-crypt hash",
			"3 different hash kinds or costs; unknown users are checked like the most common (apr1-md5 1000 iterations (legacy))",
		}},
		{"mixed kinds", "a:" + hBcrypt + "\nb:" + hSHA256 + "\nc:" + hSHA256, htpasswd.Options{}, []string{
			"2 different hash kinds or costs; unknown users are checked like the most common (sha256-crypt rounds 1000)",
		}},
		{"user ends with whitespace", "alice :" + hBcrypt, htpasswd.Options{}, []string{"line 1: user name ends with whitespace"}},
		{"no users", "# empty\n", htpasswd.Options{}, []string{"no users"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, warnings, err := htpasswd.Parse(tt.text, tt.opt)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(warnings) != len(tt.want) {
				t.Fatalf("Parse warnings = %q; want %d matching %q", warnings, len(tt.want), tt.want)
			}
			for i, w := range warnings {
				if !strings.Contains(w, tt.want[i]) {
					t.Errorf("warning %d = %q; want it to contain %q", i, w, tt.want[i])
				}
				assertNoSecrets(t, w, tt.text)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	f := mustParse(t, strings.Join([]string{
		"bcrypt:" + hBcrypt, "sha256:" + hSHA256, "sha512:" + hSHA512,
		"apr1:" + hAPR1, "md5:" + hMD5Crypt, "sha1:" + hSHA1,
	}, "\n"), legacy)
	users := []string{"bcrypt", "sha256", "sha512", "apr1", "md5", "sha1"}
	tests := []struct {
		name     string
		user     string // "" means each of users
		password string
		want     bool
	}{
		{"correct", "", pw, true},
		{"wrong", "", "hunter3", false},
		{"empty", "", "", false},
		{"prefix", "", pw[:len(pw)-1], false},
		{"longer", "", pw + "2", false},
		{"upper case", "", strings.ToUpper(pw), false},
		{"trailing newline", "", pw + "\n", false},
		{"leading space", "", " " + pw, false},
		{"NUL appended", "", pw + "\x00", false},
		{"NUL inside", "", "hun\x00ter2", false},
		{"too long", "", pw + strings.Repeat("x", htpasswd.MaxPasswordLength), false},
		{"unknown user", "mallory", pw, false},
		{"user case differs", "BCRYPT", pw, false},
		{"user with trailing space", "bcrypt ", pw, false},
		{"empty user", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			us := users
			if tt.user != "" {
				us = []string{tt.user}
			}
			for _, u := range us {
				if got := f.Verify(u, tt.password); got != tt.want {
					t.Errorf("Verify(%q, %q) = %v; want %v", u, tt.password, got, tt.want)
				}
			}
		})
	}
	if f.Verify("", "") {
		t.Errorf("Verify(%q, %q) = true; want false", "", "")
	}
}

func TestVerifyPasswordLength(t *testing.T) {
	// A password of exactly MaxPasswordLength bytes verifies; SHA-crypt uses
	// all of them, bcrypt the first 72.
	long := strings.Repeat("päss:wörd ", htpasswd.MaxPasswordLength/12) // 12 bytes each
	long += strings.Repeat("x", htpasswd.MaxPasswordLength-len(long))
	// libxcrypt's crypt(long, "$6$rounds=1000$saltsalt"), recorded from
	// Python's crypt module.
	const s = "$6$rounds=1000$saltsalt$fB2cbwmmFgDpnJFr/H.74Mthj6vAuQIWovaYT1uN8iO.lykSa38tIq7GUlzkxWSzgkdZYO9iyYAiyH4wWhr211"
	b, err := bcrypt.GenerateFromPassword([]byte(long[:72]), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	f := mustParse(t, "b:"+string(b)+"\ns:"+s, htpasswd.Options{})
	for _, tc := range []struct {
		user, password string
		want           bool
	}{
		{"b", long, true},
		{"b", long[:72], true},
		{"b", long[:72] + "different tail", true},
		{"b", long + "x", false}, // over the limit
		{"s", long, true},
		{"s", long[:len(long)-1], false},
		{"s", long + "x", false},
	} {
		if got := f.Verify(tc.user, tc.password); got != tc.want {
			t.Errorf("Verify(%q, %d-byte password) = %v; want %v", tc.user, len(tc.password), got, tc.want)
		}
	}
}

func TestBcryptFromGo(t *testing.T) {
	// golang.org/x/crypto/bcrypt writes $2a$: a second generator.
	for _, password := range []string{"x", "pa:ss", "pässwörd 日本語 🔑", " spaces ", ""} {
		b, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		f := mustParse(t, "u:"+string(b), htpasswd.Options{})
		if !f.Verify("u", password) {
			t.Errorf("Verify(%q) = false for %s; want true", password, b)
		}
		if f.Verify("u", password+"!") {
			t.Errorf("Verify(%q) = true; want false", password+"!")
		}
	}
}

func TestCost(t *testing.T) {
	f := mustParse(t, strings.Join([]string{
		"a:" + hBcrypt, "b:" + hSHA256, "c:" + hSHA512, "d:" + hAPR1, "e:" + hMD5Crypt, "f:" + hSHA1,
		"g:$6$salt$" + strings.Repeat("x", 85) + ".",
		"h:$2b$10$" + hBcrypt[7:],
	}, "\n"), legacy)
	for user, want := range map[string]string{
		"a": "bcrypt cost 4",
		"b": "sha256-crypt rounds 1000",
		"c": "sha512-crypt rounds 1000",
		"d": "apr1-md5 1000 iterations (legacy)",
		"e": "md5-crypt 1000 iterations (legacy)",
		"f": "{SHA} unsalted SHA-1 (legacy)",
		"g": "sha512-crypt rounds 5000",
		"h": "bcrypt cost 10",
	} {
		got, ok := f.Cost(user)
		if !ok || got != want {
			t.Errorf("Cost(%q) = %q, %v; want %q, true", user, got, ok, want)
		}
	}
	if got, ok := f.Cost("nobody"); ok || got != "" {
		t.Errorf("Cost(%q) = %q, %v; want \"\", false", "nobody", got, ok)
	}
}

func TestNilAndEmptyFile(t *testing.T) {
	var nilFile *htpasswd.File
	empty := mustParse(t, "", htpasswd.Options{})
	for name, f := range map[string]*htpasswd.File{"nil": nilFile, "empty": empty} {
		if f.Len() != 0 {
			t.Errorf("%s: Len() = %d; want 0", name, f.Len())
		}
		if f.Verify("alice", pw) {
			t.Errorf("%s: Verify = true; want false", name)
		}
		if _, ok := f.Cost("alice"); ok {
			t.Errorf("%s: Cost ok = true; want false", name)
		}
	}
}
