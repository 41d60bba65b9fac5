package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/serviceapi"
)

// adminEnv names the environment variable that replaces --admin on every
// admin subcommand.
const adminEnv = "MODEMSIM_ADMIN"

// defaultAdminURL is $MODEMSIM_ADMIN, else the default admin address.
func defaultAdminURL() string {
	if v := os.Getenv(adminEnv); v != "" {
		return v
	}
	return "http://" + defaultHubAdminAddr
}

// serveServiceAPI mounts the service REST API on the emulator's HTTPS
// (WebSocket) port; DPS's policies live next to its state.
func serveServiceAPI(e *hub.Emulator, hubDir string, clock func() time.Time, log *slog.Logger) (*serviceapi.API, error) {
	api, err := serviceapi.New(e, filepath.Join(hubDir, "dps", "service-policies.json"),
		serviceapi.WithClock(clock), serviceapi.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("service API: %w", err)
	}
	if err := e.ServeHTTPS(api.Handler()); err != nil {
		return nil, err
	}
	return api, nil
}

// connectionString is `modemsim hub connection-string`.
func connectionString(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub connection-string",
		"Print the service connection strings (HostName=…;SharedAccessKeyName=…;SharedAccessKey=…) of the\n"+
			"hub's shared access policies (iothubowner, service, registryRead, registryReadWrite, device) and\n"+
			"DPS's (provisioningserviceowner), for the service SDKs and az. With --policy, only that string.", stderr)
	policy := a.fs.String("policy", "", "only this policy (prints the bare connection string)")
	if err := a.parse(args); err != nil {
		return err
	}
	cs, err := a.client().ConnectionStrings(ctx, *policy)
	if err != nil {
		return err
	}
	return a.print(stdout, cs, func(w io.Writer) {
		if *policy != "" && len(cs) == 1 {
			fmt.Fprintln(w, cs[0].Value)
			return
		}
		fmt.Fprintln(w, "SERVICE\tPOLICY\tCONNECTION STRING")
		for _, c := range cs {
			fmt.Fprintf(w, "%s\t%s\t%s\n", c.Service, c.Policy, c.Value)
		}
	})
}

// pendingC2D is one device's pending messages (for --json).
type pendingC2D struct {
	DeviceID string           `json:"deviceId"`
	Messages []hub.C2DMessage `json:"messages"`
}

// c2dList is `modemsim hub c2d list`.
func c2dList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("modemsim hub c2d list",
		"List the cloud-to-device messages not yet completed (PUBACKed) by their device, with their expiry.\n"+
			"The queue is kept on disk: it survives a restart (or kill -9) of 'modemsim hub serve'.", stderr)
	id := a.fs.String("device", "", "only this device (default: every device)")
	if err := a.parse(args); err != nil {
		return err
	}
	cl := a.client()
	ids := []string{*id}
	if *id == "" {
		devs, err := cl.Devices(ctx)
		if err != nil {
			return err
		}
		ids = ids[:0]
		for _, d := range devs {
			ids = append(ids, d.ID)
		}
	}
	var all []pendingC2D
	for _, d := range ids {
		ms, err := cl.PendingC2D(ctx, d)
		if err != nil {
			return err
		}
		if len(ms) > 0 || *id != "" {
			all = append(all, pendingC2D{DeviceID: d, Messages: ms})
		}
	}
	return a.print(stdout, all, func(w io.Writer) {
		fmt.Fprintln(w, "DEVICE\tMESSAGE ID\tENQUEUED\tEXPIRES\tSIZE\tPROPERTIES")
		for _, p := range all {
			for _, m := range p.Messages {
				props := make([]string, 0, len(m.Properties))
				for k, v := range m.Properties {
					props = append(props, k+"="+v)
				}
				sort.Strings(props)
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", p.DeviceID, m.ID, m.Enqueued.UTC().Format(time.RFC3339),
					m.Expiry.UTC().Format(time.RFC3339), len(m.Payload), strings.Join(props, ";"))
			}
		}
	})
}
