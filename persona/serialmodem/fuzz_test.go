package serialmodem_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/modemkey"
	"github.com/modemsim/modemsim/nrf91modem"
	"github.com/modemsim/modemsim/persona/serialmodem"
)

// FuzzHandle feeds arbitrary host bytes through the persona's line
// discipline and handler (no network): nothing panics, every answer ends
// in a final result, and a payload request is always answerable.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		"AT\r", "ATE1\rAT+CGMI\r", "AT#XMQTTCFG=\"id\",60,1\r", "AT#XMQTTCON=1,\"u\",\"p\",\"h\",8883,1\r",
		"AT#XMQTTCON?\r", "AT#XMQTTPUB=\"t\"\r", "AT#XSSOCKET=1,1,0,1\rAT#XSSOCKETOPT=0,1,2,\"NULL\"\r",
		"AT#XSEND=0,1,0,\"zz\"\r", "AT#XRECV=0,0,0,1,99999\r", "AT#XCLOSE\r", "AT#XPING=\"h\",1,1,0\r",
		"AT#XGETADDRINFO=\"h\",7\r", "AT%CMNG=1\r", "at\"\r\x08\x7f\"\r", "AT#XMQTTCFG=\"" + strings.Repeat("a", 70) + "\"\r",
	} {
		f.Add([]byte(s))
	}
	store, err := credstore.Open(f.TempDir(), credstore.WithSecretTypes(nrf91modem.SecretTypes()...))
	require.NoError(f, err)
	defer store.Close()
	id, err := nrf91modem.NewIdentity(rand.Reader, nrf91modem.DefaultModel)
	require.NoError(f, err)
	key, err := modemkey.NewIdentity(rand.Reader)
	require.NoError(f, err)
	modem, err := nrf91modem.New(nrf91modem.Config{Identity: id, IdentityKey: key, Store: store,
		Options: nrf91modem.Options{Network: nrf91modem.Network{Delay: firmware.Duration{Duration: time.Hour}}}})
	require.NoError(f, err)
	defer modem.Close()
	f.Fuzz(func(t *testing.T, in []byte) {
		fw, err := serialmodem.New(serialmodem.Deps{Modem: modem}, serialmodem.Config{})
		require.NoError(t, err)
		defer fw.Close()
		d := fw.Dialect()
		ctx := context.Background()
		p := in
		for len(p) > 0 {
			n, _, fr, ok := d.Discipline.Scan(p)
			require.True(t, n > 0 && n <= len(p), "Scan must consume input")
			p = p[n:]
			if !ok {
				continue
			}
			r := d.Handler.Handle(ctx, fr)
			out := string(r.Out)
			require.True(t, strings.HasSuffix(out, "\r\nOK\r\n") || strings.HasSuffix(out, "\r\nERROR\r\n") ||
				strings.HasSuffix(out, "\r\n+CME ERROR: "+lastNumber(out)+"\r\n"), "no final result in %q", out)
			if r.Then != nil {
				require.NotNil(t, r.Then.Done)
				_ = r.Then.Done(ctx, []byte("x"), false)
			}
		}
		_ = d.Discipline.Reset()
	})
}

func lastNumber(s string) string {
	s = strings.TrimSuffix(s, "\r\n")
	i := strings.LastIndex(s, " ")
	return s[i+1:]
}
