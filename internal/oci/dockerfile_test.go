package oci_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDockerfile keeps the repository's Dockerfile a valid compat image
// recipe: FROM scratch and a single layer-producing instruction that puts
// the module at /plugin.wasm, the file the istio-agent looks for in the
// last layer.
func TestDockerfile(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var instrs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instrs = append(instrs, strings.Join(strings.Fields(line), " "))
	}
	want := []string{"FROM scratch", "COPY build/wasm-authn.wasm /plugin.wasm"}
	if strings.Join(instrs, "\n") != strings.Join(want, "\n") {
		t.Errorf("Dockerfile instructions = %q; want %q", instrs, want)
	}
}
