// Package trace holds what the engine reports about one processed event:
// which workflows matched and why others did not, each step with its result,
// and each follower outcome. The simulator prints it (text or JSON, SPEC §6)
// and the worker logs it. It holds no logic.
package trace
