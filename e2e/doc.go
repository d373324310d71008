// Package e2e runs end-to-end scenarios with real HTTP from a client: against
// the local gateway (always), and against the bundled Envoy compose stack
// (`make e2e-envoy`, where a Docker engine exists).
package e2e
