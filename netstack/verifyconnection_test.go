package netstack_test

import (
	"crypto/tls"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/pki"
)

// A firmware's own server check (SPWF04: issuer by key identifier) runs
// after the stack's verification, sees the verified chain, and aborts the
// handshake when it refuses.
func TestFirmwareVerifyConnection(t *testing.T) {
	errRefused := errors.New("firmware refuses the server")
	tests := []struct {
		name    string
		refuse  bool
		wantErr bool
	}{
		{"accepted", false, false},
		{"refused", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := startHub(t, afterBaltimore)
			b := newBoard(t, e, afterBaltimore)
			b.put(t, primary, 0, realRoot(t, pki.DigiCertGlobalRootG2))
			called := 0
			cfg := netstack.TLSConfig{SecTags: []uint32{primary}, VerifyConnection: func(cs tls.ConnectionState) error {
				called++
				assert.NotEmpty(t, cs.VerifiedChains, "called after the stack verified the chain")
				if tc.refuse {
					return errRefused
				}
				return nil
			}}
			c, err := b.stack.DialTLS(t.Context(), testHost, netstack.PortMQTT, cfg)
			assert.Equal(t, 1, called)
			if !tc.wantErr {
				require.NoError(t, err)
				c.Close()
				return
			}
			require.ErrorIs(t, err, errRefused)
		})
	}
}
