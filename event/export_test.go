package event

import "github.com/followflow/followflow/internal/jsonfast"

// DecodeFast exports decodeFast to the tests.
func DecodeFast(b []byte, ev *Event) bool { return decodeFast(jsonfast.New(b), ev) }

// DecodeSlow exports decodeSlow to the tests.
func DecodeSlow(b []byte, ev *Event) error { return decodeSlow(b, ev) }
