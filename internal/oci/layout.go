package oci

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// WriteLayout writes img as the only image of a fresh OCI image layout in
// dir (oci-layout, index.json, blobs/sha256/...), replacing whatever dir
// held. The layout is assembled next to dir and renamed into place, so a
// failed write leaves the previous layout intact.
func WriteLayout(dir string, img v1.Image) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	p, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// ReadLayout returns the single image of the OCI image layout in dir.
func ReadLayout(dir string) (v1.Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(im.Manifests) != 1 {
		return nil, fmt.Errorf("%s: layout holds %d manifests, want exactly 1", dir, len(im.Manifests))
	}
	return idx.Image(im.Manifests[0].Digest)
}

// Push uploads img to ref and returns the manifest digest the registry
// now serves for it. For an oci:// WasmPlugin url, Istio compares its
// sha256 field with this digest's hex (no "sha256:" prefix).
func Push(ctx context.Context, ref name.Reference, img v1.Image, opts ...remote.Option) (v1.Hash, error) {
	want, err := img.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	if err := remote.Write(ref, img, opts...); err != nil {
		return v1.Hash{}, err
	}
	desc, err := remote.Head(ref, opts...)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("read back %s: %w", ref, err)
	}
	if desc.Digest != want {
		return v1.Hash{}, fmt.Errorf("registry serves %s as %s, pushed %s", ref, desc.Digest, want)
	}
	return want, nil
}

// Pull fetches the image at ref and extracts the module the way the
// istio-agent does (see Extract).
func Pull(ctx context.Context, ref name.Reference, opts ...remote.Option) (module []byte, v Variant, digest v1.Hash, err error) {
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	img, err := remote.Image(ref, opts...)
	if err != nil {
		return nil, 0, v1.Hash{}, err
	}
	if digest, err = img.Digest(); err != nil {
		return nil, 0, v1.Hash{}, err
	}
	module, v, err = Extract(img)
	return module, v, digest, err
}
