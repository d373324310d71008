// Package oci packages the wasm-authn module as OCI images that the
// istio-agent (and any OCI-aware tool) can pull, and reads them back the way
// the istio-agent does.
//
// Two variants are built, both from the same module bytes:
//
//   - Compat: an ordinary OCI image with a single
//     application/vnd.oci.image.layer.v1.tar+gzip layer holding plugin.wasm,
//     annotated module.wasm.image/variant=compat (solo-io/wasm
//     spec-compat.md). This is the recommended variant: registries, mirrors
//     and scanners treat it as a normal image.
//   - Artifact: the "oci" variant of the solo-io Wasm Artifact Image
//     Specification. The config blob has media type
//     application/vnd.module.wasm.config.v1+json, and there are exactly two
//     layers, the runtime configuration and the raw module
//     (application/vnd.module.wasm.content.layer.v1+wasm). The istio-agent
//     accepts this variant only with exactly two layers.
//
// Images are reproducible: the same module and Options give the same
// manifest digest. That digest is what Istio's WasmPlugin.sha256 field is
// compared against for oci:// URLs (not the sha256 of plugin.wasm).
package oci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types and names from the solo-io Wasm image specifications, which
// the istio-agent implements (istio/istio pkg/wasm/imagefetcher.go).
const (
	// WasmContentLayerMediaType marks the layer that holds the raw module in
	// the artifact variant. Its blob is the module itself, uncompressed.
	WasmContentLayerMediaType types.MediaType = "application/vnd.module.wasm.content.layer.v1+wasm"
	// WasmConfigMediaType marks the runtime configuration JSON of the
	// artifact variant, used both as the manifest config and as its first
	// layer.
	WasmConfigMediaType types.MediaType = "application/vnd.module.wasm.config.v1+json"
	// PluginFileName is the file the istio-agent looks for (by basename) in
	// the last tar+gzip layer of a compat image.
	PluginFileName = "plugin.wasm"
	// RuntimeConfigFileName titles the runtime configuration layer.
	RuntimeConfigFileName = "runtime-config.json"
	// VariantAnnotation is the manifest annotation that spec-compat.md
	// requires on compat images with OCI layer media types.
	VariantAnnotation = "module.wasm.image/variant"
	// TitleAnnotation names a layer's file for tools such as oras.
	TitleAnnotation = "org.opencontainers.image.title"
)

// Options are the inputs of an image besides the module.
type Options struct {
	// Created is the creation time recorded in the image config and in
	// the tar header of plugin.wasm. The zero value means the Unix epoch,
	// so that builds are reproducible; pass SOURCE_DATE_EPOCH to record
	// the source's time instead.
	Created time.Time
	// RootIDs lists the root ids the module serves, written to the
	// runtime configuration (config.root_ids). Envoy's root_id and Istio's
	// pluginName should be one of them.
	RootIDs []string
	// Annotations are added to the manifest, e.g.
	// org.opencontainers.image.version or .source.
	Annotations map[string]string
}

func (o Options) created() time.Time {
	if o.Created.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return o.Created.UTC()
}

// RuntimeConfig is the runtime configuration of the Wasm Artifact Image
// Specification ("type", "abiVersions", "config"), as written to the
// artifact variant's config blob and first layer.
type RuntimeConfig struct {
	Type        string              `json:"type"`
	ABIVersions []string            `json:"abiVersions,omitempty"`
	Config      RuntimeConfigConfig `json:"config"`
}

// RuntimeConfigConfig is the Envoy-specific part of RuntimeConfig.
type RuntimeConfigConfig struct {
	RootIDs []string `json:"root_ids,omitempty"`
}

// NewRuntimeConfig describes module for an Envoy host: type envoy_proxy,
// the proxy-wasm ABI versions the module exports, and rootIDs.
func NewRuntimeConfig(module []byte, rootIDs []string) (RuntimeConfig, error) {
	abis, err := ABIVersions(module)
	if err != nil {
		return RuntimeConfig{}, err
	}
	return RuntimeConfig{
		Type:        "envoy_proxy",
		ABIVersions: abis,
		Config:      RuntimeConfigConfig{RootIDs: rootIDs},
	}, nil
}

