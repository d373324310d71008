package htpasswd

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// tooSlowToFuzz reports whether v would make one fuzz execution slow.
func tooSlowToFuzz(v verifier) bool {
	w := v.work()
	return (w.scheme == schemeBcrypt && w.param > 5) || w.param > 10_000
}

func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/htpasswd-fixtures.txt"); err == nil {
		f.Add(string(b), true, "bcrypt4-ascii", "correct horse battery staple")
		f.Add(string(b), false, "sha256-ascii", "correct horse battery staple")
	}
	for _, seed := range []string{
		"",
		"# comment\n\nalice:$2y$04$UaXFfPqCikBnlWPKiYwTW.19Z68tur4veecVG8kODUY.HLdTZUpfa\r\n",
		"a:$5$rounds=1000$OWjrfMgMQaftJAYH$h3K0ExgEfMMpIRbNp72MX6xGoxbaVj4d0IsWCBvJEBA",
		"a:$6$rounds=1000$EU099xr.IGHf5zl5$Gj.zd4fqE8PrDS7Aa6zo77VvXi3cPBK6OoZJ1TlVse5FUC7HxZZZc8x06X/XVadV.G93JDMkGMwE8gqWT77gf.",
		"a:$apr1$.n345H7u$BCOOvBndfmuGhKsfI5Flk1\nb:$1$qRnYFq1K$uuWfn.MOvScVtcKIkZFAZ0\nc:{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=",
		"a:$5$$QG6CCM7eJAxpUPcBpn0Z2K29NHtaI6Mk1fCpPrpjdj3",
		"a:$5$rounds=10$x$", "a:$6$rounds=$", "a:{SHA}", "a:$2y$", ":", "a:b:c", "\uFEFFa:\t$1$",
		"a:{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0A", "a\x00:x", "a:$2y$31$" + strings.Repeat(".", 53),
	} {
		f.Add(seed, true, "a", "hunter2")
	}
	f.Fuzz(func(t *testing.T, text string, allowLegacy bool, user, password string) {
		file, warnings, err := Parse(text, Options{AllowLegacy: allowLegacy})
		lines := strings.Count(text, "\n") + 1
		for _, w := range warnings {
			if !strings.HasPrefix(w, "line ") && !strings.HasPrefix(w, "no users") && !strings.HasPrefix(w, "users have") {
				t.Errorf("warning %q names no line", w)
			}
		}
		if err != nil {
			if file != nil {
				t.Fatalf("Parse returned a File and an error")
			}
			joined, ok := err.(interface{ Unwrap() []error })
			if !ok {
				t.Fatalf("Parse error %T is not joined", err)
			}
			for i, e := range joined.Unwrap() {
				var le *LineError
				if !errors.As(e, &le) {
					if i != maxErrors {
						t.Errorf("error %d (%v) is not a *LineError", i, e)
					}
					continue
				}
				if le.Line < 1 || le.Line > lines {
					t.Errorf("error %v names line %d of %d", le, le.Line, lines)
				}
			}
			msg := err.Error()
			for line := range strings.SplitSeq(text, "\n") {
				if _, h, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && len(h) >= 16 && strings.Contains(msg, h) {
					t.Errorf("error %q quotes a hash field", msg)
				}
			}
			return
		}
		if file == nil {
			t.Fatal("Parse returned neither a File nor an error")
		}
		if file.unknown != nil && tooSlowToFuzz(file.unknown) {
			return
		}
		for _, v := range file.users {
			if tooSlowToFuzz(v) {
				return
			}
		}
		file.Verify(user, password)
		file.Cost(user)
		checked := 0
		for u := range file.users {
			if _, ok := file.Cost(u); !ok {
				t.Errorf("Cost(%q) not ok for a parsed user", u)
			}
			if checked < 8 {
				file.Verify(u, password)
				checked++
			}
		}
	})
}

// FuzzVerify checks that, against a file of every format whose users all
// have the password "hunter2", Verify accepts exactly that password for
// exactly those users.
func FuzzVerify(f *testing.F) {
	file, _, err := Parse(strings.Join([]string{
		"bcrypt:$2y$04$UaXFfPqCikBnlWPKiYwTW.19Z68tur4veecVG8kODUY.HLdTZUpfa",
		"sha256:$5$rounds=1000$OWjrfMgMQaftJAYH$h3K0ExgEfMMpIRbNp72MX6xGoxbaVj4d0IsWCBvJEBA",
		"sha512:$6$rounds=1000$EU099xr.IGHf5zl5$Gj.zd4fqE8PrDS7Aa6zo77VvXi3cPBK6OoZJ1TlVse5FUC7HxZZZc8x06X/XVadV.G93JDMkGMwE8gqWT77gf.",
		"apr1:$apr1$.n345H7u$BCOOvBndfmuGhKsfI5Flk1",
		"md5:$1$qRnYFq1K$uuWfn.MOvScVtcKIkZFAZ0",
		"sha1:{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=",
	}, "\n"), Options{AllowLegacy: true})
	if err != nil {
		f.Fatal(err)
	}
	for _, u := range []string{"bcrypt", "sha256", "sha512", "apr1", "md5", "sha1", "nobody", ""} {
		for _, p := range []string{"hunter2", "hunter", "hunter2\x00", "", "hunter2hunter2hunter2hunter2hunter2hunter2hunter2hunter2hunter2hunter2"} {
			f.Add(u, p)
		}
	}
	f.Fuzz(func(t *testing.T, user, password string) {
		_, known := file.users[user]
		want := known && password == "hunter2"
		if got := file.Verify(user, password); got != want {
			t.Errorf("Verify(%q, %q) = %v; want %v", user, password, got, want)
		}
	})
}
