// Package workflow loads workflows from YAML files (SPEC §4) with the node
// API of go.yaml.in/yaml/v3, so that every problem is reported with file,
// line, column and field path, all of them at once. It compiles triggers
// and steps through their registries (packages triggers and actions) and
// returns a Set indexed for matching events.
//
// The validate command, the simulator and the worker all load through this
// package: there is one validator. Running workflows is package engine's.
package workflow
