// Command wasm-authn is the native companion of the wasm-authn plugin.
//
//	wasm-authn validate FILE...   check configurations exactly as the plugin does
//	wasm-authn run [flags]         run the plugin in a local gateway (see -h)
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "validate":
		return validate(args[1:], stdout, stderr)
	case "run":
		return serve(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "wasm-authn: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  wasm-authn validate FILE...   check plugin configurations (JSON) exactly as the plugin does
  wasm-authn run [flags]        run the plugin in a local gateway in front of an upstream
`)
}
