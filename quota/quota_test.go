package quota

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBucket(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		b      *Bucket
		at     []time.Duration // offsets from t0
		allows []bool
	}{
		{"unlimited", New(0, time.Second), []time.Duration{0, 0, 0}, []bool{true, true, true}},
		{"zero window is unlimited", New(1, 0), []time.Duration{0, 0, 0}, []bool{true, true, true}},
		{"negative limit is unlimited", New(-1, time.Second), []time.Duration{0, 0}, []bool{true, true}},
		{"nil", nil, []time.Duration{0}, []bool{true}},
		{"burst then refuse", New(2, time.Minute), []time.Duration{0, 0, 0}, []bool{true, true, false}},
		{"refills over the window", New(2, time.Minute), []time.Duration{0, 0, 0, 30 * time.Second, 30 * time.Second},
			[]bool{true, true, false, true, false}},
		{"never above the limit", New(1, time.Second), []time.Duration{0, time.Hour, time.Hour}, []bool{true, true, false}},
		{"clock going back refills nothing", New(1, time.Second), []time.Duration{time.Hour, 0}, []bool{true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, off := range tc.at {
				assert.Equal(t, tc.allows[i], tc.b.Allow(t0.Add(off)), "op %d", i)
			}
		})
	}
}
