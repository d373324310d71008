package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func loadSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("../../schema/config.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("config.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("config.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func schemaValidate(s *jsonschema.Schema, data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

// Every example configuration shipped in testdata/configs passes both the
// JSON Schema and the plugin's own validator.
func TestExampleConfigsValid(t *testing.T) {
	s := loadSchema(t)
	files, _ := filepath.Glob("../../testdata/configs/*.json")
	if len(files) == 0 {
		t.Fatal("no example configurations found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Validate(data); err != nil {
				t.Errorf("Validate: %v", err)
			}
			if err := schemaValidate(s, data); err != nil {
				t.Errorf("schema: %v", err)
			}
		})
	}
}

const (
	key1 = "fa0e6ee23002a1255cbeb8279471bfb61bfe2c05ed8385ccb616ff69568504e7"
	// bcrypt of "pw" at cost 4, made by htpasswd -nbB -C 4.
	bcryptUser = `u:$2y$04$0JsEBEbf5nXlpr2HBu/8yOmqaZM1nUCMLJj6JkpFSH2cU7vpYeAn2`
)

func minimal(provider, rule string) string {
	return `{"providers":[` + provider + `],"rules":[` + rule + `]}`
}

var okProvider = `{"name":"k","api_key":{"keys":[{"sha256":"` + key1 + `","consumer":"c"}]}}`
var okRule = `{"name":"r","require":{"provider":"k"}}`

