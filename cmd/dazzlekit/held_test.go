package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/types"
)

const heldDigest = "sha256:0bf2249ce0dc8f0de8ef8eba6087499e1bac7b6bf91ae921a50a26f452bdc484"

// registryStub answers manifest HEAD requests as a registry does: the digest of the one tag it holds
// (repo:held), 404 for any other, and 401 with a Basic challenge when it wants credentials it was not given.
func registryStub(t *testing.T, user, password string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user != "" {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
				w.Header().Set("WWW-Authenticate", `Basic realm="stub"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		}
		if r.URL.Path == "/v2/" {
			w.WriteHeader(http.StatusOK)
			return
		}
		if r.Method != http.MethodHead || r.URL.Path != "/v2/repo/manifests/held" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Docker-Content-Digest", heldDigest)
		w.Header().Set("Content-Length", "500")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHeldDigests(t *testing.T) {
	for _, tt := range []struct {
		name           string
		user, password string            // what the registry wants
		auths          map[string]string // host -> "user:password" in the docker config
		want           []string          // for repo:held, repo:absent
	}{
		{name: "open registry", want: []string{heldDigest, ""}},
		{name: "credentials from the docker config", user: "u", password: "p", auths: map[string]string{"": "u:p"}, want: []string{heldDigest, ""}},
		// Then the build pushes, and BuildKit's own credentials decide.
		{name: "no credentials", user: "u", password: "p", want: []string{"", ""}},
		{name: "wrong credentials", user: "u", password: "p", auths: map[string]string{"": "u:nope"}, want: []string{"", ""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := registryStub(t, tt.user, tt.password)
			host := strings.TrimPrefix(srv.URL, "http://")
			cfg := &configfile.ConfigFile{AuthConfigs: map[string]types.AuthConfig{}}
			for h, up := range tt.auths {
				if h == "" {
					h = host
				}
				u, p, _ := strings.Cut(up, ":")
				cfg.AuthConfigs[h] = types.AuthConfig{Username: u, Password: p}
			}
			got := heldDigests(context.Background(), []string{host + "/repo:held", host + "/repo:absent"}, cfg)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("heldDigests = %q, want %q", got, tt.want)
			}
		})
	}
	// A registry that is not there: nothing held, so everything is pushed.
	srv := registryStub(t, "", "")
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	if got := heldDigests(context.Background(), []string{host + "/repo:held"}, nil); got[0] != "" {
		t.Errorf("heldDigests of a closed registry = %q, want nothing", got)
	}
}
