package host

import (
	"testing"
)

func TestSmokeProbe(t *testing.T) {
	for _, p := range bothProfiles {
		t.Run(p.String(), func(t *testing.T) {
			h := newProbe(t, p, "request_headers: prop request path; add 0 X-Added yes\nconfigure: getbuf 7 0 100")
			s := h.VM(0).NewStream(Connection{})
			a := s.RequestHeaders(reqHeaders("/p?q=1"), true)
			if a != Continue {
				t.Fatalf("action = %v", a)
			}
			s.Close()
			t.Log(dumpLogs(h))
		})
	}
}
