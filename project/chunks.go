package project

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"unicode"

	"github.com/dazzlekit/dazzlekit/internal/diag"
	"gopkg.in/yaml.v3"
)

type loader struct {
	fsys    fs.FS
	p       *Project
	folders []string // chunk folders loaded, in directory order
}

// warn records a problem that does not stop the build, for the frontend to show.
func (l *loader) warn(w diag.Warning) { l.p.Warnings = append(l.p.Warnings, w) }

func (l *loader) read(name string) ([]byte, error) {
	data, err := fs.ReadFile(l.fsys, name)
	if err != nil {
		return nil, &Error{File: name, Msg: fmt.Sprintf("cannot read the file: %v", err)}
	}
	l.p.Files[name] = data
	return data, nil
}

// exists reports whether name is a regular file; directories and unreadable entries are errors.
func (l *loader) exists(name string) (bool, error) {
	fi, err := fs.Stat(l.fsys, name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, &Error{File: name, Msg: fmt.Sprintf("cannot read: %v", err)}
	case fi.IsDir():
		return false, &Error{File: name, Msg: "is a directory, but a file was expected here"}
	}
	return true, nil
}

// chunkConfig returns the path of the folder's chunk.yaml (or chunk.yml), or "".
func (l *loader) chunkConfig(dir string) (string, error) {
	var found []string
	for _, fn := range []string{"chunk.yaml", "chunk.yml"} {
		p := path.Join(dir, fn)
		ok, err := l.exists(p)
		if err != nil {
			return "", err
		}
		if ok {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	}
	return "", &Error{File: found[1], Msg: fmt.Sprintf("both %s and %s exist; keep only one of them", found[0], found[1])}
}

func (l *loader) loadBase() error {
	chunks, err := l.loadFolder("base", "base", true)
	if err != nil {
		return err
	}
	l.p.Base = chunks[0]
	return nil
}

func (l *loader) loadChunks() (skipped []string, err error) {
	entries, err := fs.ReadDir(l.fsys, "chunks")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, &Error{File: "chunks", Msg: fmt.Sprintf("cannot read the chunks folder: %v", err)}
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".") {
			skipped = append(skipped, name)
			continue
		}
		// dazzle skips anything that is not a directory, symlinks included; a linked chunk folder
		// would vanish without a word.
		if e.Type()&fs.ModeSymlink != 0 {
			l.warn(diag.Warning{Rule: "ChunkFolderSymlink", File: path.Join("chunks", name), Msg: fmt.Sprintf(
				"is a symbolic link, so it makes no chunk (dazzle skips it too); put the folder itself in chunks/, or rename the link to chunks/_%s to say it is not one", name)})
		}
		if !e.IsDir() {
			continue
		}
		dir := path.Join("chunks", name)
		if !validFolderName(name) {
			return nil, &Error{File: dir, Msg: fmt.Sprintf(`chunk folder name %q cannot be used: chunk names must not contain "/", "\", ":", ",", spaces or control characters; rename the folder`, name)}
		}
		chunks, err := l.loadFolder(dir, name, false)
		if err != nil {
			return nil, err
		}
		var variants []string
		for _, c := range chunks {
			l.p.all[c.Name] = c
			if c.Variant != "" {
				variants = append(variants, c.Name)
			}
		}
		if len(variants) > 0 {
			sort.Strings(variants)
			l.p.folders[name] = variants
		}
		l.folders = append(l.folders, name)
	}
	return skipped, nil
}

func validFolderName(name string) bool {
	if name == "" || name == "." || name == ".." {
		return false
	}
	return !strings.ContainsFunc(name, func(r rune) bool {
		return strings.ContainsRune(`/\:,`, r) || unicode.IsSpace(r) || unicode.IsControl(r)
	})
}

func validVariantName(name string) bool {
	return !strings.ContainsFunc(name, func(r rune) bool {
		return strings.ContainsRune(`/\:,`, r) || unicode.IsSpace(r) || unicode.IsControl(r)
	})
}

