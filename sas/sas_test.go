package sas

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// key0to31 is the constructed key of §1.3/§2.3: bytes 0..31.
func key0to31() []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = byte(i)
	}
	return k
}

var se1900 = time.Unix(1900000000, 0)

func TestVectors(t *testing.T) {
	key := key0to31()
	require.Equal(t, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", base64.StdEncoding.EncodeToString(key))

	t.Run("hub %2F (§1.3)", func(t *testing.T) {
		got := Sign("myhub.azure-devices.net%2Fdevices%2Fdev1", key, se1900, "")
		assert.Equal(t, "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=2%2FbbVukbBxhdR4aRdJgLLhQzyetTcv8yWMS4N9W7HVY%3D&se=1900000000", got)
		tok, err := Parse(got)
		require.NoError(t, err)
		require.NoError(t, tok.Verify(key))
	})
	t.Run("hub %2f variant (§1.3)", func(t *testing.T) {
		got := Sign("myhub.azure-devices.net%2fdevices%2fdev1", key, se1900, "")
		tok, err := Parse(got)
		require.NoError(t, err)
		assert.Equal(t, "LZNJ7dZSH8R77oICFFya0IZ5aqc+3yTvHIp7SbrH+hM=", base64.StdEncoding.EncodeToString(tok.Signature))
	})
	t.Run("derived key and DPS password (§2.3)", func(t *testing.T) {
		dk := DeriveDeviceKey(key, "dev1")
		assert.Equal(t, "jgNHkpsSyy5knqEYC62lGiPQlRRClkZht9bpLre3fa0=", base64.StdEncoding.EncodeToString(dk))
		got := Sign("0ne00000000%2fregistrations%2fdev1", dk, se1900, "registration")
		assert.Equal(t, "SharedAccessSignature sr=0ne00000000%2fregistrations%2fdev1&sig=Fym7Tx1x9rxz5Rvw6%2FnYRjX0lTG4ZQ5fvvASv%2FyMQ%2F0%3D&se=1900000000&skn=registration", got)
		tok, err := Parse(got)
		require.NoError(t, err)
		assert.Equal(t, "registration", tok.KeyName)
		require.NoError(t, tok.Verify(dk))
		// The group key itself must not verify (§2.3 [doc P-SYM]).
		require.ErrorIs(t, tok.Verify(key), ErrBadSignature)
	})
}

func TestVerifyCaseOfEscapesMatters(t *testing.T) {
	// H2: a token signed over %2F but sent with %2f fails, and the error names
	// the exact string verified.
	key := key0to31()
	upper := Sign("myhub.azure-devices.net%2Fdevices%2Fdev1", key, se1900, "")
	sent := strings.Replace(upper, "sr=myhub.azure-devices.net%2Fdevices%2Fdev1", "sr=myhub.azure-devices.net%2fdevices%2fdev1", 1)
	tok, err := Parse(sent)
	require.NoError(t, err)
	err = tok.Verify(key)
	require.ErrorIs(t, err, ErrBadSignature)
	assert.Contains(t, err.Error(), `"myhub.azure-devices.net%2fdevices%2fdev1\n1900000000"`)
	dec, err := tok.ResourceDecoded()
	require.NoError(t, err)
	assert.Equal(t, "myhub.azure-devices.net/devices/dev1", dec)
}

func TestParse(t *testing.T) {
	good := "SharedAccessSignature sr=h%2Fdevices%2Fd&sig=AAAA&se=10"
	tests := []struct {
		name    string
		in      string
		want    Token
		wantErr string
	}{
		{name: "ok", in: good, want: Token{Resource: "h%2Fdevices%2Fd", Signature: []byte{0, 0, 0}, Expiry: time.Unix(10, 0).UTC()}},
		{name: "any order with skn", in: "SharedAccessSignature skn=device&se=10&sig=AAAA&sr=h",
			want: Token{Resource: "h", Signature: []byte{0, 0, 0}, Expiry: time.Unix(10, 0).UTC(), KeyName: "device"}},
		{name: "no prefix", in: "sr=h&sig=AAAA&se=10", wantErr: "does not start with"},
		{name: "lower prefix", in: "sharedaccesssignature sr=h&sig=AAAA&se=10", wantErr: "does not start with"},
		{name: "missing sr", in: "SharedAccessSignature sig=AAAA&se=10", wantErr: `missing field "sr"`},
		{name: "missing sig", in: "SharedAccessSignature sr=h&se=10", wantErr: `missing field "sig"`},
		{name: "missing se", in: "SharedAccessSignature sr=h&sig=AAAA", wantErr: `missing field "se"`},
		{name: "dup", in: "SharedAccessSignature sr=h&sr=h&sig=AAAA&se=10", wantErr: `duplicate field "sr"`},
		{name: "unknown", in: good + "&foo=1", wantErr: `unknown field "foo"`},
		{name: "no equals", in: good + "&skn", wantErr: `has no '='`},
		{name: "empty sr", in: "SharedAccessSignature sr=&sig=AAAA&se=10", wantErr: `empty "sr"`},
		{name: "bad escape sr", in: "SharedAccessSignature sr=h%2&sig=AAAA&se=10", wantErr: `"sr" is not URL-encoded`},
		{name: "bad base64", in: "SharedAccessSignature sr=h&sig=A!AA&se=10", wantErr: `"sig" is not base64`},
		{name: "unescaped plus", in: "SharedAccessSignature sr=h&sig=AA+A&se=10", wantErr: "unescaped '+'"},
		{name: "empty sig", in: "SharedAccessSignature sr=h&sig=&se=10", wantErr: `empty "sig"`},
		{name: "sig only CR (fuzz crasher)", in: "SharedAccessSignature sr=0&sig=\r&se=0", wantErr: `decodes to no signature bytes`},
		{name: "sig only escaped CRLF", in: "SharedAccessSignature sr=h&sig=%0D%0A&se=10", wantErr: `decodes to no signature bytes`},
		{name: "se not int", in: "SharedAccessSignature sr=h&sig=AAAA&se=soon", wantErr: "epoch seconds"},
		{name: "se zero is epoch 0, not malformed", in: "SharedAccessSignature sr=h&sig=AAAA&se=0",
			want: Token{Resource: "h", Signature: []byte{0, 0, 0}, Expiry: time.Unix(0, 0).UTC()}},
		{name: "se negative", in: "SharedAccessSignature sr=h&sig=AAAA&se=-1", wantErr: "epoch seconds"},
		{name: "se plus", in: "SharedAccessSignature sr=h&sig=AAAA&se=+1", wantErr: "epoch seconds"},
		{name: "se empty", in: "SharedAccessSignature sr=h&sig=AAAA&se=", wantErr: "epoch seconds"},
		{name: "bad skn escape", in: good + "&skn=%zz", wantErr: `"skn" is not URL-encoded`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantErr != "" {
				require.ErrorIs(t, err, ErrMalformed)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestCheckExpiry(t *testing.T) {
	tok := Token{Expiry: se1900}
	tests := []struct {
		name string
		now  time.Time
		skew time.Duration
		ok   bool
	}{
		{"before", se1900.Add(-time.Hour), DefaultSkew, true},
		{"at", se1900, DefaultSkew, true},
		{"within skew", se1900.Add(4 * time.Minute), DefaultSkew, true},
		{"past skew", se1900.Add(5*time.Minute + time.Second), DefaultSkew, false},
		{"no skew", se1900.Add(time.Second), 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tok.CheckExpiry(tc.now, tc.skew)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrExpired)
			assert.Contains(t, err.Error(), "1900000000")
			assert.Contains(t, err.Error(), "2030-03-17T17:46:40Z")
		})
	}
}

func TestResourceCovers(t *testing.T) {
	tests := []struct {
		tok, target string
		want        bool
	}{
		{"h/devices/dev1", "h/devices/dev1", true},
		{"H/Devices/dev1", "h/devices/DEV1", true},
		{"h/devices", "h/devices/dev1", true},
		{"h/devices/", "h/devices/dev1", true},
		{"h", "h/devices/dev1/modules/m", true},
		{"h/devices/dev", "h/devices/dev1", false},
		{"h/devices/dev1", "h/devices", false},
		{"other/devices", "h/devices/dev1", false},
		{"", "h", false},
	}
	for _, tc := range tests {
		t.Run(tc.tok+"→"+tc.target, func(t *testing.T) {
			assert.Equal(t, tc.want, ResourceCovers(tc.tok, tc.target))
		})
	}
}

func TestWrongKey(t *testing.T) {
	tok, err := Parse(Sign("h%2Fdevices%2Fd", []byte("right"), se1900, ""))
	require.NoError(t, err)
	err = tok.Verify([]byte("wrong"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrBadSignature))
}

func FuzzParse(f *testing.F) {
	f.Add("SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=2%2FbbVukbBxhdR4aRdJgLLhQzyetTcv8yWMS4N9W7HVY%3D&se=1900000000")
	f.Add("SharedAccessSignature sr=0ne00000000%2fregistrations%2fdev1&sig=Fym7Tx1x9rxz5Rvw6%2FnYRjX0lTG4ZQ5fvvASv%2FyMQ%2F0%3D&se=1900000000&skn=registration")
	f.Add("SharedAccessSignature se=1&sr=a&sig=&skn=")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if tok.Resource == "" || len(tok.Signature) == 0 {
			t.Fatalf("accepted token with empty sr or sig: %q", s)
		}
		if _, err := tok.ResourceDecoded(); err != nil {
			t.Fatalf("accepted sr that does not decode: %v", err)
		}
		// A token re-signed from the parsed fields must parse back to the same fields.
		key := []byte("k")
		re, err := Parse(Sign(tok.Resource, key, tok.Expiry, tok.KeyName))
		if err != nil {
			t.Fatalf("re-parse of signed token: %v", err)
		}
		if re.Resource != tok.Resource || !re.Expiry.Equal(tok.Expiry) || re.KeyName != tok.KeyName {
			t.Fatalf("round trip changed fields: %+v vs %+v", re, tok)
		}
		if err := re.Verify(key); err != nil {
			t.Fatalf("round trip does not verify: %v", err)
		}
	})
}

func BenchmarkParseVerify(b *testing.B) {
	key := key0to31()
	tok := Sign("myhub.azure-devices.net%2Fdevices%2Fdev1", key, se1900, "")
	b.ReportAllocs()
	for b.Loop() {
		t, err := Parse(tok)
		if err != nil {
			b.Fatal(err)
		}
		if err := t.Verify(key); err != nil {
			b.Fatal(err)
		}
	}
}
