package atparser

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func pInt(v int64) Param    { return Param{Kind: ParamInt, Int: v} }
func pStr(s string) Param   { return Param{Kind: ParamString, Str: s} }
func pTok(s string) Param   { return Param{Kind: ParamToken, Str: s} }
func pEmpty() Param         { return Param{Kind: ParamEmpty} }
func ps(p ...Param) []Param { return p }

func TestParse(t *testing.T) {
	pem := "-----BEGIN CERTIFICATE-----\r\nMIIB\nAA==\r\n-----END CERTIFICATE-----"
	tests := []struct {
		name   string
		in     string
		cmd    string
		kind   Kind
		params []Param
		line   string // want Command.Line; defaults to in
	}{
		{"bare AT", "AT", "", KindExec, nil, ""},
		{"bare at lower", "at", "", KindExec, nil, ""},
		{"bare At trailing ws", "At \t\r", "", KindExec, nil, ""},
		{"exec", "AT+CGSN", "+CGSN", KindExec, nil, ""},
		{"exec lower", "at+cgsn", "+CGSN", KindExec, nil, ""},
		{"leading LF from CRLF host", "\nAT+CGSN", "+CGSN", KindExec, nil, "AT+CGSN"},
		{"leading whitespace", " \t\r\nAT+CGSN", "+CGSN", KindExec, nil, "AT+CGSN"},
		{"trailing CR in LF mode", "AT+CGSN\r", "+CGSN", KindExec, nil, ""},
		{"read", "AT+CFUN?", "+CFUN", KindRead, nil, ""},
		{"read trailing ws", "AT+CFUN? \r", "+CFUN", KindRead, nil, ""},
		{"test", "AT+CFUN=?", "+CFUN", KindTest, nil, ""},
		{"set int", "AT+CFUN=4", "+CFUN", KindSet, ps(pInt(4)), ""},
		{"set empty", "AT+CFUN=", "+CFUN", KindSet, ps(pEmpty()), ""},
		{"set negative", "AT+X=-5,+7", "+X", KindSet, ps(pInt(-5), pInt(7)), ""},
		{"set max int64", "AT+X=9223372036854775807,-9223372036854775808", "+X", KindSet,
			ps(pInt(9223372036854775807), pInt(-9223372036854775808)), ""},
		{"leading zeros", "AT+X=007", "+X", KindSet, ps(pInt(7)), ""},
		{"percent", "AT%CMNG=1", "%CMNG", KindSet, ps(pInt(1)), ""},
		{"space after comma", "AT%CMNG=1, 42", "%CMNG", KindSet, ps(pInt(1), pInt(42)), ""},
		{"spaces everywhere", "AT%CMNG= 3 ,\t42 , 1 ", "%CMNG", KindSet, ps(pInt(3), pInt(42), pInt(1)), ""},
		{"cmng list filter", "at%cmng=1,,0", "%CMNG", KindSet, ps(pInt(1), pEmpty(), pInt(0)), ""},
		{"trailing comma", "AT+X=1,", "+X", KindSet, ps(pInt(1), pEmpty()), ""},
		{"only commas", "AT+X=,,", "+X", KindSet, ps(pEmpty(), pEmpty(), pEmpty()), ""},
		{"cmng write PEM verbatim", `AT%CMNG=0,42,0,"` + pem + `"`, "%CMNG", KindSet,
			ps(pInt(0), pInt(42), pInt(0), pStr(pem)), ""},
		{"string with comma and semicolon", `AT+X="a,b;c"`, "+X", KindSet, ps(pStr("a,b;c")), ""},
		{"string no escapes", `AT+X="a\\b"`, "+X", KindSet, ps(pStr(`a\\b`)), ""},
		{"empty string", `AT+X=""`, "+X", KindSet, ps(pStr("")), ""},
		{"string with spaces around", `AT+X= "a b" ,1`, "+X", KindSet, ps(pStr("a b"), pInt(1)), ""},
		{"string keeps inner whitespace", "AT+X=\" a\r\n \"", "+X", KindSet, ps(pStr(" a\r\n ")), ""},
		{"string with NUL and high bytes", "AT+X=\"\x00\xff\"", "+X", KindSet, ps(pStr("\x00\xff")), ""},
		{"hex nonce token-free", `AT%ATTESTTOKEN="0123456789abcdef"`, "%ATTESTTOKEN", KindSet, ps(pStr("0123456789abcdef")), ""},
		{"token", "AT+S.FSC=/file.txt,100", "+S.FSC", KindSet, ps(pTok("/file.txt"), pInt(100)), ""},
		{"token mixed case kept", "AT+S.TLSCERT=Ca,2037", "+S.TLSCERT", KindSet, ps(pTok("Ca"), pInt(2037)), ""},
		{"token lower name upper", "at+s.sockr=0,", "+S.SOCKR", KindSet, ps(pInt(0), pEmpty()), ""},
		{"token with inner space", "AT+X=a b ,c", "+X", KindSet, ps(pTok("a b"), pTok("c")), ""},
		{"sign alone is token", "AT+X=-,+", "+X", KindSet, ps(pTok("-"), pTok("+")), ""},
		{"hex-like token", "AT+X=0x1F,1e3,12ab", "+X", KindSet, ps(pTok("0x1F"), pTok("1e3"), pTok("12ab")), ""},
		{"utf8 token", "AT+X=héllo", "+X", KindSet, ps(pTok("héllo")), ""},
		{"serial modem", "AT#XMQTTCON=1,\"\",\"\",\"h.azure-devices.net\",8883,42", "#XMQTTCON", KindSet,
			ps(pInt(1), pStr(""), pStr(""), pStr("h.azure-devices.net"), pInt(8883), pInt(42)), ""},
		{"underscore in name", "AT+X_Y1?", "+X_Y1", KindRead, nil, ""},
		{"basic E1", "ATE1", "E", KindSet, ps(pInt(1)), ""},
		{"basic e0 lower", "ate0", "E", KindSet, ps(pInt(0)), ""},
		{"basic Z", "ATZ", "Z", KindExec, nil, ""},
		{"basic I", "ATI", "I", KindExec, nil, ""},
		{"basic read", "ATE?", "E", KindRead, nil, ""},
		{"basic ampersand", "AT&F", "&F", KindExec, nil, ""},
		{"basic ampersand digit", "at&w0 ", "&W", KindSet, ps(pInt(0)), ""},
		{"basic multi digit", "ATS12", "S", KindSet, ps(pInt(12)), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd, err := Parse([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.cmd, cmd.Name)
			assert.Equal(t, tc.kind, cmd.Kind)
			assert.Equal(t, tc.params, cmd.Params)
			wantLine := tc.line
			if wantLine == "" {
				wantLine = tc.in
			}
			assert.Equal(t, wantLine, cmd.Line)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrNotAT},
		{"whitespace", " \r\n", ErrNotAT},
		{"one letter", "A", ErrNotAT},
		{"not AT", "HELLO", ErrNotAT},
		{"cred shell", "cred list", ErrNotAT},
		{"garbage", "\xff\xfe", ErrNotAT},
		{"space after AT", "at AT+CGSN", ErrSyntax},
		{"space before name", "AT +CGSN", ErrSyntax},
		{"space before =", "AT+CFUN =1", ErrSyntax},
		{"empty name", "AT+", ErrSyntax},
		{"empty name with =", "AT%=1", ErrSyntax},
		{"unterminated quote", `AT%CMNG=0,42,0,"-----BEGIN`, ErrSyntax},
		{"unterminated second quote", `AT+X="a","b`, ErrSyntax},
		{"quote in token", `AT+X=ab"c"`, ErrSyntax},
		{"quote after int", `AT+X=1"`, ErrSyntax},
		{"text after closing quote", `AT+X="a"b`, ErrSyntax},
		{"adjacent strings", `AT+X="a""b"`, ErrSyntax},
		{"stray text after ?", "AT+CFUN?x", ErrSyntax},
		{"stray text after =?", "AT+CFUN=?1", ErrSyntax},
		{"double ?", "AT+CFUN??", ErrSyntax},
		{"semicolon concatenation", "AT+CFUN=1;+CGSN", ErrSyntax},
		{"semicolon after exec", "AT+CGSN;+CGMI", ErrSyntax},
		{"semicolon basic", "ATE0;", ErrSyntax},
		{"basic concatenation", "ATE0V1", ErrSyntax},
		{"basic with =", "ATS0=1", ErrSyntax},
		{"int overflow", "AT+X=9223372036854775808", ErrSyntax},
		{"negative overflow", "AT+X=-9223372036854775809", ErrSyntax},
		{"basic overflow", "ATE99999999999999999999", ErrSyntax},
		{"control byte in token", "AT+X=a\x01b", ErrSyntax},
		{"NUL outside quotes", "AT+X=1\x00", ErrSyntax},
		{"DEL outside quotes", "AT+X=\x7f", ErrSyntax},
		{"bad name char", "AT+CG-SN", ErrSyntax},
		{"ampersand alone", "AT&", ErrSyntax},
		{"digit after AT", "AT1", ErrSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd, err := Parse([]byte(tc.in))
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.Equal(t, Command{}, cmd)
			if errors.Is(err, ErrSyntax) {
				var se *SyntaxError
				require.ErrorAs(t, err, &se)
				assert.NotEmpty(t, se.Reason)
				assert.GreaterOrEqual(t, se.Offset, 0)
			}
		})
	}
}

