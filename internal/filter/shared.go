//go:build wasip1

package filter

import (
	"github.com/wasm-authn/wasm-authn/internal/abi"
	"github.com/wasm-authn/wasm-authn/internal/dpop"
	"github.com/wasm-authn/wasm-authn/internal/jwt"
)

// hostShared is proxy-wasm shared data as the DPoP replay store needs it.
type hostShared struct{}

func (hostShared) GetSharedData(key string) ([]byte, uint32, error) {
	v, cas, err := abi.GetSharedData(key)
	if abi.IsStatus(err, abi.StatusNotFound) {
		return nil, 0, nil
	}
	return v, cas, err
}

func (hostShared) SetSharedData(key string, value []byte, cas uint32) error {
	err := abi.SetSharedData(key, value, cas)
	if abi.IsStatus(err, abi.StatusCasMismatch) {
		return dpop.ErrCASMismatch
	}
	return err
}

// jwtOf returns the jwt provider behind prov (itself, or the one a DPoP
// provider wraps).
func jwtOf(prov any) (*jwt.Provider, bool) {
	b, ok := prov.(interface{ JWT() *jwt.Provider })
	if !ok {
		return nil, false
	}
	return b.JWT(), true
}
