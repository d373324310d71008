package htpasswd_test

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/wasm-authn/wasm-authn/internal/htpasswd"
)

// The fixtures are made by scripts/gen-htpasswd-fixtures.sh with Apache's
// htpasswd and openssl passwd, independent implementations of every format.
const (
	fixtureFile      = "testdata/htpasswd-fixtures.txt"
	fixturePasswords = "testdata/htpasswd-fixtures-passwords.tsv"
)

type fixture struct {
	line     int // 1-based, in fixtureFile
	user     string
	password string
	hash     string
}

func loadFixtures(t testing.TB) (text string, fixtures []fixture) {
	t.Helper()
	b, err := os.ReadFile(fixtureFile)
	if err != nil {
		t.Fatal(err)
	}
	text = string(b)
	passwords := make(map[string]string)
	pf, err := os.Open(fixturePasswords)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	sc := bufio.NewScanner(pf)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		user, password, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("%s: line without a tab", fixturePasswords)
		}
		passwords[user] = password
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		user, hash, _ := strings.Cut(line, ":")
		password, ok := passwords[user]
		if !ok {
			t.Fatalf("%s: no password for user %q", fixturePasswords, user)
		}
		fixtures = append(fixtures, fixture{line: i + 1, user: user, password: password, hash: hash})
	}
	if len(fixtures) != len(passwords) {
		t.Fatalf("%d fixtures, %d passwords", len(fixtures), len(passwords))
	}
	return text, fixtures
}

func isLegacyHash(h string) bool {
	return strings.HasPrefix(h, "$apr1$") || strings.HasPrefix(h, "$1$") || strings.HasPrefix(h, "{SHA}") || strings.HasPrefix(h, "{SSHA}")
}

func TestFixtures(t *testing.T) {
	text, fixtures := loadFixtures(t)
	f, warnings, err := htpasswd.Parse(text, htpasswd.Options{AllowLegacy: true})
	if err != nil {
		t.Fatalf("Parse(%s): %v", fixtureFile, err)
	}
	if f.Len() != len(fixtures) {
		t.Errorf("Len() = %d; want %d", f.Len(), len(fixtures))
	}
	legacyCount := 0
	for _, fx := range fixtures {
		if isLegacyHash(fx.hash) {
			legacyCount++
		}
	}
	// One warning per legacy entry, one for the mix of kinds.
	if len(warnings) != legacyCount+1 {
		t.Errorf("Parse warnings = %q; want %d", warnings, legacyCount+1)
	}
	seen := make(map[string]bool)
	for _, fx := range fixtures {
		t.Run(fx.user, func(t *testing.T) {
			if !f.Verify(fx.user, fx.password) {
				t.Errorf("Verify(%q, %q) = false; want true", fx.user, fx.password)
			}
			for _, wrong := range []string{fx.password + "x", strings.TrimSpace(fx.password) + "\t", strings.ToUpper(fx.password)} {
				// bcrypt reads 72 bytes and no more, in htpasswd as here.
				want := wrong == fx.password ||
					(strings.HasPrefix(fx.hash, "$2") && len(fx.password) >= 72 && strings.HasPrefix(wrong, fx.password[:72]))
				if got := f.Verify(fx.user, wrong); got != want {
					t.Errorf("Verify(%q, %q) = %v; want %v", fx.user, wrong, got, want)
				}
			}
			cost, ok := f.Cost(fx.user)
			if !ok {
				t.Errorf("Cost(%q) not ok", fx.user)
			}
			seen[cost] = true
		})
	}
	for _, want := range []string{
		"bcrypt cost 4", "bcrypt cost 5", "bcrypt cost 10",
		"sha256-crypt rounds 5000", "sha256-crypt rounds 1000", "sha256-crypt rounds 10000",
		"sha512-crypt rounds 5000", "sha512-crypt rounds 1000", "sha512-crypt rounds 10000",
		"apr1-md5 1000 iterations (legacy)", "md5-crypt 1000 iterations (legacy)", "{SHA} unsalted SHA-1 (legacy)", "{SSHA} salted SHA-1 (legacy)",
	} {
		if !seen[want] {
			t.Errorf("no fixture has Cost %q", want)
		}
	}
	if f.Verify("nobody", "correct horse battery staple") {
		t.Errorf("Verify(unknown user) = true; want false")
	}
}

