package envoy_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// minEnvoyMinor is the first Envoy release line whose Wasm host provides
// every WASI import the Go runtime calls (docs/deploy.md).
const minEnvoyMinor = 39

type composeFile struct {
	Name     string `json:"name"`
	Services map[string]struct {
		Image     string   `json:"image"`
		Command   []string `json:"command"`
		Volumes   []string `json:"volumes"`
		Ports     []string `json:"ports"`
		Profiles  []string `json:"profiles"`
		DependsOn []string `json:"depends_on"`
	} `json:"services"`
}

// TestComposeStack ties envoy/docker-compose.yaml to the bootstraps it
// runs: a pinned Envoy >= 1.39, each bootstrap and the module mounted
// where the bootstrap expects them, every cluster address a service of the
// stack, and each listener published.
func TestComposeStack(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "envoy", "docker-compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.UnmarshalStrict(b, &cf); err != nil {
		t.Fatal(err)
	}
	envoyImage := regexp.MustCompile(`^envoyproxy/envoy:v1\.(\d+)\.(\d+)$`)
	bootstraps := map[string]string{"envoy": "envoy.yaml", "envoy-mtls": "envoy-mtls.yaml"}
	for svc, file := range bootstraps {
		t.Run(svc, func(t *testing.T) {
			s, ok := cf.Services[svc]
			if !ok {
				t.Fatalf("no service %q", svc)
			}
			m := envoyImage.FindStringSubmatch(s.Image)
			if m == nil {
				t.Fatalf("image %q is not a pinned envoyproxy/envoy:v1.X.Y", s.Image)
			}
			if minor, _ := strconv.Atoi(m[1]); minor < minEnvoyMinor {
				t.Errorf("image %s: Envoy below 1.%d lacks WASI imports the Go runtime needs", s.Image, minEnvoyMinor)
			}
			mounts := map[string]string{}
			for _, v := range s.Volumes {
				parts := strings.Split(v, ":")
				if len(parts) < 2 {
					t.Fatalf("volume %q", v)
				}
				mounts[parts[1]] = parts[0]
			}
			if got := mounts["/etc/envoy/envoy.yaml"]; got != "./"+file {
				t.Errorf("/etc/envoy/envoy.yaml is mounted from %q; want ./%s", got, file)
			}
			if got := mounts["/etc/envoy/wasm-authn.wasm"]; got != "../build/wasm-authn.wasm" {
				t.Errorf("/etc/envoy/wasm-authn.wasm is mounted from %q; want ../build/wasm-authn.wasm", got)
			}
			js, err := os.ReadFile(filepath.Join(root, "envoy", file))
			if err != nil {
				t.Fatal(err)
			}
			bs := bootstrapJSON(t, js)
			if !strings.Contains(string(js), "filename: /etc/envoy/wasm-authn.wasm") {
				t.Errorf("%s does not load /etc/envoy/wasm-authn.wasm", file)
			}
			for _, c := range bs.StaticResources.Clusters {
				for _, ep := range c.LoadAssignment.Endpoints {
					for _, lb := range ep.LbEndpoints {
						host := lb.Endpoint.Address.SocketAddress.Address
						if _, ok := cf.Services[host]; !ok {
							t.Errorf("cluster %s points at %q, which is not a service of the stack", c.Name, host)
						}
					}
				}
			}
			for _, l := range bs.StaticResources.Listeners {
				want := fmt.Sprintf(":%d:%d", l.Address.SocketAddress.PortValue, l.Address.SocketAddress.PortValue)
				if !containsSuffix(s.Ports, want) {
					t.Errorf("listener port %d is not published (ports %q)", l.Address.SocketAddress.PortValue, s.Ports)
				}
			}
		})
	}
	if got := cf.Services["envoy-mtls"].Profiles; len(got) != 1 || got[0] != "mtls" {
		t.Errorf("envoy-mtls profiles = %q; want [mtls]", got)
	}
}

