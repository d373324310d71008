// Command report turns `go test -bench` output for package bench into a
// Markdown table: each request benchmark with its time and its ratio to the
// pass-through floor measured in the same run.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
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
	var rs []result
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ns, _ := strconv.ParseFloat(m[3], 64)
		rs = append(rs, result{name: strings.TrimPrefix(m[1], "Benchmark"), ns: ns, extra: strings.TrimSpace(m[4])})
	}
	floor := 0.0
	for _, r := range rs {
		if strings.HasSuffix(r.name, "/floor") {
			floor = r.ns
		}
	}
	fmt.Println("| benchmark | time/op | × floor | other |")
	fmt.Println("| --- | ---: | ---: | --- |")
	for _, r := range rs {
		ratio := ""
		if floor > 0 && strings.HasPrefix(r.name, "Request/") {
			ratio = fmt.Sprintf("%.2f", r.ns/floor)
		}
		fmt.Printf("| %s | %s | %s | %s |\n", r.name, human(r.ns), ratio, r.extra)
	}
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
