package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

func BenchmarkLoad10000Keys(b *testing.B) {
	keys := make([]string, 10000)
	for i := range keys {
		s := sha256.Sum256([]byte(fmt.Sprint(i)))
		keys[i] = fmt.Sprintf(`{"sha256":%q,"consumer":"c%d"}`, hex.EncodeToString(s[:]), i)
	}
	cfg := []byte(`{"providers":[{"name":"keys","api_key":{"keys":[` + strings.Join(keys, ",") + `]}}],"rules":[{"name":"api","require":{"provider":"keys"}}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Load(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