func (l *loader) loadFolder(dir, folder string, isBase bool) ([]Chunk, error) {
	cfgPath, err := l.chunkConfig(dir)
	if err != nil {
		return nil, err
	}
	if cfgPath == "" {
		df := path.Join(dir, "Dockerfile")
		ok, err := l.exists(df)
		if err != nil {
			return nil, err
		}
		if !ok {
			// dazzle fails on such a folder too (reading its Dockerfile does), so this stays an
			// error; saying what the folder holds makes a misnamed Dockerfile obvious.
			found := l.describeDir(dir, "Dockerfile")
			if isBase {
				return nil, &Error{File: dir + "/", Msg: fmt.Sprintf("no Dockerfile; %s; a dazzle project needs its base image's Dockerfile at base/Dockerfile", found)}
			}
			return nil, &Error{File: dir + "/", Msg: fmt.Sprintf("no Dockerfile; %s; every chunk folder needs one: add %s, or rename the folder to chunks/_%s so it is skipped", found, df, folder)}
		}
		data, err := l.read(df)
		if err != nil {
			return nil, err
		}
		return []Chunk{{Name: folder, Folder: folder, Dir: dir, Dockerfile: df, DockerfileData: data}}, nil
	}

	data, err := l.read(cfgPath)
	if err != nil {
		return nil, err
	}
	f := &yfile{name: cfgPath, data: data}
	root, err := f.root()
	if err != nil {
		return nil, err
	}
	fields, err := f.fields(root, cfgPath, []string{"variants"})
	if err != nil {
		return nil, err
	}
	var items *yaml.Node
	at := root
	for _, fl := range fields {
		items, at = deref(fl.val), fl.kn
	}
	if !isNull(items) && items.Kind != yaml.SequenceNode {
		return nil, f.errf(items, "variants must be a list, e.g. variants: [{name: \"17\", args: {JAVA_VERSION: \"17\"}}]; got %s", kindName(items))
	}
	n := 0
	if !isNull(items) {
		n = len(items.Content)
	}
	if isBase && n != 1 {
		return nil, f.errf(at, "base/chunk.yaml must define exactly one variant, but it defines %d; the base is a single image, so keep one variant (its args and dockerfile apply to the base)", n)
	}
	if n == 0 {
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) == nil && doc.Kind == 0 { // dazzle fails to decode a file with no document (EOF); `~` it takes as no variants
			return nil, f.errf(at, "%s defines no variants; add variants: with at least one entry, or delete %s to build %s/Dockerfile as the chunk %q", cfgPath, cfgPath, dir, folder)
		}
		// dazzle builds nothing from such a folder, without a word; say it.
		line := 1
		if at != nil {
			line = at.Line
		}
		l.warn(diag.Warning{Rule: "ChunkWithoutVariants", File: cfgPath, Line: line, Data: data, Lang: "YAML", Msg: fmt.Sprintf(
			"%s defines no variants, so chunks/%s/ makes no chunk (dazzle skips it too); add variants: with at least one entry, or delete %s to build %s/Dockerfile as the chunk %q",
			cfgPath, folder, cfgPath, dir, folder)})
		return nil, nil
	}

	var out []Chunk
	lines := map[string]int{}
	for i, item := range items.Content {
		what := fmt.Sprintf("variant #%d", i+1)
		vf, err := f.fields(item, what, []string{"name", "args", "dockerfile"})
		if err != nil {
			return nil, err
		}
		var (
			name, dockerfile string
			dfNode           *yaml.Node
			args             map[string]string
		)
		for _, fl := range vf {
			if fl.key == "name" {
				if name, err = f.str(fl.val, what+" name"); err != nil {
					return nil, err
				}
			}
		}
		if name != "" {
			what = fmt.Sprintf("variant %q", name)
		}
		for _, fl := range vf {
			switch fl.key {
			case "args":
				args, err = f.strMap(fl.val, "args of "+what)
			case "dockerfile":
				dockerfile, err = f.str(fl.val, "dockerfile of "+what)
				dfNode = fl.val
			}
			if err != nil {
				return nil, err
			}
		}
		if !isBase {
			if name == "" {
				return nil, f.errf(item, "%s has no name; add name: <variant>, which makes the chunk %q", what, folder+":<variant>")
			}
			if !validVariantName(name) {
				return nil, f.errf(item, `variant name %q cannot be used: it must not contain "/", "\", ":", ",", spaces or control characters`, name)
			}
			if prev, ok := lines[name]; ok {
				return nil, f.errf(item, "variant %q is defined twice (also on line %d); variant names must be unique", name, prev)
			}
			lines[name] = item.Line
		}

		rel := "Dockerfile"
		if dockerfile != "" {
			var ok bool
			if rel, ok = cleanRel(dockerfile); !ok {
				return nil, f.errf(dfNode, "dockerfile %q of %s must be a relative path inside %s/, e.g. dockerfile: Dockerfile.alt", dockerfile, what, dir)
			}
		} else {
			dfNode = item
		}
		df := path.Join(dir, rel)
		ok, err := l.exists(df)
		if err != nil {
			return nil, err
		}
		if !ok {
			if dockerfile == "" {
				return nil, f.errf(dfNode, "%s builds %s, which does not exist; add it, or point the variant at its Dockerfile with dockerfile: <file in %s/>", what, df, dir)
			}
			return nil, f.errf(dfNode, "dockerfile of %s is %s, which does not exist; add it or fix the path (it is relative to %s/)", what, df, dir)
		}
		dfData, err := l.read(df)
		if err != nil {
			return nil, err
		}
		c := Chunk{Name: folder + ":" + name, Folder: folder, Variant: name, Dir: dir, Dockerfile: df, DockerfileData: dfData, Args: args}
		if isBase {
			c.Name = "base"
		}
		out = append(out, c)
	}
	return out, nil
}

