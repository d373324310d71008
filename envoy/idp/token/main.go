// Command token prints an access token signed with a demo key of the
// local identity provider (envoy/idp), for trying the local stack:
//
//	TOKEN=$(go run ./envoy/idp/token -scope orders.read)
//	curl -H 'Host: api.example.com' -H "Authorization: Bearer $TOKEN" http://127.0.0.1:10000/v2/orders
//
// -cnf-cert binds the token to a client certificate (RFC 8705), -claims
// adds or replaces claims (a JSON object; null removes one). The keys are
// public: such tokens are for the local stack only.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/wasm-authn/wasm-authn/envoy/idp/demotoken"
)

func main() {
	key := flag.String("key", "envoy/idp/demo-keys/rs256.pem", "demo signing key (rs256.pem or es256.pem)")
	iss := flag.String("iss", demotoken.Issuer, "issuer (iss)")
	aud := flag.String("aud", demotoken.Audience, "audience (aud)")
	sub := flag.String("sub", "alice", "subject (sub)")
	scope := flag.String("scope", "orders.read", "space-separated scopes (scope)")
	ttl := flag.Duration("ttl", 10*time.Minute, "lifetime (exp - iat)")
	cnfCert := flag.String("cnf-cert", "", "PEM client certificate to bind the token to (cnf x5t#S256)")
	extra := flag.String("claims", "", `more claims as a JSON object, e.g. '{"azp":"cli"}'; null removes a claim`)
	flag.Parse()

	k, err := demotoken.LoadKey(*key)
	if err != nil {
		log.Fatal(err)
	}
	claims := demotoken.Claims(*sub, *scope, *ttl)
	claims["iss"], claims["aud"] = *iss, *aud
	if *cnfCert != "" {
		x5t, err := demotoken.CertFileThumbprint(*cnfCert)
		if err != nil {
			log.Fatal(err)
		}
		claims["cnf"] = map[string]string{"x5t#S256": x5t}
	}
	if *extra != "" {
		var m map[string]any
		if err := json.Unmarshal([]byte(*extra), &m); err != nil {
			log.Fatalf("-claims: %v", err)
		}
		for name, v := range m {
			if v == nil {
				delete(claims, name)
			} else {
				claims[name] = v
			}
		}
	}
	tok, err := k.Sign(claims)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stdout, tok)
}