func TestLoadAccepts(t *testing.T) {
	tests := []struct {
		name, json string
	}{
		{"minimal", minimal(okProvider, okRule)},
		{"anonymous only", `{"rules":[{"name":"open","allow_anonymous":true}]}`},
		{"floats from Istio", minimal(`{"name":"b","basic":{"htpasswd":"`+bcryptUser+`","cache":{"max_entries":1024.0,"ttl_seconds":3e2}}}`, `{"name":"r","require":{"provider":"b"}}`)},
		{"nested expression", minimal(okProvider+`,{"name":"b","basic":{"htpasswd":"`+bcryptUser+`"}}`,
			`{"name":"r","require":{"all":[{"provider":"k"},{"any":[{"provider":"b","consumers":["u"]},{"provider":"k"}]}]}}`)},
		{"every matcher", minimal(okProvider, `{"name":"a","match":{"hosts":["api.example.com","*.example.org:8443"],"methods":["GET"],"path":{"glob":"/v1/*/items/**"}},"require":{"provider":"k"}},
			{"name":"b","match":{"path":{"regex":"/v[0-9]+/.*"}},"require":{"provider":"k"}},
			{"name":"c","match":{"path":{"exact":"/x"}},"allow_anonymous":true}`)},
		{"sources", minimal(`{"name":"k","api_key":{"sources":[{"header":"authorization","scheme":"ApiKey"},{"query":"key"},{"header":"x-key"}],"keys":[{"sha256":"`+strings.ToUpper(key1)+`","consumer":"c","metadata":{"tier":"gold"}}]}}`, okRule)},
		{"plaintext opt-in", minimal(`{"name":"k","api_key":{"allow_plaintext_keys":true,"plaintext_keys":[{"key":"0123456789abcdef","consumer":"c"}]}}`, okRule)},
	}
	s := loadSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Validate([]byte(tt.json)); err != nil {
				t.Fatalf("Validate = %v; want ok", err)
			}
			if err := schemaValidate(s, []byte(tt.json)); err != nil {
				t.Fatalf("schema = %v; want ok", err)
			}
		})
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name, json string
		// wantPath must appear in the error, with wantMsg.
		wantPath, wantMsg string
		// schema: the JSON Schema rejects it too (cross-references and
		// semantic checks are beyond a schema).
		schema bool
	}{
		{"empty", ``, "$", "empty", false},
		{"blank", "  \n", "$", "empty", false},
		{"not JSON", `{`, "$", "invalid JSON", false},
		{"not an object", `[]`, "$", "must be an object", true},
		{"trailing data", `{"rules":[{"name":"a","allow_anonymous":true}]} {}`, "$", "after the top-level value", false},
		{"duplicate key", `{"rules":[],"rules":[]}`, "$.rules", "duplicate key", false},
		{"unknown top field", `{"rulez":[],"rules":[{"name":"a","allow_anonymous":true}]}`, "$.rulez", "unknown field", true},
		{"misspelled provider field", minimal(`{"name":"k","api_key":{"keyz":[]}}`, okRule), "$.providers[0].api_key.keyz", "unknown field", true},
		{"no rules", `{"rules":[]}`, "$.rules", "at least one rule", true},
		{"rules missing", `{}`, "$.rules", "is required", true},
		{"wrong type", `{"rules":{}}`, "$.rules", "must be an array", true},
		{"string for number", minimal(`{"name":"b","basic":{"htpasswd":"`+bcryptUser+`","cache":{"ttl_seconds":"300"}}}`, `{"name":"r","require":{"provider":"b"}}`), "$.providers[0].basic.cache.ttl_seconds", "must be a number", true},
		{"fractional number", minimal(`{"name":"b","basic":{"htpasswd":"`+bcryptUser+`","cache":{"ttl_seconds":1.5}}}`, `{"name":"r","require":{"provider":"b"}}`), "$.providers[0].basic.cache.ttl_seconds", "whole number", true},
		{"out of range", minimal(`{"name":"b","basic":{"htpasswd":"`+bcryptUser+`","cache":{"ttl_seconds":0}}}`, `{"name":"r","require":{"provider":"b"}}`), "$.providers[0].basic.cache.ttl_seconds", "between", true},
		{"two methods", minimal(`{"name":"k","api_key":{"keys":[]},"basic":{"htpasswd":"x"}}`, okRule), "$.providers[0]", "exactly one of api_key, basic, jwt and mtls", true},
		{"no method", minimal(`{"name":"k"}`, okRule), "$.providers[0]", "exactly one of api_key, basic, jwt and mtls", true},
		{"bad provider name", minimal(`{"name":"K K","api_key":{"keys":[{"sha256":"`+key1+`","consumer":"c"}]}}`, okRule), "$.providers[0].name", "lower-case", true},
		{"duplicate provider", minimal(okProvider+","+okProvider, okRule), "$.providers[1].name", "duplicate provider", false},
		{"bad digest", minimal(`{"name":"k","api_key":{"keys":[{"sha256":"abc","consumer":"c"}]}}`, okRule), "$.providers[0].api_key.keys[0].sha256", "64 hexadecimal", true},
		{"duplicate digest", minimal(`{"name":"k","api_key":{"keys":[{"sha256":"`+key1+`","consumer":"c"},{"sha256":"`+key1+`","consumer":"d"}]}}`, okRule), "$.providers[0].api_key.keys[1]", "duplicate key", false},
		{"no keys", minimal(`{"name":"k","api_key":{}}`, okRule), "$.providers[0].api_key", "at least one key", false},
		{"plaintext without opt-in", minimal(`{"name":"k","api_key":{"plaintext_keys":[{"key":"0123456789abcdef","consumer":"c"}]}}`, okRule), "$.providers[0].api_key.plaintext_keys", "allow_plaintext_keys", false},
		{"short plaintext key", minimal(`{"name":"k","api_key":{"allow_plaintext_keys":true,"plaintext_keys":[{"key":"short","consumer":"c"}]}}`, okRule), "$.providers[0].api_key.plaintext_keys[0].key", "16 to", true},
		{"consumer with space", minimal(`{"name":"k","api_key":{"keys":[{"sha256":"`+key1+`","consumer":"a b"}]}}`, okRule), "$.providers[0].api_key.keys[0].consumer", "printable ASCII", true},
		{"authorization without scheme", minimal(`{"name":"k","api_key":{"sources":[{"header":"authorization"}],"keys":[{"sha256":"`+key1+`","consumer":"c"}]}}`, okRule), "$.providers[0].api_key.sources[0]", "needs a scheme", false},
		{"bearer scheme", minimal(`{"name":"k","api_key":{"sources":[{"header":"authorization","scheme":"Bearer"}],"keys":[{"sha256":"`+key1+`","consumer":"c"}]}}`, okRule), "$.providers[0].api_key.sources[0].scheme", "other than Basic or Bearer", false},
		{"header and query", minimal(`{"name":"k","api_key":{"sources":[{"header":"x","query":"y"}],"keys":[{"sha256":"`+key1+`","consumer":"c"}]}}`, okRule), "$.providers[0].api_key.sources[0]", "not both", true},
		{"upper-case header", minimal(`{"name":"k","api_key":{"sources":[{"header":"X-Key"}],"keys":[{"sha256":"`+key1+`","consumer":"c"}]}}`, okRule), "$.providers[0].api_key.sources[0].header", "lower-case", true},
		{"bad htpasswd", minimal(`{"name":"b","basic":{"htpasswd":"u:plaintext"}}`, `{"name":"r","require":{"provider":"b"}}`), "$.providers[0].basic.htpasswd", "line 1", false},
		{"legacy hash without opt-in", minimal(`{"name":"b","basic":{"htpasswd":"u:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="}}`, `{"name":"r","require":{"provider":"b"}}`), "$.providers[0].basic.htpasswd", "line 1", false},
		{"unknown provider in rule", minimal(okProvider, `{"name":"r","require":{"provider":"nope"}}`), "$.rules[0].require.provider", "names no provider", false},
		{"rule without requirement", minimal(okProvider, `{"name":"r"}`), "$.rules[0]", "exactly one of require and allow_anonymous", true},
		{"rule with both", minimal(okProvider, `{"name":"r","allow_anonymous":true,"require":{"provider":"k"}}`), "$.rules[0]", "exactly one of require and allow_anonymous", true},
		{"anonymous false", minimal(okProvider, `{"name":"r","allow_anonymous":false}`), "$.rules[0].allow_anonymous", "can only be true", true},
		{"empty any", minimal(okProvider, `{"name":"r","require":{"any":[]}}`), "$.rules[0].require.any", "must not be empty", true},
		{"provider and any", minimal(okProvider, `{"name":"r","require":{"provider":"k","any":[{"provider":"k"}]}}`), "$.rules[0].require", "exactly one of provider, any and all", true},
		{"consumers on any", minimal(okProvider, `{"name":"r","require":{"any":[{"provider":"k"}],"consumers":["c"]}}`), "$.rules[0].require.consumers", "unknown field", true},
		{"bad regex", minimal(okProvider, `{"name":"r","match":{"path":{"regex":"(("}},"require":{"provider":"k"}}`), "$.rules[0].match.path.regex", "RE2", false},
		{"two path kinds", minimal(okProvider, `{"name":"r","match":{"path":{"exact":"/a","prefix":"/b"}},"require":{"provider":"k"}}`), "$.rules[0].match.path", "exactly one of exact", true},
		{"relative prefix", minimal(okProvider, `{"name":"r","match":{"path":{"prefix":"api"}},"require":{"provider":"k"}}`), "$.rules[0].match.path.prefix", "start with '/'", true},
		{"bad glob", minimal(okProvider, `{"name":"r","match":{"path":{"glob":"/a/b**"}},"require":{"provider":"k"}}`), "$.rules[0].match.path.glob", "whole segment", false},
		{"lower-case method", minimal(okProvider, `{"name":"r","match":{"methods":["get"]},"require":{"provider":"k"}}`), "$.rules[0].match.methods[0]", "upper-case", true},
		{"bad host", minimal(okProvider, `{"name":"r","match":{"hosts":["Api.Example.com"]},"require":{"provider":"k"}}`), "$.rules[0].match.hosts[0]", "lower-case host", true},
		{"duplicate rule", minimal(okProvider, okRule+","+okRule), "$.rules[1].name", "duplicate rule", false},
		{"identity header authorization", `{"identity_headers":{"principal":"authorization"},"rules":[{"name":"a","allow_anonymous":true}]}`, "$.identity_headers.principal", "cannot be used", false},
		{"strip pseudo header", `{"strip_request_headers":[":path"],"rules":[{"name":"a","allow_anonymous":true}]}`, "$.strip_request_headers[0]", "pseudo-header", true},
		{"realm with quote", `{"realm":"a\"b","rules":[{"name":"a","allow_anonymous":true}]}`, "$.realm", "quotes", true},
		{"too deep", minimal(okProvider, `{"name":"r","require":`+strings.Repeat(`{"any":[`, 9)+`{"provider":"k"}`+strings.Repeat(`]}`, 9)+`}`), "$.rules[0].require" + strings.Repeat(".any[0]", 8), "deeper than", false},
	}
	s := loadSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Validate([]byte(tt.json))
			if err == nil {
				t.Fatalf("Validate succeeded; want an error at %s", tt.wantPath)
			}
			found := false
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.HasPrefix(line, tt.wantPath+": ") && strings.Contains(line, tt.wantMsg) {
					found = true
				}
			}
			if !found {
				t.Fatalf("Validate error = %q; want a line %q containing %q", err, tt.wantPath+": ", tt.wantMsg)
			}
			if tt.schema && len(tt.json) > 0 {
				if err := schemaValidate(s, []byte(tt.json)); err == nil {
					t.Errorf("the JSON Schema accepts it; want rejected")
				}
			}
		})
	}
}