func TestSyntaxErrorOffset(t *testing.T) {
	_, err := Parse([]byte(`  AT+X=1,ab"c"`))
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 9, se.Offset, "offset of the token in Command.Line terms")
	assert.Contains(t, err.Error(), "quote")
}

func TestCommandAccessors(t *testing.T) {
	cmd, err := Parse([]byte(`AT%CMNG=0,42,,"pem",Ca`))
	require.NoError(t, err)
	assert.Equal(t, 5, cmd.ParamCount())

	v, ok := cmd.IntParam(1)
	assert.True(t, ok)
	assert.Equal(t, int64(42), v)
	_, ok = cmd.IntParam(3)
	assert.False(t, ok, "a string is not an int")
	_, ok = cmd.IntParam(9)
	assert.False(t, ok, "out of range")
	_, ok = cmd.IntParam(-1)
	assert.False(t, ok, "negative index")

	s, ok := cmd.StringParam(3)
	assert.True(t, ok)
	assert.Equal(t, "pem", s)
	_, ok = cmd.StringParam(4)
	assert.False(t, ok, "a token is not a quoted string")

	tok, ok := cmd.TokenParam(4)
	assert.True(t, ok)
	assert.Equal(t, "Ca", tok)
	_, ok = cmd.TokenParam(0)
	assert.False(t, ok)

	assert.True(t, cmd.IsEmptyParam(2))
	assert.False(t, cmd.IsEmptyParam(1))
	assert.False(t, cmd.IsEmptyParam(5))

	p, ok := cmd.Param(3)
	assert.True(t, ok)
	assert.Equal(t, `"pem"`, p.String())
	_, ok = cmd.Param(5)
	assert.False(t, ok)
}

