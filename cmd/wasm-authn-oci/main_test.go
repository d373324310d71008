package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/wasm-authn/wasm-authn/internal/oci"
)

// module is a valid module exporting proxy_abi_version_0_2_1.
var module = []byte("\x00asm\x01\x00\x00\x00" +
	"\x01\x04\x01\x60\x00\x00" + "\x03\x02\x01\x00" +
	"\x07\x1b\x01\x17proxy_abi_version_0_2_1\x00\x00" +
	"\x0a\x04\x01\x02\x00\x0b")

func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func newRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

var digestLine = regexp.MustCompile(`manifest digest (sha256:[0-9a-f]{64})`)

// TestBuildPushVerify is `make image` then `make push` against an
// in-process registry: both variants land under <tag> and <tag>-artifact,
// the printed digests are the registry's, the WasmPlugin hint carries the
// compat digest's hex, and verify extracts the original module from both.
func TestBuildPushVerify(t *testing.T) {
	dir := t.TempDir()
	wasm := filepath.Join(dir, "wasm-authn.wasm")
	if err := os.WriteFile(wasm, module, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "oci")
	if got, err := runCmd(t, "build", "-wasm", wasm, "-out", out, "-version", "v1.2.3", "-created", "1700000000"); err != nil {
		t.Fatalf("build: %v\n%s", err, got)
	}
	for _, sub := range []string{"compat", "artifact"} {
		if _, err := oci.ReadLayout(filepath.Join(out, sub)); err != nil {
			t.Errorf("layout %s: %v", sub, err)
		}
	}

	host := newRegistry(t)
	repo := host + "/team/wasm-authn"
	got, err := runCmd(t, "push", "-layout", out, "-ref", repo, "-default-tag", "v1.2.3")
	if err != nil {
		t.Fatalf("push: %v\n%s", err, got)
	}
	digests := digestLine.FindAllStringSubmatch(got, -1)
	if len(digests) != 2 {
		t.Fatalf("push printed %d digests; want 2:\n%s", len(digests), got)
	}
	for i, tag := range []string{"v1.2.3", "v1.2.3-artifact"} {
		ref, _ := name.NewTag(repo + ":" + tag)
		desc, err := remote.Head(ref)
		if err != nil {
			t.Fatalf("HEAD %s: %v", ref, err)
		}
		if desc.Digest.String() != digests[i][1] {
			t.Errorf("%s: registry digest %s; push printed %s", ref, desc.Digest, digests[i][1])
		}
	}
	compatHex := strings.TrimPrefix(digests[0][1], "sha256:")
	for _, want := range []string{"url: oci://" + repo + ":v1.2.3", "sha256: " + compatHex, "@" + digests[0][1]} {
		if !strings.Contains(got, want) {
			t.Errorf("push output lacks %q:\n%s", want, got)
		}
	}

	for _, ref := range []string{repo + ":v1.2.3", "oci://" + repo + ":v1.2.3-artifact", repo + "@" + digests[0][1]} {
		got, err := runCmd(t, "verify", "-ref", ref, "-wasm", wasm)
		if err != nil {
			t.Errorf("verify %s: %v\n%s", ref, err, got)
		}
		if !strings.Contains(got, "proxy-wasm ABI 0.2.1") {
			t.Errorf("verify %s output:\n%s", ref, got)
		}
	}

	other := filepath.Join(dir, "other.wasm")
	os.WriteFile(other, []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	if got, err := runCmd(t, "verify", "-ref", repo+":v1.2.3", "-wasm", other); err == nil || !strings.Contains(err.Error(), "differs") {
		t.Errorf("verify against another module = %v\n%s", err, got)
	}
}

// TestBuildIsReproducible: the same module and -created give the same
// digests, so an image can be rebuilt and still match a pinned sha256.
func TestBuildIsReproducible(t *testing.T) {
	dir := t.TempDir()
	wasm := filepath.Join(dir, "m.wasm")
	os.WriteFile(wasm, module, 0o644)
	var outs []string
	for _, out := range []string{"a", "b"} {
		got, err := runCmd(t, "build", "-wasm", wasm, "-out", filepath.Join(dir, out), "-created", "42")
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, regexp.MustCompile(`manifest sha256:\w+`).FindAllString(got, -1)...)
	}
	if len(outs) != 4 || outs[0] != outs[2] || outs[1] != outs[3] {
		t.Errorf("digests of two builds: %q", outs)
	}
}

func TestCommandErrors(t *testing.T) {
	dir := t.TempDir()
	notWasm := filepath.Join(dir, "plugin.wasm")
	os.WriteFile(notWasm, []byte("#!/bin/sh\n"), 0o644)
	host := newRegistry(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "flag: help requested"},
		{"unknown command", []string{"publish"}, `unknown command "publish"`},
		{"build a non-wasm file", []string{"build", "-wasm", notWasm, "-out", dir}, "not a WebAssembly binary"},
		{"build a missing file", []string{"build", "-wasm", filepath.Join(dir, "nope.wasm")}, "no such file"},
		{"bad -created", []string{"build", "-wasm", notWasm, "-created", "yesterday"}, "want Unix seconds"},
		{"push without -ref", []string{"push", "-layout", dir}, "-ref HOST/REPO[:TAG] is required"},
		{"push to a digest", []string{"push", "-layout", dir, "-ref", host + "/r@sha256:" + strings.Repeat("0", 64)}, "has a digest"},
		{"push without layouts", []string{"push", "-layout", dir, "-ref", host + "/r:v1"}, "run build first"},
		{"push a tag too long for the suffix", []string{"push", "-layout", dir, "-ref", host + "/r:" + strings.Repeat("v", 125)}, "too long"},
		{"verify a missing image", []string{"verify", "-ref", host + "/r:missing"}, "would reject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runCmd(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run(%q) = %v; want an error containing %q\n%s", tt.args, err, tt.want, got)
			}
		})
	}
}
