// Package cli holds the followflow command line (SPEC §6): every command's
// flags, what it prints and its exit code, writing to injected writers so
// that tests run commands in process. cmd/followflow only calls Main.
//
// Exit codes: 0 success; 1 the command ran and found problems (validation
// errors, bad input, a refused change); 2 the command line itself is wrong.
package cli
