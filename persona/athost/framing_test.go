package athost

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/modemsim/modemsim/atparser"
)

func TestAppendResponse(t *testing.T) {
	pem := "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
	tests := []struct {
		name     string
		resp     atparser.Response
		bare     string
		prefixed string
	}{
		{"OK", atparser.OK(), "OK\r\n", "\r\nOK\r\n"},
		{"ERROR", atparser.Error(), "ERROR\r\n", "\r\nERROR\r\n"},
		{"CME", atparser.CMEError(513), "+CME ERROR: 513\r\n", "\r\n+CME ERROR: 513\r\n"},
		{"CME zero", atparser.CMEError(0), "+CME ERROR: 0\r\n", "\r\n+CME ERROR: 0\r\n"},
		{"CMS", atparser.CMSError(500), "+CMS ERROR: 500\r\n", "\r\n+CMS ERROR: 500\r\n"},
		{"one line", atparser.OK("352656100367872"), "352656100367872\r\nOK\r\n", "\r\n352656100367872\r\n\r\nOK\r\n"},
		{"read", atparser.OK("+CFUN: 4"), "+CFUN: 4\r\nOK\r\n", "\r\n+CFUN: 4\r\n\r\nOK\r\n"},
		{"two lines", atparser.OK(`%CMNG: 16842753,0,"2C43"`, `%CMNG: 42,0,"AB"`),
			"%CMNG: 16842753,0,\"2C43\"\r\n%CMNG: 42,0,\"AB\"\r\nOK\r\n",
			"\r\n%CMNG: 16842753,0,\"2C43\"\r\n%CMNG: 42,0,\"AB\"\r\n\r\nOK\r\n"},
		{"PEM verbatim", atparser.OK(`%CMNG: 42,0,"SHA","` + pem + `"`),
			"%CMNG: 42,0,\"SHA\",\"" + pem + "\"\r\nOK\r\n",
			"\r\n%CMNG: 42,0,\"SHA\",\"" + pem + "\"\r\n\r\nOK\r\n"},
		{"lines then CME", atparser.Response{Lines: []string{"x"}, Final: atparser.FinalCME, Code: 518}, "x\r\n+CME ERROR: 518\r\n", "\r\nx\r\n\r\n+CME ERROR: 518\r\n"},
		{"no final", atparser.Response{Lines: []string{"a", "b"}}, "a\r\nb\r\n", "\r\na\r\nb\r\n"},
		{"nothing", atparser.Response{}, "", ""},
		{"empty line kept", atparser.OK(""), "\r\nOK\r\n", "\r\n\r\n\r\nOK\r\n"},
		{"unknown final is ERROR", atparser.Response{Final: atparser.FinalKind(99)}, "ERROR\r\n", "\r\nERROR\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.bare, string(Bare.AppendResponse(nil, tc.resp)))
			assert.Equal(t, tc.prefixed, string(Prefixed.AppendResponse(nil, tc.resp)))
		})
	}
}

func TestAppendResponseAppends(t *testing.T) {
	dst := []byte("+CEREG: 2\r\n")
	dst = Bare.AppendResponse(dst, atparser.OK())
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
			assert.Equal(t, tc.bare, string(Bare.AppendURC(nil, tc.line)))
			assert.Equal(t, tc.prefixed, string(Prefixed.AppendURC(nil, tc.line)))
		})
	}
}
