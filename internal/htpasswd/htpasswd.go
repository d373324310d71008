package htpasswd

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxPasswordLength is the longest password, in bytes, that Verify checks;
// longer ones never verify. The work of SHA-crypt and md5-crypt grows with the
// password's length (quadratically in one step of SHA-crypt), so the bound
// keeps one request's cost predictable. It is also the longest passphrase
// libxcrypt's crypt(3) accepts.
const MaxPasswordLength = 511

// shaCryptWarnRounds is the SHA-crypt rounds above which Parse warns. In the
// plugin's Wasm build, which has no assembly SHA-2, 30000 rounds of either
// variant take about as long as bcrypt cost 10 (some 100 ms).
const shaCryptWarnRounds = 30_000

// maxErrors bounds the problems Parse reports; the rest are counted.
const maxErrors = 100

// Options controls which hash formats Parse accepts. The zero value accepts
// bcrypt and SHA-crypt only.
type Options struct {
	// AllowLegacy accepts {SHA} (one unsalted SHA-1), {SSHA} (one salted
	// SHA-1), $apr1$ (Apache's md5-crypt) and $1$ (md5-crypt) entries, each
	// with a warning. All four are fast enough to brute-force that a leaked file gives its passwords
	// away. When false, such entries are errors.
	AllowLegacy bool
}

// File is a parsed htpasswd file: user names mapped to password verifiers.
// Everything that does not depend on the password (salts, rounds, costs,
// expected digests) is decoded once, by Parse. A File is immutable and safe
// for concurrent use, like a compiled policy: build it when the plugin is
// configured and share it among requests.
type File struct {
	users map[string]verifier
	// unknown stands in for a user that is not in the file, so that Verify
	// does the same work either way. It has the most common kind and cost
	// among the entries; nil when the file has none.
	unknown verifier
}

// LineError is one problem Parse found. Its message names the 1-based line
// and what is wrong with it but never quotes the line, so that neither a hash
// nor a password pasted by mistake reaches a log.
type LineError struct {
	Line   int    // 1-based
	Reason string // what is wrong, without the line's content
}

