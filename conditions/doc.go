// Package conditions compiles and evaluates workflow conditions: expr-lang
// expressions over a typed environment (opportunity, contact, event, now).
//
// Expressions are compiled once, when workflows load, against the Env struct
// and must be boolean, so a misspelled field is a load error. Callers give
// Facts (the records in context, the event, the time); the VM sees an Env
// copied from them, plain data and no functions with effects. Evaluation
// reuses an expr VM and its Env per caller. The most common shapes (fields
// compared with constants or with each other, "in" a tag or follower list,
// joined by and, or and not) also get a native evaluator at compile time
// that runs them in plain Go, reading the Facts in place with no copy,
// about ten times faster than the VM; it hands
// over to the VM whenever it could not answer exactly as the VM would (a
// record not in context), and a fuzz test (FuzzNative) checks that both
// always agree. This package does not decide when
// a condition runs; package actions does.
package conditions
