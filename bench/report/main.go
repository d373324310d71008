// Command report turns `go test -bench` output for package bench into a
// Markdown table: each request benchmark with its median time over the
// run's repetitions and its ratio to the pass-through floor measured in the
// same run.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns/op(.*)$`)

type result struct {
	name  string
	ns    float64
	extra string
}

func main() {
	// With -count N a benchmark appears N times: keep its median, which
	// a noisy neighbour moves least.
	var rs []result
	samples := map[string][]result{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ns, _ := strconv.ParseFloat(m[3], 64)
		r := result{name: strings.TrimPrefix(m[1], "Benchmark"), ns: ns, extra: strings.TrimSpace(m[4])}
		if _, seen := samples[r.name]; !seen {
			rs = append(rs, r)
		}
		samples[r.name] = append(samples[r.name], r)
	}
	for i, r := range rs {
		s := samples[r.name]
		sort.Slice(s, func(a, b int) bool { return s[a].ns < s[b].ns })
		rs[i] = s[len(s)/2]
	}
	byName := map[string]float64{}
	for _, r := range rs {
		byName[r.name] = r.ns
	}
	floor := byName["Request/floor"]
	apiKey := byName["Request/api_key"]
	fmt.Println("| benchmark | time/op | × floor | comparison | allocations (host side) |")
	fmt.Println("| --- | ---: | ---: | --- | --- |")
	for _, r := range rs {
		ratio, cmp := "", ""
		if floor > 0 && strings.Contains(r.name, "Request/") {
			ratio = fmt.Sprintf("%.2f", r.ns/floor)
		}
		// JWT rows: cached against the API-key request, uncached in Wasm
		// against the bare primitive in the same runtime.
		if _, ok := jwtAlg(r.name, "_cached"); ok && apiKey > 0 {
			cmp = fmt.Sprintf("%.2f× api_key", r.ns/apiKey)
		}
		// The target is 1.15× the primitive + 20 µs, read two ways: the
		// whole request, and the request less the pass-through floor.
		if alg, ok := jwtAlg(r.name, "_uncached_wasm"); ok {
			for _, prim := range []string{alg, alg + "_keyed"} {
				p := byName["Primitive/"+prim]
				if p <= 0 {
					continue
				}
				target := 1.15*p + 20e3
				if cmp != "" {
					cmp += "; "
				}
				cmp += fmt.Sprintf("%.2f× %s (+%s), target %s: whole request %s, less floor %s",
					r.ns/p, prim, human(r.ns-p), human(target), verdict(r.ns, target), verdict(r.ns-floor, target))
			}
		}
		fmt.Printf("| %s | %s | %s | %s | %s |\n", r.name, human(r.ns), ratio, cmp, r.extra)
	}
}

// jwtAlg returns ALG for a name ".../jwt_ALG<suffix>".
func jwtAlg(name, suffix string) (string, bool) {
	i := strings.Index(name, "jwt_")
	if i < 0 || !strings.HasSuffix(name, suffix) {
		return "", false
	}
	return strings.TrimSuffix(name[i+4:], suffix), true
}

func verdict(ns, target float64) string {
	if ns <= target {
		return "meets"
	}
	return "misses"
}

func human(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}