// Every problem is reported, not just the first.
func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Validate([]byte(`{"realm":"","rules":[{"name":"a","require":{"provider":"x"}},{"name":"b"}],"extra":1}`))
	if err == nil {
		t.Fatal("Validate succeeded")
	}
	for _, want := range []string{"$.realm: ", "$.rules[0].require.provider: ", "$.rules[1]: ", "$.extra: "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// Secrets in a configuration never appear in its errors.
func TestLoadErrorsHoldNoSecret(t *testing.T) {
	const secret = "SuperSecretPlaintextKey123"
	_, err := Validate([]byte(minimal(`{"name":"k","api_key":{"plaintext_keys":[{"key":"`+secret+`","consumer":"c"}]}},{"name":"b","basic":{"htpasswd":"u:`+secret+`"}}`, `{"name":"r","require":{"any":[{"provider":"k"},{"provider":"b"}]}}`)))
	if err == nil {
		t.Fatal("Validate succeeded")
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("error leaks the secret: %v", err)
	}
}

func TestWarnings(t *testing.T) {
	w, err := Validate([]byte(minimal(okProvider+`,{"name":"unused","api_key":{"allow_plaintext_keys":true,"plaintext_keys":[{"key":"0123456789abcdef","consumer":"c"}]}}`, okRule)))
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(w, "\n")
	for _, want := range []string{"$.providers[1]: provider is not used", "$.providers[1].api_key.plaintext_keys: keys are configured in plaintext"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings %q lack %q", joined, want)
		}
	}
}

