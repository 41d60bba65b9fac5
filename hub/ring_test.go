package hub

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRingKeepsNewestInOrder(t *testing.T) {
	tests := []struct {
		max, add int
		want     []int
	}{
		{3, 0, []int{}},
		{3, 2, []int{0, 1}},
		{3, 3, []int{0, 1, 2}},
		{3, 4, []int{1, 2, 3}},
		{3, 8, []int{5, 6, 7}},
		{1, 5, []int{4}},
	}
	for _, tt := range tests {
		r := ring[int]{max: tt.max}
		for i := range tt.add {
			r.add(i)
		}
		assert.Equal(t, tt.want, r.list(), "max %d add %d", tt.max, tt.add)
	}
}

func BenchmarkRingAddFull(b *testing.B) {
	r := ring[Message]{max: DefaultTelemetryRetention}
	m := Message{DeviceID: "d", Payload: make([]byte, 64)}
	for b.Loop() {
		r.add(m)
	}
}
