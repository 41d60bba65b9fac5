package main

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/board"
	"github.com/modemsim/modemsim/fleet"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/nrf91modem"
	"github.com/modemsim/modemsim/persona/athost"
)

// Kinds of fault, each with its own random stream per board so that one
// fault's draws do not shift another's.
const (
	faultDrop = iota + 1
	faultCME
	faultRegLoss
)

// faultCounts are how many times each fault fired in a run.
type faultCounts struct {
	delayed  atomic.Int64 // connections relayed with added latency
	dropped  atomic.Int64 // connections cut
	paced    atomic.Int64 // bytes paced
	cme      atomic.Int64 // AT commands answered +CME ERROR
	regLoss  atomic.Int64 // registrations lost
	regPlans atomic.Int64 // boards picked for a registration loss
}

// faultPlan injects a fleet file's faults into each board, deterministically
// from the seed: board i's draws come from streams seeded by (seed, i,
// fault kind), consumed in the board's own order of events (its commands,
// its connections), which the host script makes the same run after run.
type faultPlan struct {
	f      fleet.Faults
	seed   uint64
	counts faultCounts
}

func newFaultPlan(f *fleet.Faults, seed int64) *faultPlan {
	p := &faultPlan{seed: uint64(seed)}
	if f != nil {
		p.f = *f
	}
	return p
}

// stream is one board's random stream for one kind of fault.
type stream struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (p *faultPlan) stream(board, kind int) *stream {
	return &stream{r: rand.New(rand.NewPCG(p.seed, uint64(board)<<8|uint64(kind)))}
}

// hit draws whether the next event is faulted at rate, and a number below n.
func (s *stream) hit(rate float64, n int) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hit := s.r.Float64() < rate
	return hit, s.r.IntN(max(n, 1))
}

// dropWindow is where in the server's bytes a cut lands: within the
// first 6 KB, which holds the TLS handshake (the hub's RSA chain is about
// 3 KB) and the first MQTT packets [I].
const dropWindow = 6 << 10

// apply sets board i's faults in its config. modem finds the board's
// modem once it is open (a lost registration is the modem's).
func (p *faultPlan) apply(i int, cfg *board.Config, modem func() *nrf91modem.Modem) {
	f := p.f
	loseReg := p.losesRegistration(i)
	if f.Latency > 0 || f.DropRate > 0 || loseReg {
		drops := p.stream(i, faultDrop)
		nf := netstack.NetFaults{Latency: f.Latency, OnCut: func() { p.counts.dropped.Add(1) }}
		nf.Cut = func(int) (int, bool) {
			if f.Latency > 0 {
				p.counts.delayed.Add(1)
			}
			hit, at := drops.hit(f.DropRate, dropWindow)
			return at, hit
		}
		if loseReg {
			// The board's first connection (to DPS) finds the registration
			// lost: the modem drops it (+CEREG: 4, back after regain_after)
			// and the connection is refused.
			nf.Unreachable = func(conn int) bool {
				if conn != 0 {
					return false
				}
				if m := modem(); m != nil && m.LoseCoverage() {
					p.counts.regLoss.Add(1)
				}
				return true
			}
		}
		nw := *cfg.Network
		nw.StackOptions = append(append([]netstack.Option{}, nw.StackOptions...), netstack.WithNetFaults(nf))
		cfg.Network = &nw
	}
	if f.Baud > 0 {
		cfg.Faults.Baud = f.Baud
		cfg.Faults.OnPaced = func(n int) { p.counts.paced.Add(int64(n)) }
	}
	if f.CMEErrorRate > 0 {
		cmes := p.stream(i, faultCME)
		answer := athost.Bare.AppendResponse(nil, atparser.CMEError(f.CMEError))
		cfg.Faults.Answer = func(atparser.Frame) (atengine.Reply, bool) {
			if hit, _ := cmes.hit(f.CMEErrorRate, 1); !hit {
				return atengine.Reply{}, false
			}
			p.counts.cme.Add(1)
			return atengine.Answer(answer), true
		}
	}
	if loseReg {
		// The modem model's regain_after brings the registration back.
		hw := map[string]any{}
		for k, v := range cfg.Hardware {
			hw[k] = v
		}
		network := map[string]any{}
		if m, ok := hw["network"].(map[string]any); ok {
			for k, v := range m {
				network[k] = v
			}
		}
		network["regain_after"] = f.RegainAfter.String()
		hw["network"] = network
		cfg.Hardware = hw
	}
}

// losesRegistration reports whether board i loses its registration in
// this run (drawn once per board).
func (p *faultPlan) losesRegistration(i int) bool {
	if p.f.RegistrationLossRate <= 0 {
		return false
	}
	hit, _ := p.stream(i, faultRegLoss).hit(p.f.RegistrationLossRate, 1)
	if hit {
		p.counts.regPlans.Add(1)
	}
	return hit
}

// lines describe the faults and how often each fired, for the summary.
func (p *faultPlan) lines(boards int) []string {
	f, c := p.f, &p.counts
	var out []string
	if f.Latency > 0 {
		out = append(out, fmt.Sprintf("latency %s each way: %d connections delayed", f.Latency, c.delayed.Load()))
	}
	if f.DropRate > 0 {
		out = append(out, fmt.Sprintf("dropped connections at %g: %d cut", f.DropRate, c.dropped.Load()))
	}
	if f.Baud > 0 {
		out = append(out, fmt.Sprintf("UART pacing at %d baud: %d boards, %d bytes paced", f.Baud, boards, c.paced.Load()))
	}
	if f.CMEErrorRate > 0 {
		out = append(out, fmt.Sprintf("+CME ERROR: %d at %g: %d commands answered", f.CMEError, f.CMEErrorRate, c.cme.Load()))
	}
	if f.RegistrationLossRate > 0 {
		out = append(out, fmt.Sprintf("registration loss at %g (at the first connection, regain after %s): %d boards picked, %d registrations lost",
			f.RegistrationLossRate, f.RegainAfter, c.regPlans.Load(), c.regLoss.Load()))
	}
	return out
}