func TestFixturesWithoutLegacy(t *testing.T) {
	// Without AllowLegacy exactly the legacy lines are errors, each named by
	// its line number.
	text, fixtures := loadFixtures(t)
	var want []int
	for _, fx := range fixtures {
		if isLegacyHash(fx.hash) {
			want = append(want, fx.line)
		}
	}
	_, _, err := htpasswd.Parse(text, htpasswd.Options{})
	if err == nil {
		t.Fatal("Parse = nil error; want one per legacy line")
	}
	var got []int
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		le, ok := e.(*htpasswd.LineError)
		if !ok || !strings.Contains(le.Reason, "legacy") {
			t.Errorf("unexpected error %v", e)
			continue
		}
		got = append(got, le.Line)
	}
	if !equalInts(got, want) {
		t.Errorf("error lines = %v; want %v", got, want)
	}
	assertNoSecrets(t, err.Error(), text)
	for _, fx := range fixtures {
		if strings.Contains(err.Error(), fx.password) {
			t.Errorf("error %q contains the password of %q", err, fx.user)
		}
	}
}

func TestFixturesCRLF(t *testing.T) {
	text, fixtures := loadFixtures(t)
	f := mustParse(t, strings.ReplaceAll(text, "\n", "\r\n"), htpasswd.Options{AllowLegacy: true})
	for _, fx := range fixtures {
		if strings.HasPrefix(fx.hash, "$2y$10$") {
			continue // slow; TestFixtures covers it
		}
		if !f.Verify(fx.user, fx.password) {
			t.Errorf("Verify(%q, %q) = false after CRLF conversion; want true", fx.user, fx.password)
		}
	}
}

// TestHtpasswdLive makes fresh hashes with the htpasswd on PATH, when there
// is one, and verifies them.
func TestHtpasswdLive(t *testing.T) {
	if _, err := exec.LookPath("htpasswd"); err != nil {
		t.Skip("htpasswd not on PATH (Debian: apt-get install apache2-utils); the committed fixtures still ran")
	}
	passwords := []string{"live:pass word", "ünïcödé 🔑", " x "}
	for _, flags := range [][]string{
		{"-B", "-C", "4"}, {"-2"}, {"-5", "-r", "1000"}, {"-2", "-r", "12345"}, {"-m"}, {"-s"},
	} {
		for i, password := range passwords {
			user := "live" + strings.Join(flags, "") + "-" + itoa(i)
			args := append(append([]string{"-nb"}, flags...), user, password)
			out, err := exec.Command("htpasswd", args...).Output()
			if err != nil {
				t.Fatalf("htpasswd %v: %v", flags, err)
			}
			line := strings.TrimSpace(string(out))
			f, _, err := htpasswd.Parse(line, htpasswd.Options{AllowLegacy: true})
			if err != nil {
				t.Errorf("Parse(htpasswd %v output): %v", flags, err)
				continue
			}
			if !f.Verify(user, password) {
				t.Errorf("Verify(%q, %q) = false for htpasswd %v; want true", user, password, flags)
			}
			if f.Verify(user, password+" ") {
				t.Errorf("Verify(%q, %q) = true for htpasswd %v; want false", user, password+" ", flags)
			}
		}
	}
}

// TestOpenSSLLive does the same with openssl passwd, when it is on PATH.
func TestOpenSSLLive(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not on PATH; the committed fixtures still ran")
	}
	for _, flag := range []string{"-1", "-apr1", "-5", "-6"} {
		for _, password := range []string{"open:ssl", "ünïcödé 🔑"} {
			out, err := exec.Command("openssl", "passwd", flag, password).Output()
			if err != nil {
				t.Fatalf("openssl passwd %s: %v", flag, err)
			}
			f, _, err := htpasswd.Parse("u:"+strings.TrimSpace(string(out)), htpasswd.Options{AllowLegacy: true})
			if err != nil {
				t.Errorf("Parse(openssl passwd %s output): %v", flag, err)
				continue
			}
			if !f.Verify("u", password) {
				t.Errorf("Verify(%q) = false for openssl passwd %s; want true", password, flag)
			}
		}
	}
}
