// Package event holds the events the CRM pushes (SPEC §3): their types, the
// strict JSON decoding that reports every bad field, and their encoding.
//
// It does not apply events to records (package engine does) nor move them
// between processes (package queue).
package event
