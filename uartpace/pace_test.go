package uartpace

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestByteTime(t *testing.T) {
	for _, tc := range []struct {
		baud int
		want time.Duration
	}{
		{9600, 1041666 * time.Nanosecond},
		{115200, 86805 * time.Nanosecond},
		{1000000, 10 * time.Microsecond},
	} {
		assert.Equal(t, tc.want, ByteTime(tc.baud), "%d baud", tc.baud)
	}
}

// fakeClock advances only when the pacer sleeps.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time        { return c.t }
func (c *fakeClock) sleep(d time.Duration) { c.t = c.t.Add(d) }
func newFake(baud int) (*Pacer, *fakeClock) {
	c := &fakeClock{t: time.Unix(0, 0)}
	p := New(baud)
	p.now, p.sleep = c.now, c.sleep
	return p, c
}

func TestPacerTakesTheLineTime(t *testing.T) {
	for _, tc := range []struct {
		name   string
		baud   int
		writes []int // sizes written back to back
		chunks []int // what reaches the port, in order
		took   time.Duration
	}{
		{"one byte at 9600", 9600, []int{1}, []int{1}, ByteTime(9600)},
		{"a 2 KB certificate at 115200 in FIFO steps", 115200, []int{2048}, repeat(32, 64), 2048 * ByteTime(115200)},
		{"two writes share the line", 9600, []int{40, 10}, []int{32, 8, 10}, 50 * ByteTime(9600)},
		{"empty write is free", 9600, []int{0}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, c := newFake(tc.baud)
			start := c.t
			var got []int
			for _, n := range tc.writes {
				w, err := p.Write(make([]byte, n), func(b []byte) (int, error) { got = append(got, len(b)); return len(b), nil })
				require.NoError(t, err)
				assert.Equal(t, n, w)
			}
			assert.Equal(t, tc.chunks, got)
			assert.Equal(t, tc.took, c.t.Sub(start))
		})
	}
}

func TestPacerIdleLineStartsNow(t *testing.T) {
	p, c := newFake(9600)
	_, _ = p.Write([]byte("a"), func(b []byte) (int, error) { return len(b), nil })
	c.t = c.t.Add(time.Hour) // the line sat idle
	before := c.t
	_, _ = p.Write([]byte("b"), func(b []byte) (int, error) { return len(b), nil })
	assert.Equal(t, ByteTime(9600), c.t.Sub(before), "idle time is not credited")
}

func TestPacerStopsAtAWriteError(t *testing.T) {
	p, _ := newFake(115200)
	boom := errors.New("port closed")
	calls := 0
	n, err := p.Write(make([]byte, 100), func(b []byte) (int, error) {
		calls++
		if calls == 2 {
			return 0, boom
		}
		return len(b), nil
	})
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, 32, n)
}

func TestPacerRealClock(t *testing.T) {
	p := New(9600) // 100 bytes: 104 ms
	start := time.Now()
	_, err := p.Write(make([]byte, 100), func(b []byte) (int, error) { return len(b), nil })
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 100*ByteTime(9600))
}

func repeat(n, times int) []int {
	out := make([]int, times)
	for i := range out {
		out[i] = n
	}
	return out
}
