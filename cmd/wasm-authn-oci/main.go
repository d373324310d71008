// Command wasm-authn-oci packages wasm-authn as OCI images and publishes
// them, without a Docker engine.
//
//	wasm-authn-oci build  -wasm build/wasm-authn.wasm -out dist/oci [-root-id wasm-authn] [-version v1.2.3]
//	wasm-authn-oci push   -layout dist/oci -ref registry.example.com/team/wasm-authn[:tag] [-default-tag v1.2.3]
//	wasm-authn-oci verify -ref registry.example.com/team/wasm-authn:tag [-wasm build/wasm-authn.wasm]
//
// build writes two OCI image layouts, dist/oci/compat (one tar+gzip layer
// holding plugin.wasm, the recommended variant) and dist/oci/artifact (the
// two-layer Wasm artifact variant). push uploads them as <tag> and
// <tag>-artifact and prints their manifest digests: for an oci:// url,
// Istio's WasmPlugin.sha256 is compared with the manifest digest of the
// pulled image, not with the sha256 of plugin.wasm. verify pulls an image
// and extracts the module with the istio-agent's rules.
//
// Registry credentials come from the Docker config (~/.docker/config.json,
// DOCKER_CONFIG) and its credential helpers, as for docker and crane.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/wasm-authn/wasm-authn/internal/oci"
)

// Layout directory names under -out / -layout.
const (
	compatDir   = "compat"
	artifactDir = "artifact"
	// artifactTagSuffix is appended to the tag of the artifact variant.
	artifactTagSuffix = "-artifact"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasm-authn-oci:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  wasm-authn-oci build  -wasm FILE -out DIR [-root-id ID] [-version V] [-source URL] [-revision REV] [-created UNIX]
  wasm-authn-oci push   -layout DIR -ref HOST/REPO[:TAG] [-default-tag TAG] [-insecure]
  wasm-authn-oci verify -ref HOST/REPO[:TAG|@DIGEST] [-wasm FILE] [-insecure]
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "build":
		return build(args[1:], stdout, stderr)
	case "push":
		return push(ctx, args[1:], stdout, stderr)
	case "verify":
		return verify(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func build(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("build", stderr)
	wasmPath := fs.String("wasm", "build/wasm-authn.wasm", "the module to package")
	out := fs.String("out", "dist/oci", "directory for the compat/ and artifact/ OCI image layouts")
	rootID := fs.String("root-id", "wasm-authn", "root id recorded in the runtime config (Envoy root_id, Istio pluginName)")
	version := fs.String("version", "", "org.opencontainers.image.version annotation")
	source := fs.String("source", "", "org.opencontainers.image.source annotation")
	revision := fs.String("revision", "", "org.opencontainers.image.revision annotation")
	created := fs.String("created", "0", "creation time, Unix seconds (SOURCE_DATE_EPOCH); 0 is the epoch, for reproducible digests")
	if err := fs.Parse(args); err != nil {
		return err
	}
	module, err := os.ReadFile(*wasmPath)
	if err != nil {
		return err
	}
	secs, err := strconv.ParseInt(*created, 10, 64)
	if err != nil {
		return fmt.Errorf("-created %q: want Unix seconds", *created)
	}
	opts := oci.Options{Created: time.Unix(secs, 0), Annotations: map[string]string{}}
	if *rootID != "" {
		opts.RootIDs = []string{*rootID}
	}
	for k, v := range map[string]string{
		"org.opencontainers.image.title":    "wasm-authn",
		"org.opencontainers.image.version":  *version,
		"org.opencontainers.image.source":   *source,
		"org.opencontainers.image.revision": *revision,
	} {
		if v != "" {
			opts.Annotations[k] = v
		}
	}
	sum := sha256.Sum256(module)
	fmt.Fprintf(stdout, "module  %s  %d bytes  sha256:%s\n", *wasmPath, len(module), hex.EncodeToString(sum[:]))
	for _, v := range []struct {
		dir   string
		build func([]byte, oci.Options) (v1.Image, error)
	}{{compatDir, oci.Compat}, {artifactDir, oci.Artifact}} {
		img, err := v.build(module, opts)
		if err != nil {
			return fmt.Errorf("%s image: %w", v.dir, err)
		}
		dir := filepath.Join(*out, v.dir)
		if err := oci.WriteLayout(dir, img); err != nil {
			return fmt.Errorf("write %s: %w", dir, err)
		}
		d, err := img.Digest()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-8s %s  manifest %s\n", v.dir, dir, d)
	}
	return nil
}

func remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithUserAgent("wasm-authn-oci"),
	}
}

