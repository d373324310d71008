package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"rules":[{"name":"a","require":{"provider":"x"}}],"typo":1}`), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"validate", "../../testdata/configs/example.json"}, &out, &errb); code != 0 {
		t.Fatalf("example.json: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "example.json: ok") {
		t.Errorf("stdout = %q", out.String())
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"validate", bad}, &out, &errb); code != 1 {
		t.Fatalf("bad.json: exit %d; want 1", code)
	}
	for _, want := range []string{"bad.json: $.rules[0].require.provider: names no provider", "bad.json: $.typo: unknown field"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr %q lacks %q", errb.String(), want)
		}
	}
	if code := run([]string{"validate"}, &out, &errb); code != 2 {
		t.Errorf("no files: exit %d; want 2", code)
	}
	if code := run([]string{"nope"}, &out, &errb); code != 2 {
		t.Errorf("unknown command: exit %d; want 2", code)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"rules":[]}`), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"run", "-module", "does-not-exist.wasm", "-config", bad}, &out, &errb); code != 1 {
		t.Fatalf("exit %d; want 1", code)
	}
	if !strings.Contains(errb.String(), "make build") {
		t.Errorf("stderr %q", errb.String())
	}
}
