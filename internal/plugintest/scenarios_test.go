package plugintest

import (
	"encoding/base64"
	"encoding/json"
	"github.com/wasm-authn/wasm-authn/internal/host"
	"os"
	"strings"
	"testing"
)

// Secrets used by the suite configuration (testdata/configs/suite.json).
const (
	aliceKey   = "test-key-alice-000001"
	bobKey     = "test-key-bob-00000002"
	alicePass  = "wonder:land"
	bobPass    = "pässwörd"
	apiHost    = "api.example.com"
	suiteRealm = "suite"
)

var secrets = []string{aliceKey, bobKey, alicePass, bobPass, basic("alice", alicePass), basic("bob", bobPass)}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func suiteConfig(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/configs/suite.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type scenario struct {
	name   string
	req    Request
	status int // 0: allowed upstream
	// errCode is the body's "error" for denials.
	errCode string
	// challenges expected on a 401, in order.
	challenges []string
	// upstream header expectations when allowed: name -> value ("" = absent).
	upstream map[string]string
}

func h(k, v string) [2]string { return [2]string{k, v} }

var apiChallenges = []string{`ApiKey realm="suite"`, `Basic realm="staff area", charset="UTF-8"`}

func coreScenarios() []scenario {
	return []scenario{
		{name: "api key in x-api-key", req: Get(apiHost, "/things", h("x-api-key", aliceKey)),
			upstream: map[string]string{"x-api-key": "", "x-authn-method": "api_key", "x-authn-provider": "keys", "x-authn-principal": "alice-app", "x-authn-meta-tier": "gold", "x-authn-meta-team": "payments"}},
		{name: "api key with scheme", req: Get(apiHost, "/things", h("authorization", "apikey "+bobKey)),
			upstream: map[string]string{"authorization": "", "x-authn-principal": "bob-app"}},
		{name: "api key in query is removed from path", req: Get(apiHost, "/things?a=1&api_key="+aliceKey+"&b=%20x"),
			upstream: map[string]string{":path": "/things?a=1&b=%20x", "x-authn-principal": "alice-app"}},
		{name: "kept credential", req: Get(apiHost, "/kept/x", h("x-kept-key", aliceKey)),
			upstream: map[string]string{"x-kept-key": aliceKey, "x-authn-provider": "kept-keys"}},
		{name: "wrong api key", req: Get(apiHost, "/things", h("x-api-key", "not-a-valid-key-123")), status: 401, errCode: "invalid_credential", challenges: apiChallenges},
		{name: "missing credential", req: Get(apiHost, "/things"), status: 401, errCode: "missing_credential", challenges: apiChallenges},
		{name: "repeated api key header", req: Get(apiHost, "/things", h("x-api-key", aliceKey), h("x-api-key", aliceKey)), status: 400, errCode: "multiple_credentials"},
		{name: "keys in header and query", req: Get(apiHost, "/things?api_key="+bobKey, h("x-api-key", aliceKey)), status: 400, errCode: "multiple_credentials"},
		{name: "oversized api key", req: Get(apiHost, "/things", h("x-api-key", strings.Repeat("k", 64<<10))), status: 400, errCode: "credential_too_large"},
		{name: "non-UTF-8 api key", req: Get(apiHost, "/things", h("x-api-key", "\xff\xfe\xfd")), status: 400, errCode: "malformed_credential"},
		{name: "basic bcrypt with colon in password", req: Get(apiHost, "/things", h("authorization", basic("alice", alicePass))),
			upstream: map[string]string{"authorization": "", "x-authn-method": "basic", "x-authn-provider": "staff", "x-authn-principal": "alice"}},
		{name: "basic sha512-crypt UTF-8 password", req: Get(apiHost, "/things", h("authorization", "BASIC "+strings.TrimPrefix(basic("bob", bobPass), "Basic "))),
			upstream: map[string]string{"x-authn-principal": "bob"}},
		{name: "basic wrong password", req: Get(apiHost, "/things", h("authorization", basic("alice", "wrong"))), status: 401, errCode: "invalid_credential", challenges: apiChallenges},
		{name: "basic unknown user", req: Get(apiHost, "/things", h("authorization", basic("mallory", alicePass))), status: 401, errCode: "invalid_credential"},
		{name: "basic bad base64", req: Get(apiHost, "/things", h("authorization", "Basic !!!notbase64")), status: 400, errCode: "malformed_credential"},
		{name: "basic non-UTF-8", req: Get(apiHost, "/things", h("authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("al\xffice:x")))), status: 400, errCode: "malformed_credential"},
		{name: "basic empty user", req: Get(apiHost, "/things", h("authorization", basic("", alicePass))), status: 400, errCode: "malformed_credential"},
		{name: "basic oversized header", req: Get(apiHost, "/things", h("authorization", "Basic "+strings.Repeat("QUFB", 16<<10))), status: 400, errCode: "credential_too_large"},
		{name: "repeated authorization header", req: Get(apiHost, "/things", h("authorization", basic("alice", alicePass)), h("authorization", basic("alice", alicePass))), status: 400, errCode: "bad_request"},
		{name: "consumer allowed", req: Get(apiHost, "/admin/x", h("authorization", basic("alice", alicePass))), upstream: map[string]string{"x-authn-principal": "alice"}},
		{name: "consumer not allowed", req: Get(apiHost, "/admin/x", h("authorization", basic("bob", bobPass))), status: 403, errCode: "forbidden"},
		{name: "all: both present", req: Get(apiHost, "/both/x", h("x-api-key", aliceKey), h("authorization", basic("bob", bobPass))),
			upstream: map[string]string{"x-api-key": "", "authorization": "", "x-authn-principal": "alice-app"}},
		{name: "all: one missing", req: Get(apiHost, "/both/x", h("x-api-key", aliceKey)), status: 401, errCode: "missing_credential", challenges: apiChallenges},
		{name: "any: invalid presented denies", req: Get(apiHost, "/things", h("x-api-key", aliceKey), h("authorization", basic("alice", "wrong"))), status: 401, errCode: "invalid_credential"},
		{name: "glob host method rule", req: Get("reports.example.com", "/r/2026/csv/a/b", h("x-api-key", bobKey)), upstream: map[string]string{"x-authn-principal": "bob-app"}},
		{name: "glob rule wrong consumer", req: Get("reports.example.com", "/r/2026/csv/a", h("x-api-key", aliceKey)), status: 403, errCode: "forbidden"},
		{name: "wildcard host", req: Get("eu.api.example.com:8443", "/x", h("x-api-key", bobKey)), upstream: map[string]string{"x-authn-principal": "bob-app"}},
		{name: "no rule matches", req: Get("other.example.com", "/x", h("x-api-key", aliceKey)), status: 403, errCode: "no_rule"},
		{name: "anonymous rule", req: Get("other.example.com", "/healthz"), upstream: map[string]string{"x-authn-principal": ""}},
		{name: "spoofed identity stripped on anonymous rule", req: Get("x", "/healthz", h("x-authn-principal", "admin"), h("X-Authn-Meta-Tier", "platinum"), h("x-user", "root")),
			upstream: map[string]string{"x-authn-principal": "", "x-authn-meta-tier": "", "x-user": ""}},
		{name: "spoofed identity replaced", req: Get(apiHost, "/things", h("x-authn-principal", "admin"), h("x-authn-principal", "root"), h("x-authn-meta-team", "root"), h("x-api-key", bobKey)),
			upstream: map[string]string{"x-authn-principal": "bob-app", "x-authn-meta-team": ""}},
		{name: "dot segment path", req: Get(apiHost, "/things/../admin/x", h("x-api-key", aliceKey)), status: 400, errCode: "bad_request"},
		{name: "double slash path", req: Get(apiHost, "//admin/x", h("x-api-key", aliceKey)), status: 400, errCode: "bad_request"},
		{name: "encoded slash path", req: Get(apiHost, "/admin%2fx", h("x-api-key", aliceKey)), status: 400, errCode: "bad_request"},
	}
}

func checkScenario(t *testing.T, sc scenario, r Result) {
	t.Helper()
	if sc.status == 0 {
		if !r.Allowed() {
			body := ""
			if r.Local != nil {
				body = string(r.Local.Body)
			}
			t.Fatalf("status %d %s; want allowed", r.Status(), body)
		}
		for k, want := range sc.upstream {
			got := Header(r.Upstream, k)
			switch {
			case want == "" && len(got) != 0:
				t.Errorf("upstream %s = %q; want absent", k, got)
			case want != "" && (len(got) != 1 || got[0] != want):
				t.Errorf("upstream %s = %q; want [%q]", k, got, want)
			}
		}
		return
	}
	if r.Local == nil {
		t.Fatalf("allowed (paused=%v); want %d", r.Paused, sc.status)
	}
	if r.Local.Status != sc.status {
		t.Fatalf("status %d (%s); want %d", r.Local.Status, r.Local.Body, sc.status)
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(r.Local.Body, &body); err != nil {
		t.Fatalf("body %q: %v", r.Local.Body, err)
	}
	if body.Error != sc.errCode || body.Description == "" {
		t.Errorf("body = %+v; want error %q with a description", body, sc.errCode)
	}
	if got := Header(r.Local.Headers, "content-type"); len(got) != 1 || got[0] != "application/json" {
		t.Errorf("content-type = %q", got)
	}
	if sc.challenges != nil {
		if got := Header(r.Local.Headers, "www-authenticate"); strings.Join(got, "|") != strings.Join(sc.challenges, "|") {
			t.Errorf("challenges = %q; want %q", got, sc.challenges)
		}
	}
	if sc.status != 401 && len(Header(r.Local.Headers, "www-authenticate")) != 0 {
		t.Errorf("a %d carries a challenge", sc.status)
	}
	if r.Local.Details != "wasm_authn_"+sc.errCode {
		t.Errorf("details = %q", r.Local.Details)
	}
}

// noSecrets fails if any secret appears in a reply, a log line, or an
// upstream header other than a kept credential.
func noSecrets(t *testing.T, logs []string, results map[string]Result) {
	t.Helper()
	for _, l := range logs {
		for _, s := range secrets {
			if strings.Contains(l, s) {
				t.Errorf("log line leaks a secret: %q", l)
			}
		}
	}
	for name, r := range results {
		var texts []string
		if r.Local != nil {
			texts = append(texts, string(r.Local.Body))
			for _, h := range r.Local.Headers {
				texts = append(texts, h[1])
			}
		}
		for _, h := range r.Upstream {
			if !r.Allowed() || h[0] == "x-kept-key" {
				continue
			}
			texts = append(texts, h[1])
		}
		for _, txt := range texts {
			for _, s := range secrets {
				if strings.Contains(txt, s) {
					t.Errorf("%s: response or upstream header leaks a secret: %q", name, txt)
				}
			}
		}
	}
}

// The core scenarios through the real .wasm under the Go SDK's proxytest
// host, an independent implementation of the host side.
func TestCoreScenariosSDKHost(t *testing.T) {
	host, err := NewSDKHost(t, suiteConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	runCore(t, host)
}

type requester interface {
	Do(Request) Result
	Logs() []string
	Counter(string) uint64
}

func runCore(t *testing.T, host requester) {
	results := map[string]Result{}
	for _, sc := range coreScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			r := host.Do(sc.req)
			results[sc.name] = r
			checkScenario(t, sc, r)
		})
	}
	noSecrets(t, host.Logs(), results)
	allowed, denied := 0, 0
	for _, sc := range coreScenarios() {
		if sc.status == 0 {
			allowed++
		} else {
			denied++
		}
	}
	if got := host.Counter("wasm_authn.allowed"); got != uint64(allowed) {
		t.Errorf("wasm_authn.allowed = %d; want %d", got, allowed)
	}
	var sum uint64
	for _, r := range []string{"missing_credential", "invalid_credential", "malformed_credential", "multiple_credentials", "credential_too_large", "forbidden", "no_rule", "bad_request"} {
		sum += host.Counter("wasm_authn.denied." + r)
	}
	if sum != uint64(denied) {
		t.Errorf("denied counters sum to %d; want %d", sum, denied)
	}
	if got := host.Counter("wasm_authn.provider.staff.cache_hit"); got == 0 {
		// alice's Basic credential is used several times: later uses hit.
		t.Errorf("staff cache_hit = 0; want > 0")
	}
}

// The core scenarios through the real .wasm in the Envoy-faithful host,
// with two worker VMs. Profile: envoy-1.39+, the only supported one (see
// TestEnvoy133ModuleFailsToLoad).
func TestCoreScenariosEnvoyHost(t *testing.T) {
	for _, p := range Profiles[:1] {
		t.Run(p.Name, func(t *testing.T) {
			e, err := NewEnvoyHost(t, host.Config{PluginConfig: suiteConfig(t), Profile: p.Profile, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			runCore(t, e)
		})
	}
}
