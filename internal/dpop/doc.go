// Package dpop verifies DPoP proofs (RFC 9449) and the binding of access
// tokens to them.
package dpop
