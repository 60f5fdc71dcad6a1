// Package redistest starts and reaches Redis servers for tests.
//
// Start runs a private redis-server on a free 127.0.0.1 port in a temporary
// directory, so that a test can kill and restart it (with AOF, its data
// survives a restart). Shared connects to the long-running server named by
// FOLLOWFLOW_TEST_REDIS_ADDR (default 127.0.0.1:6379) and hands out a unique
// key prefix whose keys are deleted when the test ends; it never flushes the
// server.
//
// When Redis is not available the helpers skip the test with a message
// saying how to install it, except when the environment variable CI is
// "true": there a missing Redis fails the test, so that a CI run can never
// pass by skipping its integration tests. This package is the only place a
// Redis test may skip.
//
// It holds no production code and is imported by tests only.
package redistest
