package jsonfast

import (
	"iter"
	"reflect"
	"strings"
)

// Fields yields the exported fields of the struct type t with the keys
// encoding/json gives them: the json tag's name, else the field's; fields
// tagged "-" are left out.
func Fields(t reflect.Type) iter.Seq2[string, reflect.StructField] {
	return func(yield func(string, reflect.StructField) bool) {
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if !yield(name, f) {
				return
			}
		}
	}
}
