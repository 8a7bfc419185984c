package project

import (
	"encoding/json"
	"reflect"
	"sort"
	"testing"
)

// TestSchemaMatchesTest keeps testspec.schema.json, the Test struct and the parser in step.
func TestSchemaMatchesTest(t *testing.T) {
	var schema struct {
		Schema string `json:"$schema"`
		Type   string `json:"type"`
		Items  struct {
			Ref string `json:"$ref"`
		} `json:"items"`
		Defs map[string]struct {
			Type                 string                     `json:"type"`
			AdditionalProperties *bool                      `json:"additionalProperties"`
			Properties           map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(TestSpecSchema, &schema); err != nil {
		t.Fatalf("testspec.schema.json: %v", err)
	}
	if schema.Schema != "https://json-schema.org/draft/2020-12/schema" || schema.Type != "array" || schema.Items.Ref != "#/$defs/test" {
		t.Fatalf("schema header: %+v", schema)
	}
	test := schema.Defs["test"]
	if test.Type != "object" || test.AdditionalProperties == nil || *test.AdditionalProperties {
		t.Errorf("test definition must be an object with additionalProperties false")
	}
	var props []string
	for k := range test.Properties {
		props = append(props, k)
	}
	sort.Strings(props)

	var tags []string
	rt := reflect.TypeFor[Test]()
	for i := 0; i < rt.NumField(); i++ {
		tag, ok := rt.Field(i).Tag.Lookup("yaml")
		if !ok {
			t.Errorf("Test.%s has no yaml tag; use `yaml:\"-\"` for fields that are not in the file", rt.Field(i).Name)
		}
		if tag != "-" {
			tags = append(tags, tag)
		}
	}
	sort.Strings(tags)
	if !reflect.DeepEqual(props, tags) {
		t.Errorf("schema properties %v != Test yaml tags %v", props, tags)
	}
	parsed := append([]string(nil), testFields...)
	sort.Strings(parsed)
	if !reflect.DeepEqual(parsed, tags) {
		t.Errorf("parser fields %v != Test yaml tags %v", parsed, tags)
	}
}

// TestEveryTestFieldIsParsed guards against a field the parser accepts but never stores.
func TestEveryTestFieldIsParsed(t *testing.T) {
	f := &yfile{name: "tests/x.yaml", data: []byte(`- desc: d
  command: [c]
  entrypoint: [e]
  env: [A=1]
  user: 1000
  skip: true
  assert: [a]
  network: true
  timeout: 1m
`)}
	tests, err := parseTests(f)
	if err != nil {
		t.Fatal(err)
	}
	v := reflect.ValueOf(tests[0])
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).IsZero() {
			t.Errorf("field %s was not set", v.Type().Field(i).Name)
		}
	}
}
