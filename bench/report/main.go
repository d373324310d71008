// Command report turns `go test -bench` output for package bench into a
// Markdown table: each request benchmark with its median time over the
// run's repetitions and its ratio to the pass-through floor measured in the
// same run.
//
// Interleaved benchmarks (BenchmarkJWT) report a time per step as
// <step>-ns/op metrics: the request itself (req), and what it is compared
// with, measured in the same loop (primitive, keyed-primitive, floor,
// api_key). For those, every ratio and difference is computed within one
// repetition, and the table shows its median over the repetitions.
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

var (
	line   = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns/op(.*)$`)
	metric = regexp.MustCompile(`([\d.]+(?:e[+-]?\d+)?) (\S+)`)
)

// sample is one repetition of one benchmark.
type sample struct {
	ns      float64
	metrics map[string]float64
	extra   string // the standard memory columns
}

func main() {
	var names []string
	samples := map[string][]sample{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		name := strings.TrimPrefix(m[1], "Benchmark")
		s := sample{metrics: map[string]float64{}}
		s.ns, _ = strconv.ParseFloat(m[3], 64)
		var extra []string
		for _, mm := range metric.FindAllStringSubmatch(m[4], -1) {
			v, _ := strconv.ParseFloat(mm[1], 64)
			s.metrics[mm[2]] = v
			if mm[2] == "B/op" || mm[2] == "allocs/op" {
				extra = append(extra, mm[1]+" "+mm[2])
			}
		}
		s.extra = strings.Join(extra, ", ")
		if _, seen := samples[name]; !seen {
			names = append(names, name)
		}
		samples[name] = append(samples[name], s)
	}
	// The time of a benchmark: its req step if it has one.
	timeOf := func(s sample) float64 {
		if v, ok := s.metrics["req-ns/op"]; ok {
			return v
		}
		return s.ns
	}
	medianOf := func(name string, f func(s sample) float64) float64 {
		var v []float64
		for _, s := range samples[name] {
			v = append(v, f(s))
		}
		return median(v)
	}
	floor := medianOf("Request/floor", timeOf)
	fmt.Println("| benchmark | time/op | × floor | comparison | allocations (host side) |")
	fmt.Println("| --- | ---: | ---: | --- | --- |")
	for _, name := range names {
		t := medianOf(name, timeOf)
		ratio, cmp := "", ""
		if strings.Contains(name, "Request/") {
			if _, ok := samples[name][0].metrics["floor-ns/op"]; ok {
				ratio = fmt.Sprintf("%.2f", medianOf(name, func(s sample) float64 { return timeOf(s) / s.metrics["floor-ns/op"] }))
			} else if f := medianOf(parent(name)+"Request/floor", timeOf); f > 0 {
				// The floor measured in the same parent benchmark.
				ratio = fmt.Sprintf("%.2f", t/f)
			} else if floor > 0 {
				ratio = fmt.Sprintf("%.2f", t/floor)
			}
		}
		first := samples[name][0].metrics
		if _, ok := first["api_key-ns/op"]; ok {
			cmp = fmt.Sprintf("%.2f× api_key", medianOf(name, func(s sample) float64 { return timeOf(s) / s.metrics["api_key-ns/op"] }))
		}
		// The target for an uncached request, 1.15× the primitive + 20 µs,
		// read two ways: the whole request, and the request less the
		// pass-through floor.
		for _, prim := range []string{"primitive", "keyed-primitive"} {
			key := prim + "-ns/op"
			if _, ok := first[key]; !ok {
				continue
			}
			target := func(s sample) float64 { return 1.15*s.metrics[key] + 20e3 }
			whole := medianOf(name, func(s sample) float64 { return timeOf(s) - target(s) })
			less := medianOf(name, func(s sample) float64 { return timeOf(s) - s.metrics["floor-ns/op"] - target(s) })
			if cmp != "" {
				cmp += "; "
			}
			cmp += fmt.Sprintf("%s %s: %.2f× (+%s); 1.15× + 20 µs: whole request %s, less floor %s",
				prim, human(medianOf(name, func(s sample) float64 { return s.metrics[key] })),
				medianOf(name, func(s sample) float64 { return timeOf(s) / s.metrics[key] }),
				human(medianOf(name, func(s sample) float64 { return timeOf(s) - s.metrics[key] })),
				verdict(whole), verdict(less))
		}
		extra := samples[name][0].extra
		if _, ok := first["req-ns/op"]; ok {
			extra = "" // counted per block of every step, not per request
		}
		for k, v := range first {
			if !strings.HasSuffix(k, "-ns/op") && k != "B/op" && k != "allocs/op" {
				extra = strings.TrimPrefix(extra+", "+strconv.FormatFloat(v, 'f', -1, 64)+" "+k, ", ")
			}
		}
		fmt.Printf("| %s | %s | %s | %s | %s |\n", name, human(t), ratio, cmp, extra)
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	return v[len(v)/2]
}

// verdict reads a median excess over a target (ns).
func verdict(excess float64) string {
	if excess <= 0 {
		return fmt.Sprintf("meets (%s under)", human(-excess))
	}
	return fmt.Sprintf("misses (%s over)", human(excess))
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

// parent is the benchmark name up to and including its first '/', "" for
// a top-level benchmark.
func parent(name string) string {
	if i := strings.IndexByte(name, '/'); i >= 0 {
		return name[:i+1]
	}
	return ""
}
