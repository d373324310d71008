package authn

import (
	"reflect"
	"slices"
	"testing"
)

func TestQueryValues(t *testing.T) {
	tests := []struct {
		q, name string
		want    []string
		ok      bool
	}{
		{"a=1&api_key=k1", "api_key", []string{"k1"}, true},
		{"api_key=k1&api_key=k2", "api_key", []string{"k1", "k2"}, true},
		{"api%5Fkey=k%2B1", "api_key", []string{"k+1"}, true},
		{"x=1&&y", "api_key", nil, true},
		{"api_key=%zz", "api_key", nil, false},
		{"api_key", "api_key", []string{""}, true},
	}
	for _, tt := range tests {
		got, ok := QueryValues(tt.q, tt.name)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("QueryValues(%q, %q) = %q, %v; want %q, %v", tt.q, tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRemoveQuery(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/a?api_key=k", "/a"},
		{"/a?x=%20&api_key=k&y=2", "/a?x=%20&y=2"},
		{"/a?api%5fkey=k&y", "/a?y"},
		{"/a", "/a"},
		{"/a?y=1", "/a?y=1"},
	}
	for _, tt := range tests {
		if got := RemoveQuery(tt.path, []string{"api_key"}); got != tt.want {
			t.Errorf("RemoveQuery(%q) = %q; want %q", tt.path, got, tt.want)
		}
	}
}

func TestCleanValue(t *testing.T) {
	if got := CleanValue("a\r\nb\x00c\td"); got != "a  b c\td" {
		t.Fatalf("CleanValue = %q", got)
	}
}

func TestReasonStatus(t *testing.T) {
	for _, r := range Reasons() {
		if r.String() == "unknown" || r.Status() < 400 {
			t.Errorf("reason %d: name %q status %d", r, r, r.Status())
		}
	}
}

// AppendName shares the provider's slice with the first list and never
// writes into it when the list grows.
func TestAppendName(t *testing.T) {
	a, b := Name("x-api-key"), Name("authorization")
	list := AppendName(nil, a)
	if len(list) != 1 || list[0] != "x-api-key" || &list[0] != &a[0] {
		t.Fatalf("AppendName(nil) = %q; want the shared slice", list)
	}
	grown := AppendName(list, b)
	if !slices.Equal(grown, []string{"x-api-key", "authorization"}) || a[0] != "x-api-key" || len(a) != 1 {
		t.Fatalf("grown = %q, shared = %q", grown, a)
	}
	other := AppendName(AppendName(nil, a), Name("cookie"))
	if grown[1] != "authorization" || other[1] != "cookie" {
		t.Fatalf("two lists grown from one shared name interfere: %q %q", grown, other)
	}
}

// Each yields the values of one header name in order and stops when asked;
// Values collects the same.
func TestEach(t *testing.T) {
	r := &Request{Headers: []Header{{"cookie", "a=1"}, {"x", "no"}, {"cookie", "b=2"}, {"cookie", "c=3"}}}
	if got := r.Values("cookie"); !slices.Equal(got, []string{"a=1", "b=2", "c=3"}) {
		t.Fatalf("Values = %q", got)
	}
	var first []string
	for v := range r.Each("cookie") {
		first = append(first, v)
		if len(first) == 2 {
			break
		}
	}
	if !slices.Equal(first, []string{"a=1", "b=2"}) {
		t.Fatalf("Each with break = %q", first)
	}
	if got := r.Values("absent"); len(got) != 0 {
		t.Fatalf("Values(absent) = %q", got)
	}
}