func TestStringers(t *testing.T) {
	assert.Equal(t, "test", KindTest.String())
	assert.Equal(t, "token", ParamToken.String())
	assert.Equal(t, "CRLF", TermCRLF.String())
	assert.Equal(t, "CME", FinalCME.String())
	assert.Equal(t, "-3", pInt(-3).String())
}

// TestFramerThenParse runs the two together on an nrfcredstore-style
// transcript (nrf91.md §10) as a CRLF host writes it to a CR-mode device.
func TestFramerThenParse(t *testing.T) {
	pem := "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
	in := "\r\nat AT+CGSN\r\nAT+CGSN\r\nAT+CMEE=1\r\nAT%CMNG=0,42,0,\"" + pem + "\"\r\nAT%CMNG=3,42,1\r\n"
	f := NewFramer(WithTerminator(TermCR))
	type result struct {
		name string
		err  error
	}
	var got []result
	for _, fr := range scanAll(t, f, []byte(in)) {
		cmd, err := Parse(fr.Line)
		got = append(got, result{cmd.Name, err})
		if cmd.Name == "%CMNG" && cmd.ParamCount() == 4 {
			s, ok := cmd.StringParam(3)
			assert.True(t, ok)
			assert.Equal(t, pem, s)
		}
	}
	require.Len(t, got, 5)
	assert.ErrorIs(t, got[0].err, ErrSyntax)
	for i, want := range []string{"+CGSN", "+CMEE", "%CMNG", "%CMNG"} {
		assert.NoError(t, got[i+1].err)
		assert.Equal(t, want, got[i+1].name)
	}
}
