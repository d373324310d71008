package oci_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/wasm-authn/wasm-authn/internal/oci"
)

// newRegistry starts an in-process OCI registry and returns its host:port.
func newRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(discardLogger())))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestPushPullBothVariants pushes the compat and artifact images of every
// test module to a registry, pulls them back and extracts the module with
// the istio-agent's rules: the bytes must be the input's, and the manifest
// digest the one computed locally (the value of WasmPlugin.sha256).
func TestPushPullBothVariants(t *testing.T) {
	host := newRegistry(t)
	ctx := context.Background()
	for modName, module := range testModules(t) {
		for _, v := range []struct {
			variant oci.Variant
			build   func([]byte, oci.Options) (v1.Image, error)
			tag     string
		}{
			{oci.VariantCompat, oci.Compat, "v1"},
			{oci.VariantArtifact, oci.Artifact, "v1-artifact"},
		} {
			t.Run(modName+"/"+v.variant.String(), func(t *testing.T) {
				img, err := v.build(module, oci.Options{RootIDs: []string{"wasm-authn"}})
				if err != nil {
					t.Fatal(err)
				}
				ref, err := name.ParseReference(host + "/" + sanitize(modName) + ":" + v.tag)
				if err != nil {
					t.Fatal(err)
				}
				pushed, err := oci.Push(ctx, ref, img)
				if err != nil {
					t.Fatalf("Push(%s) = %v", ref, err)
				}
				local, _ := img.Digest()
				if pushed != local {
					t.Errorf("Push digest = %s; local digest %s", pushed, local)
				}
				got, variant, digest, err := oci.Pull(ctx, ref)
				if err != nil {
					t.Fatalf("Pull(%s) = %v", ref, err)
				}
				if variant != v.variant {
					t.Errorf("Pull variant = %s; want %s", variant, v.variant)
				}
				if digest != local {
					t.Errorf("Pull digest = %s; want %s", digest, local)
				}
				if !bytes.Equal(got, module) {
					t.Errorf("pulled module differs: %d bytes, want %d", len(got), len(module))
				}
			})
		}
	}
}

