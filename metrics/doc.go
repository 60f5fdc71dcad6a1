// Package metrics exposes what a followflow worker does as Prometheus
// metrics, and serves them with a health check over HTTP. It implements
// worker.Metrics; it does not decide anything.
package metrics
