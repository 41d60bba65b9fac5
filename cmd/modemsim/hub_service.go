package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
