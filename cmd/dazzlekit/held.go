package main

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/log"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/sirupsen/logrus"
)

// heldDigests returns the digest of the manifest each ref's tag holds in its registry: "" where the
// tag holds none, or where the registry cannot be asked (no network, an address only BuildKit's own
// configuration knows how to reach, refused credentials). "" only means the image is pushed as
// always; a digest lets the build skip pushing an image the registry holds already.
//
// One HEAD request per tag, with the credentials docker and buildx use (cfg), and plain HTTP for
// localhost as BuildKit's resolver does.
func heldDigests(ctx context.Context, refs []string, cfg *configfile.ConfigFile) []string {
	client := &http.Client{Timeout: 10 * time.Second}
	creds := func(host string) (string, string, error) {
		if cfg == nil {
			return "", "", nil
		}
		if host == "registry-1.docker.io" {
			host = "https://index.docker.io/v1/"
		}
		ac, err := cfg.GetAuthConfig(host)
		if err != nil {
			return "", "", err
		}
		if ac.IdentityToken != "" {
			return "", ac.IdentityToken, nil
		}
		return ac.Username, ac.Password, nil
	}
	resolver := docker.NewResolver(docker.ResolverOptions{Hosts: docker.ConfigureDefaultRegistries(
		docker.WithClient(client),
		docker.WithPlainHTTP(docker.MatchLocalhost),
		docker.WithAuthorizer(docker.NewDockerAuthorizer(docker.WithAuthClient(client), docker.WithAuthCreds(creds))),
	)})
	// The resolver logs every answer but a manifest (404 for a new tag, 401) at info level: here
	// each is only a reason to push.
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	ctx = log.WithLogger(ctx, logrus.NewEntry(quiet))
	out := make([]string, len(refs))
	var wg sync.WaitGroup
	limit := make(chan struct{}, 8)
	for i, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			limit <- struct{}{}
			defer func() { <-limit }()
			if _, desc, err := resolver.Resolve(ctx, ref); err == nil {
				out[i] = desc.Digest.String()
			}
		}()
	}
	wg.Wait()
	return out
}