// TestCompatManifest checks the compat image against spec-compat.md and
// the istio-agent's compat rule: an OCI manifest, the variant annotation,
// one tar+gzip layer holding plugin.wasm at the root as a regular file.
func TestCompatManifest(t *testing.T) {
	module := moduleWithExports("proxy_abi_version_0_2_1")
	img, err := oci.Compat(module, oci.Options{Annotations: map[string]string{"org.opencontainers.image.version": "v1.2.3"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("manifest/config media types = %s, %s; want OCI manifest and config", m.MediaType, m.Config.MediaType)
	}
	if got := m.Annotations[oci.VariantAnnotation]; got != "compat" {
		t.Errorf("annotation %s = %q; want compat", oci.VariantAnnotation, got)
	}
	if got := m.Annotations["org.opencontainers.image.version"]; got != "v1.2.3" {
		t.Errorf("version annotation = %q; want v1.2.3", got)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != types.OCILayer {
		t.Fatalf("layers = %+v; want one %s", m.Layers, types.OCILayer)
	}
	layers, _ := img.Layers()
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	h, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	if h.Name != oci.PluginFileName || h.Typeflag != tar.TypeReg || h.Mode != 0o644 {
		t.Errorf("tar entry = %q type %c mode %o; want plugin.wasm, regular, 0644", h.Name, h.Typeflag, h.Mode)
	}
	content, _ := io.ReadAll(tr)
	if !bytes.Equal(content, module) {
		t.Errorf("plugin.wasm differs from the module")
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Errorf("second tar entry: err = %v; want io.EOF", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	diffID, _ := layers[0].DiffID()
	if len(cfg.RootFS.DiffIDs) != 1 || cfg.RootFS.DiffIDs[0] != diffID {
		t.Errorf("config diff_ids = %v; want [%s]", cfg.RootFS.DiffIDs, diffID)
	}
	if cfg.OS != "wasip1" || cfg.Architecture != "wasm" {
		t.Errorf("config platform = %s/%s; want wasip1/wasm", cfg.OS, cfg.Architecture)
	}
}

// TestArtifactManifest checks the artifact image against the Wasm Artifact
// Image Specification: wasm config media type, exactly two layers, the
// content layer holding the raw module, the runtime config describing it.
func TestArtifactManifest(t *testing.T) {
	module := moduleWithExports("proxy_abi_version_0_2_1")
	img, err := oci.Artifact(module, oci.Options{RootIDs: []string{"wasm-authn"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.MediaType != oci.WasmConfigMediaType {
		t.Errorf("config media type = %s; want %s", m.Config.MediaType, oci.WasmConfigMediaType)
	}
	if len(m.Layers) != 2 {
		t.Fatalf("%d layers; want 2", len(m.Layers))
	}
	if m.Layers[0].MediaType != oci.WasmConfigMediaType || m.Layers[1].MediaType != oci.WasmContentLayerMediaType {
		t.Errorf("layer media types = %s, %s; want config then content", m.Layers[0].MediaType, m.Layers[1].MediaType)
	}
	if got := m.Layers[1].Annotations[oci.TitleAnnotation]; got != oci.PluginFileName {
		t.Errorf("content layer title = %q; want %q", got, oci.PluginFileName)
	}
	layers, _ := img.Layers()
	rc, _ := layers[1].Compressed()
	raw, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(raw, module) {
		t.Errorf("content layer blob is not the raw module")
	}
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	var rtc oci.RuntimeConfig
	dec := json.NewDecoder(bytes.NewReader(rawCfg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rtc); err != nil {
		t.Fatalf("runtime config %s: %v", rawCfg, err)
	}
	if rtc.Type != "envoy_proxy" || len(rtc.ABIVersions) != 1 || rtc.ABIVersions[0] != "0.2.1" ||
		len(rtc.Config.RootIDs) != 1 || rtc.Config.RootIDs[0] != "wasm-authn" {
		t.Errorf("runtime config = %s", rawCfg)
	}
	if cfgDigest, _ := img.ConfigName(); cfgDigest != m.Config.Digest {
		t.Errorf("config blob digest %s; manifest says %s", cfgDigest, m.Config.Digest)
	}
}

// TestReproducible shows that the same module and options give the same
// manifest digests, so a digest can be pinned in a WasmPlugin before the
// image is rebuilt elsewhere, and that the creation time is an input.
func TestReproducible(t *testing.T) {
	module := moduleWithExports("proxy_abi_version_0_2_1")
	for _, build := range []func([]byte, oci.Options) (v1.Image, error){oci.Compat, oci.Artifact} {
		a, _ := build(module, oci.Options{RootIDs: []string{"r"}})
		b, _ := build(slicesClone(module), oci.Options{RootIDs: []string{"r"}})
		da, _ := a.Digest()
		db, _ := b.Digest()
		if da != db {
			t.Errorf("two builds differ: %s vs %s", da, db)
		}
	}
	a, _ := oci.Compat(module, oci.Options{})
	b, _ := oci.Compat(module, oci.Options{Created: time.Unix(1700000000, 0)})
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da == db {
		t.Errorf("Created did not change the compat digest")
	}
}

// TestLayoutRoundTrip writes both variants as OCI image layouts, as
// `make image` does, and reads them back unchanged; writing again replaces
// the layout instead of appending a second manifest.
func TestLayoutRoundTrip(t *testing.T) {
	module := moduleWithExports("proxy_abi_version_0_2_1")
	dir := t.TempDir()
	for _, tc := range []struct {
		sub   string
		build func([]byte, oci.Options) (v1.Image, error)
		want  oci.Variant
	}{{"compat", oci.Compat, oci.VariantCompat}, {"artifact", oci.Artifact, oci.VariantArtifact}} {
		t.Run(tc.sub, func(t *testing.T) {
			img, err := tc.build(module, oci.Options{})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "oci", tc.sub)
			for range 2 {
				if err := oci.WriteLayout(path, img); err != nil {
					t.Fatalf("WriteLayout: %v", err)
				}
			}
			for _, f := range []string{"oci-layout", "index.json"} {
				if _, err := os.Stat(filepath.Join(path, f)); err != nil {
					t.Errorf("layout file %s: %v", f, err)
				}
			}
			back, err := oci.ReadLayout(path)
			if err != nil {
				t.Fatalf("ReadLayout: %v", err)
			}
			want, _ := img.Digest()
			if got, _ := back.Digest(); got != want {
				t.Errorf("layout digest = %s; want %s", got, want)
			}
			got, v, err := oci.Extract(back)
			if err != nil || v != tc.want || !bytes.Equal(got, module) {
				t.Errorf("Extract(layout) = %d bytes, %s, %v; want the module, %s", len(got), v, err, tc.want)
			}
		})
	}
}

// TestExtractRules runs the istio-agent's extraction rules on images built
// by other means: which layouts are accepted, which file or layer is taken,
// and which are rejected (a single-layer artifact above all).
func TestExtractRules(t *testing.T) {
	module := moduleWithExports("proxy_abi_version_0_2_1")
	other := moduleWithExports("proxy_abi_version_0_1_0")
	cfgLayer := static.NewLayer([]byte(`{"type":"envoy_proxy"}`), oci.WasmConfigMediaType)
	wasmLayer := func(b []byte) v1.Layer { return static.NewLayer(b, oci.WasmContentLayerMediaType) }
	tgz := func(mt types.MediaType, entries ...tarEntry) v1.Layer {
		return static.NewLayer(tarGzip(t, entries...), mt)
	}

	tests := []struct {
		name        string
		img         v1.Image
		want        []byte
		wantVariant oci.Variant
		wantErr     string
	}{
		{
			name:        "docker manifest, plugin.wasm in a directory",
			img:         docker(t, tgz(types.DockerLayer, tarEntry{"etc/readme", []byte("x")}, tarEntry{"opt/plugin.wasm", module})),
			want:        module,
			wantVariant: oci.VariantDocker,
		},
		{
			name:        "docker manifest, only the last layer counts",
			img:         docker(t, tgz(types.DockerLayer, tarEntry{"plugin.wasm", other}), tgz(types.DockerLayer, tarEntry{"plugin.wasm", module})),
			want:        module,
			wantVariant: oci.VariantDocker,
		},
		{
			name:    "docker manifest with an OCI layer is not retried as compat",
			img:     docker(t, tgz(types.OCILayer, tarEntry{"plugin.wasm", module})),
			wantErr: "want application/vnd.docker.image.rootfs.diff.tar.gzip",
		},
		{
			name:        "compat, first plugin.wasm wins",
			img:         ociImage(t, tgz(types.OCILayer, tarEntry{"a/plugin.wasm", module}, tarEntry{"plugin.wasm", other})),
			want:        module,
			wantVariant: oci.VariantCompat,
		},
		{
			name:    "compat without plugin.wasm",
			img:     ociImage(t, tgz(types.OCILayer, tarEntry{"filter.wasm", module})),
			wantErr: "plugin.wasm not found",
		},
		{
			name:    "compat layer that is not gzip",
			img:     ociImage(t, static.NewLayer(module, types.OCILayer)),
			wantErr: "not gzip",
		},
		{
			name:    "compat with a non-wasm plugin.wasm",
			img:     ociImage(t, tgz(types.OCILayer, tarEntry{"plugin.wasm", []byte("#!/bin/sh\n")})),
			wantErr: "not a WebAssembly binary",
		},
		{
			name:        "artifact, content layer first",
			img:         ociImage(t, wasmLayer(module), cfgLayer),
			want:        module,
			wantVariant: oci.VariantArtifact,
		},
		{
			name:    "single-layer artifact is rejected",
			img:     ociImage(t, wasmLayer(module)),
			wantErr: "number of layers must be 2 but got 1",
		},
		{
			name:    "three-layer artifact is rejected",
			img:     ociImage(t, cfgLayer, wasmLayer(module), static.NewLayer([]byte("{}"), "application/json")),
			wantErr: "number of layers must be 2 but got 3",
		},
		{
			name:    "two layers without a content layer",
			img:     ociImage(t, cfgLayer, static.NewLayer(module, "application/octet-stream")),
			wantErr: "no layer of media type",
		},
		{
			name:    "artifact whose module has the wrong version",
			img:     ociImage(t, cfgLayer, wasmLayer([]byte("\x00asm\x02\x00\x00\x00"))),
			wantErr: "not a WebAssembly binary",
		},
		{
			name:    "artifact whose content layer is gzip'd is not decompressed",
			img:     ociImage(t, cfgLayer, wasmLayer(gzipOf(t, module))),
			wantErr: "not a WebAssembly binary",
		},
		{
			name:    "no layers",
			img:     ociImage(t),
			wantErr: "image has no layers",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, v, err := oci.Extract(tt.img)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Extract() error = %v; want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Extract() = %v", err)
			}
			if v != tt.wantVariant || !bytes.Equal(got, tt.want) {
				t.Errorf("Extract() = %d bytes, %s; want %d bytes, %s", len(got), v, len(tt.want), tt.wantVariant)
			}
		})
	}
}

// TestBuildRejectsNonWasm keeps a wrong file (a gzip'd module, a shell
// script) from being packaged at all.
func TestBuildRejectsNonWasm(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("#!/bin/sh\n"), gzipOf(t, emptyModule)} {
		if _, err := oci.Compat(in, oci.Options{}); err == nil {
			t.Errorf("Compat(%q) succeeded", in)
		}
		if _, err := oci.Artifact(in, oci.Options{}); err == nil {
			t.Errorf("Artifact(%q) succeeded", in)
		}
	}
}

func FuzzExtractCompatLayer(f *testing.F) {
	f.Add(tarGzip(f, tarEntry{"plugin.wasm", emptyModule}))
	f.Add(tarGzip(f, tarEntry{"x", nil}, tarEntry{"d/plugin.wasm", []byte("\x00asm")}))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, layer []byte) {
		img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), static.NewLayer(layer, types.OCILayer))
		if err != nil {
			t.Skip()
		}
		got, _, err := oci.Extract(img)
		if err == nil && oci.CheckModule(got) != nil {
			t.Fatalf("Extract returned a module that fails CheckModule")
		}
	})
}

type tarEntry struct {
	name string
	data []byte
}

func tarGzip(tb testing.TB, entries ...tarEntry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg}); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func gzipOf(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// docker returns an image with a Docker schema 2 manifest (go-containerregistry's
// empty.Image default) and the given layers.
func docker(t *testing.T, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := img.Manifest(); m.MediaType != types.DockerManifestSchema2 {
		t.Fatalf("docker image has media type %s", m.MediaType)
	}
	return img
}

// ociImage returns an image with an OCI manifest and the given layers.
func ociImage(t *testing.T, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func sanitize(s string) string {
	return strings.NewReplacer("/", "-", ".", "-", "_", "-").Replace(strings.ToLower(s))
}

func slicesClone(b []byte) []byte { return append([]byte(nil), b...) }

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }
