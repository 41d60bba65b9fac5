package zshell

import (
	"context"
	"time"
)

// kernelCommands is the part of Zephyr's `kernel` command set a host uses
// [S subsys/shell/modules/kernel_service.c]: reboot (cold/warm, through the
// board), uptime and version.
func kernelCommands(s interface{ after(func()) }, reboot func() error, since func() time.Duration, version string) *Command {
	rebootCmd := func(_ context.Context, _ *Output, _ []string) int {
		if reboot == nil {
			return -ENOTSUP
		}
		// sys_reboot prints nothing; the new firmware's banner follows.
		s.after(func() { _ = reboot() })
		return 0
	}
	return &Command{Name: "kernel", Help: "Kernel commands", Sub: []*Command{
		{Name: "reboot", Help: "Reboot.", Sub: []*Command{
			{Name: "cold", Help: "Cold reboot.", Mandatory: 1, Run: rebootCmd},
			{Name: "warm", Help: "Warm reboot.", Mandatory: 1, Run: rebootCmd},
		}},
		{Name: "uptime", Help: "Kernel uptime. Can be called with the -p or --pretty options", Mandatory: 1, Optional: 1,
			Run: func(_ context.Context, o *Output, _ []string) int {
				o.Print("Uptime: %d ms\n", since().Milliseconds())
				return 0
			}},
		{Name: "version", Help: "Kernel version.", Mandatory: 1, Run: func(_ context.Context, o *Output, _ []string) int {
			o.Print("Zephyr version %s\n", version)
			return 0
		}},
	}}
}
