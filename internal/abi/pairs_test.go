package abi

import (
	"reflect"
	"testing"
)

// DecodePairs parses the pair format into a slice with VisitPairs.
func DecodePairs(b []byte) ([]Header, error) {
	var hs []Header
	err := VisitPairs(b, func(n int) { hs = make([]Header, 0, n) }, func(k, v string) { hs = append(hs, Header{Key: k, Value: v}) })
	if err != nil {
		return nil, err
	}
	return hs, nil
}

func TestPairsRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		hs   []Header
	}{
		{"empty", nil},
		{"one", []Header{{":path", "/a?b=c"}}},
		{"repeated and empty values", []Header{{"a", ""}, {"a", "x"}, {"", ""}, {"cookie", "k=v; k2=v2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodePairs(EncodePairs(tt.hs))
			if err != nil {
				t.Fatalf("DecodePairs: %v", err)
			}
			if len(got) == 0 && len(tt.hs) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.hs) {
				t.Fatalf("round trip = %q; want %q", got, tt.hs)
			}
		})
	}
}

func TestEncodePairsLayout(t *testing.T) {
	// The layout from the proxy-wasm spec: count, sizes, then NUL-terminated strings.
	got := EncodePairs([]Header{{"ab", "c"}})
	want := []byte{1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 'a', 'b', 0, 'c', 0}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("EncodePairs = %v; want %v", got, want)
	}
}

func TestDecodePairsRejectsMalformed(t *testing.T) {
	bad := map[string][]byte{
		"short":           {1, 0},
		"count too large": {0xff, 0xff, 0xff, 0xff},
		"missing NUL":     {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 'a', 'x', 'b', 0},
		"value past end":  {1, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 'a', 0, 'b', 0},
		"huge key length": {1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0},
	}
	for name, b := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodePairs(b); err == nil {
				t.Fatalf("DecodePairs(%v) succeeded; want error", b)
			}
		})
	}
}

func FuzzDecodePairs(f *testing.F) {
	f.Add(EncodePairs([]Header{{"a", "b"}, {"c", ""}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		hs, err := DecodePairs(b)
		if err != nil {
			return
		}
		again, err := DecodePairs(EncodePairs(hs))
		if err != nil || len(again) != len(hs) {
			t.Fatalf("re-encoding %q failed: %v", hs, err)
		}
	})
}
