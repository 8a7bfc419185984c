// Command dazzlekit-inspect prints what a combined image is made of: each layer with the chunk and
// step that made it, and the merged env, labels and ports. It reads the image from its registry.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/dazzlekit/dazzlekit/internal/registry"
	"github.com/dazzlekit/dazzlekit/merge"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dazzlekit-inspect HOST/NAME:TAG")
		os.Exit(2)
	}
	img, err := registry.Get(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "dazzlekit-inspect:", err)
		os.Exit(1)
	}
	fmt.Printf("%s\n  manifest %s\n\nlayers:\n", img.Ref, img.Digest)
	layers := img.Manifest.Layers
	li := 0
	for _, h := range img.Config.History {
		if h.EmptyLayer {
			continue
		}
		owner, ok := merge.ChunkFromHistoryComment(h.Comment)
		if !ok {
			owner = "base"
		}
		dg, size := "(missing)", int64(0)
		if li < len(layers) {
			dg, size = layers[li].Digest.Encoded()[:12], layers[li].Size
		}
		li++
		fmt.Printf("  %-14s %s %7d B  %s\n", owner, dg, size, oneLine(h.CreatedBy, 70))
	}
	for ; li < len(layers); li++ {
		fmt.Printf("  %-14s %s %7d B  (no history entry)\n", "?", layers[li].Digest.Encoded()[:12], layers[li].Size)
	}
	fmt.Println("\nenv:")
	for _, e := range img.Config.Config.Env {
		fmt.Println("  " + e)
	}
	if len(img.Config.Config.Labels) > 0 {
		fmt.Println("\nlabels:")
		keys := make([]string, 0, len(img.Config.Config.Labels))
		for k := range img.Config.Config.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Printf("  %s=%s\n", k, img.Config.Config.Labels[k])
		}
	}
	if len(img.Config.Config.ExposedPorts) > 0 {
		var ports []string
		for p := range img.Config.Config.ExposedPorts {
			ports = append(ports, p)
		}
		sort.Strings(ports)
		fmt.Printf("\nexposed ports: %s\n", strings.Join(ports, " "))
	}
	fmt.Printf("user: %q  workdir: %q  cmd: %q\n", img.Config.Config.User, img.Config.Config.WorkingDir, img.Config.Config.Cmd)
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}
