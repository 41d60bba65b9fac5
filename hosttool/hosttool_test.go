package hosttool

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAnswersTo(t *testing.T) {
	log := []Event{
		{Wrote: true, Data: []byte("AT\r\n")},
		{Data: []byte("O")}, {Data: []byte("K\r\n")},
		{Wrote: true, Data: []byte("AT+CGSN\r\n")},
		{Data: []byte("352656100367872\r\nOK\r\n")},
		{Wrote: true, Data: []byte("AT\r\n")},
	}
	tests := []struct {
		sent string
		want []string
	}{
		{"AT\r\n", []string{"OK\r\n", ""}},
		{"AT+CGSN\r\n", []string{"352656100367872\r\nOK\r\n"}},
		{"AT+CFUN=4\r\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.sent, func(t *testing.T) {
			var got []string
			for _, a := range AnswersTo(log, []byte(tc.sent)) {
				got = append(got, string(a))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestIsFinal(t *testing.T) {
	for line, want := range map[string]bool{"OK": true, "ERROR": true, "+CME ERROR: 513": true, "+CMS ERROR: 1": true,
		"%CMNG: 1,0,\"AB\"": false, "": false, "OK ": false} {
		assert.Equal(t, want, IsFinal(line), "%q", line)
	}
}

func TestCSRFromKeygen(t *testing.T) {
	for _, n := range []int{1, 2, 3, 30, 31, 32} { // every padding length
		der := make([]byte, n)
		for i := range der {
			der[i] = byte(i * 7)
		}
		line := `%KEYGEN: "` + base64.RawURLEncoding.EncodeToString(der) + `.0oRDoQEm"`
		got, err := csrFromKeygen(line)
		require.NoError(t, err)
		assert.Equal(t, der, got)
	}
	_, err := csrFromKeygen("%KEYGEN: nothing quoted")
	assert.Error(t, err)
	_, err = csrFromKeygen(`%KEYGEN: "!!!"`)
	assert.Error(t, err)
}

func TestCommands(t *testing.T) {
	assert.Equal(t, "AT%CMNG=1", listCommand(nil))
	assert.Equal(t, "AT%CMNG=1,42,0", listCommand([]int{42, 0}))
	assert.Equal(t, `AT%CMNG=0,42,0,"x"`, writeCommand(42, 0, "x"))
	assert.Equal(t, `AT%KEYGEN=7,2,0,"CN=a"`, keygenCommand(7, "CN=a"))
	assert.Equal(t, "AT%KEYGEN=7,2,0", keygenCommand(7, ""))
	assert.True(t, nordicTag(4294967293))
	assert.False(t, nordicTag(4294967295))
}
