package features

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/cucumber/godog"

	"github.com/modemsim/modemsim/scenarios"
)

// demoWorld is a demos.feature scenario: one case run by the scenarios
// package, with the suite's stand-in PKI.
type demoWorld struct {
	res scenarios.Result
	err error
}

func (w *world) registerDemos(sc *godog.ScenarioContext) {
	d := &demoWorld{}
	sc.Step(`^the demo of case "([^"]*)" runs$`, func(id string) error {
		c, err := scenarios.Lookup(id)
		if err != nil {
			return err
		}
		if _, err := w.fx.pki(); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		d.res, d.err = scenarios.Run(ctx, c, scenarios.Options{Dir: filepath.Join(w.dir, "demo"), PKI: w.fx.demoPKI()})
		return nil
	})
	sc.Step(`^every step of the demo ended in its outcome$`, func() error {
		if d.err != nil {
			return d.err
		}
		if !d.res.Passed() {
			return fmt.Errorf("%s ran %d of %d steps", d.res.Case.ID, len(d.res.Steps), len(d.res.Case.Steps))
		}
		return nil
	})
	sc.Step(`^the demo recorded the transcript, the hub's reasons it expects and the certificate chains$`, func() error {
		var bytes int
		for _, s := range d.res.Steps {
			for _, ch := range s.Transcript {
				bytes += len(ch.Data)
			}
		}
		if bytes == 0 {
			return errors.New("no transcript")
		}
		for _, s := range d.res.Case.Steps {
			if want := s.Want.HubReason; want != "" && !hasReason(d.res.Reasons, "hub", want) {
				return fmt.Errorf("the result lacks the hub reason %q", want)
			}
			if want := s.Want.DPSReason; want != "" && !hasReason(d.res.Reasons, "dps", want) {
				return fmt.Errorf("the result lacks the DPS reason %q", want)
			}
		}
		if d.res.Case.World.Hub != nil && len(d.res.Chains) == 0 {
			return errors.New("a case with a hub and no certificate chain")
		}
		return nil
	})
}

func hasReason(rs []scenarios.Reason, service, check string) bool {
	for _, r := range rs {
		if r.Service == service && r.Check == check {
			return true
		}
	}
	return false
}