// describeDir says what a folder holds instead of the file want, for an error about its absence:
// a file whose name differs only in case (the usual mistake), else the folder's first entries.
func (l *loader) describeDir(dir, want string) string {
	entries, err := fs.ReadDir(l.fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "there is no such folder"
	} else if err != nil {
		return fmt.Sprintf("the folder cannot be listed (%v)", err)
	}
	var names []string
	for _, e := range entries {
		if strings.EqualFold(e.Name(), want) {
			return fmt.Sprintf("found %q (names are case-sensitive: rename it to %s)", e.Name(), want)
		}
		n := fmt.Sprintf("%q", e.Name())
		if e.IsDir() {
			n = fmt.Sprintf("%q", e.Name()+"/")
		}
		names = append(names, n)
	}
	const shown = 8
	switch {
	case len(names) == 0:
		return "the folder is empty"
	case len(names) > shown:
		return fmt.Sprintf("found %s and %d more", strings.Join(names[:shown], ", "), len(names)-shown)
	}
	return "found " + strings.Join(names, ", ")
}

// cleanRel cleans a path relative to a chunk folder and refuses anything that leaves it.
func cleanRel(p string) (string, bool) {
	if strings.Contains(p, `\`) || path.IsAbs(p) {
		return "", false
	}
	c := path.Clean(p)
	if c == "." || c == ".." || strings.HasPrefix(c, "../") || !fs.ValidPath(c) {
		return "", false
	}
	return c, true
}

func (l *loader) applyIgnore() {
	pats := compileIgnore(l.p.Config)
	for _, name := range sortedKeys(l.p.all) {
		if by := ignoredBy(pats, name); by != nil {
			l.p.ignoreBy[name] = strings.TrimSpace(by.raw)
			l.p.Ignored = append(l.p.Ignored, name)
			continue
		}
		l.p.Chunks = append(l.p.Chunks, l.p.all[name])
	}
}
