// Package conditions compiles and evaluates workflow conditions: expr-lang
// expressions over a typed environment (opportunity, contact, event, now).
//
// Expressions are compiled once, when workflows load, against the Env struct
// and must be boolean, so a misspelled field is a load error. The
// environment holds plain copied data and no functions with effects.
// Evaluation reuses an expr VM per caller. This package does not decide when
// a condition runs; package actions does.
package conditions
