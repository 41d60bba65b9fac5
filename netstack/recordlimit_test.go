package netstack

import (
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// record is a TLS record header followed by n body bytes.
func record(typ byte, n int) []byte {
	b := []byte{typ, 3, 3, byte(n >> 8), byte(n)}
	return append(b, make([]byte, n)...)
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestRecordInspector(t *testing.T) {
	tests := []struct {
		name    string
		limit   int
		stream  []byte
		chunk   int // feed in chunks of this size (0: at once)
		wantErr *RecordTooLargeError
		records int
	}{
		{"under the limit", 4096, concat(record(22, 100), record(22, 4096)), 0, nil, 2},
		{"handshake record over the limit", 2048, concat(record(22, 90), record(22, 3000)), 0,
			&RecordTooLargeError{ContentType: 22, Length: 3000, Limit: 2048}, 2},
		{"header split across reads", 2048, concat(record(22, 10), record(22, 2049)), 1,
			&RecordTooLargeError{ContentType: 22, Length: 2049, Limit: 2048}, 2},
		{"encrypted records may carry the GCM expansion", 1024,
			concat(record(20, 1), record(22, 1024+24), record(23, 1024+24)), 7, nil, 3},
		{"encrypted record over limit and expansion", 1024,
			concat(record(20, 1), record(23, 1024+25)), 0,
			&RecordTooLargeError{ContentType: 23, Length: 1049, Limit: 1048}, 2},
		{"no limit only counts", 0, concat(record(22, 16384), record(23, 5)), 3, nil, 2},
		{"partial header is not a record", 10, []byte{22, 3, 3}, 0, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ins := NewRecordInspector(tc.limit)
			var err error
			if tc.chunk == 0 {
				err = ins.Feed(tc.stream)
			} else {
				for p := tc.stream; len(p) > 0 && err == nil; {
					n := min(tc.chunk, len(p))
					err = ins.Feed(p[:n])
					p = p[n:]
				}
			}
			assert.Equal(t, tc.records, ins.Records)
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			var rt *RecordTooLargeError
			require.True(t, errors.As(err, &rt), "%v", err)
			assert.Equal(t, tc.wantErr, rt)
			assert.Equal(t, ClassRecordTooLarge, Classify(err))
			assert.Equal(t, err, ins.Feed(record(22, 1)), "a refused stream stays refused")
		})
	}
}

// FuzzRecordInspector: any bytes, in any chunking, give the same verdict
// and count as the whole stream at once, and never panic.
func FuzzRecordInspector(f *testing.F) {
	f.Add(concat(record(22, 100), record(20, 1), record(23, 40)), uint16(512), uint8(3))
	f.Add([]byte{22, 3, 3, 0xff, 0xff}, uint16(4096), uint8(1))
	f.Add([]byte{}, uint16(0), uint8(0))
	f.Fuzz(func(t *testing.T, stream []byte, limit uint16, chunk uint8) {
		whole := NewRecordInspector(int(limit))
		werr := whole.Feed(stream)
		parts := NewRecordInspector(int(limit))
		var perr error
		step := int(chunk) + 1
		for p := stream; len(p) > 0 && perr == nil; {
			n := min(step, len(p))
			perr = parts.Feed(p[:n])
			p = p[n:]
		}
		if (werr == nil) != (perr == nil) {
			t.Fatalf("whole %v, in chunks of %d %v", werr, step, perr)
		}
		if werr == nil && whole.Records != parts.Records {
			t.Fatalf("records %d vs %d", whole.Records, parts.Records)
		}
		if werr != nil {
			var rt *RecordTooLargeError
			if !errors.As(werr, &rt) || rt.Length <= rt.Limit {
				t.Fatalf("refusal %v", werr)
			}
		}
	})
}

func BenchmarkRecordInspector(b *testing.B) {
	stream := concat(record(22, 4000), record(20, 1), record(23, 1000))
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		_ = NewRecordInspector(16384).Feed(stream)
	}
}

// mbedTLS's reading of a stored buffer (WithMbedTLSCredentials): PEM only
// when NUL-terminated and labelled CERTIFICATE, else DER.
func TestMbedTLSCertificateRules(t *testing.T) {
	pemText, err := os.ReadFile("testdata/DigiCert_Global_Root_G2.pem")
	require.NoError(t, err)
	block, _ := pem.Decode(pemText)
	require.NotNil(t, block)
	caLabels := strings.ReplaceAll(string(pemText), "BEGIN CERTIFICATE", "BEGIN CA CERTIFICATE")
	caLabels = strings.ReplaceAll(caLabels, "END CERTIFICATE", "END CA CERTIFICATE")
	tests := []struct {
		name string
		buf  []byte
		ok   bool
	}{
		{"PEM with its NUL (bint, sizeof)", append(append([]byte{}, pemText...), 0), true},
		{"PEM with its NUL and no final newline", append([]byte(strings.TrimRight(string(pemText), "\n")), 0), true},
		{"PEM without a NUL is parsed as DER", pemText, false},
		{"made-up CA labels (W2)", append([]byte(caLabels), 0), false},
		{"DER", block.Bytes, true},
		{"empty", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			certs, err := mbedtlsCertificates(tc.buf)
			if !tc.ok {
				assert.ErrorIs(t, err, ErrBadCredential)
				assert.Equal(t, ClassBadCredential, Classify(err))
				return
			}
			require.NoError(t, err)
			assert.Len(t, certs, 1)
		})
	}
}

// FuzzMbedTLSCredentials: whatever a slot holds, reading it by mbedTLS's
// rules never panics, and a refusal is always ErrBadCredential.
func FuzzMbedTLSCredentials(f *testing.F) {
	pemText, err := os.ReadFile("testdata/DigiCert_Global_Root_G2.pem")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append(append([]byte{}, pemText...), 0))
	f.Add(pemText)
	f.Add([]byte("-----BEGIN CA CERTIFICATE-----\nAAAA\n-----END CA CERTIFICATE-----\n\x00"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\n\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := mbedtlsCertificates(b); err != nil && !errors.Is(err, ErrBadCredential) {
			t.Fatalf("certificate refusal %v", err)
		}
		if _, err := mbedtlsKey(b); err != nil && !errors.Is(err, ErrBadCredential) {
			t.Fatalf("key refusal %v", err)
		}
	})
}
