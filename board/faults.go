package board

import (
	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/ptyport"
	"github.com/modemsim/modemsim/uartpace"
)

// Faults are injected into a board by load runs (`modemsim load`); the
// zero value injects none.
type Faults struct {
	// Baud paces everything the board writes to its port as a UART at
	// this rate would send it (8N1); 0 leaves it unpaced.
	Baud int
	// OnPaced is told how many bytes each paced write took (a run's
	// fault counts); nil for none.
	OnPaced func(bytes int)
	// Answer may answer a host request in place of the firmware (a modem
	// that answers +CME ERROR), across reboots and flashes.
	Answer atengine.Interceptor
}

// pacedPort is the board's port with its output paced (Faults.Baud). Reads,
// sessions and deadlines are the port's own.
type pacedPort struct {
	*ptyport.Port
	pacer   *uartpace.Pacer
	onPaced func(int)
}

func (p pacedPort) Write(b []byte) (int, error) {
	p.note(len(b))
	return p.pacer.Write(b, p.Port.Write)
}

func (p pacedPort) WriteSession(s uint64, b []byte) (int, error) {
	p.note(len(b))
	return p.pacer.Write(b, func(c []byte) (int, error) { return p.Port.WriteSession(s, c) })
}

func (p pacedPort) note(n int) {
	if p.onPaced != nil {
		p.onPaced(n)
	}
}

// engineOptions are the engine's options for the faults.
func (f Faults) engineOptions() []atengine.Option {
	if f.Answer == nil {
		return nil
	}
	return []atengine.Option{atengine.WithInterceptor(f.Answer)}
}
