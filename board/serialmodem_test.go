package board

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/persona/serialmodem"
)

// Flashing serial_modem onto a board provisioned under at_client keeps the
// credential store; the board's network is built from HardwareEnv.Network,
// and the modem reports registration after AT+CFUN=1.
func TestSerialModemKeepsStoreAndHasNetwork(t *testing.T) {
	dir := t.TempDir()
	nw := &Network{Endpoint: netstack.Endpoint{MQTT: "127.0.0.1:1", WebSocket: "127.0.0.1:2"}}
	b := runBoard(t, Config{Dir: dir, Network: nw})
	assert.Equal(t, "at_client", b.Persona())
	n, _ := b.NRF91()
	require.NotNil(t, n.Stack(), "a board given a network has a stack")
	key := credstore.Key{Tag: 42, Type: 0}
	require.NoError(t, n.Store().Put(key, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----")))

	require.NoError(t, b.Flash(serialmodem.Name, nil))
	assert.Equal(t, serialmodem.Name, b.Persona())
	_, err := n.Store().Get(key)
	require.NoError(t, err, "flashing keeps what the modem stores")
	p, err := NewCatalog().ResolvePersona(Config{Dir: dir})
	require.NoError(t, err)
	assert.Equal(t, serialmodem.Name, p.Name, "the persona flashed last")
	assert.True(t, p.Network)

	assert.False(t, n.Registered())
	resp := n.Modem().Handle(context.Background(), atparser.Command{Name: "+CFUN", Kind: atparser.KindSet, Params: []atparser.Param{{Kind: atparser.ParamInt, Int: 1}}})
	require.Equal(t, atparser.FinalOK, resp.Final)
	require.Eventually(t, n.Registered, 20*time.Second, 5*time.Millisecond)
}

func TestNoNetworkNoStack(t *testing.T) {
	b := runBoard(t, Config{Persona: serialmodem.Name})
	n, _ := b.NRF91()
	assert.Nil(t, n.Stack())
}
