package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"

	"github.com/wasm-authn/wasm-authn/internal/gateway"
	"github.com/wasm-authn/wasm-authn/internal/host"
	"github.com/wasm-authn/wasm-authn/internal/plugintest"
)

// startJWTGateway runs the gateway with a jwt provider whose keys come from
// the cluster "idp", mapped to idpURL.
func startJWTGateway(t *testing.T, idpURL string) string {
	t.Helper()
	cfg := []byte(`{"providers":[{"name":"idp","jwt":{"issuers":["https://idp.e2e"],"audiences":["e2e"],
		"remote_jwks":{"cluster":"idp","uri":"https://idp.e2e/jwks","timeout_ms":500,"max_wait_ms":2000}}}],
		"rules":[{"name":"health","match":{"path":{"exact":"/healthz"}},"allow_anonymous":true},
		         {"name":"api","require":{"provider":"idp"}}]}`)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	g, err := gateway.New(ctx, gateway.Config{Host: host.Config{Module: plugintest.Module(t), PluginConfig: cfg, Workers: 2,
		Clusters: map[string]string{"idp": idpURL}}})
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, g)
}

func signedToken(t *testing.T, key *ecdsa.PrivateKey) string {
	tok := gjwt.NewWithClaims(gjwt.SigningMethodES256, gjwt.MapClaims{"iss": "https://idp.e2e", "aud": "e2e", "sub": "svc",
		"exp": time.Now().Add(time.Hour).Unix()})
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A JWT verified with keys from a real IdP on loopback, through the gateway.
func TestGatewayJWT(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	x, y := make([]byte, 32), make([]byte, 32)
	key.X.FillBytes(x)
	key.Y.FillBytes(y)
	b := base64.RawURLEncoding.EncodeToString
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"keys":[{"kty":"EC","kid":"k1","crv":"P-256","x":%q,"y":%q}]}`, b(x), b(y))
	}))
	defer idp.Close()
	base := startJWTGateway(t, idp.URL)
	check(t, base, []exchange{
		{name: "valid token", path: "/x", header: map[string]string{"authorization": "Bearer " + signedToken(t, key)}, status: 200,
			echoHas: map[string]string{"authorization": "", "x-authn-principal": "https://idp.e2e/svc", "x-authn-method": "jwt"}},
		{name: "no token", path: "/x", status: 401},
		{name: "garbage token", path: "/x", header: map[string]string{"authorization": "Bearer a.b.c"}, status: 401},
	})
}

// Fail closed when the IdP is down: no keys, so requests needing a token
// get 401 (keys unavailable) while anonymous routes keep working.
func TestGatewayJWTIdPDown(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	base := startJWTGateway(t, dead)
	check(t, base, []exchange{
		{name: "token while the IdP is down", path: "/x", header: map[string]string{"authorization": "Bearer " + signedToken(t, key)}, status: 401},
		{name: "anonymous route", path: "/healthz", status: 200},
	})
}
