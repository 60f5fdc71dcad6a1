// Package yamlx decodes YAML nodes (go.yaml.in/yaml/v3's node API) into typed
// values while collecting every problem as a diagnostic with file, line,
// column and field path: unknown and duplicate keys, wrong types, aliases.
// A problem found inside a scalar (an expression's, say) is placed at its own
// line and column by reading the scalar again from the file's source.
package yamlx