func containsSuffix(ss []string, suffix string) bool {
	for _, s := range ss {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}

// bootstrapSubset is the part of a bootstrap TestComposeStack reads.
type bootstrapSubset struct {
	StaticResources struct {
		Listeners []struct {
			Address struct {
				SocketAddress struct {
					PortValue int `json:"port_value"`
				} `json:"socket_address"`
			} `json:"address"`
		} `json:"listeners"`
		Clusters []struct {
			Name           string `json:"name"`
			LoadAssignment struct {
				Endpoints []struct {
					LbEndpoints []struct {
						Endpoint struct {
							Address struct {
								SocketAddress struct {
									Address string `json:"address"`
								} `json:"socket_address"`
							} `json:"address"`
						} `json:"endpoint"`
					} `json:"lb_endpoints"`
				} `json:"endpoints"`
			} `json:"load_assignment"`
		} `json:"clusters"`
	} `json:"static_resources"`
}

func bootstrapJSON(t *testing.T, y []byte) bootstrapSubset {
	t.Helper()
	var bs bootstrapSubset
	if err := yaml.Unmarshal(y, &bs); err != nil {
		t.Fatal(err)
	}
	return bs
}

// TestIdPDocuments checks the static identity provider served by the
// stack: the discovery document names the issuer the idp cluster reaches
// and a jwks_uri that is served; every JWK has an RFC 7638 thumbprint as
// kid and is the public half of a demo key in envoy/idp/demo-keys.
func TestIdPDocuments(t *testing.T) {
	idp := filepath.Join(repoRoot(t), "envoy", "idp")
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	readJSON(t, filepath.Join(idp, "html", ".well-known", "openid-configuration"), &disc)
	iss, err := url.Parse(disc.Issuer)
	if err != nil || iss.Host != "idp:8080" {
		t.Errorf("issuer %q; want it on idp:8080, where the idp cluster points", disc.Issuer)
	}
	ju, err := url.Parse(disc.JWKSURI)
	if err != nil || ju.Host != iss.Host {
		t.Fatalf("jwks_uri %q is not on the issuer's host", disc.JWKSURI)
	}
	var jwks struct {
		Keys []map[string]string `json:"keys"`
	}
	readJSON(t, filepath.Join(idp, "html", filepath.FromSlash(ju.Path)), &jwks)
	if len(jwks.Keys) == 0 {
		t.Fatal("empty JWKS")
	}

	pubs := map[string]any{} // kid -> public key from the demo private keys
	keyFiles, _ := filepath.Glob(filepath.Join(idp, "demo-keys", "*.pem"))
	for _, f := range keyFiles {
		b, _ := os.ReadFile(f)
		blk, _ := pem.Decode(b)
		if blk == nil {
			t.Fatalf("%s: no PEM block", f)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		switch k := k.(type) {
		case *rsa.PrivateKey:
			pubs[thumbprint(t, map[string]string{"kty": "RSA", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())})] = &k.PublicKey
		case *ecdsa.PrivateKey:
			if k.Curve != elliptic.P256() {
				t.Fatalf("%s: curve %s", f, k.Curve.Params().Name)
			}
			raw, _ := k.PublicKey.Bytes()
			pubs[thumbprint(t, map[string]string{"kty": "EC", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])})] = &k.PublicKey
		}
	}
	for _, k := range jwks.Keys {
		req := map[string]string{"kty": k["kty"]}
		switch k["kty"] {
		case "RSA":
			req["n"], req["e"] = k["n"], k["e"]
		case "EC":
			req["crv"], req["x"], req["y"] = k["crv"], k["x"], k["y"]
		default:
			t.Errorf("JWK kty %q", k["kty"])
			continue
		}
		tp := thumbprint(t, req)
		if k["kid"] != tp {
			t.Errorf("JWK kid %q; want its RFC 7638 thumbprint %q", k["kid"], tp)
		}
		if pubs[tp] == nil {
			t.Errorf("JWK %s has no private key in demo-keys", k["kid"])
		}
		if k["use"] != "sig" || (k["alg"] != "RS256" && k["alg"] != "ES256") {
			t.Errorf("JWK %s: use %q alg %q", k["kid"], k["use"], k["alg"])
		}
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func thumbprint(t *testing.T, required map[string]string) string {
	t.Helper()
	canon, err := json.Marshal(required) // sorted keys, no whitespace: RFC 7638 §3.2
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(canon)
	return b64(sum[:])
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
