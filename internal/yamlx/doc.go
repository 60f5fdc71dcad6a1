// Package yamlx decodes YAML nodes (go.yaml.in/yaml/v3's node API) into typed
// values while collecting every problem as a diagnostic with file, line,
// column and field path: unknown and duplicate keys, wrong types, aliases.
package yamlx