func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/configs/*.json")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(minimal(okProvider, okRule)))
	f.Add([]byte(`{"rules":[{"name":"a","match":{"path":{"glob":"/**/x/*"}},"allow_anonymous":true}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, _, err := Load(data)
		if (p == nil) == (err == nil) {
			t.Fatalf("Load returned policy %v and error %v", p != nil, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "$") {
			t.Fatalf("error without a JSON path: %v", err)
		}
	})
}

func TestMTLSConfig(t *testing.T) {
	okP := `{"name":"mesh","mtls":{"allow":[{"spiffe":"spiffe://cluster.local/ns/*/sa/*"},{"dns":"*.example.com","subject_attributes":{"O":"Example"}}],"xfcc":"sanitize_set"}}`
	if _, err := Validate([]byte(minimal(okP, `{"name":"r","require":{"provider":"mesh","peers":[{"uri":"spiffe://cluster.local/ns/a/sa/b"}]}}`))); err != nil {
		t.Fatalf("valid mtls config: %v", err)
	}
	s := loadSchema(t)
	bad := []struct{ name, json, path, msg string }{
		{"bad spiffe", minimal(`{"name":"mesh","mtls":{"allow":[{"spiffe":"spiffe://Bad/ns"}]}}`, `{"name":"r","require":{"provider":"mesh"}}`), "$.providers[0].mtls.allow[0].spiffe", ""},
		{"empty peer", minimal(`{"name":"mesh","mtls":{"allow":[{}]}}`, `{"name":"r","require":{"provider":"mesh"}}`), "$.providers[0].mtls.allow[0]", "at least one"},
		{"unknown peer field", minimal(`{"name":"mesh","mtls":{"allow":[{"cn":"x"}]}}`, `{"name":"r","require":{"provider":"mesh"}}`), "$.providers[0].mtls.allow[0].cn", "unknown field"},
		{"bad xfcc mode", minimal(`{"name":"mesh","mtls":{"xfcc":"trust"}}`, `{"name":"r","require":{"provider":"mesh"}}`), "$.providers[0].mtls.xfcc", "unknown XFCC mode"},
		{"bad pin", minimal(okP, `{"name":"r","require":{"provider":"mesh","peers":[{"sha256":["zz"]}]}}`), "$.rules[0].require.peers[0].sha256", ""},
		{"peers on an api_key provider", minimal(okProvider, `{"name":"r","require":{"provider":"k","peers":[{"dns":"a.example.com"}]}}`), "$.rules[0].require.peers", "unknown field"},
		{"dns wildcard in the middle", minimal(`{"name":"mesh","mtls":{"allow":[{"dns":"a.*.example.com"}]}}`, `{"name":"r","require":{"provider":"mesh"}}`), "$.providers[0].mtls.allow[0].dns", ""},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Validate([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.path+": ") || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Validate = %v; want an error at %s with %q", err, tt.path, tt.msg)
			}
			_ = s
		})
	}
}
