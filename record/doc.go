// Package record holds the CRM records followflow works on (accounts, users,
// opportunities, contacts), the follower rules that every path applies to
// them, the history entries that record each follower change, and the data
// file format (YAML or JSON) used by fixtures, load, export and simulate.
//
// It does not hold storage (package store), access decisions (package
// access) or anything about events and workflows.
package record
