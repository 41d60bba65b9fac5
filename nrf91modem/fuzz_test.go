package nrf91modem

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/credstore"
)

// FuzzHandle feeds arbitrary lines through the parser to the modem: it must
// never panic, always give exactly one final result, and never lose a
// credential it did not delete.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{"AT%CMNG=0,1,0,\"x\"", "AT%CMNG=1", "AT%CMNG=2,42,2", "AT+CFUN=1", "AT%KEYGEN=9,2,0",
		"AT%KEYGEN=9,2,1,\"CN=a\",\"101010000\"", "AT%ATTESTTOKEN=\"00112233445566778899aabbccddeeff\"", "AT+CGSN=2", "AT+CEREG=5", "AT%CMNG=3,42,0",
		"AT+CPIN?", "AT+CIMI", "AT%XICCID", "AT+COPS?", "AT+COPS=?", `AT+COPS=1,2,"00101",7`, "AT+COPS=3,0",
		"AT%XMONITOR", "AT%XSYSTEMMODE?", "AT%XSYSTEMMODE=1,1,0,2", "AT%XSYSTEMMODE=?", `AT+CGDCONT=1,"IPV4V6","apn"`,
		"AT+CGDCONT?", "AT+CGDCONT=1", "AT+CGACT?", "AT+CGACT=1,1", "AT+CGEREP=1", "AT+CGEREP=", "AT+CESQ", "AT%XTIME=1",
		"AT+CCLK?", `AT+CCLK="26/12/01,09:30:05+04"`, "AT%XVBAT", "AT+CLAC", "AT%CERTEXPIRY=42,0", "AT+CSCON=3",
		"AT+CNEC=24", "AT%KEYGEN=9,8", "AT+CFUN=4", `AT%CMNG=0,9,2,"k","pw"`} {
		f.Add(s)
	}
	tm := newTestModem(f, "nrf9151", Options{})
	keep := credstore.Key{Tag: 7777, Type: TypeRootCA}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.Contains(line, "7777") {
			return // the sentinel slot is ours
		}
		cmd, err := atparser.Parse([]byte(line))
		if err != nil {
			return
		}
		if err := tm.store.Put(keep, []byte("sentinel")); err != nil {
			t.Skip(err)
		}
		r := tm.Handle(context.Background(), cmd)
		require.NotEqual(t, atparser.FinalNone, r.Final)
		_, err = tm.store.Get(keep)
		require.NoError(t, err)
	})
}