// Compat builds the compat variant: an OCI image manifest whose only layer
// is a gzip'd tar holding plugin.wasm at its root.
func Compat(module []byte, opts Options) (v1.Image, error) {
	if err := CheckModule(module); err != nil {
		return nil, err
	}
	tarball, err := pluginTar(module, opts.created())
	if err != nil {
		return nil, err
	}
	layer, err := gzipBytes(tarball)
	if err != nil {
		return nil, err
	}
	diffID, _, err := v1.SHA256(bytes.NewReader(tarball))
	if err != nil {
		return nil, err
	}
	cfg := v1.ConfigFile{
		Architecture: "wasm",
		OS:           "wasip1",
		Created:      v1.Time{Time: opts.created()},
		RootFS:       v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{diffID}},
	}
	rawCfg, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	ann := maps.Clone(opts.Annotations)
	if ann == nil {
		ann = map[string]string{}
	}
	ann[VariantAnnotation] = "compat"
	return newImage(rawCfg, types.OCIConfigJSON, ann, blob{
		data: layer, mediaType: types.OCILayer,
	})
}

// Artifact builds the artifact ("oci") variant: config media type
// application/vnd.module.wasm.config.v1+json and exactly two layers, the
// runtime configuration and the raw module.
func Artifact(module []byte, opts Options) (v1.Image, error) {
	if err := CheckModule(module); err != nil {
		return nil, err
	}
	rc, err := NewRuntimeConfig(module, opts.RootIDs)
	if err != nil {
		return nil, err
	}
	rawCfg, err := json.Marshal(rc)
	if err != nil {
		return nil, err
	}
	return newImage(rawCfg, WasmConfigMediaType, maps.Clone(opts.Annotations),
		blob{data: rawCfg, mediaType: WasmConfigMediaType, title: RuntimeConfigFileName},
		blob{data: module, mediaType: WasmContentLayerMediaType, title: PluginFileName},
	)
}

// pluginTar returns an uncompressed tar with one regular file,
// plugin.wasm, owned by root, mode 0644, modified at mtime.
func pluginTar(module []byte, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     PluginFileName,
		Mode:     0o644,
		Size:     int64(len(module)),
		ModTime:  mtime,
		Format:   tar.FormatPAX,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(module); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// gzipBytes compresses b with an empty gzip header (no name, mtime 0), so
// the output depends on b alone.
func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type blob struct {
	data      []byte
	mediaType types.MediaType
	title     string
}

// image is a fully materialized OCI image: manifest, config and layers in
// memory. go-containerregistry's partial package derives v1.Image from it.
type image struct {
	manifest   []byte
	config     []byte
	configType types.MediaType
	layers     map[v1.Hash]memLayer
}

// memLayer is a layer blob held in memory. It implements
// partial.CompressedLayer only, so that go-containerregistry derives the
// diff id by decompressing the blob (a gzip'd tar) or, for a blob that is
// not compressed (the raw module), by hashing it as is.
type memLayer struct {
	data      []byte
	digest    v1.Hash
	mediaType types.MediaType
}

func (l memLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l memLayer) Size() (int64, error)                { return int64(len(l.data)), nil }
func (l memLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }
func (l memLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.data)), nil
}

func newImage(config []byte, configType types.MediaType, annotations map[string]string, layers ...blob) (v1.Image, error) {
	cfgDigest, cfgSize, err := v1.SHA256(bytes.NewReader(config))
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: configType, Size: cfgSize, Digest: cfgDigest},
		Annotations:   annotations,
	}
	img := &image{config: config, configType: configType, layers: make(map[v1.Hash]memLayer, len(layers))}
	for _, b := range layers {
		d, _, err := v1.SHA256(bytes.NewReader(b.data))
		if err != nil {
			return nil, err
		}
		if _, dup := img.layers[d]; dup {
			return nil, fmt.Errorf("duplicate layer %s", d)
		}
		img.layers[d] = memLayer{data: b.data, digest: d, mediaType: b.mediaType}
		desc := v1.Descriptor{MediaType: b.mediaType, Size: int64(len(b.data)), Digest: d}
		if b.title != "" {
			desc.Annotations = map[string]string{TitleAnnotation: b.title}
		}
		m.Layers = append(m.Layers, desc)
	}
	if img.manifest, err = json.Marshal(m); err != nil {
		return nil, err
	}
	return partial.CompressedToImage(img)
}

func (i *image) RawConfigFile() ([]byte, error)      { return i.config, nil }
func (i *image) RawManifest() ([]byte, error)        { return i.manifest, nil }
func (i *image) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// ConfigLayer lets registries and layouts store the config blob with its
// own media type.
func (i *image) ConfigLayer() (v1.Layer, error) { return static.NewLayer(i.config, i.configType), nil }

func (i *image) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := i.layers[h]; ok {
		return l, nil
	}
	cfg, _, err := v1.SHA256(bytes.NewReader(i.config))
	if err == nil && cfg == h {
		return static.NewLayer(i.config, i.configType), nil
	}
	return nil, fmt.Errorf("blob %s not found in image", h)
}

// readAllBounded reads r up to limit bytes and fails beyond that.
func readAllBounded(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errors.New("blob exceeds the size limit")
	}
	return b, nil
}
