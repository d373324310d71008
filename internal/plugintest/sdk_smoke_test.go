package plugintest

import (
	"encoding/base64"
	"os"
	"testing"
)

func TestSDKHostSmoke(t *testing.T) {
	cfg, err := os.ReadFile("../../testdata/configs/example.json")
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewSDKHost(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := h.Do(Get("api.example.com", "/things", [2]string{"x-api-key", "demo-key-partner-a-0001"}))
	t.Logf("%+v", r)
	r = h.Do(Get("api.example.com", "/things"))
	t.Logf("%+v %s", r.Local, r.Local.Body)
	r = h.Do(Get("api.example.com", "/things", [2]string{"authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("bob:b0b-secret"))}))
	t.Logf("%+v", r)
	t.Log(h.Logs())
}
