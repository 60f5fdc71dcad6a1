package event

// DecodeFast exports decodeFast to the tests.
var DecodeFast = decodeFast
