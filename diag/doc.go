// Package diag holds validation diagnostics: errors and warnings with file,
// line, column and a field path, collected all at once rather than stopping
// at the first. The CLI, the workflow loader and the worker share them.
package diag