// Error returns "line N: reason".
func (e *LineError) Error() string {
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

// verifier checks passwords against one stored hash.
type verifier interface {
	// verify reports whether password matches; any comparison of secrets
	// is constant-time.
	verify(password []byte) bool
	// work is the hash's kind and cost.
	work() work
	// dummy is a verifier with the same work that no password is expected
	// to match. Verify uses it for unknown users and ignores its answer.
	dummy() verifier
}

// scheme is a hash format.
type scheme uint8

const (
	schemeBcrypt scheme = iota + 1
	schemeSHA256Crypt
	schemeSHA512Crypt
	schemeAPR1
	schemeMD5Crypt
	schemeSHA1
	schemeSSHA
)

func (s scheme) String() string {
	switch s {
	case schemeBcrypt:
		return "bcrypt"
	case schemeSHA256Crypt:
		return "sha256-crypt"
	case schemeSHA512Crypt:
		return "sha512-crypt"
	case schemeAPR1:
		return "apr1-md5"
	case schemeMD5Crypt:
		return "md5-crypt"
	case schemeSHA1:
		return "{SHA}"
	case schemeSSHA:
		return "{SSHA}"
	}
	return "unknown"
}

// legacy reports whether the scheme needs Options.AllowLegacy.
func (s scheme) legacy() bool {
	return s == schemeAPR1 || s == schemeMD5Crypt || s == schemeSHA1 || s == schemeSSHA
}

// work is a hash's kind and cost: the bcrypt cost, the SHA-crypt rounds,
// md5-crypt's fixed 1000 iterations, or 1 for {SHA}.
type work struct {
	scheme scheme
	param  int
}

func (w work) String() string {
	switch w.scheme {
	case schemeBcrypt:
		return fmt.Sprintf("bcrypt cost %d", w.param)
	case schemeSHA256Crypt, schemeSHA512Crypt:
		return fmt.Sprintf("%s rounds %d", w.scheme, w.param)
	case schemeAPR1, schemeMD5Crypt:
		return fmt.Sprintf("%s %d iterations (legacy)", w.scheme, w.param)
	case schemeSHA1:
		return "{SHA} unsalted SHA-1 (legacy)"
	case schemeSSHA:
		return "{SSHA} salted SHA-1 (legacy)"
	}
	return "unknown"
}

// Parse parses htpasswd text: one "user:hash" entry a line, as Apache's
// htpasswd writes them. It runs once, when the plugin is configured
// (proxy_on_configure), never per request.
//
// Lines end in LF or CRLF; spaces and tabs around a line are ignored (as in
// Apache's mod_authn_file), as are blank lines, lines starting with '#' and a
// leading UTF-8 byte order mark. The user name is everything before the
// first ':', byte for byte; it must be non-empty valid UTF-8 without control
// characters (RFC 7617, section 2), and appear once. The hash runs to the
// next ':' or the end of the line; a field after a second ':' is a comment,
// ignored, as Apache's mod_authn_file ignores it and as nginx documents
// ("name:password:comment"). The hash must be one of:
//
//   - bcrypt: $2y$ (Apache's htpasswd -B), $2b$ or $2a$, cost 04 to 31;
//   - SHA-crypt: $5$ (htpasswd -2) or $6$ (htpasswd -5), with an optional
//     rounds=N$ in [1000, 999999999] and a salt of at most 16 characters;
//   - with Options.AllowLegacy only: $apr1$ (htpasswd -m), $1$ (md5-crypt, as
//     openssl passwd -1 writes it), {SHA} (htpasswd -s) and {SSHA}
//     (slappasswd, nginx).
//
// Plaintext (htpasswd -p), DES crypt (htpasswd -d) and every other format are
// errors, as are malformed hashes: wrong lengths, characters outside the
// format's alphabet, non-canonical encodings, out-of-range costs.
//
// Every problem is reported as a *LineError, all joined with errors.Join; a
// message never contains a hash or a password. On error the File is nil.
// Warnings name entries that work but deserve attention: a bcrypt cost above
// 10 or SHA-crypt rounds above 30000 (every request for such a user pays that
// cost), legacy formats, and a mix of kinds or costs (an unknown user is
// checked against the most common one, so response times can tell users of
// the other kinds from unknown users).
func Parse(text string, opt Options) (*File, []string, error) {
	f := &File{users: make(map[string]verifier)}
	var (
		errs      []error
		dropped   int
		warnings  []string
		firstLine = make(map[string]int)
		groups    = make(map[work]int)
		order     []verifier // the first entry of each group
	)
	fail := func(line int, format string, args ...any) {
		if len(errs) == maxErrors {
			dropped++
			return
		}
		errs = append(errs, &LineError{Line: line, Reason: fmt.Sprintf(format, args...)})
	}
	warn := func(line int, format string, args ...any) {
		warnings = append(warnings, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, args...))
	}

	text = strings.TrimPrefix(text, "\uFEFF")
	n := 0
	for line := range strings.SplitSeq(text, "\n") {
		n++
		line = strings.TrimSuffix(line, "\r")
		line = strings.Trim(line, " \t")
		if line == "" || line[0] == '#' {
			continue
		}
		user, hash, found := strings.Cut(line, ":")
		if !found {
			fail(n, "no ':' between user name and hash")
			continue
		}
		hash, _, _ = strings.Cut(hash, ":") // what follows is a comment

		userOK := true
		switch {
		case user == "":
			fail(n, "empty user name")
			userOK = false
		case !utf8.ValidString(user):
			fail(n, "user name is not valid UTF-8")
			userOK = false
		case strings.ContainsFunc(user, isControl):
			fail(n, "user name contains a control character (RFC 7617, section 2)")
			userOK = false
		}
		if userOK {
			if first, dup := firstLine[user]; dup {
				fail(n, "duplicate user name (first defined on line %d)", first)
				userOK = false
			} else {
				firstLine[user] = n
				if strings.TrimRight(user, " \t") != user {
					warn(n, "user name ends with whitespace, which clients must send too")
				}
			}
		}

		v, err := parseHash(hash, opt)
		if err != nil {
			fail(n, "%v", err)
			continue
		}
		if !userOK {
			continue
		}
		w := v.work()
		switch {
		case w.scheme.legacy():
			warn(n, "accepted legacy %s hash: it is fast to brute-force; rehash with htpasswd -B", w.scheme)
		case w.scheme == schemeBcrypt && w.param > bcryptWarnCost:
			warn(n, "bcrypt cost %d is above %d: each request for this user costs %d times the work of cost %d",
				w.param, bcryptWarnCost, 1<<(w.param-bcryptWarnCost), bcryptWarnCost)
		case (w.scheme == schemeSHA256Crypt || w.scheme == schemeSHA512Crypt) && w.param > shaCryptWarnRounds:
			warn(n, "%s rounds %d is above %d: each request for this user pays for all of them",
				w.scheme, w.param, shaCryptWarnRounds)
		}
		f.users[user] = v
		if groups[w] == 0 {
			order = append(order, v)
		}
		groups[w]++
	}

	if dropped > 0 {
		errs = append(errs, fmt.Errorf("%d more problems not shown", dropped))
	}
	if len(errs) > 0 {
		return nil, warnings, errors.Join(errs...)
	}
	if len(f.users) == 0 {
		warnings = append(warnings, "no users: every request will be denied")
		return f, warnings, nil
	}

	// The stand-in for unknown users: the most common work, the earliest in
	// the file on a tie.
	common := order[0]
	for _, v := range order[1:] {
		if groups[v.work()] > groups[common.work()] {
			common = v
		}
	}
	f.unknown = common.dummy()
	if len(order) > 1 {
		warnings = append(warnings, fmt.Sprintf(
			"users have %d different hash kinds or costs; unknown users are checked like the most common (%s), "+
				"so response times can tell users of other kinds from unknown users", len(order), common.work()))
	}
	return f, warnings, nil
}

// isControl reports whether r is a control character in the sense of RFC
// 7617's CTL (US-ASCII 0-31 and 127), extended to Unicode's C1 controls.
func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r < 0xa0)
}

