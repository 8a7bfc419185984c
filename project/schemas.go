package project

import _ "embed"

// ConfigSchema is the JSON Schema (draft 2020-12) of dazzle.yaml, for editors.
//
//go:embed dazzle.schema.json
var ConfigSchema []byte

// ChunkSchema is the JSON Schema (draft 2020-12) of a chunk.yaml, for editors.
//
//go:embed chunk.schema.json
var ChunkSchema []byte
