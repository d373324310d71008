package oci

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Variant names an image layout the istio-agent can extract a module from.
type Variant int

// The variants, in the order the istio-agent tries them.
const (
	// VariantDocker is a Docker schema 2 manifest whose last layer is
	// application/vnd.docker.image.rootfs.diff.tar.gzip holding plugin.wasm
	// (what `docker build` with the repository's Dockerfile produces).
	VariantDocker Variant = iota + 1
	// VariantCompat is an OCI manifest whose last layer is
	// application/vnd.oci.image.layer.v1.tar+gzip holding plugin.wasm.
	VariantCompat
	// VariantArtifact is an OCI manifest with exactly two layers, one of
	// them application/vnd.module.wasm.content.layer.v1+wasm.
	VariantArtifact
)

func (v Variant) String() string {
	switch v {
	case VariantDocker:
		return "docker"
	case VariantCompat:
		return "compat"
	case VariantArtifact:
		return "artifact"
	}
	return fmt.Sprintf("Variant(%d)", int(v))
}

// Extract returns the module inside img following the istio-agent's rules
// (istio/istio pkg/wasm/imagefetcher.go, PrepareFetch and the extract*
// functions), so that an image this accepts is one the agent accepts:
//
//  1. A Docker schema 2 manifest: the last layer must be a Docker
//     tar.gzip layer; the first tar entry whose basename is plugin.wasm is
//     the module. No other variant is tried.
//  2. Otherwise, if the last layer is an OCI tar+gzip layer, the same
//     plugin.wasm rule applies (compat variant).
//  3. Otherwise the image must have exactly two layers, one of them the
//     Wasm content layer, whose blob is the raw module (artifact variant).
//     The blob is read as stored, never decompressed, as the agent does.
//
// The extracted bytes must then pass CheckModule. That is stricter than the
// agent, which checks the 4-byte magic only.
func Extract(img v1.Image) ([]byte, Variant, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, 0, fmt.Errorf("read manifest: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, 0, fmt.Errorf("read layers: %w", err)
	}
	var (
		module  []byte
		variant Variant
	)
	if m.MediaType == types.DockerManifestSchema2 {
		variant = VariantDocker
		module, err = extractTarGzipLayer(layers, types.DockerLayer)
	} else {
		var errCompat, errArtifact error
		if module, errCompat = extractTarGzipLayer(layers, types.OCILayer); errCompat == nil {
			variant = VariantCompat
		} else if module, errArtifact = extractArtifact(layers); errArtifact == nil {
			variant = VariantArtifact
		} else {
			err = fmt.Errorf("not a Wasm image: as compat: %w; as artifact: %w", errCompat, errArtifact)
		}
	}
	if err != nil {
		return nil, 0, err
	}
	if err := CheckModule(module); err != nil {
		return nil, 0, fmt.Errorf("%s image: %w", variant, err)
	}
	return module, variant, nil
}

func extractTarGzipLayer(layers []v1.Layer, want types.MediaType) ([]byte, error) {
	if len(layers) == 0 {
		return nil, errors.New("image has no layers")
	}
	last := layers[len(layers)-1]
	mt, err := last.MediaType()
	if err != nil {
		return nil, err
	}
	if mt != want {
		return nil, fmt.Errorf("last layer has media type %s, want %s", mt, want)
	}
	rc, err := last.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return pluginFromTarGzip(rc)
}

// pluginFromTarGzip returns the content of the first entry whose basename
// is plugin.wasm, in any directory.
func pluginFromTarGzip(r io.Reader) ([]byte, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("layer is not gzip: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s not found in the layer", PluginFileName)
		}
		if err != nil {
			return nil, fmt.Errorf("layer is not a tar: %w", err)
		}
		if path.Base(h.Name) != PluginFileName {
			continue
		}
		if h.Size > MaxModuleSize {
			return nil, fmt.Errorf("%s is %d bytes, more than the %d-byte limit", h.Name, h.Size, MaxModuleSize)
		}
		b := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, b); err != nil {
			return nil, fmt.Errorf("read %s: %w", h.Name, err)
		}
		return b, nil
	}
}

func extractArtifact(layers []v1.Layer) ([]byte, error) {
	if len(layers) != 2 {
		return nil, fmt.Errorf("number of layers must be 2 but got %d", len(layers))
	}
	for _, l := range layers {
		mt, err := l.MediaType()
		if err != nil {
			return nil, err
		}
		if mt != WasmContentLayerMediaType {
			continue
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return readAllBounded(rc, MaxModuleSize)
	}
	return nil, fmt.Errorf("no layer of media type %s", WasmContentLayerMediaType)
}
