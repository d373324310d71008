// Package bench holds the benchmarks of the real wasm-authn module running
// in the Envoy-faithful host: `make bench` runs them and prints a table with
// each request's ratio to the pass-through floor measured in the same run.
package bench