func nameOptions(insecure bool) []name.Option {
	if insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

func push(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("push", stderr)
	layoutDir := fs.String("layout", "dist/oci", "directory holding the compat/ and artifact/ layouts written by build")
	refFlag := fs.String("ref", "", "destination HOST/REPO[:TAG]; the artifact variant goes to TAG"+artifactTagSuffix)
	defaultTag := fs.String("default-tag", "", "tag to use when -ref has none")
	insecure := fs.Bool("insecure", false, "allow a plain-HTTP registry (localhost is always allowed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *refFlag == "" {
		return errors.New("push: -ref HOST/REPO[:TAG] is required")
	}
	if strings.Contains(*refFlag, "@") {
		return fmt.Errorf("push: -ref %q has a digest; give a tag (the digest is printed after the push)", *refFlag)
	}
	nopts := nameOptions(*insecure)
	if *defaultTag != "" {
		nopts = append(nopts, name.WithDefaultTag(*defaultTag))
	}
	tag, err := name.NewTag(*refFlag, nopts...)
	if err != nil {
		return fmt.Errorf("push: -ref %q: %w", *refFlag, err)
	}
	artifactTag := tag.Context().Tag(tag.TagStr() + artifactTagSuffix)
	if _, err := name.NewTag(artifactTag.String(), nameOptions(*insecure)...); err != nil {
		return fmt.Errorf("push: tag %q is too long for the %s suffix: %w", tag.TagStr(), artifactTagSuffix, err)
	}

	ropts := remoteOptions(ctx)
	var compatDigest v1.Hash
	for _, v := range []struct {
		dir string
		ref name.Tag
	}{{compatDir, tag}, {artifactDir, artifactTag}} {
		img, err := oci.ReadLayout(filepath.Join(*layoutDir, v.dir))
		if err != nil {
			return fmt.Errorf("push: %w (run build first)", err)
		}
		// Refuse to publish what the istio-agent could not extract.
		if _, _, err := oci.Extract(img); err != nil {
			return fmt.Errorf("push: %s layout: %w", v.dir, err)
		}
		d, err := oci.Push(ctx, v.ref, img, ropts...)
		if err != nil {
			return fmt.Errorf("push %s: %w", v.ref.Name(), err)
		}
		if v.dir == compatDir {
			compatDigest = d
		}
		fmt.Fprintf(stdout, "pushed %s (%s)\n  manifest digest %s\n", v.ref.Name(), v.dir, d)
	}
	fmt.Fprintf(stdout, `
WasmPlugin: for oci:// urls Istio checks sha256 against the manifest digest
of the image it pulls (not the sha256 of plugin.wasm), as hex without "sha256:":
  url: oci://%s
  sha256: %s
or pin the digest in the url itself:
  url: oci://%s
`, tag.Name(), compatDigest.Hex, tag.Context().Digest(compatDigest.String()).Name())
	if tag.TagStr() == "latest" {
		fmt.Fprintln(stderr, "note: the istio-agent pulls a :latest tag on every WasmPlugin change (pull policy Always); prefer a version tag")
	}
	return nil
}

func verify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	refFlag := fs.String("ref", "", "image to pull: HOST/REPO:TAG or HOST/REPO@sha256:...")
	wasmPath := fs.String("wasm", "", "if set, the pulled module must equal this file")
	insecure := fs.Bool("insecure", false, "allow a plain-HTTP registry (localhost is always allowed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *refFlag == "" {
		return errors.New("verify: -ref is required")
	}
	ref, err := name.ParseReference(strings.TrimPrefix(*refFlag, "oci://"), nameOptions(*insecure)...)
	if err != nil {
		return fmt.Errorf("verify: -ref %q: %w", *refFlag, err)
	}
	module, variant, digest, err := oci.Pull(ctx, ref, remoteOptions(ctx)...)
	if err != nil {
		return fmt.Errorf("verify %s: the istio-agent would reject this image: %w", ref, err)
	}
	abis, _ := oci.ABIVersions(module)
	if len(abis) == 0 {
		abis = []string{"none exported"}
	}
	sum := sha256.Sum256(module)
	fmt.Fprintf(stdout, "%s\n  variant         %s\n  manifest digest %s\n  module          %d bytes, sha256:%s, proxy-wasm ABI %s\n",
		ref, variant, digest, len(module), hex.EncodeToString(sum[:]), strings.Join(abis, ", "))
	if *wasmPath == "" {
		return nil
	}
	want, err := os.ReadFile(*wasmPath)
	if err != nil {
		return err
	}
	if string(want) != string(module) {
		return fmt.Errorf("verify: the module in %s differs from %s", ref, *wasmPath)
	}
	fmt.Fprintf(stdout, "  matches         %s\n", *wasmPath)
	return nil
}
