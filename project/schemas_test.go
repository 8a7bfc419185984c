package project

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

// schemaDef is the part of a JSON Schema object definition these tests compare with the loader.
type schemaDef struct {
	Type                 string               `json:"type"`
	AdditionalProperties json.RawMessage      `json:"additionalProperties"`
	Properties           map[string]schemaDef `json:"properties"`
	Items                *schemaDef           `json:"items"`
	Ref                  string               `json:"$ref"`
	Enum                 []string             `json:"enum"`
	Defs                 map[string]schemaDef `json:"$defs"`
}

func parseSchema(t *testing.T, name string, dt []byte) schemaDef {
	t.Helper()
	var s schemaDef
	if err := json.Unmarshal(dt, &s); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

// closedProps returns def's property names, failing unless def is a closed object: the loader
// rejects unknown fields, so the schema must too.
func closedProps(t *testing.T, what string, def schemaDef) []string {
	t.Helper()
	if def.Type != "object" || string(def.AdditionalProperties) != "false" {
		t.Errorf("%s: must be an object with additionalProperties false", what)
	}
	var out []string
	for k := range def.Properties {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

func TestConfigSchemaMatchesLoader(t *testing.T) {
	s := parseSchema(t, "dazzle.schema.json", ConfigSchema)
	for _, tc := range []struct {
		what   string
		def    schemaDef
		fields []string
	}{
		{"top level", s, configFields},
		{"combiner", s.Properties["combiner"], combinerFields},
		{"combination", s.Defs["combination"], combinationFields},
		{"envvar", s.Defs["envvar"], envVarFields},
	} {
		if got, want := closedProps(t, tc.what, tc.def), sorted(tc.fields); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: schema properties %v, the loader reads %v", tc.what, got, want)
		}
	}

	// Every action the schema offers loads, and the loader takes no other.
	enum := s.Defs["envvar"].Properties["action"].Enum
	if len(enum) == 0 {
		t.Fatal("envvar.action has no enum")
	}
	for _, a := range append(enum, "bogus") {
		fsys := realistic()
		fsys["dazzle.yaml"] = &fstest.MapFile{Data: []byte("combiner:\n  envvars:\n    - name: PATH\n      action: " + a + "\n")}
		_, err := load(t, fsys)
		if ok := err == nil; ok != (a != "bogus") {
			t.Errorf("action %q: load error %v", a, err)
		}
	}
}

func TestChunkSchemaMatchesLoader(t *testing.T) {
	s := parseSchema(t, "chunk.schema.json", ChunkSchema)
	if got := closedProps(t, "chunk.yaml", s); strings.Join(got, ",") != "variants" {
		t.Errorf("chunk.yaml properties %v", got)
	}
	variant := closedProps(t, "variant", s.Defs["variant"])
	if strings.Join(variant, ",") != "args,dockerfile,name" {
		t.Errorf("variant properties %v", variant)
	}
	// What the schema allows loads; one field more, at either level, is refused.
	full := "variants:\n  - name: \"11\"\n  - name: \"17\"\n    args: {JAVA_VERSION: 17, DEBUG: true}\n    dockerfile: Dockerfile.17\n"
	for _, tc := range []struct {
		yaml    string
		wantErr string
	}{
		{full, ""},
		{full + "    extra: 1\n", `unknown field "extra"`},
		{full + "extra: 1\n", `unknown field "extra"`},
	} {
		fsys := realistic()
		fsys["chunks/lang-java/chunk.yaml"] = &fstest.MapFile{Data: []byte(tc.yaml)}
		_, err := load(t, fsys)
		if got := fmt.Sprint(err); (tc.wantErr == "") != (err == nil) || (tc.wantErr != "" && !strings.Contains(got, tc.wantErr)) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.wantErr)
		}
	}
}
