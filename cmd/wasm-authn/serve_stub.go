package main

import (
	"fmt"
	"io"
)

func serve(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "wasm-authn run: not available in this build")
	return 2
}
