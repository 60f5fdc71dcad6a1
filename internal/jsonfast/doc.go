// Package jsonfast reads the JSON that followflow itself and most
// producers write (objects of known fields with their exact names, strings
// without escapes, no nulls) without encoding/json's reflection. Its
// readers give up (return false) on anything else, valid or not; callers
// then decode with encoding/json, which alone reports errors. When they
// succeed, the value is the one encoding/json would give.
package jsonfast
