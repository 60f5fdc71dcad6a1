package record

import (
	"fmt"
	"reflect"

	"github.com/followflow/followflow/internal/jsonkeys"
)

// dataFileKeys are the keys of a data file's objects.
var dataFileKeys = jsonkeys.SchemaOf(reflect.TypeFor[datasetFile]())

// checkJSONKeys returns a problem for every key of the JSON data file b that
// is not exactly the name of a field of its object (encoding/json would
// take "ID" for "id") and for every key repeated in its object (encoding/json
// would keep the last), each with its place and path: `line 3, column 5:
// users[0].emal: unknown field`. It returns none when b is not JSON: the
// decoder reports that.
func checkJSONKeys(b []byte) []string {
	found, ok := jsonkeys.Check(b, dataFileKeys)
	if !ok {
		return nil
	}
	var out []string
	line, col, at := 1, 1, 0 // counted on from the last problem: they come in order
	for _, p := range found {
		for _, c := range b[at:p.Offset] {
			if c == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		at = p.Offset
		out = append(out, fmt.Sprintf("line %d, column %d: %s", line, col, p))
	}
	return out
}