// parseHash recognizes the format of an entry's hash and parses it. Its
// errors never quote the hash: only the format's name, lengths and numeric
// parameters.
func parseHash(h string, opt Options) (verifier, error) {
	var (
		v   verifier
		err error
	)
	switch {
	case h == "":
		return nil, errors.New("empty hash")
	case h[0] == ' ' || h[0] == '\t':
		return nil, errors.New("whitespace between ':' and the hash")
	case isBcrypt(h):
		v, err = parseBcrypt(h)
	case strings.HasPrefix(h, sha256Crypt.prefix):
		v, err = parseSHACrypt(sha256Crypt, h)
	case strings.HasPrefix(h, sha512Crypt.prefix):
		v, err = parseSHACrypt(sha512Crypt, h)
	case strings.HasPrefix(h, apr1Magic):
		v, err = parseMD5Crypt(schemeAPR1, apr1Magic, h)
	case strings.HasPrefix(h, md5CryptMagic):
		v, err = parseMD5Crypt(schemeMD5Crypt, md5CryptMagic, h)
	case strings.HasPrefix(h, sha1Prefix):
		v, err = parseSHA1(h)
	case strings.HasPrefix(h, sshaPrefix):
		v, err = parseSSHA(h)
	default:
		return nil, unsupported(h)
	}
	if err != nil {
		return nil, err
	}
	if s := v.work().scheme; s.legacy() && !opt.AllowLegacy {
		return nil, fmt.Errorf("%s is a weak legacy format and legacy formats are not allowed; rehash with htpasswd -B", s)
	}
	return v, nil
}

// knownUnsupported names formats that are recognizable but not supported.
// Only these fixed names are ever echoed.
var knownUnsupported = []struct{ prefix, reason string }{
	{"$2x$", "bcrypt $2x$ marks hashes from a buggy implementation and is not supported; rehash with htpasswd -B"},
	{"$2$", "the original bcrypt $2$ is not supported; rehash with htpasswd -B"},
	{"$y$", "yescrypt ($y$) is not supported; use bcrypt (htpasswd -B) or SHA-crypt (htpasswd -5)"},
	{"$gy$", "gost-yescrypt ($gy$) is not supported; use bcrypt (htpasswd -B) or SHA-crypt (htpasswd -5)"},
	{"$7$", "scrypt ($7$) is not supported; use bcrypt (htpasswd -B) or SHA-crypt (htpasswd -5)"},
	{"$argon2", "argon2 is not supported; use bcrypt (htpasswd -B) or SHA-crypt (htpasswd -5)"},
	{"$sha1$", "sha1-crypt ($sha1$) is not supported; use bcrypt (htpasswd -B) or SHA-crypt (htpasswd -5)"},
	{"$md5", "Sun md5-crypt ($md5) is not supported; use bcrypt (htpasswd -B) or SHA-crypt (htpasswd -5)"},
}

func unsupported(h string) error {
	for _, k := range knownUnsupported {
		if strings.HasPrefix(h, k.prefix) {
			return errors.New(k.reason)
		}
	}
	if len(h) == 13 && isCrypt64(h) {
		return errors.New("looks like traditional DES crypt (htpasswd -d) or a plaintext password; " +
			"neither is accepted: rehash with htpasswd -B")
	}
	return errors.New("not a supported hash (bcrypt, SHA-crypt, or with legacy formats allowed apr1, md5-crypt, {SHA}, {SSHA}); " +
		"plaintext passwords are not accepted")
}

// Len reports the number of users.
func (f *File) Len() int {
	if f == nil {
		return 0
	}
	return len(f.users)
}

// Verify reports whether password is the password of user. It runs per
// request, in the request-headers callback, once the Basic credentials (RFC
// 7617, section 2) are split at their first ':'. Both strings are taken byte
// for byte, without Unicode normalization. It only computes: it sends no
// reply and touches no stream.
//
// It takes about the same time whether or not user exists: an unknown user
// is checked against a stand-in hash of the file's most common kind and cost,
// and the answer is then discarded. Digests are compared in constant time.
// A password longer than MaxPasswordLength or containing a NUL byte never
// verifies (every format here comes from C, where a NUL ends the password),
// without hashing, whoever the user. As with every bcrypt implementation,
// only the first 72 bytes of a password count for a bcrypt entry.
//
// Verify never panics and returns false on a nil or empty File.
func (f *File) Verify(user, password string) bool {
	if f == nil || f.unknown == nil || len(password) > MaxPasswordLength || strings.IndexByte(password, 0) >= 0 {
		return false
	}
	v, known := f.users[user]
	if !known {
		v = f.unknown
	}
	ok := v.verify([]byte(password))
	return ok && known
}

// Cost describes the work of user's hash, e.g. "bcrypt cost 10",
// "sha512-crypt rounds 5000" or "apr1-md5 1000 iterations (legacy)", for
// documentation and warnings. ok is false if there is no such user.
func (f *File) Cost(user string) (desc string, ok bool) {
	if f == nil {
		return "", false
	}
	v, ok := f.users[user]
	if !ok {
		return "", false
	}
	return v.work().String(), true
}
