package bench

import (
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, ms(i))
	}
	ten := hundred[:10]
	for _, tc := range []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"p50 of 1..100", hundred, 50, ms(50)},
		{"p95 of 1..100", hundred, 95, ms(95)},
		{"p99 of 1..100", hundred, 99, ms(99)},
		{"p100 of 1..100", hundred, 100, ms(100)},
		{"p50 of 1..10", ten, 50, ms(5)},
		{"p95 of 1..10 rounds the rank up", ten, 95, ms(10)},
		{"p99 of 1..10", ten, 99, ms(10)},
		{"a tiny p is the smallest", ten, 0.001, ms(1)},
		{"one sample", []time.Duration{ms(7)}, 99, ms(7)},
		{"no samples", nil, 50, 0},
	} {
		if got := Percentile(tc.samples, tc.p); got != tc.want {
			t.Errorf("%s: Percentile(p%v) = %v, want %v", tc.name, tc.p, got, tc.want)
		}
	}
}

func TestSummarizeSortsAndSummarises(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	// 1..200 ms, shuffled deterministically.
	samples := make([]time.Duration, 200)
	for i := range samples {
		samples[i] = ms((i*73)%200 + 1)
	}
	l := Summarize(samples)
	want := Latency{N: 200, P50: ms(100), P95: ms(190), P99: ms(198), Max: ms(200), Mean: 100*time.Millisecond + 500*time.Microsecond}
	if l != want {
		t.Errorf("Summarize = %+v, want %+v", l, want)
	}
	if (Summarize(nil) != Latency{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", Summarize(nil))
	}
}
