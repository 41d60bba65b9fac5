package credstore

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkPut2KB measures one durable write (temp file, fsync, rename, directory
// fsync) of a 2 KB certificate replacing the previous one.
func BenchmarkPut2KB(b *testing.B) {
	s := openT(b, b.TempDir())
	cert := bytes.Repeat([]byte("MIIDQTCCAimgAwIBAgITBmyfz5m/jAo54vB4ikPmljZbyjANBgkqhkiG9w0BAQsF\n"), 2048/65+1)[:2048]
	k := Key{Tag: 16842753, Type: 0}
	require.NoError(b, s.Put(k, cert))
	b.SetBytes(int64(len(cert)))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		cert[0] = byte('A' + i%26)
		if err := s.Put(k, cert); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkList lists a full default-capacity store (256 slots) from the cache.
func BenchmarkList(b *testing.B) {
	s := openT(b, b.TempDir(), WithCapacity(0, 0))
	for i := range DefaultMaxEntries {
		k := Key{Tag: uint32(i / 4 * 1000), Type: i % 4}
		require.NoError(b, s.Put(k, fmt.Appendf(nil, "credential %d", i)))
	}
	for _, bc := range []struct {
		name string
		f    Filter
		want int
	}{
		{"all", AnyFilter(), DefaultMaxEntries},
		{"tag", TagFilter(5000), 4},
		{"exact", ExactFilter(Key{5000, 1}), 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if n := len(s.List(bc.f)); n != bc.want {
					b.Fatalf("listed %d, want %d", n, bc.want)
				}
			}
		})
	}
}
