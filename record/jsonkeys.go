package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/followflow/followflow/internal/jsonfast"
)

// checkJSONKeys returns a problem for every key of the JSON data file b that
// is not exactly the name of a field of its object (encoding/json would
// take "ID" for "id") and for every key repeated in its object (encoding/json
// would keep the last), each with its place and path: `line 3, column 5:
// users[0].emal: unknown field`. Values are not checked (the decoder does
// that), nor what lies under an unknown key. When b is not JSON it returns
// what it found before the syntax error, which the decoder then reports.
func checkJSONKeys(b []byte) []string {
	w := keyWalker{b: b, dec: json.NewDecoder(bytes.NewReader(b)), line: 1, col: 1}
	w.dec.UseNumber()
	_ = w.value(reflect.TypeFor[datasetFile](), "")
	return w.problems
}

type keyWalker struct {
	b        []byte
	dec      *json.Decoder
	problems []string
	// off is the last place reported, at line and col (from 1).
	off, line, col int
}

// value reads one value, of type t (nil: unknown, not checked), at path.
func (w *keyWalker) value(t reflect.Type, path string) error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch d {
	case '[':
		var elem reflect.Type
		if t != nil && t.Kind() == reflect.Slice {
			elem = t.Elem()
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.value(elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case '{':
		fields := jsonFields(t)
		seen := map[string]bool{}
		for w.dec.More() {
			tok, err := w.dec.Token()
			if err != nil {
				return err
			}
			key, _ := tok.(string)
			kpath := key
			if path != "" {
				kpath = path + "." + key
			}
			ft, known := fields[key]
			switch {
			case seen[key]:
				w.problems = append(w.problems, fmt.Sprintf("%s: %s: duplicate field", w.place(), kpath))
			case fields != nil && !known:
				w.problems = append(w.problems, fmt.Sprintf("%s: %s: unknown field", w.place(), kpath))
			}
			seen[key] = true
			if err := w.value(ft, kpath); err != nil {
				return err
			}
		}
	}
	_, err = w.dec.Token() // the closing ] or }
	return err
}

// place is the line and column of the key just read (the decoder stands
// after it and its colon is still to come). Keys are read in order, so it
// counts lines on from the place it found last.
func (w *keyWalker) place() string {
	off := int(w.dec.InputOffset()) - 1 // the key's closing quote
	for off > 0 && w.b[off] != '"' {
		off--
	}
	open := bytes.LastIndexByte(w.b[:off], '"')
	for open > 0 && w.b[open-1] == '\\' { // an escaped quote inside the key
		open = bytes.LastIndexByte(w.b[:open-1], '"')
	}
	open = max(open, w.off)
	for _, c := range w.b[w.off:open] {
		if c == '\n' {
			w.line, w.col = w.line+1, 1
		} else {
			w.col++
		}
	}
	w.off = open
	return fmt.Sprintf("line %d, column %d", w.line, w.col)
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// jsonFields returns the fields of a struct type by their json names; nil
// for any other type, and for a type that decodes itself (time.Time).
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if t == nil || t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	out := map[string]reflect.Type{}
	for name, f := range jsonfast.Fields(t) {
		out[name] = f.Type
	}
	return out
}
