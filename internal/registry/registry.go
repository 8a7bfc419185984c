// Package registry reads images from an OCI registry over the plain HTTP API: manifests, configs and
// the files of the flattened filesystem. Tests and the inspect command use it to check what a user
// would check, against the real registry the build pushed to.
package registry

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

const accept = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, " +
	"application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json"

// Image is one platform's manifest and config.
type Image struct {
	Ref      string
	Digest   string // the manifest's digest
	Manifest ocispecs.Manifest
	Config   dockerspec.DockerOCIImage
	repo     string
	host     string
}

// Get reads ref ("localhost:5000/name:tag"). An index resolves to its linux/amd64 (else first) image.
func Get(ref string) (*Image, error) {
	host, repo, tag, err := split(ref)
	if err != nil {
		return nil, err
	}
	img := &Image{Ref: ref, host: host, repo: repo}
	dt, dgst, err := img.fetch("manifests/" + tag)
	if err != nil {
		return nil, err
	}
	var probe struct {
		MediaType string                `json:"mediaType"`
		Manifests []ocispecs.Descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(dt, &probe); err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	if len(probe.Manifests) > 0 {
		chosen := probe.Manifests[0]
		for _, m := range probe.Manifests {
			if m.Platform != nil && m.Platform.OS == "linux" && m.Platform.Architecture == "amd64" {
				chosen = m
				break
			}
		}
		if dt, dgst, err = img.fetch("manifests/" + chosen.Digest.String()); err != nil {
			return nil, err
		}
	}
	img.Digest = dgst
	if err := json.Unmarshal(dt, &img.Manifest); err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	cfg, err := img.Blob(img.Manifest.Config.Digest.String())
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(cfg, &img.Config); err != nil {
		return nil, fmt.Errorf("%s config: %w", ref, err)
	}
	return img, nil
}

// Layers returns the layer digests in order.
func (img *Image) Layers() []string {
	out := make([]string, len(img.Manifest.Layers))
	for i, l := range img.Manifest.Layers {
		out[i] = l.Digest.String()
	}
	return out
}

// Blob reads a blob of the image's repository.
func (img *Image) Blob(dgst string) ([]byte, error) {
	dt, _, err := img.fetch("blobs/" + dgst)
	return dt, err
}

// File is one regular file, directory or link of the flattened filesystem.
type File struct {
	Mode     int64
	Uid, Gid int
	Data     []byte
	Link     string
	Dir      bool
}

// Files flattens the layers (applying whiteouts) into a path -> file map; paths have no leading "/".
func (img *Image) Files() (map[string]File, error) {
	files := map[string]File{}
	for _, l := range img.Manifest.Layers {
		blob, err := img.Blob(l.Digest.String())
		if err != nil {
			return nil, err
		}
		var r io.Reader = bytes.NewReader(blob)
		if strings.Contains(l.MediaType, "gzip") {
			zr, err := gzip.NewReader(r)
			if err != nil {
				return nil, fmt.Errorf("layer %s: %w", l.Digest, err)
			}
			r = zr
		}
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("layer %s: %w", l.Digest, err)
			}
			name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
			dir, base := path.Split(name)
			switch {
			case base == ".wh..wh..opq":
				for p := range files {
					if strings.HasPrefix(p, dir) {
						delete(files, p)
					}
				}
				continue
			case strings.HasPrefix(base, ".wh."):
				gone := dir + strings.TrimPrefix(base, ".wh.")
				for p := range files {
					if p == gone || strings.HasPrefix(p, gone+"/") {
						delete(files, p)
					}
				}
				continue
			}
			f := File{Mode: h.Mode, Uid: h.Uid, Gid: h.Gid, Link: h.Linkname, Dir: h.Typeflag == tar.TypeDir}
			if h.Typeflag == tar.TypeReg {
				if f.Data, err = io.ReadAll(tr); err != nil {
					return nil, err
				}
			}
			files[name] = f
		}
	}
	return files, nil
}

func (img *Image) fetch(p string) ([]byte, string, error) {
	u := "http://" + img.host + "/v2/" + img.repo + "/" + p
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	dt, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s: %s: %s", u, resp.Status, bytes.TrimSpace(dt))
	}
	return dt, resp.Header.Get("Docker-Content-Digest"), nil
}

func split(ref string) (host, repo, tag string, err error) {
	i := strings.Index(ref, "/")
	if i < 0 {
		return "", "", "", fmt.Errorf("%q: want host/name[:tag|@digest]", ref)
	}
	host, rest := ref[:i], ref[i+1:]
	if j := strings.Index(rest, "@"); j >= 0 {
		return host, rest[:j], rest[j+1:], nil
	}
	if j := strings.LastIndex(rest, ":"); j >= 0 {
		return host, rest[:j], rest[j+1:], nil
	}
	return host, rest, "latest", nil
}

// Tag makes tag (in ref's repository) hold the manifest ref holds, as `docker buildx imagetools
// create --tag` would: the same bytes, so the same digest.
func Tag(ref, tag string) error {
	host, repo, src, err := split(ref)
	if err != nil {
		return err
	}
	img := &Image{Ref: ref, host: host, repo: repo}
	dt, _, err := img.fetch("manifests/" + src)
	if err != nil {
		return err
	}
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal(dt, &probe); err != nil || probe.MediaType == "" {
		return fmt.Errorf("%s: a manifest without a media type", ref)
	}
	u := "http://" + host + "/v2/" + repo + "/manifests/" + tag
	req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(dt))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", probe.MediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("PUT %s: %s: %s", u, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}
