package store

import (
	"slices"
	"testing"
	"time"
)

func TestAddHist(t *testing.T) {
	t.Parallel()
	sum := addHist(nil, "{1,0,23}")
	sum = addHist(sum, "{2,5,0,7}")
	if want := append([]int64{3, 5, 23, 7}, make([]int64, histBuckets-4)...); !slices.Equal(sum, want) {
		t.Errorf("sum = %v", sum)
	}
}

func TestHistQuantile(t *testing.T) {
	t.Parallel()
	h := make([]int64, histBuckets)
	// 100 ms is in bucket floor(2·log2(1000)) = 19: [~72.4 ms, ~102.4 ms).
	h[19] = 10
	for _, q := range []float64{0.5, 0.95} {
		got := histQuantile(h, q, 100*time.Millisecond)
		if got < 72*time.Millisecond || got > 100*time.Millisecond {
			t.Errorf("q%.2f = %s, want within the bucket and at most the max", q, got)
		}
	}
	if got := histQuantile(make([]int64, histBuckets), 0.5, 0); got != 0 {
		t.Errorf("empty histogram: %s", got)
	}
}
