package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wasm-authn/wasm-authn/internal/config"
)

// validate checks each file and prints every problem with its JSON path,
// the same lines the plugin logs at critical. Exit status 1 if any file is
// invalid.
func validate(files []string, stdout, stderr io.Writer) int {
	if len(files) == 0 {
		fmt.Fprintln(stderr, "usage: wasm-authn validate FILE...")
		return 2
	}
	status := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", f, err)
			status = 1
			continue
		}
		warnings, err := config.Validate(data)
		for _, w := range warnings {
			fmt.Fprintf(stderr, "%s: warning: %s\n", f, w)
		}
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				fmt.Fprintf(stderr, "%s: %s\n", f, line)
			}
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", f)
	}
	return status
}
