package atparser

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAppendResponse(t *testing.T) {
	pem := "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
	tests := []struct {
		name     string
		resp     Response
		bare     string
		prefixed string
	}{
		{"OK", OK(), "OK\r\n", "\r\nOK\r\n"},
		{"ERROR", Error(), "ERROR\r\n", "\r\nERROR\r\n"},
		{"CME", CMEError(513), "+CME ERROR: 513\r\n", "\r\n+CME ERROR: 513\r\n"},
		{"CME zero", CMEError(0), "+CME ERROR: 0\r\n", "\r\n+CME ERROR: 0\r\n"},
		{"CMS", CMSError(500), "+CMS ERROR: 500\r\n", "\r\n+CMS ERROR: 500\r\n"},
		{"one line", OK("352656100367872"), "352656100367872\r\nOK\r\n", "\r\n352656100367872\r\n\r\nOK\r\n"},
		{"read", OK("+CFUN: 4"), "+CFUN: 4\r\nOK\r\n", "\r\n+CFUN: 4\r\n\r\nOK\r\n"},
		{"two lines", OK(`%CMNG: 16842753,0,"2C43"`, `%CMNG: 42,0,"AB"`),
			"%CMNG: 16842753,0,\"2C43\"\r\n%CMNG: 42,0,\"AB\"\r\nOK\r\n",
			"\r\n%CMNG: 16842753,0,\"2C43\"\r\n%CMNG: 42,0,\"AB\"\r\n\r\nOK\r\n"},
		{"PEM verbatim", OK(`%CMNG: 42,0,"SHA","` + pem + `"`),
			"%CMNG: 42,0,\"SHA\",\"" + pem + "\"\r\nOK\r\n",
			"\r\n%CMNG: 42,0,\"SHA\",\"" + pem + "\"\r\n\r\nOK\r\n"},
		{"lines then CME", Response{Lines: []string{"x"}, Final: FinalCME, Code: 518}, "x\r\n+CME ERROR: 518\r\n", "\r\nx\r\n\r\n+CME ERROR: 518\r\n"},
		{"no final", Response{Lines: []string{"a", "b"}}, "a\r\nb\r\n", "\r\na\r\nb\r\n"},
		{"nothing", Response{}, "", ""},
		{"empty line kept", OK(""), "\r\nOK\r\n", "\r\n\r\n\r\nOK\r\n"},
		{"unknown final is ERROR", Response{Final: FinalKind(99)}, "ERROR\r\n", "\r\nERROR\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.bare, string(FramingBare.AppendResponse(nil, tc.resp)))
			assert.Equal(t, tc.prefixed, string(FramingPrefixed.AppendResponse(nil, tc.resp)))
		})
	}
}

func TestAppendResponseAppends(t *testing.T) {
	dst := []byte("+CEREG: 2\r\n")
	dst = FramingBare.AppendResponse(dst, OK())
	assert.Equal(t, "+CEREG: 2\r\nOK\r\n", string(dst))
}

func TestAppendURC(t *testing.T) {
	tests := []struct {
		name     string
		line     string
		bare     string
		prefixed string
	}{
		{"cereg", "+CEREG: 2", "+CEREG: 2\r\n", "\r\n+CEREG: 2\r\n"},
		{"mqtt event", "#XMQTTEVT: 0,0", "#XMQTTEVT: 0,0\r\n", "\r\n#XMQTTEVT: 0,0\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.bare, string(FramingBare.AppendURC(nil, tc.line)))
			assert.Equal(t, tc.prefixed, string(FramingPrefixed.AppendURC(nil, tc.line)))
		})
	}
}
